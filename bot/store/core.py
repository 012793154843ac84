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
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from bot.clock import Clock, utc_now
from bot.clock import to_text as _iso
from bot.config import SYNCHRONOUS, package_folder
from bot.store.bookings import Bookings
from bot.store.broadcasts import Broadcasts
from bot.store.conversations import Conversations
from bot.store.drafts import Drafts
from bot.store.journal import Journal
from bot.store.meetings import Meetings
from bot.store.messages import Messages
from bot.store.outbox import Outbox
from bot.store.privacy import Privacy
from bot.store.proposals import Proposals
from bot.store.residents import Residents
from bot.store.schedule import Schedule
from bot.store.staff import Staff
from bot.store.stats import Stats
from bot.store.waitlist import Waitlist

log = logging.getLogger(__name__)
T = TypeVar("T")
# Work done on the connection's own thread, with the plain sqlite3 connection (see _in_thread).
Work = Callable[[sqlite3.Connection], T]
Parameters = tuple[Any, ...]

MIGRATIONS_DIR = package_folder("bot.migrations")
MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    """A migration file is malformed or failed to apply; nothing of it was applied."""


class StoreOpenError(Exception):
    """The database file or its folder cannot be created or opened; the message names the file."""


class Store:
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
        self.residents = Residents(self)
        self.conversations = Conversations(self)
        self.messages = Messages(self)
        self.staff = Staff(self)
        self.proposals = Proposals(self)
        self.drafts = Drafts(self)
        self.journal = Journal(self)
        self.outbox = Outbox(self)
        self.schedule = Schedule(self)
        self.bookings = Bookings(self)
        self.waitlist = Waitlist(self)
        self.privacy = Privacy(self)
        # Set when a transaction deleted personal data: the WAL is checkpointed after its commit.
        self._checkpoint_due = False
        self.meetings = Meetings(self)
        self.broadcasts = Broadcasts(self)
        self.stats = Stats(self)

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
    async def _atomic(self, *, durable: bool = True) -> AsyncIterator[None]:
        """Makes the writes inside it one transaction: the open unit of work, or else a new
        one (in which writes made later cost no trip of their own; `durable` as for
        `unit_of_work`)."""
        if self._in_unit_of_work.get():
            yield
            return
        async with self._unit(None, durable=durable):
            yield

    @asynccontextmanager
    async def unit_of_work(self, *, durable: bool = True) -> AsyncIterator[None]:
        """Groups the writes made inside it (also by tasks it starts) into one transaction: one
        commit, one fsync. Only for bookkeeping around an update — never around a reply, which
        must not be seen before what it reports is committed.

        BEGIN IMMEDIATE goes with its first statement (the lock is this process's from the
        start), and a unit that only writes later is one trip: BEGIN, its writes, COMMIT.

        `durable=False`: if the unit only writes with its COMMIT (`_write_later`), that commit
        is not synced to disk under `synchronous=FULL` — it outlives the process at once, and
        a power cut only until the next synced commit (the WAL is synced whole). For records
        whose loss to a power cut costs no duplicate and no loss of what residents or staff
        sent (how an outbox send ended)."""
        async with self._unit(None, durable=durable):
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
    async def _unit(
        self, opening: Work[T | None] | None, *, durable: bool = True
    ) -> AsyncIterator[T | None]:
        """A unit of work, begun by `opening` if given (see `unit_of_work` for `durable`)."""
        relaxed = not durable and self.synchronous == "FULL"
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
                        later = self._later
                        await self._in_thread(
                            lambda connection: _commit(connection, later, relaxed)
                        )
                except BaseException:
                    if self.db.in_transaction:
                        await self._in_thread(_rollback)
                    raise
                for key in self._no_data_at_commit:
                    self.conversations._remember_no_data(key)
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


def _commit(
    connection: sqlite3.Connection, later: list[tuple[str, Parameters]], relaxed: bool = False
) -> None:
    # The level can change only between transactions: a unit begun before stays synced.
    relaxed = relaxed and not connection.in_transaction
    if relaxed:
        connection.execute("PRAGMA synchronous = NORMAL")
    try:
        if later:
            _begin_once(connection)
            for sql, parameters in later:
                connection.execute(sql, parameters)
        connection.execute("COMMIT")
    except BaseException:
        if relaxed:
            _rollback(connection)  # ended, so that the level can be put back
            connection.execute("PRAGMA synchronous = FULL")
        raise
    if relaxed:
        connection.execute("PRAGMA synchronous = FULL")


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
