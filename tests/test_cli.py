"""The `liepaja-bot` command as an IT admin meets it: exit codes, one-line errors, the files it
writes — each run in its own process, as from a shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Settings a developer's shell may carry; each test sets what it needs.
SETTINGS = (
    "BOT_TOKEN",
    "DATABASE",
    "BOT_API_URL",
    "BOT_FILE_API_URL",
    "STAFF_CHAT_ID",
    "STAFF_TOPICS",
    "ADMIN_IDS",
    "TIMEZONE",
    "PROPOSALS_PER_DAY",
    "MUNICIPALITY_FILE",
    "LOG_LEVEL",
)
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def cli(cwd: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`liepaja-bot ARGS` in `cwd` (which has no .env) with only `settings` set."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
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


# -- 5. --env-file ------------------------------------------------------------------------------


def test_an_env_file_named_on_the_command_line_must_exist(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    result = cli(tmp_path, "--env-file", "production.env", "migrate", DATABASE=str(database))
    assert result.returncode == 2
    assert "production.env" in one_line(result.stderr)
    assert not database.exists()


def test_bad_settings_are_listed_together_with_their_sources(tmp_path: Path) -> None:
    (tmp_path / "bot.env").write_text("TIMEZONE=Europe/Liepaja\n")
    result = cli(tmp_path, "--env-file", "bot.env", "migrate", ADMIN_IDS="x")
    assert result.returncode == 2
    assert sorted(result.stderr.splitlines()) == [
        "Configuration error: bot.env: TIMEZONE: unknown time zone 'Europe/Liepaja'",
        "Configuration error: environment: ADMIN_IDS: expected Telegram user ids separated by "
        "commas, got 'x'",
    ]
