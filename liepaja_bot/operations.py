"""The operator's commands beside `run`: `check`, `backup FILE`, `restore FILE`, and the lock
that tells them the bot is running.

The lock: `run` holds an exclusive flock(2) on `DATABASE + ".lock"` for its whole life; the
kernel drops it when the process ends, however it ends (kill -9 included), so a stale lock file
means nothing. `restore` takes the same lock and refuses while it is held; a second `run` on the
same database refuses too. flock is Linux/BSD/macOS only, as is the bot's deployment.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

from bot.config import ConfigError, Settings, load_settings
from bot.store.files import (
    DatabaseFileError,
    copy_database,
    known_migrations,
    migration_status,
    verify_database,
)


class Locked(Exception):
    """Another process (the running bot) holds the database's lock."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def take_lock(database: Path) -> IO[bytes]:
    """Takes the database's lock (created 0600, its folder 0700 if new); keep the returned file
    open for as long as the lock is needed. Raises Locked if another process holds it, OSError
    if the file cannot be made."""
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = lock_path(database)
    file = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+b")
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        raise Locked(f"{path} is held by another process: the bot is running") from None
    except BaseException:
        file.close()
        raise
    return file


# -- check ------------------------------------------------------------------------------------


class Report:
    """Prints one line per check, `ok` or `FAIL` (or `skip`) and what was found."""

    def __init__(self, out: Callable[[str], None] = print) -> None:
        self.out = out
        self.failed = False

    def ok(self, what: str, detail: str) -> None:
        self.out(f"ok    {what}: {detail}")

    def fail(self, what: str, detail: str) -> None:
        self.failed = True
        self.out(f"FAIL  {what}: {detail}")

    def skip(self, what: str, detail: str) -> None:
        self.out(f"skip  {what}: {detail}")


def check(env_file: Path, env_file_required: bool, *, offline: bool) -> int:
    report = Report()
    try:
        settings = load_settings(env_file=env_file, env_file_required=env_file_required)
    except ConfigError as error:
        municipal = [p for p in error.problems if _about_municipality(p, env_file)]
        for key, source, problem in error.problems:
            area = "municipality file" if (key, source, problem) in municipal else "configuration"
            report.fail(area, f"{source}: {key}: {problem}")
        if len(municipal) == len(error.problems):
            report.ok("configuration", "the settings are valid")
        for what in ("database", "telegram"):
            report.skip(what, "not checked: the configuration must load first")
        return 1
    report.ok("configuration", "the settings are valid")
    report.ok(
        "municipality file",
        f"{settings.municipality_file}: {len(settings.municipality.themes)} themes",
    )
    asyncio.run(_check_database(settings, report))
    if offline:
        report.skip("telegram", "--offline")
    else:
        asyncio.run(_check_telegram(settings, report))
    return 1 if report.failed else 0


def _about_municipality(problem: tuple[str, str, str], env_file: Path) -> bool:
    key, source, _ = problem
    # Settings are upper-case keys; the municipality file's keys are its own (lower-case,
    # dotted), and "(file)" is either file: the .env file's problems name that file.
    if key == "MUNICIPALITY_FILE":
        return True
    if key == "(file)":
        return source != str(env_file)
    return key[:1].islower()


async def _check_database(settings: Settings, report: Report) -> None:
    path = settings.database
    try:
        status = await migration_status(path)
    except DatabaseFileError as error:
        report.fail("database", f"{error} (check DATABASE)")
        return
    detail = f"{path}: {len(status.applied)} migrations applied"
    detail += (
        ", pending (applied at start): " + ", ".join(status.pending)
        if status.pending
        else ", none pending"
    )
    if status.unknown:
        report.fail(
            "database",
            detail + "; made by a newer version (unknown: " + ", ".join(status.unknown) + ")",
        )
    else:
        report.ok("database", detail)


async def _check_telegram(settings: Settings, report: Report) -> None:
    from telegram import Bot, ChatMember
    from telegram.error import InvalidToken, NetworkError, TelegramError

    if not settings.bot_token:
        report.fail("telegram", "BOT_TOKEN is not set (`run` needs it; --offline skips this)")
        return
    bot = Bot(
        settings.bot_token,
        base_url=settings.bot_api_url,
        base_file_url=settings.bot_file_api_url,
    )
    try:
        try:
            await bot.initialize()  # getMe
        except InvalidToken:
            report.fail("telegram", "Telegram refused BOT_TOKEN: get the current one @BotFather")
            return
        except NetworkError as error:
            report.fail("telegram", f"cannot reach {settings.bot_api_url}: {error}")
            return
        report.ok("telegram", f"the token is accepted: @{bot.username}")
        chat_id = settings.staff_chat_id
        if chat_id is None:
            report.skip("staff chat", "STAFF_CHAT_ID is not set")
            return
        try:
            member = await bot.get_chat_member(chat_id, bot.id)
        except TelegramError as error:
            report.fail("staff chat", f"{chat_id}: {error} (is STAFF_CHAT_ID right?)")
            return
        if member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER):
            report.ok("staff chat", f"{chat_id}: the bot is an administrator")
        else:
            report.fail(
                "staff chat",
                f"{chat_id}: the bot is {member.status}, not an administrator: "
                "make it one so it sees the staff's replies",
            )
    finally:
        await bot.shutdown()  # nothing to do if it never initialized


# -- backup and restore -----------------------------------------------------------------------


async def backup(settings: Settings, target: Path, *, force: bool) -> int:
    database = settings.database
    if target.resolve() == database.resolve():
        return _fail(f"{target} is the database itself")
    if target.exists() and not force:
        return _fail(f"{target} exists: give --force to replace it")
    # Into a new file beside the target, then renamed: a failed backup leaves the old one be.
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        await copy_database(database, partial)
        migrations = await verify_database(partial)
        if force:
            os.replace(partial, target)
        else:
            os.link(partial, target)  # fails if the target appeared meanwhile
            partial.unlink()
    except DatabaseFileError as error:
        return _fail(str(error))
    except OSError as error:
        return _fail(f"cannot write {target}: {error.strerror or error}")
    finally:
        partial.unlink(missing_ok=True)
    size = target.stat().st_size
    print(f"wrote {target} ({size} bytes, {len(migrations)} migrations) from {database}")
    return 0


async def restore(settings: Settings, source: Path) -> int:
    database = settings.database
    try:
        migrations = await verify_database(source)
    except DatabaseFileError as error:
        return _fail(f"not restoring: {error}")
    newer = sorted(set(migrations) - set(known_migrations()))
    if newer:
        return _fail(
            f"not restoring: {source} was made by a newer version of the bot "
            f"(unknown migrations: {', '.join(newer)}); upgrade the bot first"
        )
    kept = database.with_name(database.name + ".before-restore")
    if kept.exists():
        return _fail(f"{kept} exists from an earlier restore: move it away first")
    try:
        lock = take_lock(database)
    except Locked as error:
        return _fail(f"not restoring: {error}; stop it first")
    except OSError as error:
        return _fail(f"cannot lock {lock_path(database)}: {error.strerror or error}")
    try:
        partial = database.with_name(f".{database.name}.restoring-{os.getpid()}")
        try:
            await copy_database(source, partial)
            # The replaced database moves with its -wal (SQLite finds it by name), so what a
            # killed bot left in the WAL stays part of the kept copy, not of the restored one.
            for suffix in ("", "-wal", "-shm"):
                old = Path(f"{database}{suffix}")
                if old.exists():
                    os.replace(old, f"{kept}{suffix}")
            os.replace(partial, database)
        except DatabaseFileError as error:
            return _fail(str(error))
        except OSError as error:
            return _fail(f"cannot restore into {database}: {error.strerror or error}")
        finally:
            partial.unlink(missing_ok=True)
    finally:
        lock.close()
    print(f"restored {database} from {source} ({len(migrations)} migrations)")
    if kept.exists():
        print(f"the replaced database is kept as {kept}")
    return 0


def _fail(message: str) -> int:
    print(f"liepaja-bot: {message}", file=sys.stderr)
    return 1
