"""Residents' data rights and retention, in SQL: everything held about a resident (/mydata), the
forgetting of one (/forget), and what the daily maintenance removes once the privacy notice's
retention period is over.

Forgetting keeps the proposals for the programme as anonymous records: their text stays, but
every link to the person goes — the proposals, their threads, status history and bookings are
moved to a placeholder resident (a negative id, nothing personal), contact details and booking
notes are removed, and everything else about them is deleted. The store then checkpoints the
WAL after the commit (with `secure_delete` on), so no deleted byte stays in the files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.clock import to_text
from bot.store.meetings import REMINDER_JOBS

if TYPE_CHECKING:
    from bot.store import Store

# Where an update names its sender, in the update_journal's JSON payloads.
_SENDER_PATHS = (
    "$.message.from.id",
    "$.edited_message.from.id",
    "$.callback_query.from.id",
    "$.my_chat_member.from.id",
)
_FINISHED_BOOKINGS = "('declined', 'cancelled', 'expired', 'attended', 'no_show')"


@dataclass(frozen=True)
class Forgotten:
    """What forgetting a resident left for the flows to do: the placeholder now standing in for
    them, the proposals and bookings whose staff-chat cards showed contact details or a note, an
    active booking."""

    placeholder_id: int
    cards_to_redo: list[int] = field(default_factory=list)
    booking_cards_to_redo: list[int] = field(default_factory=list)
    active_booking_id: int | None = None


@dataclass(frozen=True)
class Retained:
    """How much one retention pass removed."""

    message_log: int
    contact_details: int
    bookings: int
    drafts: int


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day if shorter)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


class Privacy:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- access (/mydata) ----------------------------------------------------------------------

    async def everything_about(self, user_id: int) -> dict[str, Any]:
        """All the bot holds about one resident, as plain JSON-ready data."""
        fetch = self.store._fetch
        profile = await fetch(
            "SELECT user_id, language, telegram_language, first_seen, last_seen,"
            " privacy_shown_at, banned_at, unreachable_at FROM residents WHERE user_id = ?",
            (user_id,),
        )
        proposals = []
        for row in await fetch(
            "SELECT id, reference, theme, text, language, phone, email, wants_contact, status,"
            " created_at, updated_at FROM proposals WHERE resident_id = ? ORDER BY id",
            (user_id,),
        ):
            proposal = dict(row)
            pid = proposal.pop("id")
            proposal["wants_contact"] = bool(proposal["wants_contact"])
            proposal["attachments"] = [
                dict(a)
                for a in await fetch(
                    "SELECT kind, file_name, mime_type, file_size, duration, latitude, longitude"
                    " FROM proposal_attachments WHERE proposal_id = ? ORDER BY id",
                    (pid,),
                )
            ]
            proposal["thread"] = [
                dict(m)
                for m in await fetch(
                    "SELECT author, text, created_at FROM proposal_messages"
                    " WHERE proposal_id = ? ORDER BY id",
                    (pid,),
                )
            ]
            proposal["status_history"] = [
                dict(s)
                for s in await fetch(
                    "SELECT status, reason, changed_at FROM proposal_status_changes"
                    " WHERE proposal_id = ? ORDER BY id",
                    (pid,),
                )
            ]
            proposals.append(proposal)
        drafts = await fetch(
            "SELECT theme, text, phone, email, wants_contact, updated_at FROM proposal_drafts"
            " WHERE resident_id = ?",
            (user_id,),
        )
        bookings = await fetch(
            "SELECT starts_at, ends_at, theme, note, status, reason, created_at FROM bookings"
            " WHERE resident_id = ? ORDER BY starts_at",
            (user_id,),
        )
        waitlist = await fetch(
            "SELECT day, status, offered_start, offered_until, created_at FROM waitlist"
            " WHERE resident_id = ? ORDER BY day",
            (user_id,),
        )
        subscriptions = await fetch(
            "SELECT theme, created_at FROM meeting_subscriptions WHERE resident_id = ?"
            " ORDER BY theme",
            (user_id,),
        )
        digest = await fetch(
            "SELECT created_at FROM meeting_digests WHERE resident_id = ?", (user_id,)
        )
        reminders = await fetch(
            "SELECT r.meeting_id, m.theme, m.starts_at, m.status AS meeting_status,"
            " r.lead_minutes AS minutes_before, r.created_at FROM meeting_reminders r"
            " JOIN meetings m ON m.id = r.meeting_id WHERE r.resident_id = ? ORDER BY m.starts_at",
            (user_id,),
        )
        messages = []
        for row in await fetch(
            "SELECT at, direction, kind, text, details FROM message_log"
            " WHERE user_id = ? OR chat_id = ? ORDER BY id",
            (user_id, user_id),
        ):
            message = dict(row)
            message["details"] = json.loads(message["details"]) if message["details"] else {}
            messages.append(message)
        return {
            "profile": dict(profile[0]) if profile else None,
            "proposals": proposals,
            "draft": dict(drafts[0]) if drafts else None,
            "bookings": [dict(b) for b in bookings],
            "waitlist": [dict(w) for w in waitlist],
            # '*' is a subscription to every theme.
            "meeting_subscriptions": [dict(s) for s in subscriptions],
            "weekly_digest": {"on_since": digest[0][0]} if digest else None,
            "meeting_reminders": [dict(r) for r in reminders],
            "message_log": messages,
        }

    # -- erasure (/forget) ---------------------------------------------------------------------

    async def forget(self, user_id: int) -> Forgotten:
        """Forgets a resident, in the current transaction (see the module's docstring). A ban
        stays (a bare row with the id and the ban), so forgetting cannot be used to escape it."""
        now = self.store.clock()
        day = to_text(datetime(now.year, now.month, now.day, tzinfo=UTC))
        # What this update queued for its COMMIT (the log of the message telling them) is
        # written first, so that it is forgotten too.
        await self.store.write_queued_now()
        async with self.store._write() as db:
            cursor = await db.execute("SELECT min(min(user_id), 0) - 1 FROM residents")
            row = await cursor.fetchone()
            await cursor.close()
            placeholder = int(row[0]) if row and row[0] is not None else -1
            await db.execute(
                "INSERT INTO residents (user_id, first_seen, last_seen, forgotten_at)"
                " VALUES (?, ?, ?, ?)",
                (placeholder, day, day, day),
            )
            # What the staff chat and the outbox may still show: contact details, notes.
            shown = await db.execute_fetchall(
                "SELECT id, phone, email, wants_contact, reference FROM proposals"
                " WHERE resident_id = ?",
                (user_id,),
            )
            cards = [r[0] for r in shown if r[3] and (r[1] or r[2])]
            # (what to remove, the outbox key and the text beside it that says where it is)
            secrets = [(v, f"proposal:{r[0]}:%", r[4]) for r in shown for v in (r[1], r[2]) if v]
            booking_rows = await db.execute_fetchall(
                "SELECT id, note, status FROM bookings WHERE resident_id = ?", (user_id,)
            )
            secrets += [(r[1], f"booking:{r[0]}:%", f"#{r[0]}") for r in booking_rows if r[1]]
            noted = [r[0] for r in booking_rows if r[1]]
            active = next((r[0] for r in booking_rows if r[2] in ("requested", "confirmed")), None)
            await db.execute(
                "UPDATE proposal_messages SET author_id = ? WHERE author = 'resident'"
                " AND author_id = ? AND proposal_id IN"
                " (SELECT id FROM proposals WHERE resident_id = ?)",
                (placeholder, user_id, user_id),
            )
            await db.execute(
                "UPDATE proposal_status_changes SET changed_by = ? WHERE changed_by = ?"
                " AND proposal_id IN (SELECT id FROM proposals WHERE resident_id = ?)",
                (placeholder, user_id, user_id),
            )
            await db.execute(
                "UPDATE proposals SET resident_id = ?, phone = NULL, email = NULL,"
                " wants_contact = 0, version = version + 1, updated_at = ? WHERE resident_id = ?",
                (placeholder, to_text(now), user_id),
            )
            await db.execute(
                "UPDATE bookings SET resident_id = ?, note = NULL,"
                " version = version + (note IS NOT NULL),"
                " decided_by_name = CASE WHEN decided_by = ? THEN NULL ELSE decided_by_name END,"
                " decided_by = CASE WHEN decided_by = ? THEN ? ELSE decided_by END"
                " WHERE resident_id = ?",
                (placeholder, user_id, user_id, placeholder, user_id),
            )
            for sql in (
                "DELETE FROM message_log WHERE user_id = ?1 OR chat_id = ?1",
                "DELETE FROM proposal_drafts WHERE resident_id = ?1",
                "DELETE FROM waitlist WHERE resident_id = ?1",
                # Consent to be written to ends (a banned resident's row stays, so the cascade
                # from it would not take these).
                "DELETE FROM meeting_subscriptions WHERE resident_id = ?1",
                "DELETE FROM meeting_digests WHERE resident_id = ?1",
                "DELETE FROM meeting_reminders WHERE resident_id = ?1",
                # Their reminders' jobs name them (the schedule only looks again at an
                # earlier time it knew of: rows removed cost it one look at most).
                f"DELETE FROM scheduled_jobs WHERE kind = '{REMINDER_JOBS}'"
                " AND json_extract(payload, '$.resident_id') = ?1",
                "DELETE FROM conversation_states WHERE json_extract(key, '$[0]') = ?1"
                " OR json_extract(key, '$[1]') = ?1",
                "DELETE FROM user_data WHERE user_id = ?1",
                "DELETE FROM chat_data WHERE chat_id = ?1",
                "DELETE FROM prompts WHERE chat_id = ?1",
                "DELETE FROM outbox WHERE chat_id = ?1",
                "DELETE FROM update_journal WHERE "
                + " OR ".join(f"json_extract(payload, '{path}') = ?1" for path in _SENDER_PATHS),
                # A ban stays on a bare row; everyone else's row goes.
                "UPDATE residents SET language = NULL, telegram_language = NULL,"
                " first_seen = ?2, last_seen = ?2, privacy_shown_at = NULL,"
                " unreachable_at = NULL WHERE user_id = ?1 AND banned_at IS NOT NULL",
                "DELETE FROM residents WHERE user_id = ?1 AND banned_at IS NULL",
            ):
                await db.execute(sql, (user_id, day) if "?2" in sql else (user_id,))
            # The staff chat's cards, posted or still to post, and their copies in the message
            # log keep no contact detail or note (the cards themselves are edited by the flow).
            for secret, key, marker in sorted(secrets, key=lambda s: -len(s[0])):
                await db.execute(
                    "UPDATE outbox SET payload = replace(payload, ?1, '—')"
                    " WHERE key LIKE ?2 AND instr(payload, ?1) > 0",
                    (secret, key),
                )
                await db.execute(
                    "UPDATE message_log SET text = replace(text, ?1, '—')"
                    " WHERE instr(text, ?1) > 0 AND instr(text, ?2) > 0",
                    (secret, marker),
                )
        self.store.checkpoint_after_commit()
        return Forgotten(placeholder, cards, noted, active)

    # -- retention -----------------------------------------------------------------------------

    async def apply_retention(
        self, *, silent_since: datetime, drafts_since: datetime, bookings_ended_before: datetime
    ) -> Retained:
        """Removes, for residents silent since `silent_since`, their message log and contact
        details; bookings that ended (and were settled) before `bookings_ended_before`; drafts
        untouched since `drafts_since`."""
        silent = "SELECT user_id FROM residents WHERE last_seen < ?1 AND forgotten_at IS NULL"
        async with self.store._write() as db:
            log = await db.execute(
                f"DELETE FROM message_log WHERE user_id IN ({silent}) OR chat_id IN ({silent})",
                (to_text(silent_since),),
            )
            contacts = await db.execute(
                "UPDATE proposals SET phone = NULL, email = NULL, wants_contact = 0"
                f" WHERE resident_id IN ({silent})"
                " AND (phone IS NOT NULL OR email IS NOT NULL)",
                (to_text(silent_since),),
            )
            # Waitlist entries of days long past go with them (and first: they may point at one).
            await db.execute(
                "DELETE FROM waitlist WHERE day < ? OR booking_id IN (SELECT id FROM bookings"
                f" WHERE status IN {_FINISHED_BOOKINGS} AND ends_at < ?)",
                (bookings_ended_before.date().isoformat(), to_text(bookings_ended_before)),
            )
            bookings = await db.execute(
                f"DELETE FROM bookings WHERE status IN {_FINISHED_BOOKINGS} AND ends_at < ?",
                (to_text(bookings_ended_before),),
            )
            drafts = await db.execute(
                "DELETE FROM proposal_drafts WHERE updated_at < ?", (to_text(drafts_since),)
            )
            retained = Retained(log.rowcount, contacts.rowcount, bookings.rowcount, drafts.rowcount)
        if any(vars(retained).values()):
            self.store.checkpoint_after_commit()
        return retained
