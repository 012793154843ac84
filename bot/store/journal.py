"""Which updates have been handled, and the journal of an update suspected of killing the bot.

An update is confirmed to Telegram only once handled (bot/updates.py); Telegram sends it again
until then. Handled updates are recognised by their ids, noted in the transaction that commits
their effects and kept for a bounded time — not by "at or below the highest id seen": after a
week without updates Telegram picks the next id at random, often lower.

The journal holds an update while it is a suspect: the first one handled after a crash is
written here, in a commit of its own, before it is handled (bot/app.py). If it kills the bot
again, each start counts an attempt at it and gives up after a few.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.clock import to_text

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JournaledUpdate:
    update_id: int
    payload: str
    attempts: int


class Journal:
    def __init__(self, store: Store) -> None:
        self.store = store

    def arrive_in(self, connection: sqlite3.Connection, update_id: int, payload: str) -> str:
        """Journals one update on the connection's thread (as a `transaction` `before`: it
        commits on its own). Returns "new", "pending" (journaled before, not finished) or
        "done" (handled before: Telegram re-sent it)."""
        if connection.execute(*self._arrival(update_id, payload)).rowcount:
            return "new"
        done = connection.execute(
            "SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)
        ).fetchone()
        return "done" if done else "pending"

    def _arrival(self, update_id: int, payload: str) -> tuple[str, tuple[object, ...]]:
        return (
            "INSERT INTO update_journal (update_id, payload, attempts, received_at)"
            " SELECT ?, ?, 0, ? WHERE NOT EXISTS"
            " (SELECT 1 FROM processed_updates WHERE update_id = ?)"
            " ON CONFLICT (update_id) DO NOTHING",
            (update_id, payload, to_text(self.store.clock()), update_id),
        )

    @staticmethod
    def was_handled_in(connection: sqlite3.Connection, update_id: int) -> bool:
        """Whether the update was handled before, on the connection's thread (inside a
        `transaction` `first`)."""
        found = connection.execute(
            "SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)
        ).fetchone()
        return found is not None

    async def count_attempt(self, update_id: int) -> int:
        """Counts one more attempt at an interrupted update (its own commit, so an update that
        kills the bot every time is given up after a few starts instead of forever)."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE update_journal SET attempts = attempts + 1 WHERE update_id = ?"
                " RETURNING attempts",
                (update_id,),
            )
            row = await cursor.fetchone()
            await cursor.close()
        return int(row[0]) if row else 0

    async def finish(self, update_id: int) -> None:
        """Notes the update as handled (and strikes it off the journal, if it was there): part of
        the transaction that commits its effects (made with its COMMIT)."""
        async with self.store._write():
            await self.store._write_later(
                "DELETE FROM update_journal WHERE update_id = ?", (update_id,)
            )
            await self.store._write_later(
                "INSERT INTO processed_updates (update_id, finished_at) VALUES (?, ?)"
                " ON CONFLICT (update_id) DO NOTHING",
                (update_id, to_text(self.store.clock())),
            )

    async def unfinished(self) -> list[JournaledUpdate]:
        """Suspects a crash interrupted, in the order they were journaled."""
        rows = await self.store._fetch(
            "SELECT update_id, payload, attempts FROM update_journal ORDER BY received_at, rowid"
        )
        return [JournaledUpdate(row[0], row[1], row[2]) for row in rows]

    async def forget_handled_before(self, moment: datetime) -> int:
        """Drops the ids of updates handled before `moment` (Telegram re-sends for a day)."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "DELETE FROM processed_updates WHERE finished_at < ?", (to_text(moment),)
            )
            return cursor.rowcount

    async def begin_run(self) -> bool:
        """Notes that the bot has started; returns whether the run before it ended without a
        clean stop (a crash, or an update that could not be committed)."""
        now = to_text(self.store.clock())
        async with self.store._write() as db:
            rows = await db.execute_fetchall("SELECT stopped_at FROM bot_run")
            await db.execute(
                "INSERT INTO bot_run (id, started_at, stopped_at) VALUES (1, ?, NULL)"
                " ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at,"
                " stopped_at = NULL",
                (now,),
            )
        return any(row[0] is None for row in rows)

    async def end_run(self) -> None:
        """Notes a clean stop."""
        async with self.store._write() as db:
            await db.execute("UPDATE bot_run SET stopped_at = ?", (to_text(self.store.clock()),))
