"""The store's SQL for proposals: drafts, submission, threads, triage and export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from bot import statuses
from bot.clock import from_text, to_text
from bot.store.subject import Subject

if TYPE_CHECKING:
    pass

# Triage order; `withdrawn` (by the resident) and `spam` (by staff) close a proposal too.
MAX_ATTACHMENTS = 10
T = TypeVar("T")


@dataclass(frozen=True)
class Attachment:
    kind: str  # photo, document, voice, location
    file_id: str | None = None
    file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    duration: int | None = None
    latitude: float | None = None
    longitude: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Prompt:
    """A message the bot posted that asks for a reply: "answer" or "reason" (staff),
    "follow_up" (a resident)."""

    kind: str
    proposal_id: int
    version: int | None


@dataclass(frozen=True)
class Proposal:
    id: int
    reference: str
    resident_id: int
    theme: str
    text: str
    language: str
    phone: str | None
    email: str | None
    wants_contact: bool
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    staff_chat_id: int | None
    staff_message_id: int | None

    @property
    def is_closed(self) -> bool:
        return self.status in statuses.CLOSED


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    proposal_id: int
    author: str  # resident or staff
    author_id: int
    text: str
    created_at: datetime


@dataclass(frozen=True)
class StatusChange:
    status: str
    reason: str | None
    changed_by: int
    changed_at: datetime


@dataclass(frozen=True)
class ExportRow:
    proposal: Proposal
    attachments: int
    answers: list[ThreadMessage] = field(default_factory=list)
    follow_ups: list[ThreadMessage] = field(default_factory=list)
    reason: str | None = None


_PROPOSAL_COLUMNS = (
    "id, reference, resident_id, theme, text, language, phone, email, wants_contact, status,"
    " version, created_at, updated_at, staff_chat_id, staff_message_id"
)


class Proposals(Subject):
    """Drafts, proposals, their threads, triage, staff posts, prompts and the export."""

    # -- reading proposals -----------------------------------------------------------------------

    async def proposal(self, proposal_id: int) -> Proposal | None:
        rows = await self._fetch(
            f"SELECT {_PROPOSAL_COLUMNS} FROM proposals WHERE id = ?", (proposal_id,)
        )
        return _proposal(rows[0]) if rows else None

    async def proposal_by_reference(self, reference: str) -> Proposal | None:
        rows = await self._fetch(
            f"SELECT {_PROPOSAL_COLUMNS} FROM proposals WHERE reference = ?", (reference,)
        )
        return _proposal(rows[0]) if rows else None

    async def proposals_of(self, resident_id: int, *, offset: int, limit: int) -> list[Proposal]:
        """The resident's proposals, newest first, one page."""
        rows = await self._fetch(
            f"SELECT {_PROPOSAL_COLUMNS} FROM proposals WHERE resident_id = ?"
            " ORDER BY id DESC LIMIT ? OFFSET ?",
            (resident_id, limit, offset),
        )
        return [_proposal(row) for row in rows]

    async def count_proposals_of(self, resident_id: int) -> int:
        rows = await self._fetch(
            "SELECT COUNT(*) FROM proposals WHERE resident_id = ?", (resident_id,)
        )
        return int(rows[0][0])

    async def count_proposals_since(self, resident_id: int, since: datetime) -> int:
        """How many proposals the resident submitted since a moment (the daily cap)."""
        rows = await self._fetch(
            "SELECT COUNT(*) FROM proposals WHERE resident_id = ? AND created_at >= ?",
            (resident_id, to_text(since)),
        )
        return int(rows[0][0])

    async def open_proposals(
        self, *, theme: str | None, status: str | None, offset: int, limit: int
    ) -> tuple[list[Proposal], int]:
        """Open proposals (or those in one status), optionally of one theme, oldest first, and
        how many match in all."""
        if status:
            where, params = ["status = ?"], [status]
        else:
            where = [f"status NOT IN ({', '.join('?' * len(statuses.CLOSED))})"]
            params = list(statuses.CLOSED)
        if theme:
            where.append("theme = ?")
            params.append(theme)
        clause = " AND ".join(where)
        rows = await self._fetch(
            f"SELECT {_PROPOSAL_COLUMNS} FROM proposals WHERE {clause}"
            " ORDER BY id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        total = await self._fetch(f"SELECT COUNT(*) FROM proposals WHERE {clause}", params)
        return [_proposal(row) for row in rows], int(total[0][0])

    async def open_proposal_counts(self) -> dict[tuple[str, str], int]:
        """Open proposals per (theme slug, status)."""
        rows = await self._fetch(
            "SELECT theme, status, COUNT(*) FROM proposals"
            f" WHERE status NOT IN ({', '.join('?' * len(statuses.CLOSED))})"
            " GROUP BY theme, status",
            statuses.CLOSED,
        )
        return {(row[0], row[1]): int(row[2]) for row in rows}

    async def attachments_of(self, proposal_id: int) -> list[Attachment]:
        rows = await self._fetch(
            "SELECT kind, file_id, file_unique_id, file_name, mime_type, file_size, duration,"
            " latitude, longitude FROM proposal_attachments WHERE proposal_id = ? ORDER BY id",
            (proposal_id,),
        )
        return [Attachment(**dict(row)) for row in rows]

    async def thread_of(self, proposal_id: int) -> list[ThreadMessage]:
        """Answers and follow-ups after submission, oldest first."""
        rows = await self._fetch(
            "SELECT id, proposal_id, author, author_id, text, created_at FROM proposal_messages"
            " WHERE proposal_id = ? ORDER BY id",
            (proposal_id,),
        )
        return [_thread_message(row) for row in rows]

    async def status_history_of(self, proposal_id: int) -> list[StatusChange]:
        rows = await self._fetch(
            "SELECT status, reason, changed_by, changed_at FROM proposal_status_changes"
            " WHERE proposal_id = ? ORDER BY id",
            (proposal_id,),
        )
        return [
            StatusChange(
                row["status"], row["reason"], row["changed_by"], from_text(row["changed_at"])
            )
            for row in rows
        ]

    async def proposal_by_staff_post(self, chat_id: int, message_id: int) -> Proposal | None:
        """The proposal a staff-chat message the bot posted belongs to (the card, one of its
        parts or attachments, a follow-up) — as recorded when it was sent, never read from the
        message's text."""
        rows = await self._fetch(
            f"SELECT {_PROPOSAL_COLUMNS} FROM proposals WHERE id ="
            " (SELECT proposal_id FROM staff_posts WHERE chat_id = ? AND message_id = ?)",
            (chat_id, message_id),
        )
        return _proposal(rows[0]) if rows else None

    async def record_prompt(
        self, chat_id: int, message_id: int, kind: str, proposal_id: int, *, version: int | None
    ) -> None:
        """Remembers what a reply to the prompt the bot just posted will mean."""
        async with self._write() as db:
            await db.execute(
                "INSERT INTO prompts (chat_id, message_id, kind, proposal_id, version,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, message_id)"
                " DO UPDATE SET kind = excluded.kind, proposal_id = excluded.proposal_id,"
                " version = excluded.version",
                (chat_id, message_id, kind, proposal_id, version, to_text(self.clock())),
            )

    async def prompt_at(
        self, chat_id: int, message_id: int, *, sent_text: str | None = None
    ) -> Prompt | None:
        """The prompt a reply answers, if the bot recorded one at that message.

        A prompt is sent before the update that asks for it commits. If the process dies in
        between, the prompt is on the person's screen but not in the store, and the update is
        handled again at the next start — which sends the same prompt once more and records
        that one. Given the text of the message replied to (`sent_text`: only ever a message
        the bot sent), a prompt that is not recorded stands for its twin: the next prompt the
        bot sent in that chat with exactly that text. The proposal still comes from the store,
        never from the text."""
        rows = await self._fetch(
            "SELECT kind, proposal_id, version FROM prompts WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        if not rows and sent_text:
            rows = await self._fetch(
                "SELECT p.kind, p.proposal_id, p.version FROM message_log m JOIN prompts p"
                " ON p.chat_id = m.chat_id AND p.message_id = m.message_id"
                " WHERE m.chat_id = ? AND m.direction = 'out' AND m.message_id > ?"
                " AND m.text = ? ORDER BY m.message_id LIMIT 1",
                (chat_id, message_id, sent_text),
            )
        return Prompt(rows[0][0], rows[0][1], rows[0][2]) if rows else None

    async def forget_prompt(self, chat_id: int, message_id: int) -> None:
        async with self._write() as db:
            await db.execute(
                "DELETE FROM prompts WHERE chat_id = ? AND message_id = ?", (chat_id, message_id)
            )

    # -- changes ---------------------------------------------------------------------------------

    async def record_staff_post(
        self,
        proposal_id: int,
        chat_id: int,
        message_id: int,
        *,
        role: str = "proposal_post",
        thread_message_id: int | None = None,
    ) -> None:
        """Remembers a message posted for staff about a proposal: its card (role
        "proposal_post"), a follow-up ("thread_post") or a part or attachment ("staff_part")."""
        # Written with the COMMIT: nothing in the transaction reads them back.
        async with self._atomic():
            await self._write_later(
                "INSERT INTO staff_posts (chat_id, message_id, proposal_id) VALUES (?, ?, ?)"
                " ON CONFLICT (chat_id, message_id) DO NOTHING",
                (chat_id, message_id, proposal_id),
            )
            if role == "proposal_post":
                await self._write_later(
                    "UPDATE proposals SET staff_chat_id = ?, staff_message_id = ? WHERE id = ?",
                    (chat_id, message_id, proposal_id),
                )
            elif role == "thread_post" and thread_message_id is not None:
                await self._write_later(
                    "UPDATE proposal_messages SET staff_chat_id = ?, staff_message_id = ?"
                    " WHERE id = ? AND proposal_id = ?",
                    (chat_id, message_id, thread_message_id, proposal_id),
                )

    async def add_to_thread(
        self, proposal_id: int, *, author: str, author_id: int, text: str
    ) -> ThreadMessage:
        """Adds an answer (staff) or a follow-up (resident). The version is not bumped: it guards
        status changes against each other, and an answer does not make a status press stale."""
        now = to_text(self.clock())
        async with self._write() as db:
            cursor = await db.execute(
                "INSERT INTO proposal_messages (proposal_id, author, author_id, text, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (proposal_id, author, author_id, text, now),
            )
            message_id = cursor.lastrowid
            await db.execute("UPDATE proposals SET updated_at = ? WHERE id = ?", (now, proposal_id))
            rows = await self._fetch(
                "SELECT id, proposal_id, author, author_id, text, created_at"
                " FROM proposal_messages WHERE id = ?",
                (message_id,),
            )
        return _thread_message(rows[0])

    async def change_status(
        self,
        proposal_id: int,
        status: str,
        *,
        by: int,
        seen_version: int | None,
        reason: str | None = None,
    ) -> Proposal | None:
        """Moves a proposal to `status` and records who did it. With `seen_version`, only if
        nobody changed the proposal since that version was shown (else None: reload, re-decide)."""
        if status not in statuses.ALL:
            raise ValueError(f"unknown status {status!r}")
        now = to_text(self.clock())
        async with self._write() as db:
            cursor = await db.execute(
                "UPDATE proposals SET status = ?, version = version + 1, updated_at = ?"
                " WHERE id = ? AND (? IS NULL OR version = ?)",
                (status, now, proposal_id, seen_version, seen_version),
            )
            if cursor.rowcount == 0:
                return None
            await db.execute(
                "INSERT INTO proposal_status_changes (proposal_id, status, reason, changed_by,"
                " changed_at) VALUES (?, ?, ?, ?, ?)",
                (proposal_id, status, reason, by, now),
            )
            rows = await self._fetch(
                f"SELECT {_PROPOSAL_COLUMNS} FROM proposals WHERE id = ?", (proposal_id,)
            )
        return _proposal(rows[0])

    async def withdraw_proposal(self, proposal_id: int, resident_id: int) -> Proposal | None:
        """The resident withdraws their own open proposal; None if it is not theirs or closed."""
        proposal = await self.proposal(proposal_id)
        if proposal is None or proposal.resident_id != resident_id or proposal.is_closed:
            return None
        return await self.change_status(
            proposal_id, "withdrawn", by=resident_id, seen_version=proposal.version
        )

    # -- export ------------------------------------------------------------------------------------

    async def proposals_for_export(self) -> AsyncIterator[ExportRow]:
        """Every proposal with its answers and follow-ups, oldest first, streamed."""
        rows = await self._fetch(f"SELECT {_PROPOSAL_COLUMNS} FROM proposals ORDER BY id")
        for row in rows:
            proposal = _proposal(row)
            thread = await self.thread_of(proposal.id)
            counts = await self._fetch(
                "SELECT COUNT(*) FROM proposal_attachments WHERE proposal_id = ?", (proposal.id,)
            )
            reasons = await self._fetch(
                "SELECT reason FROM proposal_status_changes WHERE proposal_id = ?"
                " AND reason IS NOT NULL ORDER BY id DESC LIMIT 1",
                (proposal.id,),
            )
            yield ExportRow(
                proposal=proposal,
                attachments=int(counts[0][0]),
                answers=[m for m in thread if m.author == "staff"],
                follow_ups=[m for m in thread if m.author == "resident"],
                reason=reasons[0][0] if reasons else None,
            )


def _proposal(row: Any) -> Proposal:
    return Proposal(
        id=row["id"],
        reference=row["reference"],
        resident_id=row["resident_id"],
        theme=row["theme"],
        text=row["text"],
        language=row["language"],
        phone=row["phone"],
        email=row["email"],
        wants_contact=bool(row["wants_contact"]),
        status=row["status"],
        version=row["version"],
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
        staff_chat_id=row["staff_chat_id"],
        staff_message_id=row["staff_message_id"],
    )


def _thread_message(row: Any) -> ThreadMessage:
    return ThreadMessage(
        id=row["id"],
        proposal_id=row["proposal_id"],
        author=row["author"],
        author_id=row["author_id"],
        text=row["text"],
        created_at=from_text(row["created_at"]),
    )
