"""The working-group meetings' SQL: the schedule, theme subscriptions, the weekly digest's
readers and the reminders residents asked for. Broadcasts about meetings (and announcements)
are bot/store/broadcasts.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.clock import from_text, to_text
from bot.meetings_schedule import ImportedMeeting

if TYPE_CHECKING:
    from bot.store import Store

ALL_THEMES = "*"  # a subscription to every theme; as an announcement's audience: all subscribers
ANNOUNCEMENT = "announcement"  # the kind of a broadcast that is the office's own text
BULK_LANE = 1
# The stored schedule's kind of a reminder's job: its key and payload name the resident, so
# /forget and the maintenance remove such jobs too.
REMINDER_JOBS = "meeting_reminder"
# A resident's language for what the bot sends them on its own (Latvian unless ru or en).
_LANGUAGE = "CASE WHEN r.language IN ('ru', 'en') THEN r.language ELSE 'lv' END"
_COLUMNS = (
    "id, theme, starts_at, ends_at, place, description_lv, description_ru, description_en,"
    " status, source_key, version, created_at"
)
_REMINDER_COLUMNS = "meeting_id, resident_id, lead_minutes, created_at"


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
class ImportCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    changed_ids: tuple[int, ...] = ()  # the meetings updated or cancelled (their reminders follow)


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
        # By the copy's key (`broadcast:{id}:{resident}`, unique): found through its index, not
        # by walking every row of a status.
        rows = await self.store._fetch(
            "SELECT 1 FROM broadcasts b JOIN outbox o ON o.key = 'broadcast:' || b.id || ':' || ?"
            " WHERE b.meeting_id = ? AND b.kind = 'cancelled'"
            " AND o.status IN ('pending', 'held', 'sending', 'sent', 'uncertain') LIMIT 1",
            (resident_id, meeting_id),
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
