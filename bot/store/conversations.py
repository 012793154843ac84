"""PTB's persistence: conversation states, user_data and chat_data as JSON rows."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, cast

from bot.clock import to_text as _iso
from bot.store.subject import Subject

log = logging.getLogger(__name__)


# user_data/chat_data owners known to have no row (see data_of): at most this many.
NO_DATA_REMEMBERED = 50_000


class Conversations(Subject):
    """What SQLitePersistence reads and writes."""

    # -- PTB persistence ---------------------------------------------------------------------

    async def conversation_states(
        self, name: str, *, active_since: datetime | None = None
    ) -> dict[tuple[int | str, ...], object]:
        """A conversation handler's states; with `active_since`, only those touched since then
        (start-up need not load everyone who ever opened the bot and walked away)."""
        rows = await self._fetch(
            "SELECT key, state FROM conversation_states WHERE name = ? AND updated_at >= ?",
            (name, _iso(active_since) if active_since else ""),
        )
        return {tuple(json.loads(row["key"])): json.loads(row["state"]) for row in rows}

    async def save_conversation_state(
        self, name: str, key: tuple[int | str, ...], state: object | None
    ) -> None:
        """Records a conversation's state; None means the conversation ended. Written with the
        COMMIT of the open unit of work (nothing reads it back before)."""
        key_json = json.dumps(list(key))
        if state is None:
            await self._write_later(
                "DELETE FROM conversation_states WHERE name = ? AND key = ?", (name, key_json)
            )
        else:
            await self._write_later(
                "INSERT INTO conversation_states (name, key, state, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (name, key) DO UPDATE SET"
                " state = excluded.state, updated_at = excluded.updated_at",
                (name, key_json, json.dumps(state), _iso(self.clock())),
            )

    async def data_of(self, table: str, owner_id: int) -> dict[str, Any] | None:
        """user_data or chat_data of one user or chat, or None if nothing is stored.

        PTB asks for them, and writes them back, on every update, and most residents' are
        empty: owners known to have no row are neither looked up nor deleted again. One is
        known once a read or a delete that found or left no row has committed, and is forgotten
        before anything is written for them; rows only ever disappear otherwise (maintenance),
        so the set never claims a row is missing that exists."""
        column = _DATA_TABLES[table]
        if (table, owner_id) in self.store._no_data:
            return None
        rows = await self._fetch(f"SELECT data FROM {table} WHERE {column} = ?", (owner_id,))
        if rows:
            return cast(dict[str, Any], json.loads(rows[0]["data"]))
        self._no_data_soon((table, owner_id))
        return None

    def _no_data_soon(self, key: tuple[str, int]) -> None:
        if self.store._in_unit_of_work.get():
            self.store._no_data_at_commit.add(key)  # unless a write for them follows
        else:
            self._remember_no_data(key)

    def _remember_no_data(self, key: tuple[str, int]) -> None:
        if len(self.store._no_data) >= NO_DATA_REMEMBERED:
            self.store._no_data.pop()
        self.store._no_data.add(key)

    def _data_written(self, key: tuple[str, int]) -> None:
        self.store._no_data.discard(key)
        self.store._no_data_at_commit.discard(key)

    async def save_data(self, table: str, owner_id: int, data: dict[str, Any]) -> None:
        """Written with the COMMIT of the open unit of work (nothing reads it back before)."""
        column = _DATA_TABLES[table]
        if not data:
            # An empty dict is the default anyway: don't keep a row per user ever seen.
            key = (table, owner_id)
            if key not in self.store._no_data and key not in self.store._no_data_at_commit:
                await self.drop_data(table, owner_id)
            return
        self._data_written((table, owner_id))
        await self._write_later(
            f"INSERT INTO {table} ({column}, data, updated_at) VALUES (?, ?, ?)"
            f" ON CONFLICT ({column}) DO UPDATE SET data = excluded.data,"
            " updated_at = excluded.updated_at",
            (owner_id, json.dumps(data, ensure_ascii=False), _iso(self.clock())),
        )

    async def drop_data(self, table: str, owner_id: int) -> None:
        column = _DATA_TABLES[table]
        self._data_written((table, owner_id))
        await self._write_later(f"DELETE FROM {table} WHERE {column} = ?", (owner_id,))
        self._no_data_soon((table, owner_id))

    async def forget_idle_conversations(self, idle_since: datetime) -> int:
        """Drops conversation states, user_data and chat_data untouched since `idle_since`:
        abandoned conversations end (drafts are kept apart, in their own table)."""
        cutoff = _iso(idle_since)
        dropped = 0
        async with self._write() as db:
            for table in ("conversation_states", "user_data", "chat_data"):
                cursor = await db.execute(f"DELETE FROM {table} WHERE updated_at < ?", (cutoff,))
                dropped += cursor.rowcount
        return dropped

    async def bot_data(self) -> dict[str, Any]:
        rows = await self._fetch("SELECT data FROM bot_data WHERE id = 1")
        return json.loads(rows[0]["data"]) if rows else {}

    async def save_bot_data(self, data: dict[str, Any]) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO bot_data (id, data, updated_at) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET data = excluded.data,"
                " updated_at = excluded.updated_at",
                (json.dumps(data, ensure_ascii=False), _iso(self.clock())),
            )


_DATA_TABLES = {"user_data": "user_id", "chat_data": "chat_id"}
