"""The update journal: every update is written here as it arrives and struck off in the same
transaction as its effects, its outbox rows and the conversation state it led to. What a crash
leaves here is handled at the next start. Handled updates are recognised by their ids, kept for a
bounded time — not by "at or below the highest id seen": after a week without updates Telegram
picks the next id at random, often lower.
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

    async def arrive_batch(self, arrivals: list[tuple[int, str]]) -> list[str]:
        """Journals a batch of updates as they arrive — what one `getUpdates` returned, or
        webhook updates that came side by side — (update id, payload) each, in one commit:
        under load a batch holds many updates, and each would be a commit (an fsync) of its
        own. Returns each arrival's "new", "pending" (journaled before, not finished) or
        "done" (handled before), in order; an id twice in a batch is "new", then "pending"."""

        def journal(connection: sqlite3.Connection) -> list[str]:
            return [
                self.arrive_in(connection, update_id, payload) for update_id, payload in arrivals
            ]

        async with self.store.transaction(journal) as statuses:
            assert statuses is not None
        return statuses

    def arrive_in(self, connection: sqlite3.Connection, update_id: int, payload: str) -> str:
        """Journals one update on the connection's thread: committed on its own outside a
        transaction (as a `transaction` `before`), or with the transaction it runs in
        (`arrive_batch`). Returns "new", "pending" (journaled before, not finished) or "done"
        (handled before: Telegram re-sent it)."""
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

    async def is_pending(self, update_id: int) -> bool:
        rows = await self.store._fetch(
            "SELECT 1 FROM update_journal WHERE update_id = ?", (update_id,)
        )
        return bool(rows)

    @staticmethod
    def is_pending_in(connection: sqlite3.Connection, update_id: int) -> bool:
        """`is_pending` on the connection's thread (inside a `transaction` `first`)."""
        found = connection.execute(
            "SELECT 1 FROM update_journal WHERE update_id = ?", (update_id,)
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
        """Strikes the update off: part of the transaction that commits its effects (made with
        its COMMIT)."""
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
        """Updates a crash interrupted, in the order they arrived."""
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
