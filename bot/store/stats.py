"""The office's data tools' SQL: the bookings, meetings and subscriptions exported for the
working groups, and the counts /stats draws. Only reads; nothing personal beyond residents' ids
(a booking's note is left out: it is free text a resident wrote, not needed for counting)."""

from __future__ import annotations

from datetime import datetime

from bot.clock import from_text, to_text
from bot.store.bookings import _COLUMNS as _BOOKING_COLUMNS
from bot.store.bookings import Booking, _booking
from bot.store.meetings import _COLUMNS as _MEETING_COLUMNS
from bot.store.meetings import Meeting, _meeting
from bot.store.subject import Subject


class Stats(Subject):
    async def bookings(self) -> list[Booking]:
        """Every booking the store holds, oldest request first."""
        rows = await self._fetch(f"SELECT {_BOOKING_COLUMNS} FROM bookings ORDER BY id")
        return [_booking(row) for row in rows]

    async def meetings(self) -> list[Meeting]:
        """Every working-group meeting, by start."""
        rows = await self._fetch(f"SELECT {_MEETING_COLUMNS} FROM meetings ORDER BY starts_at, id")
        return [_meeting(row) for row in rows]

    async def subscription_counts(self) -> dict[str, int]:
        """Residents subscribed per theme slug; '*' for those subscribed to every theme."""
        rows = await self._fetch(
            "SELECT theme, COUNT(*) FROM meeting_subscriptions GROUP BY theme ORDER BY theme"
        )
        return {row[0]: row[1] for row in rows}

    async def proposal_times(self, since: datetime) -> list[tuple[datetime, str]]:
        """(submitted at, theme) of every proposal submitted since `since` (withdrawn too)."""
        rows = await self._fetch(
            "SELECT created_at, theme FROM proposals WHERE created_at >= ? ORDER BY created_at",
            (to_text(since),),
        )
        return [(from_text(row[0]), row[1]) for row in rows]

    async def booking_times(self, since: datetime, until: datetime) -> list[datetime]:
        """The reception times of the bookings requested for [since, until), whatever became of
        them (declined and cancelled too: the count is of residents who asked)."""
        rows = await self._fetch(
            "SELECT starts_at FROM bookings WHERE starts_at >= ? AND starts_at < ?"
            " ORDER BY starts_at",
            (to_text(since), to_text(until)),
        )
        return [from_text(row[0]) for row in rows]
