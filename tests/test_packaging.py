"""Packaging: what a plain `pip install .` ships, and the Makefile that sets up .venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# The checkout these tests came from. CI also runs the suite from a copy of tests/ against the
# installed wheel; there the checkout-only tests below are skipped.
CHECKOUT = Path(__file__).resolve().parent.parent
needs_checkout = pytest.mark.skipif(
    not (CHECKOUT / "bot" / "__init__.py").is_file(), reason="needs the source checkout"
)

# Run inside the unpacked wheel: everything the bot reads besides code must be found there.
USES_PACKAGED_DATA = """
import asyncio, sys
from zoneinfo import ZoneInfo
import bot
from bot.config import load_settings
from bot.i18n import translator
from bot.store import Store

async def migrated() -> list[str]:
    store = Store(sys.argv[1])
    await store.open()
    try:
        return await store.applied_migrations()
    finally:
        await store.close()

print(bot.__file__)
print(len(asyncio.run(migrated())), "migrations")
print(translator("ru", ZoneInfo("Europe/Riga")).gettext("Cancelled. Nothing was sent."))
print(load_settings(environ={}, env_file=None).municipality.email)
"""


@needs_checkout
def test_the_wheel_carries_migrations_locales_and_municipality(tmp_path: Path) -> None:
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
    source = tmp_path / "source"
    caches = shutil.ignore_patterns("__pycache__")
    packages = ("bot", "handlers", "fake_telegram", "liepaja_bot")
    for name in (*packages, "migrations", "locales", "municipality"):
        shutil.copytree(CHECKOUT / name, source / name, ignore=caches)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (CHECKOUT / name).is_file():
            shutil.copy(CHECKOUT / name, source / name)
    # Offline: the build backend comes from .venv (the dev dependencies), not from PyPI.
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
    built = subprocess.run(
        [*pip_wheel, "--no-build-isolation", "--wheel-dir", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("liepaja_bot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {
        "migrations": sorted(p.name for p in (CHECKOUT / "migrations").glob("*.sql")),
        "municipality": ["liepaja.toml"],
        "locales": ["messages.pot"]
        + [f"{lang}/LC_MESSAGES/messages.po" for lang in ("en", "lv", "ru")],
    }
    for folder, files in sources.items():
        for name in files:
            assert f"bot/{folder}/{name}" in names
    # The web demo's page (`liepaja-bot demo --web`) is package data beside its module.
    for name in ("index.html", "app.js", "style.css"):
        assert f"liepaja_bot/web/{name}" in names
    assert "liepaja_bot/web.py" in names
    # pyproject declares MIT; the licence text travels with the package.
    [license_file] = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
    license_text = zipfile.ZipFile(wheel).read(license_file).decode()
    assert "Liepāja city municipality and liepaja-bot contributors" in license_text

    # Unpacked outside the checkout (as site-packages would hold it), the bot finds its files.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    result = subprocess.run(
        [sys.executable, "-c", USES_PACKAGED_DATA, str(tmp_path / "db.sqlite3")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == str(site / "bot" / "__init__.py")
    assert lines[1:] == [
        f"{len(sources['migrations'])} migrations",
        "Отменено. Ничего не отправлено.",
        "attistiba@liepaja.lv",
    ]


@needs_checkout
def test_every_code_package_is_listed_for_the_wheel() -> None:
    # The package list in pyproject.toml is written by hand (it maps the data folders): a new
    # package under bot/ or handlers/ that is not in it would be missing from the installed bot.
    import tomllib

    listed = set(
        tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
            "setuptools"
        ]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(CHECKOUT).parts)
        for top in ("bot", "handlers", "fake_telegram", "liepaja_bot")
        for init in (CHECKOUT / top).rglob("__init__.py")
    }
    assert found - listed == set()


# -- the Makefile's .venv ----------------------------------------------------------------------

# Stand-ins for python3, so these tests neither need another Python nor install anything. The
# "new" one makes a venv whose pip only records its calls and whose pytest only says it ran.
FAKE_NEW_PYTHON = """#!/bin/sh
case "$1" in
--version) echo "Python 3.12.1" ;;
-c) exit 0 ;;
-m)
    if [ "$2" = venv ]; then
        for last; do :; done
        mkdir -p "$last/bin" && echo "home = fake" >"$last/pyvenv.cfg"
        cp "$0" "$last/bin/python"
        printf '#!/bin/sh\necho "pip $*" >>"%s/pip.log"\n' "$last" >"$last/bin/pip"
        printf '#!/bin/sh\necho "pytest ran"\n' >"$last/bin/pytest"
        chmod +x "$last/bin/pip" "$last/bin/pytest"
    fi ;;
esac
"""
FAKE_OLD_PYTHON = """#!/bin/sh
[ "$1" = --version ] && echo "Python 3.9.2" && exit 0
exit 1
"""
# As on Debian without python3-venv: the venv is half made (no pip), and venv fails.
FAKE_PYTHON_WITHOUT_ENSUREPIP = """#!/bin/sh
case "$1" in
-c) exit 0 ;;
-m)
    for last; do :; done
    mkdir -p "$last/bin" && echo "home = fake" >"$last/pyvenv.cfg" && cp "$0" "$last/bin/python"
    echo "Error: Command '[\"$last/bin/python3\", \"-m\", \"ensurepip\"]' returned non-zero" >&2
    exit 1 ;;
esac
"""


def fake_python(folder: Path, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "python3"
    path.write_text(script)
    path.chmod(0o755)
    return path


def make_test(tmp_path: Path, python: Path) -> subprocess.CompletedProcess[str]:
    """`make test` in the checkout with .venv at tmp_path/venv and `python` as python3."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["PATH"] = f"{python.parent}{os.pathsep}{env['PATH']}"
    variables = [f"VENV={tmp_path / 'venv'}", f"PYTHON={python}"]
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(CHECKOUT), *variables, "test"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


@needs_checkout
@needs_make
def test_make_replaces_a_venv_made_by_an_older_python(tmp_path: Path) -> None:
    old = fake_python(tmp_path / "old", FAKE_OLD_PYTHON)
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "pyvenv.cfg").write_text("version = 3.9.2\n")
    shutil.copy(old, tmp_path / "venv" / "bin" / "python")
    # Even with a stamp saying it was installed (the system Python was replaced since).
    (tmp_path / "venv" / ".installed-0").touch()

    result = make_test(tmp_path, fake_python(tmp_path / "new", FAKE_NEW_PYTHON))
    assert result.returncode == 0, result.stderr
    assert "was made by an older Python" in result.stderr
    assert "pytest ran" in result.stdout
    assert (
        "3.12.1"
        in subprocess.run(
            [tmp_path / "venv" / "bin" / "python", "--version"], capture_output=True, text=True
        ).stdout
    )


@needs_checkout
@needs_make
def test_make_says_which_python_it_needs(tmp_path: Path) -> None:
    result = make_test(tmp_path, fake_python(tmp_path / "old", FAKE_OLD_PYTHON))
    assert result.returncode != 0
    assert "needs Python 3.11 or newer" in result.stderr and "3.9.2" in result.stderr
    assert not (tmp_path / "venv").exists()


@needs_checkout
@needs_make
def test_make_says_to_install_python3_venv(tmp_path: Path) -> None:
    python = fake_python(tmp_path / "debian", FAKE_PYTHON_WITHOUT_ENSUREPIP)
    for _run in range(2):  # and again the second time: no half-made venv is left to trip over
        result = make_test(tmp_path, python)
        assert result.returncode != 0
        assert "sudo apt install python3-venv" in result.stderr
        assert not (tmp_path / "venv").exists()


# -- PTB 22: durations as datetime.timedelta ---------------------------------------------------

READS_A_DURATION = """
import datetime as dt
import bot  # the opt-in happens here, before anything reads a duration
from telegram import Voice
from telegram.error import RetryAfter

print(repr(Voice("f", "u", duration=dt.timedelta(seconds=4)).duration))
print(repr(RetryAfter(7).retry_after))
"""


def test_the_bot_opts_in_to_ptb_timedeltas(tmp_path: Path) -> None:
    # PTB 22 warns on every read of a duration until PTB_TIMEDELTA is set; the bot sets it itself
    # so that `liepaja-bot run` (and any importer) gets the future behaviour now, silently.
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", READS_A_DURATION],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PTB_TIMEDELTA"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "datetime.timedelta(seconds=4)",
        "datetime.timedelta(seconds=7)",
    ]


async def test_a_voice_message_is_logged_with_its_length_in_seconds(tg) -> None:
    anna = await tg.onboarded("Anna")
    await anna.send_voice(duration=4)
    [voice] = [m for m in await tg.store.messages.conversation_with(anna.id) if m.kind == "voice"]
    assert voice.details["voice"]["duration"] == 4


def test_the_core_never_imports_the_flows_or_the_assembly() -> None:
    """bot/ is the core: handlers/ build on it, liepaja_bot/ assembles the two. An import the
    other way round would tie the core to one set of flows."""
    import ast

    offenders = []
    for module in (CHECKOUT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{module.relative_to(CHECKOUT)}: {name}"
                for name in names
                if name.split(".")[0] in ("handlers", "liepaja_bot", "fake_telegram")
            ]
    assert offenders == []
