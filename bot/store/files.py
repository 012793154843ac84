"""The database as a file, for the operator's commands (check, backup, restore): the SQL they
need, on connections of their own — never the running bot's, never creating a database.

`migration_status` reads only (mode=ro) and applies nothing. `copy_database` uses SQLite's
online backup, which copies one consistent snapshot in a single step while the bot keeps
writing (in WAL mode the bot's writers are not blocked by it).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from bot.store import MIGRATIONS_DIR


class DatabaseFileError(Exception):
    """The file is missing, not SQLite, damaged or not a liepaja-bot database; says which."""


@dataclass(frozen=True)
class MigrationStatus:
    applied: list[str]
    pending: list[str]  # known to this version, not applied in the file
    unknown: list[str]  # applied in the file, unknown to this version (a newer bot made it)


def _read_only(path: Path) -> str:
    if not path.is_file():
        raise DatabaseFileError(f"{path}: no such database file")
    return f"{path.resolve().as_uri()}?mode=ro"


def known_migrations(migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    return sorted(file.name for file in migrations_dir.glob("*.sql"))


async def migration_status(path: Path, migrations_dir: Path = MIGRATIONS_DIR) -> MigrationStatus:
    """Which migrations the file has and which it lacks, read without changing the file."""
    try:
        async with aiosqlite.connect(_read_only(path), uri=True) as db:
            applied = await _applied(db, path)
    except sqlite3.Error as error:
        raise DatabaseFileError(f"{path}: cannot read the database: {error}") from None
    known = known_migrations(migrations_dir)
    return MigrationStatus(
        applied=applied,
        pending=[name for name in known if name not in applied],
        unknown=[name for name in applied if name not in known],
    )


async def _applied(db: aiosqlite.Connection, path: Path) -> list[str]:
    rows = await db.execute_fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    )
    if not list(rows):
        raise DatabaseFileError(f"{path}: not a liepaja-bot database (no schema_migrations)")
    return [row[0] for row in await db.execute_fetchall("SELECT name FROM schema_migrations")]


async def verify_database(path: Path) -> list[str]:
    """Checks that `path` is a sound liepaja-bot database (PRAGMA integrity_check, its
    schema_migrations table); returns the migrations it has. Raises DatabaseFileError."""
    try:
        async with aiosqlite.connect(_read_only(path), uri=True) as db:
            rows = list(await db.execute_fetchall("PRAGMA integrity_check"))
            problems = [row[0] for row in rows if row[0] != "ok"]
            if problems:
                raise DatabaseFileError(f"{path}: damaged: {problems[0]}")
            return sorted(await _applied(db, path))
    except sqlite3.Error as error:
        raise DatabaseFileError(f"{path}: not a usable SQLite database: {error}") from None


async def copy_database(source: Path, target: Path) -> None:
    """Copies the database at `source` (live or not) into the new file `target` through SQLite's
    online backup: one consistent snapshot. `target` must not exist; it is created 0600 and left
    as one self-contained file (rollback journal mode, no -wal beside it)."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        async with (
            aiosqlite.connect(_read_only(source), uri=True) as live,
            aiosqlite.connect(target) as copy,
        ):
            await live.backup(copy, pages=-1)  # all pages in one step: one snapshot
            await copy.execute("PRAGMA journal_mode = DELETE")
            rows = list(await copy.execute_fetchall("PRAGMA integrity_check"))
            if [row[0] for row in rows] != ["ok"]:
                raise DatabaseFileError(f"{target}: the copy is damaged: {rows[0][0]}")
        with target.open("rb") as file:
            os.fsync(file.fileno())
    except sqlite3.Error as error:
        target.unlink(missing_ok=True)
        raise DatabaseFileError(f"{source}: cannot copy the database: {error}") from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
