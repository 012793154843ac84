"""Residents: who the bot has met, their language, reachability and privacy notice."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.clock import to_text as _iso
from bot.store.subject import Subject

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resident:
    user_id: int
    language: str | None
    telegram_language: str | None
    first_seen: datetime
    privacy_shown: bool
    banned: bool = False


class Residents(Subject):
    """Residents as the bot knows them."""

    # -- residents ---------------------------------------------------------------------------

    async def resident(self, user_id: int) -> Resident | None:
        rows = await self._fetch(
            "SELECT user_id, language, telegram_language, first_seen, privacy_shown_at, banned_at"
            " FROM residents WHERE user_id = ?",
            (user_id,),
        )
        if not rows:
            return None
        return _resident(rows[0])

    async def record_resident_seen(self, user_id: int, telegram_language: str | None) -> Resident:
        """Creates the resident on first contact, afterwards moves `last_seen`; returns them."""
        async with self._write():
            return await self._in_thread(
                lambda connection: self.resident_seen_in(connection, user_id, telegram_language)
            )

    def resident_seen_in(
        self, connection: sqlite3.Connection, user_id: int, telegram_language: str | None
    ) -> Resident:
        """`record_resident_seen` on the connection's thread (inside a `transaction` `first`)."""
        now = _iso(self.clock())
        row = connection.execute(
            "INSERT INTO residents (user_id, telegram_language, first_seen, last_seen)"
            " VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET last_seen = excluded.last_seen"
            " RETURNING user_id, language, telegram_language, first_seen, privacy_shown_at,"
            " banned_at",
            (user_id, telegram_language, now, now),
        ).fetchone()
        assert row is not None
        return _resident(row)

    async def set_language(self, user_id: int, language: str) -> None:
        now = _iso(self.clock())
        async with self._write() as db:
            await db.execute(
                "INSERT INTO residents (user_id, language, first_seen, last_seen)"
                " VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET language = excluded.language",
                (user_id, language, now, now),
            )

    async def set_reachable(self, user_id: int, reachable: bool) -> None:
        """A resident blocked (False) or unblocked (True) the bot."""
        async with self._write() as db:
            await db.execute(
                "UPDATE residents SET unreachable_at = ? WHERE user_id = ?",
                (None if reachable else _iso(self.clock()), user_id),
            )

    async def is_reachable(self, user_id: int) -> bool:
        rows = await self._fetch(
            "SELECT unreachable_at IS NULL FROM residents WHERE user_id = ?", (user_id,)
        )
        return bool(rows and rows[0][0])

    async def record_privacy_shown(self, user_id: int) -> None:
        async with self._write() as db:
            await db.execute(
                "UPDATE residents SET privacy_shown_at = ? WHERE user_id = ?"
                " AND privacy_shown_at IS NULL",
                (_iso(self.clock()), user_id),
            )

    # -- bans --------------------------------------------------------------------------------------

    async def ban_resident(self, resident_id: int, *, by: int) -> None:
        async with self._write() as db:
            await db.execute(
                "UPDATE residents SET banned_at = ?, banned_by = ? WHERE user_id = ?",
                (_iso(self.clock()), by, resident_id),
            )

    async def unban_resident(self, resident_id: int) -> None:
        async with self._write() as db:
            await db.execute(
                "UPDATE residents SET banned_at = NULL, banned_by = NULL WHERE user_id = ?",
                (resident_id,),
            )

    async def is_banned(self, resident_id: int) -> bool:
        rows = await self._fetch(
            "SELECT 1 FROM residents WHERE user_id = ? AND banned_at IS NOT NULL", (resident_id,)
        )
        return bool(rows)


def _resident(row: aiosqlite.Row) -> Resident:
    return Resident(
        user_id=row["user_id"],
        language=row["language"],
        telegram_language=row["telegram_language"],
        first_seen=datetime.fromisoformat(row["first_seen"]),
        privacy_shown=row["privacy_shown_at"] is not None,
        banned=row["banned_at"] is not None,
    )
