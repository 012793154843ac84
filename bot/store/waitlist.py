"""The reception waitlists' SQL: joining a full date's line, offering a freed place to the first
in line, and settling an offer. An entry is offered at most once (it never returns to
'waiting'), so nobody is offered a place twice; an offered entry holds its place (the places
counted by `Bookings` include it) until it is taken, declined or lapses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from bot.clock import from_text, to_text

if TYPE_CHECKING:
    from bot.store import Store

_COLUMNS = (
    "id, resident_id, day, language, status, offered_start, offered_until, booking_id, created_at"
)
# In a line: still waiting, or offered a place and not yet answered.
_IN_LINE = "('waiting', 'offered')"


@dataclass(frozen=True)
class Entry:
    id: int
    resident_id: int
    day: date
    language: str
    status: str
    offered_start: datetime | None
    offered_until: datetime | None
    booking_id: int | None
    created_at: datetime


class Waitlist:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def entry(self, entry_id: int) -> Entry | None:
        rows = await self.store._fetch(f"SELECT {_COLUMNS} FROM waitlist WHERE id = ?", (entry_id,))
        return _entry(rows[0]) if rows else None

    async def entry_of(self, resident_id: int, day: date) -> Entry | None:
        rows = await self.store._fetch(
            f"SELECT {_COLUMNS} FROM waitlist WHERE resident_id = ? AND day = ?",
            (resident_id, day.isoformat()),
        )
        return _entry(rows[0]) if rows else None

    async def lengths(self, since: date) -> dict[date, int]:
        """How many are in each line from `since` on (waiting, or offered and not answered), by
        date; dates nobody waits for are left out."""
        rows = await self.store._fetch(
            f"SELECT day, COUNT(*) FROM waitlist WHERE day >= ? AND status IN {_IN_LINE}"
            " GROUP BY day ORDER BY day",
            (since.isoformat(),),
        )
        return {date.fromisoformat(row[0]): row[1] for row in rows}

    async def length(self, day: date) -> int:
        """How many are in `day`'s line (waiting, or offered and not answered)."""
        rows = await self.store._fetch(
            f"SELECT COUNT(*) FROM waitlist WHERE day = ? AND status IN {_IN_LINE}",
            (day.isoformat(),),
        )
        return int(rows[0][0])

    async def line(self, day: date, *, offset: int, limit: int) -> list[Entry]:
        """`day`'s line in the order places are offered (first joined, first offered)."""
        rows = await self.store._fetch(
            f"SELECT {_COLUMNS} FROM waitlist WHERE day = ? AND status IN {_IN_LINE}"
            " ORDER BY id LIMIT ? OFFSET ?",
            (day.isoformat(), limit, offset),
        )
        return [_entry(row) for row in rows]

    async def join(self, resident_id: int, day: date, *, language: str) -> bool:
        """Puts the resident in `day`'s line; False if they have an entry for it already."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "INSERT INTO waitlist (resident_id, day, language, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (resident_id, day) DO NOTHING",
                (resident_id, day.isoformat(), language, to_text(self.store.clock())),
            )
            return cursor.rowcount > 0

    async def offer_next(self, day: date, starts_at: datetime, until: datetime) -> Entry | None:
        """Offers the slot at `starts_at` to the first still waiting for `day` who has no active
        booking; the entry so offered, or None if nobody waits."""
        async with self.store._write() as db:
            rows = await db.execute_fetchall(
                "SELECT id FROM waitlist WHERE day = ? AND status = 'waiting' AND resident_id NOT"
                " IN (SELECT resident_id FROM bookings WHERE status IN ('requested', 'confirmed'))"
                " ORDER BY id LIMIT 1",
                (day.isoformat(),),
            )
            rows = list(rows)
            if not rows:
                return None
            await db.execute(
                "UPDATE waitlist SET status = 'offered', offered_start = ?, offered_until = ?"
                " WHERE id = ? AND status = 'waiting'",
                (to_text(starts_at), to_text(until), rows[0][0]),
            )
        return await self.entry(rows[0][0])

    async def settle(self, entry_id: int, status: str) -> Entry | None:
        """Ends an offer ('declined' or 'expired'); None if it was not open any more."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE waitlist SET status = ? WHERE id = ? AND status = 'offered'",
                (status, entry_id),
            )
            if cursor.rowcount == 0:
                return None
        return await self.entry(entry_id)


def _entry(row: Any) -> Entry:
    return Entry(
        id=row[0],
        resident_id=row[1],
        day=date.fromisoformat(row[2]),
        language=row[3],
        status=row[4],
        offered_start=from_text(row[5]) if row[5] else None,
        offered_until=from_text(row[6]) if row[6] else None,
        booking_id=row[7],
        created_at=from_text(row[8]),
    )
