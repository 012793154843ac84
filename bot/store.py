"""The store: one SQLite file through aiosqlite. All of the bot's SQL lives in this module.

One connection serves the whole bot. aiosqlite runs it on one worker thread, so statements never
run at the same time, but coroutines can still interleave *between* the statements of a
transaction: every write therefore goes through `_write()`, which holds an asyncio lock for the
whole transaction. Methods are named after the question they answer or the fact they record.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.clock import Clock, utc_now
from bot.clock import to_text as _iso
from bot.config import PROJECT_ROOT, SYNCHRONOUS
from bot.store_journal import Journal
from bot.store_outbox import Outbox
from bot.store_proposals import ProposalQueries
from bot.store_schedule import Schedule

log = logging.getLogger(__name__)

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    """A migration file is malformed or failed to apply; nothing of it was applied."""


@dataclass(frozen=True)
class Resident:
    user_id: int
    language: str | None
    telegram_language: str | None
    first_seen: datetime
    privacy_shown: bool


@dataclass(frozen=True)
class LoggedMessage:
    at: datetime
    direction: str
    chat_id: int | None
    user_id: int | None
    message_id: int | None
    kind: str
    text: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Specialist:
    user_id: int
    added_by: int
    added_at: datetime


class Store(ProposalQueries):
    def __init__(
        self, path: Path | str, *, clock: Clock = utc_now, synchronous: str = "FULL"
    ) -> None:
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
        self.path = Path(path)
        self.clock = clock
        self.synchronous = synchronous
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        # Set while this task (and the tasks it starts) are inside unit_of_work().
        self._in_unit_of_work: ContextVar[bool] = ContextVar(
            f"unit_of_work_{id(self)}", default=False
        )
        # The delivery core's subjects, each a plain class over this connection.
        self.journal = Journal(self)
        self.outbox = Outbox(self)
        self.schedule = Schedule(self)

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self, migrations_dir: Path = MIGRATIONS_DIR) -> None:
        """Opens the file (creating it and its folder), configures SQLite and migrates."""
        if self._db is not None:
            return
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; _write() says BEGIN IMMEDIATE itself so
        # a read that decides a write cannot be overtaken by another writer.
        self._db = await aiosqlite.connect(self.path, isolation_level=None)
        self._db.row_factory = aiosqlite.Row
        # WAL lets readers (exports, a second process) work beside the bot; FULL (the default)
        # makes each commit survive power loss too, which matters more here than a millisecond
        # per write. NORMAL survives a crash of the bot but not of the machine.
        await self._db.execute("PRAGMA journal_mode = WAL")
        await self._db.execute(f"PRAGMA synchronous = {self.synchronous}")
        await self._db.execute("PRAGMA foreign_keys = ON")
        await self._db.execute("PRAGMA busy_timeout = 5000")
        await self.migrate(migrations_dir)

    async def close(self) -> None:
        """Closes the connection; aiosqlite's worker thread would otherwise keep the process."""
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    async def _fetch(self, sql: str, parameters: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        """All rows of a query. Inside a unit of work they see its changes; outside one (the
        outbox sender, the scheduler, the CLI) the read waits for the open transaction to end,
        because the one shared connection would otherwise show another task's uncommitted
        writes."""
        if self._in_unit_of_work.get():
            return list(await self.db.execute_fetchall(sql, tuple(parameters)))
        async with self._write_lock:
            return list(await self.db.execute_fetchall(sql, tuple(parameters)))

    @property
    def in_unit_of_work(self) -> bool:
        return self._in_unit_of_work.get()

    async def savepoint(self, name: str) -> None:
        """Marks a point inside the open unit of work that `rollback_to` can return to."""
        await self.db.execute(f"SAVEPOINT {_identifier(name)}")

    async def rollback_to(self, name: str) -> None:
        await self.db.execute(f"ROLLBACK TO {_identifier(name)}")

    async def release(self, name: str) -> None:
        await self.db.execute(f"RELEASE {_identifier(name)}")

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction, serialised with every other write of this process — or, inside
        `unit_of_work()`, a part of that one."""
        if self._in_unit_of_work.get():
            yield self.db
            return
        async with self.unit_of_work() as db:
            yield db

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[aiosqlite.Connection]:
        """Groups the writes made inside it (also by tasks it starts) into one transaction: one
        commit, one fsync. Only for bookkeeping around an update — never around a reply, which
        must not be seen before what it reports is committed."""
        async with self._write_lock:
            token = self._in_unit_of_work.set(True)
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            else:
                await self.db.execute("COMMIT")
            finally:
                self._in_unit_of_work.reset(token)

    # -- migrations ------------------------------------------------------------------------

    async def migrate(self, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
        """Applies the migrations not applied yet, in order, each in its own transaction."""
        await self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        applied = {row[0] for row in await self._fetch("SELECT name FROM schema_migrations")}
        files = sorted(migrations_dir.glob("*.sql"))
        numbers: dict[str, str] = {}
        for file in files:
            match = MIGRATION_NAME.match(file.name)
            if not match:
                raise MigrationError(f"{file}: name must look like 0001_what_it_does.sql")
            if match.group(1) in numbers:
                raise MigrationError(f"{file}: number {match.group(1)} used twice")
            numbers[match.group(1)] = file.name
        done = []
        for file in files:
            if file.name in applied:
                continue
            sql = file.read_text(encoding="utf-8")
            # executescript() runs the whole file; wrapping it in BEGIN/COMMIT with the record of
            # its name makes the migration and its record one transaction.
            script = (
                f"BEGIN IMMEDIATE;\n{sql}\n;\n"
                f"INSERT INTO schema_migrations (name, applied_at) "
                f"VALUES ('{file.name}', '{_iso(self.clock())}');\nCOMMIT;"
            )
            async with self._write_lock:
                try:
                    await self.db.executescript(script)
                except Exception as error:
                    if self.db.in_transaction:
                        await self.db.execute("ROLLBACK")
                    raise MigrationError(f"{file}: {error}") from error
            log.info("applied migration %s", file.name)
            done.append(file.name)
        return done

    async def applied_migrations(self) -> list[str]:
        rows = await self._fetch("SELECT name FROM schema_migrations ORDER BY name")
        return [row[0] for row in rows]

    # -- residents ---------------------------------------------------------------------------

    async def resident(self, user_id: int) -> Resident | None:
        rows = await self._fetch(
            "SELECT user_id, language, telegram_language, first_seen, privacy_shown_at"
            " FROM residents WHERE user_id = ?",
            (user_id,),
        )
        if not rows:
            return None
        return _resident(rows[0])

    async def record_resident_seen(self, user_id: int, telegram_language: str | None) -> Resident:
        """Creates the resident on first contact, afterwards moves `last_seen`; returns them."""
        now = _iso(self.clock())
        async with self._write() as db:
            cursor = await db.execute(
                "INSERT INTO residents (user_id, telegram_language, first_seen, last_seen)"
                " VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET last_seen = excluded.last_seen"
                " RETURNING user_id, language, telegram_language, first_seen, privacy_shown_at",
                (user_id, telegram_language, now, now),
            )
            row = await cursor.fetchone()
            await cursor.close()
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
        """Records a conversation's state; None means the conversation ended."""
        key_json = json.dumps(list(key))
        async with self._write() as db:
            if state is None:
                await db.execute(
                    "DELETE FROM conversation_states WHERE name = ? AND key = ?", (name, key_json)
                )
            else:
                await db.execute(
                    "INSERT INTO conversation_states (name, key, state, updated_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (name, key) DO UPDATE SET"
                    " state = excluded.state, updated_at = excluded.updated_at",
                    (name, key_json, json.dumps(state), _iso(self.clock())),
                )

    async def data_of(self, table: str, owner_id: int) -> dict[str, Any] | None:
        """user_data or chat_data of one user or chat, or None if nothing is stored."""
        column = _DATA_TABLES[table]
        rows = await self._fetch(f"SELECT data FROM {table} WHERE {column} = ?", (owner_id,))
        return json.loads(rows[0]["data"]) if rows else None

    async def save_data(self, table: str, owner_id: int, data: dict[str, Any]) -> None:
        column = _DATA_TABLES[table]
        async with self._write() as db:
            if data:
                await db.execute(
                    f"INSERT INTO {table} ({column}, data, updated_at) VALUES (?, ?, ?)"
                    f" ON CONFLICT ({column}) DO UPDATE SET data = excluded.data,"
                    " updated_at = excluded.updated_at",
                    (owner_id, json.dumps(data, ensure_ascii=False), _iso(self.clock())),
                )
            else:
                # An empty dict is the default anyway: don't keep a row per user ever seen.
                await db.execute(f"DELETE FROM {table} WHERE {column} = ?", (owner_id,))

    async def drop_data(self, table: str, owner_id: int) -> None:
        column = _DATA_TABLES[table]
        async with self._write() as db:
            await db.execute(f"DELETE FROM {table} WHERE {column} = ?", (owner_id,))

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

    # -- message log -------------------------------------------------------------------------

    async def log_message(
        self,
        *,
        direction: str,
        kind: str,
        chat_id: int | None,
        user_id: int | None = None,
        message_id: int | None = None,
        update_id: int | None = None,
        text: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO message_log (at, direction, chat_id, user_id, message_id,"
                " update_id, kind, text, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _iso(self.clock()),
                    direction,
                    chat_id,
                    user_id,
                    message_id,
                    update_id,
                    kind,
                    text,
                    json.dumps(details, ensure_ascii=False) if details else None,
                ),
            )

    async def conversation_with(
        self, chat_id: int, *, limit: int | None = None
    ) -> list[LoggedMessage]:
        """The logged messages of one chat, oldest first (the newest `limit` if given)."""
        rows = await self._fetch(
            "SELECT * FROM (SELECT at, direction, chat_id, user_id, message_id, kind, text,"
            " details, id FROM message_log WHERE chat_id = ? ORDER BY id DESC LIMIT ?)"
            " ORDER BY id",
            (chat_id, -1 if limit is None else limit),
        )
        return [
            LoggedMessage(
                at=datetime.fromisoformat(row["at"]),
                direction=row["direction"],
                chat_id=row["chat_id"],
                user_id=row["user_id"],
                message_id=row["message_id"],
                kind=row["kind"],
                text=row["text"],
                details=json.loads(row["details"]) if row["details"] else {},
            )
            for row in rows
        ]

    # -- staff -------------------------------------------------------------------------------

    async def is_specialist(self, user_id: int) -> bool:
        rows = await self._fetch("SELECT 1 FROM specialists WHERE user_id = ?", (user_id,))
        return bool(rows)

    async def specialists(self) -> list[Specialist]:
        rows = await self._fetch(
            "SELECT user_id, added_by, added_at FROM specialists ORDER BY added_at"
        )
        return [
            Specialist(row["user_id"], row["added_by"], datetime.fromisoformat(row["added_at"]))
            for row in rows
        ]

    async def add_specialist(self, user_id: int, added_by: int) -> bool:
        """Adds a specialist; False if they already were one."""
        async with self._write() as db:
            cursor = await db.execute(
                "INSERT INTO specialists (user_id, added_by, added_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO NOTHING",
                (user_id, added_by, _iso(self.clock())),
            )
            return cursor.rowcount > 0

    async def remove_specialist(self, user_id: int) -> bool:
        """Removes a specialist; False if they were not one."""
        async with self._write() as db:
            cursor = await db.execute("DELETE FROM specialists WHERE user_id = ?", (user_id,))
            return cursor.rowcount > 0


def _resident(row: aiosqlite.Row) -> Resident:
    return Resident(
        user_id=row["user_id"],
        language=row["language"],
        telegram_language=row["telegram_language"],
        first_seen=datetime.fromisoformat(row["first_seen"]),
        privacy_shown=row["privacy_shown_at"] is not None,
    )


def _identifier(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"not an SQL identifier: {name!r}")
    return name


# Table name -> owner column. Only these names ever reach an f-string above.
_DATA_TABLES = {"user_data": "user_id", "chat_data": "chat_id"}
