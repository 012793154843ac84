"""The working-group meetings' SQL: the schedule, theme subscriptions, the weekly digest's
readers, the reminders residents asked for, and broadcasts with their delivery ledger — about a
meeting, or an announcement: the office's own text to one theme's subscribers or to all.

A broadcast is confirmed in one write transaction that also writes its ledger: one outbox row
per recipient (lane 1, keyed `broadcast:{id}:{resident}`), so the recipients are fixed before the
first send, a confirm pressed twice adds nobody twice, and a restart resumes from the rows still
pending. Progress is counted over those rows. A pause holds the rows not sent yet (outbox status
'held', which the sender never picks) and marks the broadcast paused (`paused_at`; it is still
'sending'), so it outlasts a restart; a resume makes them pending again, a stop settles them as
not sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.clock import from_text, to_text
from bot.meetings_schedule import ImportedMeeting
from bot.store.outbox import STOPPED  # a copy not sent because its broadcast was stopped

if TYPE_CHECKING:
    from bot.store import Store

ALL_THEMES = "*"  # a subscription to every theme; as an announcement's audience: all subscribers
ANNOUNCEMENT = "announcement"  # the kind of a broadcast that is the office's own text
BULK_LANE = 1
# The stored schedule's kind of a reminder's job: its key and payload name the resident, so
# /forget and the maintenance remove such jobs too.
REMINDER_JOBS = "meeting_reminder"
_COLUMNS = (
    "id, theme, starts_at, ends_at, place, description_lv, description_ru, description_en,"
    " status, source_key, version, created_at"
)
_REMINDER_COLUMNS = "meeting_id, resident_id, lead_minutes, created_at"
_BROADCAST_COLUMNS = (
    "id, meeting_id, kind, meeting_version, status, recipients, created_by, confirmed_at,"
    " finished_at, paused_at"
)


@dataclass(frozen=True)
class Meeting:
    id: int
    theme: str
    starts_at: datetime
    ends_at: datetime
    place: str | None  # None: the municipality's meetings venue
    description_lv: str
    description_ru: str | None
    description_en: str | None
    status: str
    source_key: str | None
    version: int
    created_at: datetime

    def description(self, language: str) -> str:
        """In `language`, or in Latvian where that translation is missing."""
        translated = {"ru": self.description_ru, "en": self.description_en}.get(language)
        return translated or self.description_lv

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"


@dataclass(frozen=True)
class DigestReader:
    """A resident who asked for the weekly digest: their language and the themes they follow
    (ALL_THEMES among them: every theme)."""

    resident_id: int
    language: str
    themes: frozenset[str]

    def follows(self, theme: str) -> bool:
        return ALL_THEMES in self.themes or theme in self.themes


def digest_key(week: str, resident_id: int) -> str:
    """The outbox key of a resident's digest of one week (its first part): the week's digest is
    enqueued for nobody who has this row already."""
    return f"digest:{week}:{resident_id}"


@dataclass(frozen=True)
class MeetingReminder:
    """A resident's ⏰ by one meeting: reminded `lead` before it starts."""

    meeting_id: int
    resident_id: int
    lead: timedelta
    created_at: datetime


@dataclass(frozen=True)
class Broadcast:
    id: int
    meeting_id: int | None  # None for an announcement
    kind: str  # published, changed, cancelled; or announcement
    meeting_version: int | None
    status: str  # draft, sending, done, cancelled, dropped
    recipients: int
    created_by: int
    confirmed_at: datetime | None
    finished_at: datetime | None
    paused_at: datetime | None = None  # set while a sending broadcast is paused

    @property
    def paused(self) -> bool:
        return self.status == "sending" and self.paused_at is not None


@dataclass(frozen=True)
class Announcement:
    """What an announcement says and to whom: a theme's slug, or ALL_THEMES (everyone subscribed
    to any theme)."""

    broadcast_id: int
    audience: str
    text_lv: str
    text_ru: str | None
    text_en: str | None

    def text(self, language: str) -> str:
        """In `language`, or in Latvian where that translation is missing."""
        translated = {"ru": self.text_ru, "en": self.text_en}.get(language)
        return translated or self.text_lv


@dataclass(frozen=True)
class ImportCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    changed_ids: tuple[int, ...] = ()  # the meetings updated or cancelled (their reminders follow)


@dataclass(frozen=True)
class Progress:
    sent: int
    failed: int  # could not be delivered: blocked, refused, or uncertain after a timeout
    left: int  # not settled yet: pending, held by a pause, or being sent
    sending: int = 0  # of `left`: being sent right now (a pause or a stop lets these finish)

    @property
    def finished(self) -> bool:
        return self.left == 0


@dataclass(frozen=True)
class BroadcastReport:
    """What became of a broadcast's copies, for its final report."""

    sent: int
    unreachable: int  # the resident has blocked the bot (403)
    uncertain: int  # timed out or interrupted: may or may not have arrived; never sent again
    failed: int  # refused by Telegram, or given up after network errors
    stopped: int  # not sent because staff stopped the broadcast
    reasons: tuple[tuple[str, int], ...]  # the failed copies' errors, the commonest first


class Meetings:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- the schedule ------------------------------------------------------------------------------

    async def meeting(self, meeting_id: int) -> Meeting | None:
        rows = await self.store._fetch(
            f"SELECT {_COLUMNS} FROM meetings WHERE id = ?", (meeting_id,)
        )
        return _meeting(rows[0]) if rows else None

    async def upcoming(
        self, since: datetime, *, theme: str | None = None, offset: int = 0, limit: int = 5
    ) -> tuple[list[Meeting], int]:
        """Scheduled meetings starting from `since`, soonest first (of one theme if given): one
        page of them, and how many there are in all."""
        where = "status = 'scheduled' AND starts_at >= ? AND (? IS NULL OR theme = ?)"
        params = (to_text(since), theme, theme)
        rows = await self.store._fetch(
            f"SELECT {_COLUMNS} FROM meetings WHERE {where} ORDER BY starts_at, id"
            " LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        total = await self.store._fetch(f"SELECT COUNT(*) FROM meetings WHERE {where}", params)
        return [_meeting(row) for row in rows], int(total[0][0])

    async def create(
        self,
        *,
        theme: str,
        starts_at: datetime,
        ends_at: datetime,
        place: str | None,
        descriptions: dict[str, str | None],
        by: int | None,
        source_key: str | None = None,
    ) -> Meeting:
        now = to_text(self.store.clock())
        async with self.store._write() as db:
            cursor = await db.execute(
                "INSERT INTO meetings (theme, starts_at, ends_at, place, description_lv,"
                " description_ru, description_en, source_key, created_by, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    theme,
                    to_text(starts_at),
                    to_text(ends_at),
                    place,
                    descriptions["lv"],
                    descriptions.get("ru"),
                    descriptions.get("en"),
                    source_key,
                    by,
                    now,
                    now,
                ),
            )
            meeting_id = int(cursor.lastrowid or 0)
        meeting = await self.meeting(meeting_id)
        assert meeting is not None
        return meeting

    async def change(
        self,
        meeting_id: int,
        *,
        seen_version: int | None,
        starts_at: datetime,
        ends_at: datetime,
        place: str | None,
        descriptions: dict[str, str | None],
    ) -> Meeting | None:
        """Changes a scheduled meeting, if nobody changed it since `seen_version`."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE meetings SET starts_at = ?, ends_at = ?, place = ?, description_lv = ?,"
                " description_ru = ?, description_en = ?, version = version + 1, updated_at = ?"
                " WHERE id = ? AND status = 'scheduled' AND (? IS NULL OR version = ?)",
                (
                    to_text(starts_at),
                    to_text(ends_at),
                    place,
                    descriptions["lv"],
                    descriptions.get("ru"),
                    descriptions.get("en"),
                    to_text(self.store.clock()),
                    meeting_id,
                    seen_version,
                    seen_version,
                ),
            )
            if cursor.rowcount == 0:
                return None
        return await self.meeting(meeting_id)

    async def cancel(self, meeting_id: int, *, seen_version: int | None = None) -> Meeting | None:
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE meetings SET status = 'cancelled', version = version + 1, updated_at = ?"
                " WHERE id = ? AND status = 'scheduled' AND (? IS NULL OR version = ?)",
                (to_text(self.store.clock()), meeting_id, seen_version, seen_version),
            )
            if cursor.rowcount == 0:
                return None
        return await self.meeting(meeting_id)

    async def import_schedule(self, events: list[ImportedMeeting]) -> ImportCounts:
        """Adds or updates the imported meetings, by their source key, in one transaction:
        a file imported twice adds nothing; an event changed since updates its meeting."""
        added = updated = unchanged = cancelled = 0
        changed: list[int] = []
        now = to_text(self.store.clock())
        async with self.store._write() as db:
            for event in events:
                rows = await self.store._fetch(
                    f"SELECT {_COLUMNS} FROM meetings WHERE source_key = ?", (event.key,)
                )
                values = (
                    event.theme,
                    to_text(event.starts_at),
                    to_text(event.ends_at),
                    event.place,
                    event.descriptions["lv"],
                    event.descriptions.get("ru"),
                    event.descriptions.get("en"),
                )
                status = "cancelled" if event.cancelled else "scheduled"
                if not rows:
                    if event.cancelled:
                        continue  # a cancelled event never published: nothing to tell
                    await db.execute(
                        "INSERT INTO meetings (theme, starts_at, ends_at, place, description_lv,"
                        " description_ru, description_en, source_key, created_at, updated_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (*values, event.key, now, now),
                    )
                    added += 1
                    continue
                current = _meeting(rows[0])
                before = (
                    current.theme,
                    to_text(current.starts_at),
                    to_text(current.ends_at),
                    current.place,
                    current.description_lv,
                    current.description_ru,
                    current.description_en,
                )
                if before == values and current.status == status:
                    unchanged += 1
                    continue
                await db.execute(
                    "UPDATE meetings SET theme = ?, starts_at = ?, ends_at = ?, place = ?,"
                    " description_lv = ?, description_ru = ?, description_en = ?, status = ?,"
                    " version = version + 1, updated_at = ? WHERE id = ?",
                    (*values, status, now, current.id),
                )
                changed.append(current.id)
                if event.cancelled and not current.is_cancelled:
                    cancelled += 1
                else:
                    updated += 1
        return ImportCounts(added, updated, unchanged, cancelled, tuple(changed))

    async def by_source_keys(self, keys: list[str]) -> list[Meeting]:
        if not keys:
            return []
        marks = ", ".join("?" for _ in keys)
        rows = await self.store._fetch(
            f"SELECT {_COLUMNS} FROM meetings WHERE source_key IN ({marks}) ORDER BY starts_at",
            keys,
        )
        return [_meeting(row) for row in rows]

    # -- subscriptions -----------------------------------------------------------------------------

    async def subscriptions_of(self, resident_id: int) -> set[str]:
        rows = await self.store._fetch(
            "SELECT theme FROM meeting_subscriptions WHERE resident_id = ?", (resident_id,)
        )
        return {row[0] for row in rows}

    async def subscribe(self, resident_id: int, theme: str) -> None:
        async with self.store._write() as db:
            await db.execute(
                "INSERT INTO meeting_subscriptions (resident_id, theme, created_at)"
                " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (resident_id, theme, to_text(self.store.clock())),
            )

    async def unsubscribe(self, resident_id: int, theme: str) -> None:
        async with self.store._write() as db:
            await db.execute(
                "DELETE FROM meeting_subscriptions WHERE resident_id = ? AND theme = ?",
                (resident_id, theme),
            )

    async def unsubscribe_all(self, resident_id: int) -> int:
        """/stop: every subscription ends, and the weekly digest with them."""
        async with self.store._write() as db:
            await db.execute("DELETE FROM meeting_digests WHERE resident_id = ?", (resident_id,))
            cursor = await db.execute(
                "DELETE FROM meeting_subscriptions WHERE resident_id = ?", (resident_id,)
            )
            return cursor.rowcount

    async def recipients_by_language(self, theme: str) -> dict[str, int]:
        """Who a broadcast about `theme` would reach now, by language (blocked residents not);
        ALL_THEMES: everyone subscribed to any theme (an announcement to all)."""
        recipient, params = _recipients(theme)
        rows = await self.store._fetch(
            f"SELECT {_LANGUAGE}, COUNT(*) FROM residents r WHERE {recipient} GROUP BY 1", params
        )
        return {row[0]: row[1] for row in rows}

    # -- the weekly digest -------------------------------------------------------------------------

    async def digest_on(self, resident_id: int) -> bool:
        rows = await self.store._fetch(
            "SELECT 1 FROM meeting_digests WHERE resident_id = ?", (resident_id,)
        )
        return bool(rows)

    async def set_digest(self, resident_id: int, on: bool) -> None:
        """Turns the resident's weekly digest on or off (a second press the same way: nothing)."""
        async with self.store._write() as db:
            if on:
                await db.execute(
                    "INSERT INTO meeting_digests (resident_id, created_at) VALUES (?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (resident_id, to_text(self.store.clock())),
                )
            else:
                await db.execute(
                    "DELETE FROM meeting_digests WHERE resident_id = ?", (resident_id,)
                )

    async def starting_between(self, start: datetime, end: datetime) -> list[Meeting]:
        """The scheduled (not cancelled) meetings starting from `start` until before `end`,
        soonest first."""
        rows = await self.store._fetch(
            f"SELECT {_COLUMNS} FROM meetings WHERE status = 'scheduled'"
            " AND starts_at >= ? AND starts_at < ? ORDER BY starts_at, id",
            (to_text(start), to_text(end)),
        )
        return [_meeting(row) for row in rows]

    async def digest_readers(self, week: str) -> list[DigestReader]:
        """Who gets the digest of `week`: residents who asked for it, follow at least one theme,
        can be reached (not known to have blocked the bot), and have no digest of that week
        queued or sent already."""
        rows = await self.store._fetch(
            f"SELECT r.user_id, {_LANGUAGE}, s.theme FROM meeting_digests d"
            " JOIN residents r ON r.user_id = d.resident_id"
            " JOIN meeting_subscriptions s ON s.resident_id = d.resident_id"
            " WHERE r.unreachable_at IS NULL AND NOT EXISTS (SELECT 1 FROM outbox o"
            " WHERE o.key = 'digest:' || ? || ':' || r.user_id) ORDER BY r.user_id",
            (week,),
        )
        themes: dict[int, set[str]] = {}
        languages: dict[int, str] = {}
        for user_id, language, theme in rows:
            themes.setdefault(user_id, set()).add(theme)
            languages[user_id] = language
        return [
            DigestReader(user_id, languages[user_id], frozenset(followed))
            for user_id, followed in themes.items()
        ]

    # -- reminders ---------------------------------------------------------------------------------

    async def reminder(self, meeting_id: int, resident_id: int) -> MeetingReminder | None:
        rows = await self.store._fetch(
            f"SELECT {_REMINDER_COLUMNS} FROM meeting_reminders"
            " WHERE meeting_id = ? AND resident_id = ?",
            (meeting_id, resident_id),
        )
        return _reminder(rows[0]) if rows else None

    async def add_reminder(self, meeting_id: int, resident_id: int, lead: timedelta) -> bool:
        """Records a resident's ⏰ by a meeting; False if they had one already."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "INSERT INTO meeting_reminders (meeting_id, resident_id, lead_minutes, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    meeting_id,
                    resident_id,
                    int(lead.total_seconds() // 60),
                    to_text(self.store.clock()),
                ),
            )
            return cursor.rowcount > 0

    async def remove_reminder(self, meeting_id: int, resident_id: int) -> bool:
        async with self.store._write() as db:
            cursor = await db.execute(
                "DELETE FROM meeting_reminders WHERE meeting_id = ? AND resident_id = ?",
                (meeting_id, resident_id),
            )
            return cursor.rowcount > 0

    async def reminders_of_meeting(self, meeting_id: int) -> list[MeetingReminder]:
        rows = await self.store._fetch(
            f"SELECT {_REMINDER_COLUMNS} FROM meeting_reminders WHERE meeting_id = ?"
            " ORDER BY resident_id",
            (meeting_id,),
        )
        return [_reminder(row) for row in rows]

    async def reminders_waiting(self, resident_id: int, now: datetime) -> int:
        """How many of the resident's reminders are of meetings still to come (not cancelled)."""
        rows = await self.store._fetch(
            "SELECT COUNT(*) FROM meeting_reminders r JOIN meetings m ON m.id = r.meeting_id"
            " WHERE r.resident_id = ? AND m.status = 'scheduled' AND m.starts_at > ?",
            (resident_id, to_text(now)),
        )
        return int(rows[0][0])

    async def told_of_cancellation(self, meeting_id: int, resident_id: int) -> bool:
        """Whether the office's broadcast of the meeting's cancellation has a copy for the
        resident that was sent or is on its way (not one that failed or was stopped)."""
        rows = await self.store._fetch(
            "SELECT 1 FROM outbox o JOIN broadcasts b ON b.id = o.broadcast_id"
            " WHERE b.meeting_id = ? AND b.kind = 'cancelled' AND o.chat_id = ?"
            " AND o.status IN ('pending', 'held', 'sending', 'sent', 'uncertain') LIMIT 1",
            (meeting_id, resident_id),
        )
        return bool(rows)

    async def forget_reminders_ended_before(self, moment: datetime) -> int:
        """Removes the reminders of meetings that ended before `moment`: once a meeting is
        over, there is nothing left to remind of."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "DELETE FROM meeting_reminders WHERE meeting_id IN"
                " (SELECT id FROM meetings WHERE ends_at < ?)",
                (to_text(moment),),
            )
            return cursor.rowcount

    # -- broadcasts --------------------------------------------------------------------------------

    async def broadcast(self, broadcast_id: int) -> Broadcast | None:
        rows = await self.store._fetch(
            f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE id = ?", (broadcast_id,)
        )
        return _broadcast(rows[0]) if rows else None

    async def offer_broadcast(self, meeting: Meeting, kind: str, *, by: int) -> Broadcast:
        """A draft broadcast about this version of the meeting (staff confirm it or not)."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "INSERT INTO broadcasts (meeting_id, kind, meeting_version, created_by,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (meeting.id, kind, meeting.version, by, to_text(self.store.clock())),
            )
            broadcast_id = int(cursor.lastrowid or 0)
        broadcast = await self.broadcast(broadcast_id)
        assert broadcast is not None
        return broadcast

    async def offer_announcement(
        self, audience: str, texts: dict[str, str | None], *, by: int
    ) -> Broadcast:
        """A draft announcement to `audience` (a theme's slug, or ALL_THEMES) with its texts by
        language (Latvian required); staff confirm it (confirm_broadcast) or not (drop_draft)."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "INSERT INTO broadcasts (kind, audience, text_lv, text_ru, text_en, created_by,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    ANNOUNCEMENT,
                    audience,
                    texts["lv"],
                    texts.get("ru"),
                    texts.get("en"),
                    by,
                    to_text(self.store.clock()),
                ),
            )
            broadcast_id = int(cursor.lastrowid or 0)
        broadcast = await self.broadcast(broadcast_id)
        assert broadcast is not None
        return broadcast

    async def announcement(self, broadcast_id: int) -> Announcement | None:
        """What an announcement says and to whom; None if the broadcast is about a meeting."""
        rows = await self.store._fetch(
            "SELECT id, audience, text_lv, text_ru, text_en FROM broadcasts"
            " WHERE id = ? AND kind = ?",
            (broadcast_id, ANNOUNCEMENT),
        )
        return Announcement(*rows[0]) if rows else None

    async def confirm_broadcast(
        self, broadcast_id: int, *, by: int, payloads: dict[str, dict[str, Any]]
    ) -> Broadcast | None:
        """Starts a draft broadcast: its ledger — an outbox row for every subscriber who can be
        reached, in their language (`payloads` by language) — is written here, in this
        transaction. None if it is no draft any more, or its meeting changed since (an
        announcement has no meeting to change)."""
        now = to_text(self.store.clock())
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE broadcasts SET status = 'sending', confirmed_by = ?, confirmed_at = ?"
                " WHERE id = ? AND status = 'draft' AND (meeting_id IS NULL OR meeting_version ="
                " (SELECT version FROM meetings WHERE id = broadcasts.meeting_id))",
                (by, now, broadcast_id),
            )
            if cursor.rowcount == 0:
                return None
            rows = await self.store._fetch(
                "SELECT COALESCE(b.audience, m.theme) FROM broadcasts b"
                " LEFT JOIN meetings m ON m.id = b.meeting_id WHERE b.id = ?",
                (broadcast_id,),
            )
            recipient, params = _recipients(rows[0][0])
            text = {language: json.dumps(p, ensure_ascii=False) for language, p in payloads.items()}
            self.store.outbox.rows_added_elsewhere()
            cursor = await db.execute(
                "INSERT INTO outbox (key, chat_id, method, payload, purpose, not_before,"
                " created_at, lane, broadcast_id)"
                f" SELECT 'broadcast:' || ? || ':' || r.user_id, r.user_id, 'send_message',"
                f" CASE {_LANGUAGE} WHEN 'ru' THEN ? WHEN 'en' THEN ? ELSE ? END,"
                " ?, ?, ?, ?, ? FROM residents r"
                f" WHERE {recipient} ORDER BY r.user_id ON CONFLICT (key) DO NOTHING",
                (
                    broadcast_id,
                    text["ru"],
                    text["en"],
                    text["lv"],
                    json.dumps({"kind": "broadcast", "broadcast_id": broadcast_id}),
                    now,
                    now,
                    BULK_LANE,
                    broadcast_id,
                    *params,
                ),
            )
            await db.execute(
                "UPDATE broadcasts SET recipients = ? WHERE id = ?",
                (cursor.rowcount, broadcast_id),
            )
        return await self.broadcast(broadcast_id)

    async def progress(self, broadcast_id: int) -> Progress:
        rows = await self.store._fetch(
            "SELECT status, COUNT(*) FROM outbox WHERE broadcast_id = ? GROUP BY status",
            (broadcast_id,),
        )
        counts = {row[0]: row[1] for row in rows}
        sending = counts.get("sending", 0)
        left = counts.get("pending", 0) + counts.get("held", 0) + sending
        sent = counts.get("sent", 0)
        return Progress(
            sent=sent, failed=sum(counts.values()) - left - sent, left=left, sending=sending
        )

    async def report(self, broadcast_id: int, *, reasons: int = 3) -> BroadcastReport:
        """What became of every copy: delivered, blocked, uncertain, failed (with the `reasons`
        commonest errors) and not sent because the broadcast was stopped."""
        rows = await self.store._fetch(
            "SELECT status, error, COUNT(*) FROM outbox WHERE broadcast_id = ?"
            " GROUP BY status, error",
            (broadcast_id,),
        )
        counts: dict[str, int] = {}
        errors: dict[str, int] = {}
        for status, error, count in rows:
            if status == "failed" and error == STOPPED:
                status = "stopped"
            elif status == "failed":
                key = error or "?"
                errors[key] = errors.get(key, 0) + count
            counts[status] = counts.get(status, 0) + count
        commonest = sorted(errors.items(), key=lambda item: (-item[1], item[0]))[:reasons]
        return BroadcastReport(
            sent=counts.get("sent", 0),
            unreachable=counts.get("unreachable", 0),
            uncertain=counts.get("uncertain", 0),
            failed=counts.get("failed", 0),
            stopped=counts.get("stopped", 0),
            reasons=tuple(commonest),
        )

    async def running_since(self, broadcast_id: int) -> datetime | None:
        """Since when it has been sending without a pause: its last resume, or its confirm."""
        rows = await self.store._fetch(
            "SELECT COALESCE(resumed_at, confirmed_at) FROM broadcasts WHERE id = ?",
            (broadcast_id,),
        )
        return from_text(rows[0][0]) if rows and rows[0][0] else None

    async def settled_since(self, broadcast_id: int, moment: datetime) -> int:
        """How many of its copies were settled (sent, or not) at `moment` or later: the pace it
        is actually going at, answers to residents and the budget's other users included."""
        rows = await self.store._fetch(
            "SELECT COUNT(*) FROM outbox WHERE broadcast_id = ? AND status IN"
            " ('sent', 'uncertain', 'failed', 'unreachable') AND settled_at >= ?",
            (broadcast_id, to_text(moment)),
        )
        return int(rows[0][0])

    async def finish_broadcast(self, broadcast_id: int) -> bool:
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ?"
                " AND status = 'sending'",
                (to_text(self.store.clock()), broadcast_id),
            )
            return cursor.rowcount > 0

    async def stop_broadcast(self, broadcast_id: int) -> int:
        """Cancels what a broadcast has not sent yet (paused or not); returns how many rows that
        was. Copies being sent at this moment finish as they will."""
        now = to_text(self.store.clock())
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE broadcasts SET status = 'cancelled', finished_at = ? WHERE id = ?"
                " AND status = 'sending'",
                (now, broadcast_id),
            )
            if cursor.rowcount == 0:
                return 0
            cursor = await db.execute(
                "UPDATE outbox SET status = 'failed', error = ?, settled_at = ?"
                " WHERE broadcast_id = ? AND status IN ('pending', 'held')",
                (STOPPED, now, broadcast_id),
            )
            self.store.outbox.rows_added_elsewhere()
            return cursor.rowcount

    async def pause_broadcast(self, broadcast_id: int) -> int | None:
        """Holds every copy of a sending broadcast not sent yet (the sender never picks a held
        row; copies being sent now finish). Returns how many were held; None if it was not
        sending (paused already, finished, stopped)."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE broadcasts SET paused_at = ? WHERE id = ? AND status = 'sending'"
                " AND paused_at IS NULL",
                (to_text(self.store.clock()), broadcast_id),
            )
            if cursor.rowcount == 0:
                return None
            cursor = await db.execute(
                "UPDATE outbox SET status = 'held' WHERE broadcast_id = ? AND status = 'pending'",
                (broadcast_id,),
            )
            self.store.outbox.rows_added_elsewhere()
            return cursor.rowcount

    async def resume_broadcast(self, broadcast_id: int) -> int | None:
        """Sends a paused broadcast's held copies again, in their order. Returns how many there
        are; None if it was not paused (running already, finished, stopped)."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE broadcasts SET paused_at = NULL, resumed_at = ? WHERE id = ?"
                " AND status = 'sending' AND paused_at IS NOT NULL",
                (to_text(self.store.clock()), broadcast_id),
            )
            if cursor.rowcount == 0:
                return None
            cursor = await db.execute(
                "UPDATE outbox SET status = 'pending' WHERE broadcast_id = ? AND status = 'held'",
                (broadcast_id,),
            )
            self.store.outbox.rows_added_elsewhere()
            return cursor.rowcount

    async def drop_draft(self, broadcast_id: int) -> bool:
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE broadcasts SET status = 'dropped' WHERE id = ? AND status = 'draft'",
                (broadcast_id,),
            )
            return cursor.rowcount > 0


# A resident's language for a broadcast, and whether they are one of its recipients (subscribed
# to the theme or to all, and not known to have blocked the bot). Parameters: theme, ALL_THEMES.
_LANGUAGE = "CASE WHEN r.language IN ('ru', 'en') THEN r.language ELSE 'lv' END"
_RECIPIENT = (
    "r.unreachable_at IS NULL AND r.user_id IN"
    " (SELECT resident_id FROM meeting_subscriptions WHERE theme IN (?, ?))"
)
# An announcement to all: subscribed to any theme (or to all), and not known to have blocked it.
_ANY_SUBSCRIBER = (
    "r.unreachable_at IS NULL AND r.user_id IN (SELECT resident_id FROM meeting_subscriptions)"
)


def _recipients(audience: str) -> tuple[str, tuple[str, ...]]:
    """The condition on `residents r` of a broadcast's recipients, and its parameters: a theme's
    subscribers (with those of all themes), or for ALL_THEMES everyone subscribed."""
    if audience == ALL_THEMES:
        return _ANY_SUBSCRIBER, ()
    return _RECIPIENT, (audience, ALL_THEMES)


def _meeting(row: Any) -> Meeting:
    return Meeting(
        id=row[0],
        theme=row[1],
        starts_at=from_text(row[2]),
        ends_at=from_text(row[3]),
        place=row[4],
        description_lv=row[5],
        description_ru=row[6],
        description_en=row[7],
        status=row[8],
        source_key=row[9],
        version=row[10],
        created_at=from_text(row[11]),
    )


def _reminder(row: Any) -> MeetingReminder:
    return MeetingReminder(
        meeting_id=row[0],
        resident_id=row[1],
        lead=timedelta(minutes=row[2]),
        created_at=from_text(row[3]),
    )


def _broadcast(row: Any) -> Broadcast:
    return Broadcast(
        id=row[0],
        meeting_id=row[1],
        kind=row[2],
        meeting_version=row[3],
        status=row[4],
        recipients=row[5],
        created_by=row[6],
        confirmed_at=from_text(row[7]) if row[7] else None,
        finished_at=from_text(row[8]) if row[8] else None,
        paused_at=from_text(row[9]) if row[9] else None,
    )
