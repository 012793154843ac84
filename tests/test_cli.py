"""The `liepaja-bot` command as an IT admin meets it: exit codes, one-line errors, the files it
writes — each run in its own process, as from a shell."""

from __future__ import annotations

import io
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.store import MIGRATIONS_DIR
from tests.conftest import Harness

# Settings a developer's shell may carry; each test sets what it needs.
SETTINGS = (
    "BOT_TOKEN",
    "BOT_USERNAME",
    "DATABASE",
    "BOT_API_URL",
    "BOT_FILE_API_URL",
    "STAFF_CHAT_ID",
    "STAFF_TOPICS",
    "ADMIN_IDS",
    "CONVERSATION_IDLE_DAYS",
    "MESSAGES_PER_MINUTE",
    "PROPOSALS_PER_DAY",
    "MUNICIPALITY_FILE",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
)
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def cli(cwd: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`liepaja-bot ARGS` in `cwd` (which has no .env) with only `settings` set."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    return subprocess.run(
        [sys.executable, "-m", "liepaja_bot", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**env, **settings},
    )


def one_line(stderr: str) -> str:
    """The single line the admin is shown; no traceback, no log noise."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A migrated database file."""
    path = tmp_path / "bot.sqlite3"
    assert cli(tmp_path, "migrate", DATABASE=str(path)).returncode == 0
    return path


# -- 1. files that cannot be created, opened or written: one line, non-zero -----------------------


@pytest.mark.parametrize("command", [["migrate"], ["export", "proposals", "-o", "out.xlsx"]])
def test_a_database_folder_that_cannot_be_created(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "plain-file").write_text("not a folder")
    path = tmp_path / "plain-file" / "data" / "bot.sqlite3"
    result = cli(tmp_path, *command, DATABASE=str(path))
    assert result.returncode != 0
    assert str(path) in one_line(result.stderr)


@pytest.mark.parametrize("command", [["migrate"], ["export", "proposals", "-o", "out.xlsx"]])
@pytest.mark.parametrize("what", ["a folder", "not a database"])
def test_a_database_file_that_cannot_be_opened(
    tmp_path: Path, command: list[str], what: str
) -> None:
    path = tmp_path / "bot.sqlite3"
    if what == "a folder":
        path.mkdir()
    else:
        path.write_bytes(b"These are somebody's notes, not SQLite." * 100)
    result = cli(tmp_path, *command, DATABASE=str(path))
    assert result.returncode != 0
    assert str(path) in one_line(result.stderr)
    assert not (tmp_path / "out.xlsx").exists()


def test_export_into_a_missing_folder(tmp_path: Path, database: Path) -> None:
    output = tmp_path / "no-such-folder" / "proposals.xlsx"
    result = cli(tmp_path, "export", "proposals", "-o", str(output), DATABASE=str(database))
    assert result.returncode != 0
    assert str(output) in one_line(result.stderr)


# -- 1b. Telegram that cannot be reached or refuses the token: one line, non-zero -----------------


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 where nothing listens: bound (so no one else takes it), not listening,
    so a connection is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_run_when_telegram_cannot_be_reached(tmp_path: Path, closed_port: int) -> None:
    result = cli(
        tmp_path,
        "run",
        BOT_TOKEN=TOKEN,
        BOT_API_URL=f"http://127.0.0.1:{closed_port}/bot",
        DATABASE=str(tmp_path / "bot.sqlite3"),
        LOG_LEVEL="WARNING",  # the migrations' INFO lines are not what this is about
    )
    assert result.returncode != 0
    line = one_line(result.stderr)
    assert "Telegram could not be reached" in line and f"127.0.0.1:{closed_port}" in line
    assert TOKEN not in result.stdout + result.stderr


async def test_run_with_a_token_telegram_refuses(tmp_path: Path) -> None:
    import asyncio

    from fake_telegram import FakeTelegram, serve

    fake = FakeTelegram(bot_username="liepaja_test_bot")
    server = await serve(fake)
    try:
        result = await asyncio.to_thread(
            cli,
            tmp_path,
            "run",
            BOT_TOKEN=TOKEN,  # not the fake's
            BOT_API_URL=server.base_url,
            DATABASE=str(tmp_path / "bot.sqlite3"),
            LOG_LEVEL="WARNING",
        )
    finally:
        await server.close()
    assert result.returncode == 2
    assert "Telegram refused BOT_TOKEN" in one_line(result.stderr)
    assert TOKEN not in result.stdout + result.stderr


# -- 2. the export's format -----------------------------------------------------------------------


def test_export_takes_the_format_from_the_file_name(tmp_path: Path, database: Path) -> None:
    db = str(database)
    assert cli(tmp_path, "export", "proposals", "-o", "a.csv", DATABASE=db).returncode == 0
    assert (tmp_path / "a.csv").read_text(encoding="utf-8-sig").startswith("Atsauce,Tēma,")
    assert cli(tmp_path, "export", "proposals", "-o", "b.XLSX", DATABASE=db).returncode == 0
    assert load_workbook(tmp_path / "b.XLSX").active["A1"].value == "Atsauce"

    result = cli(tmp_path, "export", "proposals", "-o", "c.txt", DATABASE=db)
    assert result.returncode == 2
    assert "--format" in one_line(result.stderr)
    assert not (tmp_path / "c.txt").exists()
    # Said outright, the format wins over the name.
    explicit = cli(tmp_path, "export", "proposals", "--format", "csv", "-o", "c.txt", DATABASE=db)
    assert explicit.returncode == 0
    assert (tmp_path / "c.txt").read_text(encoding="utf-8-sig").startswith("Atsauce,")


# -- 3. commands that only read -------------------------------------------------------------------


def test_export_refuses_a_database_that_does_not_exist(tmp_path: Path) -> None:
    typo = tmp_path / "dta" / "liepaja-bot.sqlite3"
    result = cli(tmp_path, "export", "proposals", "-o", "a.xlsx", DATABASE=str(typo))
    assert result.returncode != 0
    assert str(typo) in one_line(result.stderr)
    assert not typo.parent.exists()
    assert not (tmp_path / "a.xlsx").exists()


# -- 4. migrate says what it did ------------------------------------------------------------------


def test_migrate_reports_what_it_really_applied(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first = cli(tmp_path, "migrate", DATABASE=str(path), LOG_LEVEL="WARNING")
    assert first.returncode == 0, first.stderr
    newest = sorted(MIGRATIONS_DIR.glob("0*.sql"))
    assert f"applied {len(newest)} migrations" in first.stdout and newest[-1].name in first.stdout
    again = cli(tmp_path, "migrate", DATABASE=str(path), LOG_LEVEL="WARNING")
    assert again.returncode == 0
    assert "already up to date" in again.stdout and "applied" not in again.stdout


# -- 5. --env-file --------------------------------------------------------------------------------


def test_an_env_file_named_on_the_command_line_must_exist(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    result = cli(tmp_path, "--env-file", "production.env", "migrate", DATABASE=str(database))
    assert result.returncode == 2
    assert "production.env" in one_line(result.stderr)
    assert not database.exists()


def test_bad_settings_are_listed_together_with_their_sources(tmp_path: Path) -> None:
    (tmp_path / "bot.env").write_text("PROPOSALS_PER_DAY=0\n")
    result = cli(tmp_path, "--env-file", "bot.env", "migrate", ADMIN_IDS="x")
    assert result.returncode == 2
    assert sorted(result.stderr.splitlines()) == [
        "Configuration error: bot.env: PROPOSALS_PER_DAY: must be at least 1",
        "Configuration error: environment: ADMIN_IDS: expected Telegram user ids separated by "
        "commas, got 'x'",
    ]


# -- 9. private files -----------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common 022, under which files are world-readable unless made otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


async def test_the_database_its_journal_and_its_folder_are_private(
    tmp_path: Path, usual_umask: None
) -> None:
    from bot.store import Store

    path = tmp_path / "data" / "bot.sqlite3"
    store = Store(path)
    await store.open()
    try:
        await store.messages.log_message(
            direction="in", kind="text", chat_id=1, text="+371 2000 0000"
        )
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        assert [oct(mode(f)) for f in files] == [oct(0o600)] * 3
        assert oct(mode(path.parent)) == oct(0o700)
    finally:
        await store.close()


def test_an_export_file_is_private(tmp_path: Path, database: Path, usual_umask: None) -> None:
    fresh, existing = tmp_path / "new.xlsx", tmp_path / "old.csv"
    existing.write_text("an earlier export")
    existing.chmod(0o644)
    for output in (fresh, existing):
        result = cli(tmp_path, "export", "proposals", "-o", str(output), DATABASE=str(database))
        assert result.returncode == 0, result.stderr
        assert oct(mode(output)) == oct(0o600)


# -- 10. the message log keeps no third party's number --------------------------------------------


async def test_someone_elses_contact_card_is_logged_without_their_details(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.press("📝 Submit a proposal")
    await anna.press("Culture")
    await anna.send("More concerts on Rožu laukums in the summer, please.")
    await anna.press("➡️ Continue")
    await anna.send_contact(phone_number="+37129999999", user_id=123, first_name="Jānis")
    await anna.send_contact()  # her own, which the bot takes
    cards = [m for m in await tg.store.messages.conversation_with(anna.id) if m.kind == "contact"]
    assert len(cards) == 2
    refused = str((cards[0].text, cards[0].details))
    assert "29999999" not in refused and "Jānis" not in refused and "123" not in refused
    assert cards[0].details["contact"] == {"own": False}
    assert cards[1].details["contact"]["own"] is True
    assert cards[1].details["contact"]["phone_number"] == anna.phone_number


# -- 11. control characters in a proposal ---------------------------------------------------------

CONTROL = "Sirēna\x07 un\x0b logs\x0c ar \x1b[31mkrāsu\x1b[0m, kas jāsalabo."


async def test_control_characters_do_not_break_the_exports(tg: Harness, tmp_path: Path) -> None:
    from tests.test_proposals import specialist, submit

    anna = await tg.onboarded("Anna", language="Latviešu")
    await submit(tg, anna, "lv", CONTROL, theme="Kultūra")
    [proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=10)
    assert proposal.text == CONTROL  # the store keeps what the resident sent

    await specialist(tg).send("/export")
    documents = [m.document for m in tg.staff_chat.messages if m.document]
    xlsxs = [d for d in documents if d.filename.endswith(".xlsx")]
    assert len(xlsxs) == 1, "the staff chat got no XLSX"
    xlsx = xlsxs[0]
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[1][6] == CONTROL.translate(
        dict.fromkeys([7, 11, 12, 27], "\N{REPLACEMENT CHARACTER}")
    )

    output = tmp_path / "proposals.xlsx"
    result = cli(
        tmp_path, "export", "proposals", "-o", str(output), DATABASE=str(tg.settings.database)
    )
    assert result.returncode == 0, result.stderr
    assert load_workbook(output).active["G2"].value == rows[1][6]
