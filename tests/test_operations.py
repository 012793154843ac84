"""The operator's commands: `check` (against the HTTP fake Telegram), `backup` while the bot
writes, `restore` refused while the bot runs — each CLI run in its own process, as from a shell."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.store import MIGRATIONS_DIR, Store
from bot.store.files import known_migrations, migration_status, verify_database
from fake_telegram import FakeTelegram, serve
from liepaja_bot import operations
from liepaja_bot.operations import Locked, take_lock
from tests.conftest import STAFF_CHAT_ID, make_settings
from tests.test_cli import TOKEN, cli


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "bot.sqlite3"
    assert cli(tmp_path, "migrate", DATABASE=str(path)).returncode == 0
    return path


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[FakeTelegram, Any]]:
    fake = FakeTelegram(bot_username="liepaja_test_bot")
    fake.group("Staff", chat_id=STAFF_CHAT_ID)
    server = await serve(fake)
    try:
        yield fake, server
    finally:
        await server.close()


async def check(tmp_path: Path, server: Any, *args: str, **settings: str) -> tuple[int, list[str]]:
    env = {
        "BOT_API_URL": server.base_url,
        "DATABASE": str(tmp_path / "bot.sqlite3"),
        "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
        **settings,
    }
    result = await asyncio.to_thread(cli, tmp_path, "check", *args, **env)
    assert result.stderr == "", result.stderr
    return result.returncode, result.stdout.splitlines()


def status_of(lines: list[str]) -> dict[str, str]:
    """{"database": "ok", ...} from the report's lines."""
    return {line[6:].split(":")[0]: line.split()[0] for line in lines}


# -- check ----------------------------------------------------------------------------------------


async def test_check_passes_when_everything_is_ready(
    tmp_path: Path, database: Path, telegram: tuple[FakeTelegram, Any]
) -> None:
    fake, server = telegram
    fake.set_member_status(STAFF_CHAT_ID, fake.bot_id, "administrator")
    code, lines = await check(tmp_path, server, BOT_TOKEN=fake.token)
    assert code == 0, lines
    assert status_of(lines) == {
        "configuration": "ok",
        "municipality file": "ok",
        "database": "ok",
        "telegram": "ok",
        "staff chat": "ok",
    }
    database_line = next(line for line in lines if "database" in line)
    assert f"{len(known_migrations())} migrations applied, none pending" in database_line
    assert "@liepaja_test_bot" in "\n".join(lines)
    assert fake.token not in "\n".join(lines)


async def test_check_fails_on_a_token_telegram_refuses(
    tmp_path: Path, database: Path, telegram: tuple[FakeTelegram, Any]
) -> None:
    _fake, server = telegram
    code, lines = await check(tmp_path, server, BOT_TOKEN=TOKEN)
    assert code == 1
    assert status_of(lines)["telegram"] == "FAIL"
    assert "refused BOT_TOKEN" in "\n".join(lines) and TOKEN not in "\n".join(lines)


async def test_check_fails_when_the_bot_is_not_an_admin_in_the_staff_chat(
    tmp_path: Path, database: Path, telegram: tuple[FakeTelegram, Any]
) -> None:
    fake, server = telegram
    code, lines = await check(tmp_path, server, BOT_TOKEN=fake.token)  # a plain member
    assert code == 1
    assert status_of(lines)["telegram"] == "ok" and status_of(lines)["staff chat"] == "FAIL"
    assert "the bot is member, not an administrator" in "\n".join(lines)

    fake.set_member_status(STAFF_CHAT_ID, fake.bot_id, "left")
    code, lines = await check(tmp_path, server, BOT_TOKEN=fake.token)
    assert code == 1 and "the bot is left" in "\n".join(lines)


async def test_check_fails_on_a_missing_database_and_creates_nothing(
    tmp_path: Path, telegram: tuple[FakeTelegram, Any]
) -> None:
    _fake, server = telegram
    typo = tmp_path / "dta" / "liepaja-bot.sqlite3"
    code, lines = await check(tmp_path, server, "--offline", DATABASE=str(typo))
    assert code == 1
    assert status_of(lines) == {
        "configuration": "ok",
        "municipality file": "ok",
        "database": "FAIL",
        "telegram": "skip",
    }
    assert str(typo) in "\n".join(lines)
    assert not typo.parent.exists()


async def test_check_names_pending_migrations_without_applying_them(
    tmp_path: Path, telegram: tuple[FakeTelegram, Any]
) -> None:
    _fake, server = telegram
    path = tmp_path / "bot.sqlite3"
    store = Store(path)
    older = tmp_path / "older-migrations"
    older.mkdir()
    first = sorted(MIGRATIONS_DIR.glob("*.sql"))[0]
    (older / first.name).write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
    await store.open(older)  # a database of an older version: one migration only
    await store.close()
    code, lines = await check(tmp_path, server, "--offline")
    assert code == 0, lines
    database_line = next(line for line in lines if "database" in line)
    assert "1 migrations applied, pending (applied at start): " in database_line
    assert known_migrations()[-1] in database_line
    assert len((await migration_status(path)).pending) == len(known_migrations()) - 1


async def test_check_reports_bad_settings_one_line_each(
    tmp_path: Path, telegram: tuple[FakeTelegram, Any]
) -> None:
    _fake, server = telegram
    code, lines = await check(
        tmp_path, server, PROPOSALS_PER_DAY="0", MUNICIPALITY_FILE=str(tmp_path / "none.toml")
    )
    assert code == 1
    assert [line.split(":")[0] for line in lines] == [
        "FAIL  configuration",
        "FAIL  municipality file",
        "skip  database",
        "skip  telegram",
    ]


# -- backup ---------------------------------------------------------------------------------------


async def test_a_backup_taken_while_the_bot_writes_is_consistent(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    store = Store(settings.database)
    await store.open()
    written = 0
    enough = asyncio.Event()
    stop = False

    async def keep_writing() -> None:
        nonlocal written
        while not stop:
            await store.messages.log_message(
                direction="in", kind="text", chat_id=7, text=f"n{written}"
            )
            written += 1
            if written >= 20:
                enough.set()

    writer = asyncio.create_task(keep_writing())
    try:
        await asyncio.wait_for(enough.wait(), 30)
        committed_before = written
        target = tmp_path / "backups" / "copy.sqlite3"
        target.parent.mkdir()
        assert await operations.backup(settings, target, force=False) == 0
        assert not writer.done()  # the bot went on writing through the backup
    finally:
        stop = True
        await writer
        await store.close()
    assert oct(mode(target)) == oct(0o600)
    assert await verify_database(target) == known_migrations()  # integrity_check passed
    assert not Path(f"{target}-wal").exists()  # one self-contained file
    copy = Store(target)
    await copy.open(must_exist=True)
    try:
        texts = [m.text for m in await copy.messages.conversation_with(7)]
    finally:
        await copy.close()
    assert texts[:committed_before] == [f"n{i}" for i in range(committed_before)]
    assert len(texts) <= written


def test_backup_refuses_to_overwrite_unless_forced(tmp_path: Path, database: Path) -> None:
    target = tmp_path / "copy.sqlite3"
    target.write_text("an older backup")
    refused = cli(tmp_path, "backup", str(target), DATABASE=str(database))
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert target.read_text() == "an older backup"
    forced = cli(tmp_path, "backup", "--force", str(target), DATABASE=str(database))
    assert forced.returncode == 0, forced.stderr
    assert oct(mode(target)) == oct(0o600)
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


# -- restore --------------------------------------------------------------------------------------


async def test_restore_is_refused_while_the_lock_is_held_and_works_after(
    tmp_path: Path, database: Path
) -> None:
    backup = tmp_path / "monday.sqlite3"
    assert cli(tmp_path, "backup", str(backup), DATABASE=str(database)).returncode == 0
    store = Store(database)
    await store.open()
    await store.messages.log_message(
        direction="in", kind="text", chat_id=7, text="after the backup"
    )
    await store.close()

    lock = take_lock(database)  # as a running bot holds it
    try:
        refused = cli(tmp_path, "restore", str(backup), DATABASE=str(database))
        with pytest.raises(Locked):
            take_lock(database)
    finally:
        lock.close()
    assert refused.returncode == 1 and "running" in refused.stderr
    assert not Path(f"{database}.before-restore").exists()

    restored = cli(tmp_path, "restore", str(backup), DATABASE=str(database))
    assert restored.returncode == 0, restored.stderr
    assert oct(mode(database)) == oct(0o600)
    for path, expected in ((database, []), (Path(f"{database}.before-restore"), ["after"])):
        copy = Store(path)
        await copy.open(must_exist=True)
        try:
            texts = [m.text for m in await copy.messages.conversation_with(7)]
        finally:
            await copy.close()
        assert [t.split()[0] for t in texts if t] == expected
    again = cli(tmp_path, "restore", str(backup), DATABASE=str(database))
    assert again.returncode == 1 and "before-restore exists" in again.stderr


@pytest.mark.parametrize("what", ["not sqlite", "another sqlite database"])
def test_restore_refuses_what_is_not_a_liepaja_bot_database(
    tmp_path: Path, database: Path, what: str
) -> None:
    import sqlite3

    other = tmp_path / "other.sqlite3"
    if what == "not sqlite":
        other.write_bytes(b"somebody's notes " * 200)
    else:
        sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    before = database.read_bytes()
    result = cli(tmp_path, "restore", str(other), DATABASE=str(database))
    assert result.returncode == 1 and "not restoring" in result.stderr
    assert database.read_bytes() == before


async def test_restore_is_refused_while_the_bot_runs(
    tmp_path: Path, database: Path, telegram: tuple[FakeTelegram, Any]
) -> None:
    from tests.test_run_modes import start_bot

    fake, server = telegram
    backup = tmp_path / "copy.sqlite3"
    assert cli(tmp_path, "backup", str(backup), DATABASE=str(database)).returncode == 0
    with (tmp_path / "bot.log").open("wb") as log:
        bot = await start_bot(server, fake, tmp_path, log)
        try:
            anna = fake.user("Anna", language_code="lv")
            await anna.send("/start")
            await fake.wait_until(lambda: bool(anna.messages), 30, message="the reply")
            result = await asyncio.to_thread(
                cli, tmp_path, "restore", str(backup), DATABASE=str(database)
            )
            assert result.returncode == 1 and "the bot is running" in result.stderr
            second = await asyncio.to_thread(
                cli, tmp_path, "run", BOT_TOKEN=fake.token, DATABASE=str(database)
            )
            assert second.returncode == 1 and "not starting" in second.stderr
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(bot.wait(), 30) == 0
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
    # Stopped, the lock is free again (a stale lock file means nothing).
    take_lock(database).close()
    assert os.path.exists(f"{database}.lock")
