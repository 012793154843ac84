"""The reception bookings' SQL: requests for slots, the office's decisions, closed dates.

Places are counted and taken in one write transaction (`request`): two residents pressing for
the last place of a slot are serialised by the store's write lock and BEGIN IMMEDIATE, so
exactly one gets it. Every change raises the booking's version; a change made on a version
someone else has changed since is refused, so a second specialist sees the first one's decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from bot.clock import from_text, to_text

if TYPE_CHECKING:
    from bot.store import Store

ACTIVE = ("requested", "confirmed")
CLOSED = ("declined", "cancelled", "expired", "attended", "no_show")
_COLUMNS = (
    "id, resident_id, language, starts_at, ends_at, theme, note, status, reason, decided_by,"
    " decided_by_name, decided_at, version, created_at, calendar_sequence"
)


@dataclass(frozen=True)
class Booking:
    id: int
    resident_id: int
    language: str
    starts_at: datetime
    ends_at: datetime
    theme: str | None
    note: str | None
    status: str
    reason: str | None
    decided_by: int | None
    decided_by_name: str | None
    decided_at: datetime | None
    version: int
    created_at: datetime
    # The SEQUENCE of the last calendar file the resident was sent; None: none was sent.
    calendar_sequence: int | None = None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE


@dataclass(frozen=True)
class Refusal:
    """Why a request took no place: the slot is full, or the resident has a booking already."""

    why: Literal["full", "has_booking"]
    existing: Booking | None = None


@dataclass(frozen=True)
class BookingPrompt:
    booking_id: int
    version: int


class Bookings:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- questions -------------------------------------------------------------------------------

    async def booking(self, booking_id: int) -> Booking | None:
        rows = await self.store._fetch(
            f"SELECT {_COLUMNS} FROM bookings WHERE id = ?", (booking_id,)
        )
        return _booking(rows[0]) if rows else None

    async def active_of(self, resident_id: int) -> Booking | None:
        """The resident's one requested or confirmed booking, if any."""
        rows = await self.store._fetch(
            f"SELECT {_COLUMNS} FROM bookings WHERE resident_id = ?"
            " AND status IN ('requested', 'confirmed')",
            (resident_id,),
        )
        return _booking(rows[0]) if rows else None

    async def taken_places(self, since: datetime, until: datetime) -> dict[datetime, int]:
        """Places taken per slot start, for the slots starting in [since, until): the active
        bookings and the open waitlist offers (which hold their place)."""
        rows = await self.store._fetch(
            "SELECT starts_at, COUNT(*) FROM (SELECT starts_at FROM bookings WHERE starts_at >= ?1"
            " AND starts_at < ?2 AND status IN ('requested', 'confirmed') UNION ALL"
            " SELECT offered_start FROM waitlist WHERE status = 'offered'"
            " AND offered_start >= ?1 AND offered_start < ?2) GROUP BY starts_at",
            (to_text(since), to_text(until)),
        )
        return {from_text(row[0]): row[1] for row in rows}

    async def active_between(self, since: datetime, until: datetime) -> list[Booking]:
        """Requested and confirmed bookings of the slots starting in [since, until)."""
        rows = await self.store._fetch(
            f"SELECT {_COLUMNS} FROM bookings WHERE starts_at >= ? AND starts_at < ?"
            " AND status IN ('requested', 'confirmed') ORDER BY starts_at, id",
            (to_text(since), to_text(until)),
        )
        return [_booking(row) for row in rows]

    async def agenda(self, since: datetime, until: datetime) -> list[Booking]:
        """Every booking of the slots starting in [since, until) but those that never took a
        place (declined, cancelled, expired), by slot."""
        rows = await self.store._fetch(
            f"SELECT {_COLUMNS} FROM bookings WHERE starts_at >= ? AND starts_at < ?"
            " AND status IN ('requested', 'confirmed', 'attended', 'no_show')"
            " ORDER BY starts_at, id",
            (to_text(since), to_text(until)),
        )
        return [_booking(row) for row in rows]

    async def closed_dates(self, since: date, until: date) -> dict[date, str]:
        """Dates staff closed in [since, until], with the reason they gave."""
        rows = await self.store._fetch(
            "SELECT day, reason FROM closed_dates WHERE day >= ? AND day <= ?",
            (since.isoformat(), until.isoformat()),
        )
        return {date.fromisoformat(row[0]): row[1] for row in rows}

    async def prompt_at(self, chat_id: int, message_id: int) -> BookingPrompt | None:
        rows = await self.store._fetch(
            "SELECT booking_id, version FROM booking_prompts WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return BookingPrompt(rows[0][0], rows[0][1]) if rows else None

    # -- changes ---------------------------------------------------------------------------------

    async def request(
        self,
        resident_id: int,
        *,
        language: str,
        starts_at: datetime,
        ends_at: datetime,
        places: int,
        theme: str | None,
        note: str | None,
        offer_id: int | None = None,
    ) -> Booking | Refusal:
        """Takes a place in the slot, if one is free and the resident has no active booking.
        Given `offer_id` (a waitlist offer of this slot), the place that offer holds is the one
        taken, and the offer is marked booked in the same transaction."""
        async with self.store._write() as db:
            existing = await self.active_of(resident_id)
            if existing is not None:
                return Refusal("has_booking", existing)
            if await self._taken(starts_at, except_offer=offer_id) >= places:
                return Refusal("full")
            cursor = await db.execute(
                "INSERT INTO bookings (resident_id, language, starts_at, ends_at, theme, note,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    resident_id,
                    language,
                    to_text(starts_at),
                    to_text(ends_at),
                    theme,
                    note,
                    to_text(self.store.clock()),
                ),
            )
            booking_id = cursor.lastrowid
            if offer_id is not None:
                await db.execute(
                    "UPDATE waitlist SET status = 'booked', booking_id = ? WHERE id = ?",
                    (booking_id, offer_id),
                )
        booking = await self.booking(int(booking_id or 0))
        assert booking is not None
        return booking

    async def _taken(self, starts_at: datetime, *, except_offer: int | None = None) -> int:
        rows = await self.store._fetch(
            "SELECT (SELECT COUNT(*) FROM bookings WHERE starts_at = ?1"
            " AND status IN ('requested', 'confirmed')) + (SELECT COUNT(*) FROM waitlist"
            " WHERE offered_start = ?1 AND status = 'offered' AND id IS NOT ?2)",
            (to_text(starts_at), except_offer),
        )
        return int(rows[0][0])

    async def move(
        self, booking_id: int, *, starts_at: datetime, ends_at: datetime, places: int
    ) -> Booking | None:
        """Moves an active booking to another slot, if a place is free there (counted in the same
        transaction, as in `request`); the moved booking, or None if it was not."""
        async with self.store._write() as db:
            current = await self.booking(booking_id)
            if current is None or not current.is_active or current.starts_at == starts_at:
                return None
            if await self._taken(starts_at) >= places:
                return None
            await db.execute(
                "UPDATE bookings SET starts_at = ?, ends_at = ?, version = version + 1"
                " WHERE id = ? AND status IN ('requested', 'confirmed')",
                (to_text(starts_at), to_text(ends_at), booking_id),
            )
        return await self.booking(booking_id)

    async def change(
        self,
        booking_id: int,
        status: str,
        *,
        allowed_from: tuple[str, ...],
        seen_version: int | None = None,
        by: int | None = None,
        by_name: str | None = None,
        reason: str | None = None,
    ) -> Booking | None:
        """Moves a booking to `status` if it is in one of `allowed_from` (and, given
        `seen_version`, unchanged since); the changed booking, or None if it was not."""
        now = to_text(self.store.clock())
        marks = ", ".join("?" for _ in allowed_from)
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE bookings SET status = ?, reason = COALESCE(?, reason), decided_by = ?,"
                " decided_by_name = ?, decided_at = ?, version = version + 1"
                f" WHERE id = ? AND status IN ({marks}) AND (? IS NULL OR version = ?)",
                (
                    status,
                    reason,
                    by,
                    by_name,
                    now,
                    booking_id,
                    *allowed_from,
                    seen_version,
                    seen_version,
                ),
            )
            if cursor.rowcount == 0:
                return None
        return await self.booking(booking_id)

    async def record_calendar_sequence(self, booking_id: int, sequence: int) -> None:
        """Remembers the SEQUENCE of the calendar file just queued for the booking's resident."""
        async with self.store._write() as db:
            await db.execute(
                "UPDATE bookings SET calendar_sequence = ? WHERE id = ?", (sequence, booking_id)
            )

    async def close_date(self, day: date, reason: str, *, by: int) -> bool:
        """Closes the reception on `day`; False if it was closed already (the reason stays)."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "INSERT INTO closed_dates (day, reason, closed_by, closed_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (day) DO NOTHING",
                (day.isoformat(), reason, by, to_text(self.store.clock())),
            )
            return cursor.rowcount > 0

    async def record_prompt(
        self, chat_id: int, message_id: int, booking_id: int, *, version: int
    ) -> None:
        """Remembers that a reply to this prompt is the reason for declining the booking."""
        async with self.store._write() as db:
            await db.execute(
                "INSERT INTO booking_prompts (chat_id, message_id, booking_id, version,"
                " created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id, message_id)"
                " DO UPDATE SET booking_id = excluded.booking_id, version = excluded.version",
                (chat_id, message_id, booking_id, version, to_text(self.store.clock())),
            )

    async def forget_prompt(self, chat_id: int, message_id: int) -> None:
        async with self.store._write() as db:
            await db.execute(
                "DELETE FROM booking_prompts WHERE chat_id = ? AND message_id = ?",
                (chat_id, message_id),
            )


def _booking(row: Any) -> Booking:
    return Booking(
        id=row[0],
        resident_id=row[1],
        language=row[2],
        starts_at=from_text(row[3]),
        ends_at=from_text(row[4]),
        theme=row[5],
        note=row[6],
        status=row[7],
        reason=row[8],
        decided_by=row[9],
        decided_by_name=row[10],
        decided_at=from_text(row[11]) if row[11] else None,
        version=row[12],
        created_at=from_text(row[13]),
        calendar_sequence=row[14],
    )
