"""Proposal drafts: saved at every step of the submission flow, before the bot answers, and
turned into a proposal (with the next reference of the year) in one transaction."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from bot.clock import to_text
from bot.store.proposals import (
    _PROPOSAL_COLUMNS,
    MAX_ATTACHMENTS,
    Attachment,
    Proposal,
    _proposal,
)
from bot.store.subject import Subject


@dataclass(frozen=True)
class Draft:
    resident_id: int
    theme: str | None
    text: str | None
    attachments: tuple[Attachment, ...]
    phone: str | None
    email: str | None
    wants_contact: bool


class Drafts(Subject):
    """One draft per resident."""

    # -- drafts ------------------------------------------------------------------------------

    async def draft_of(self, resident_id: int) -> Draft | None:
        rows = await self._fetch(
            "SELECT resident_id, theme, text, attachments, phone, email, wants_contact"
            " FROM proposal_drafts WHERE resident_id = ?",
            (resident_id,),
        )
        if not rows:
            return None
        row = rows[0]
        return Draft(
            resident_id=row["resident_id"],
            theme=row["theme"],
            text=row["text"],
            attachments=tuple(Attachment(**a) for a in json.loads(row["attachments"])),
            phone=row["phone"],
            email=row["email"],
            wants_contact=bool(row["wants_contact"]),
        )

    async def start_draft(self, resident_id: int, theme: str) -> None:
        """Begins a new draft on a theme, replacing any unfinished one."""
        async with self._write() as db:
            await db.execute(
                "INSERT INTO proposal_drafts (resident_id, theme, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (resident_id) DO UPDATE SET theme = excluded.theme, text = NULL,"
                " attachments = '[]', phone = NULL, email = NULL, wants_contact = 0,"
                " updated_at = excluded.updated_at",
                (resident_id, theme, to_text(self.clock())),
            )

    async def save_draft(self, resident_id: int, **changes: Any) -> None:
        """Saves some of a draft's fields: theme, text, phone, email, wants_contact."""
        allowed = {"theme", "text", "phone", "email", "wants_contact"}
        if not changes or not set(changes) <= allowed:
            raise ValueError(f"draft fields are {sorted(allowed)}")
        assignments = ", ".join(f"{name} = ?" for name in changes)  # names checked above
        async with self._write() as db:
            await db.execute(
                f"UPDATE proposal_drafts SET {assignments}, updated_at = ? WHERE resident_id = ?",
                (*changes.values(), to_text(self.clock()), resident_id),
            )

    async def add_draft_attachment(self, resident_id: int, attachment: Attachment) -> int | None:
        """Adds an attachment; returns how many the draft has now, None when it is full."""
        async with self._write() as db:
            rows = await self._fetch(
                "SELECT attachments FROM proposal_drafts WHERE resident_id = ?", (resident_id,)
            )
            if not rows:
                return None
            attachments = json.loads(rows[0]["attachments"])
            if len(attachments) >= MAX_ATTACHMENTS:
                return None
            attachments.append(attachment.to_json())
            await db.execute(
                "UPDATE proposal_drafts SET attachments = ?, updated_at = ? WHERE resident_id = ?",
                (json.dumps(attachments), to_text(self.clock()), resident_id),
            )
            return len(attachments)

    async def discard_draft(self, resident_id: int) -> None:
        async with self._write() as db:
            await db.execute("DELETE FROM proposal_drafts WHERE resident_id = ?", (resident_id,))

    async def submit_draft(
        self, resident_id: int, *, language: str, year: int, prefix: str
    ) -> Proposal | None:
        """Turns the resident's complete draft into a proposal with the next reference of the
        year — one transaction, committed before the caller shows the reference. Its seven
        statements go in one trip to the connection's thread."""
        now = to_text(self.clock())

        def submit(connection: sqlite3.Connection) -> Proposal | None:
            draft = connection.execute(
                "SELECT theme, text, attachments, phone, email, wants_contact"
                " FROM proposal_drafts WHERE resident_id = ?",
                (resident_id,),
            ).fetchone()
            if draft is None or not draft["theme"] or not draft["text"]:
                return None
            (number,) = connection.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM proposals WHERE year = ?", (year,)
            ).fetchone()
            reference = f"{prefix}-{year}-{number:04d}"
            proposal = _proposal(
                connection.execute(
                    "INSERT INTO proposals (reference, year, number, resident_id, theme, text,"
                    " language, phone, email, wants_contact, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    f" RETURNING {_PROPOSAL_COLUMNS}",
                    (
                        reference,
                        year,
                        number,
                        resident_id,
                        draft["theme"],
                        draft["text"],
                        language,
                        draft["phone"],
                        draft["email"],
                        draft["wants_contact"],
                        now,
                        now,
                    ),
                ).fetchone()
            )
            connection.executemany(
                "INSERT INTO proposal_attachments (proposal_id, kind, file_id, file_unique_id,"
                " file_name, mime_type, file_size, duration, latitude, longitude)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        proposal.id,
                        a.kind,
                        a.file_id,
                        a.file_unique_id,
                        a.file_name,
                        a.mime_type,
                        a.file_size,
                        a.duration,
                        a.latitude,
                        a.longitude,
                    )
                    for a in (Attachment(**item) for item in json.loads(draft["attachments"]))
                ],
            )
            connection.execute(
                "INSERT INTO proposal_status_changes (proposal_id, status, changed_by, changed_at)"
                " VALUES (?, 'received', ?, ?)",
                (proposal.id, resident_id, now),
            )
            connection.execute("DELETE FROM proposal_drafts WHERE resident_id = ?", (resident_id,))
            return proposal

        async with self._write():
            return await self._in_thread(submit)
