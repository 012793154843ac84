"""The store: one SQLite file through aiosqlite. All of the bot's SQL lives in this module.

One connection serves the whole bot. aiosqlite runs it on one worker thread, so statements never
run at the same time, but coroutines can still interleave *between* the statements of a
transaction: every write therefore goes through `_write()`, which holds an asyncio lock for the
whole transaction. Methods are named after the question they answer or the fact they record.

Each awaited statement is a trip to that thread and back (two thread switches, ~50-100 µs,
more than most statements take), so an update's bookkeeping is made in few trips: what opens
its transaction in one (`transaction(first=...)`), and the writes nothing in the transaction
reads back — the message log, PTB's state, the journal's strike — with the COMMIT in another
(`_write_later`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from bot.clock import Clock, utc_now
from bot.clock import to_text as _iso
from bot.config import SYNCHRONOUS, package_folder
from bot.store_bookings import Bookings
from bot.store_journal import Journal
from bot.store_meetings import Meetings
from bot.store_outbox import Outbox
from bot.store_privacy import Privacy
from bot.store_proposals import ProposalQueries
from bot.store_schedule import Schedule

log = logging.getLogger(__name__)

T = TypeVar("T")
# Work done on the connection's own thread, with the plain sqlite3 connection (see _in_thread).
Work = Callable[[sqlite3.Connection], T]
Parameters = tuple[Any, ...]
# user_data/chat_data owners known to have no row (see data_of): at most this many.
NO_DATA_REMEMBERED = 50_000

MIGRATIONS_DIR = package_folder("bot.migrations")
MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    """A migration file is malformed or failed to apply; nothing of it was applied."""


class StoreOpenError(Exception):
    """The database file or its folder cannot be created or opened; the message names the file."""


@dataclass(frozen=True)
class Resident:
    user_id: int
    language: str | None
    telegram_language: str | None
    first_seen: datetime
    privacy_shown: bool
    banned: bool = False


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
        # Writes of the open unit of work, made with its COMMIT; how many of them came before
        # each of its savepoints.
        self._later: list[tuple[str, Parameters]] = []
        self._savepoints: dict[str, int] = {}
        # (table, owner) of user_data/chat_data known to have no row: most residents' data is
        # empty, and PTB asks for it, and writes it back, on every update.
        self._no_data: set[tuple[str, int]] = set()
        self._no_data_at_commit: set[tuple[str, int]] = set()  # ... once this unit commits
        # The delivery core's subjects, each a plain class over this connection.
        self.journal = Journal(self)
        self.outbox = Outbox(self)
        self.schedule = Schedule(self)
        self.bookings = Bookings(self)
        self.privacy = Privacy(self)
        # Set when a transaction deleted personal data: the WAL is checkpointed after its commit.
        self._checkpoint_due = False
        self.meetings = Meetings(self)

    # -- lifecycle -------------------------------------------------------------------------

    async def open(
        self, migrations_dir: Path = MIGRATIONS_DIR, *, must_exist: bool = False
    ) -> list[str]:
        """Opens the file (creating it and its folder, unless it `must_exist`: commands that only
        read must not turn a mistyped DATABASE into a new empty database), configures SQLite and
        migrates. Returns the migrations applied now. Raises StoreOpenError naming the file."""
        if self._db is not None:
            return []
        database: str | Path = self.path
        if str(self.path) != ":memory:":
            if must_exist:
                if not self.path.exists():
                    raise StoreOpenError(f"{self.path}: no such database file (check DATABASE)")
                # mode=rw: SQLite itself refuses to create the file if it went meanwhile.
                database = f"{self.path.resolve().as_uri()}?mode=rw"
            else:
                # Private (0700 folder, 0600 file): it holds residents' phone numbers, e-mails and
                # every message. SQLite gives the -wal and -shm files the database file's mode.
                try:
                    self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                except OSError as error:
                    raise StoreOpenError(
                        f"{self.path}: cannot create its folder {self.path.parent}: "
                        f"{error.strerror or error}"
                    ) from None
                try:
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                except FileExistsError:
                    pass  # an existing database (or whatever is there: SQLite will say)
                except OSError as error:
                    raise StoreOpenError(
                        f"{self.path}: cannot create the database: {error.strerror or error}"
                    ) from None
        # isolation_level=None: no implicit transactions; _write() says BEGIN IMMEDIATE itself so
        # a read that decides a write cannot be overtaken by another writer.
        try:
            # Tried first in a plain thread: when aiosqlite's own connect fails, its worker thread
            # outlives the attempt and reports to an event loop that may be closed by then.
            await asyncio.to_thread(lambda: sqlite3.connect(database, uri=must_exist).close())
            db = await aiosqlite.connect(database, isolation_level=None, uri=must_exist)
        except sqlite3.Error as error:
            raise StoreOpenError(f"{self.path}: cannot open the database: {error}") from None
        try:
            db.row_factory = aiosqlite.Row
            # WAL lets readers (exports, a second process) work beside the bot; FULL (the default)
            # makes each commit survive power loss too, which matters more here than a
            # millisecond per write. NORMAL survives a crash of the bot but not of the machine.
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute(f"PRAGMA synchronous = {self.synchronous}")
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA busy_timeout = 5000")
            # Deleted rows are overwritten with zeros, not just unlinked: what a resident asked to
            # be forgotten (or retention removed) must not stay readable in the file.
            await db.execute("PRAGMA secure_delete = ON")
        except sqlite3.Error as error:
            # E.g. "file is not a database": some other file is where DATABASE points.
            await db.close()
            raise StoreOpenError(f"{self.path}: cannot open the database: {error}") from None
        self._db = db
        return await self.migrate(migrations_dir)

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
        query = (sql, tuple(parameters))
        if self._in_unit_of_work.get():
            return await self._in_thread(lambda connection: _begun_fetch(connection, *query))
        async with self._write_lock:
            return list(await self.db.execute_fetchall(*query))

    @property
    def in_unit_of_work(self) -> bool:
        return self._in_unit_of_work.get()

    async def _in_thread(self, work: Work[T]) -> T:
        """Runs `work` on the connection's worker thread with the plain sqlite3 connection:
        several statements for the price of one trip there. aiosqlite has no public way to do
        this; `Connection._execute` is what each of its own methods uses, so this is the one
        place that relies on it."""
        db = self.db
        return cast(T, await db._execute(work, db._conn))

    def savepoint_in(self, connection: sqlite3.Connection, name: str) -> None:
        """Marks a point that `rollback_to` can return to (inside a `transaction` `first`, while
        the unit of work waits for it)."""
        connection.execute(f"SAVEPOINT {_identifier(name)}")
        self._savepoints[name] = len(self._later)

    async def rollback_to(self, name: str) -> None:
        """Undoes what was written since the savepoint: its statements, and the writes that were
        to be made with the COMMIT."""
        await self.db.execute(f"ROLLBACK TO {_identifier(name)}")
        del self._later[self._savepoints[name] :]
        self._no_data_at_commit.clear()  # what it learned may have been undone: forget it

    async def write_queued_now(self) -> None:
        """Makes the writes queued for the COMMIT now, inside the open unit of work: for a
        change that must come after them (forgetting a resident deletes the message-log rows
        this very update queued). A savepoint taken before them still undoes them."""
        if not self._in_unit_of_work.get() or not self._later:
            return
        later, self._later = self._later, []
        await self._in_thread(lambda connection: _execute_all(connection, later))
        self._savepoints = {name: 0 for name in self._savepoints}

    async def release(self, name: str) -> None:
        """Ends a savepoint's scope (with the COMMIT: nothing can return to it after this)."""
        await self._write_later(f"RELEASE {_identifier(name)}", ())

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction, serialised with every other write of this process — or, inside
        `unit_of_work()`, a part of that one."""
        if self._in_unit_of_work.get():
            if not self.db.in_transaction:
                await self._in_thread(_begin_once)
            yield self.db
            return
        async with self.unit_of_work():
            await self._in_thread(_begin_once)
            yield self.db

    async def _write_one(self, sql: str, parameters: Parameters = ()) -> int:
        """One write statement; returns how many rows it changed. Part of the open unit of work,
        or else committed on its own (SQLite commits a statement outside a transaction by
        itself): one trip, not three."""
        if self._in_unit_of_work.get():
            return await self._in_thread(
                lambda connection: _begun_write(connection, sql, parameters)
            )
        async with self._write_lock:
            return (await self.db.execute(sql, parameters)).rowcount

    async def _write_later(self, sql: str, parameters: Parameters) -> None:
        """A write nothing in the open unit of work reads back: made in the same trip as its
        COMMIT, in the order given. Outside a unit of work it is made, and committed, at once."""
        if self._in_unit_of_work.get():
            self._later.append((sql, parameters))
        else:
            await self._write_one(sql, parameters)

    @asynccontextmanager
    async def _atomic(self) -> AsyncIterator[None]:
        """Makes the writes inside it one transaction: the open unit of work, or else a new
        one (in which writes made later cost no trip of their own)."""
        if self._in_unit_of_work.get():
            yield
            return
        async with self.unit_of_work():
            yield

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[None]:
        """Groups the writes made inside it (also by tasks it starts) into one transaction: one
        commit, one fsync. Only for bookkeeping around an update — never around a reply, which
        must not be seen before what it reports is committed.

        BEGIN IMMEDIATE goes with its first statement (the lock is this process's from the
        start), and a unit that only writes later is one trip: BEGIN, its writes, COMMIT."""
        async with self._unit(None):
            yield

    @asynccontextmanager
    async def transaction(
        self, first: Work[T], *, before: Work[bool] | None = None
    ) -> AsyncIterator[T | None]:
        """A unit of work whose `first` statements run right after BEGIN, in one trip to the
        connection's thread; what `first` returns is what `as` gets. `before`, if given, runs
        in that trip ahead of BEGIN, so what it writes commits on its own; if it returns False,
        nothing is begun and `as` gets None."""

        def opening(connection: sqlite3.Connection) -> T | None:
            if before is not None and not before(connection):
                return None
            connection.execute("BEGIN IMMEDIATE")
            try:
                return first(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise

        async with self._unit(opening) as opened:
            yield opened

    @asynccontextmanager
    async def _unit(self, opening: Work[T | None] | None) -> AsyncIterator[T | None]:
        async with self._write_lock:
            token = self._in_unit_of_work.set(True)
            self._later = []
            self._savepoints = {}
            self._no_data_at_commit = set()
            try:
                opened = None if opening is None else await self._in_thread(opening)
                try:
                    yield opened
                    if self._later or self.db.in_transaction:
                        await self._in_thread(lambda connection: _commit(connection, self._later))
                except BaseException:
                    if self.db.in_transaction:
                        await self._in_thread(_rollback)
                    raise
                for key in self._no_data_at_commit:
                    self._remember_no_data(key)
                if self._checkpoint_due:
                    await self._checkpoint()
            finally:
                self._later = []
                self._savepoints = {}
                self._no_data_at_commit = set()
                self._in_unit_of_work.reset(token)

    def checkpoint_after_commit(self) -> None:
        """Personal data was deleted in this transaction: after it commits, the WAL (which still
        holds the deleted rows' old pages) is copied into the file and truncated to nothing."""
        self._checkpoint_due = True

    async def _checkpoint(self) -> None:
        self._checkpoint_due = False
        cursor = await self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        row = await cursor.fetchone()
        await cursor.close()
        if row is not None and row[0]:
            # A reader in another process (an export) held it back; the next one will do.
            self._checkpoint_due = True
            log.warning("the WAL could not be checkpointed yet (a reader is busy)")

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
        if (table, owner_id) in self._no_data:
            return None
        rows = await self._fetch(f"SELECT data FROM {table} WHERE {column} = ?", (owner_id,))
        if rows:
            return cast(dict[str, Any], json.loads(rows[0]["data"]))
        self._no_data_soon((table, owner_id))
        return None

    def _no_data_soon(self, key: tuple[str, int]) -> None:
        if self._in_unit_of_work.get():
            self._no_data_at_commit.add(key)  # unless a write for them follows
        else:
            self._remember_no_data(key)

    def _remember_no_data(self, key: tuple[str, int]) -> None:
        if len(self._no_data) >= NO_DATA_REMEMBERED:
            self._no_data.pop()
        self._no_data.add(key)

    def _data_written(self, key: tuple[str, int]) -> None:
        self._no_data.discard(key)
        self._no_data_at_commit.discard(key)

    async def save_data(self, table: str, owner_id: int, data: dict[str, Any]) -> None:
        """Written with the COMMIT of the open unit of work (nothing reads it back before)."""
        column = _DATA_TABLES[table]
        if not data:
            # An empty dict is the default anyway: don't keep a row per user ever seen.
            key = (table, owner_id)
            if key not in self._no_data and key not in self._no_data_at_commit:
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
        """Logs a message in or out; written with the COMMIT of the open unit of work (nothing
        reads the log back before), or at once outside one."""
        await self._write_later(
            _LOG_MESSAGE,
            self._log_row(direction, kind, chat_id, user_id, message_id, update_id, text, details),
        )

    def log_message_in(
        self,
        connection: sqlite3.Connection,
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
        """`log_message` on the connection's thread, at once (inside a `transaction` `first`)."""
        connection.execute(
            _LOG_MESSAGE,
            self._log_row(direction, kind, chat_id, user_id, message_id, update_id, text, details),
        )

    def _log_row(
        self,
        direction: str,
        kind: str,
        chat_id: int | None,
        user_id: int | None,
        message_id: int | None,
        update_id: int | None,
        text: str | None,
        details: dict[str, Any] | None,
    ) -> Parameters:
        return (
            _iso(self.clock()),
            direction,
            chat_id,
            user_id,
            message_id,
            update_id,
            kind,
            text,
            json.dumps(details, ensure_ascii=False) if details else None,
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
        banned=row["banned_at"] is not None,
    )


def _begin_once(connection: sqlite3.Connection) -> None:
    # On the connection's thread, so two tasks of one unit of work cannot both begin it.
    if not connection.in_transaction:
        connection.execute("BEGIN IMMEDIATE")


def _begun_fetch(
    connection: sqlite3.Connection, sql: str, parameters: Parameters
) -> list[aiosqlite.Row]:
    _begin_once(connection)
    return connection.execute(sql, parameters).fetchall()


def _begun_write(connection: sqlite3.Connection, sql: str, parameters: Parameters) -> int:
    _begin_once(connection)
    return connection.execute(sql, parameters).rowcount


def _commit(connection: sqlite3.Connection, later: list[tuple[str, Parameters]]) -> None:
    if later:
        _begin_once(connection)
        for sql, parameters in later:
            connection.execute(sql, parameters)
    connection.execute("COMMIT")


def _execute_all(connection: sqlite3.Connection, writes: list[tuple[str, Parameters]]) -> None:
    _begin_once(connection)
    for sql, parameters in writes:
        connection.execute(sql, parameters)


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:  # a failed COMMIT may have ended it already
        connection.execute("ROLLBACK")


def _identifier(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"not an SQL identifier: {name!r}")
    return name


_LOG_MESSAGE = (
    "INSERT INTO message_log (at, direction, chat_id, user_id, message_id, update_id, kind, text,"
    " details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# Table name -> owner column. Only these names ever reach an f-string above.
_DATA_TABLES = {"user_data": "user_id", "chat_data": "chat_id"}
