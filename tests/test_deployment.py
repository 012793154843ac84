"""The container and service files, read as text: there is no Docker engine or systemd in the
test environment, so these only check what the files say — that the image installs the wheel,
runs as a non-root user, keeps the database in a volume and checks its health, and that the
unit is hardened. Building and running the image is left to a machine with Docker."""

from __future__ import annotations

import configparser
import shlex
import tomllib
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(
    not (CHECKOUT / "Dockerfile").is_file(), reason="needs the source checkout"
)


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; continuation lines joined, comments dropped."""
    logical, pending = [], ""
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            logical.append(pending.strip())
            pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def stages(dockerfile: Path) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions(dockerfile):
        if instruction[0] == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


def test_the_image_is_built_from_a_wheel_and_runs_as_a_user() -> None:
    build, runtime = stages(CHECKOUT / "Dockerfile")
    assert build[0] == ("FROM", "python:3.11-slim AS build")
    assert runtime[0] == ("FROM", "python:3.11-slim")
    assert any(i == "RUN" and "pip wheel" in a for i, a in build)
    # Every package the wheel is made of is in the build context.
    pyproject = tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))
    copied = {a.split()[0] for i, a in build if i == "COPY"}
    tops = {name.split(".")[0] for name in pyproject["tool"]["setuptools"]["packages"]}
    folders = set(pyproject["tool"]["setuptools"]["package-dir"].values())
    assert tops | folders <= copied

    run = " ".join(a for i, a in runtime if i == "RUN")
    assert "--no-index --find-links /tmp/wheels liepaja-bot" in run  # the wheels, nothing else
    assert not any(i == "COPY" and "--from=build" not in a for i, a in runtime)  # no sources
    users = [a for i, a in runtime if i == "USER"]
    assert users == ["liepaja"] and "useradd" in run
    assert ("VOLUME", "/data") in runtime
    assert any(i == "ENV" and "DATABASE=/data/liepaja-bot.sqlite3" in a for i, a in runtime)
    [health] = [a for i, a in runtime if i == "HEALTHCHECK"]
    assert health.split("CMD", 1)[1].strip() == '["liepaja-bot", "check", "--offline"]'
    assert runtime[-1] == ("CMD", '["liepaja-bot", "run"]')


def test_secrets_and_data_stay_out_of_the_build_context() -> None:
    ignored = (CHECKOUT / ".dockerignore").read_text(encoding="utf-8").split()
    for pattern in (".env", "data/", ".venv/", ".git/", "*.sqlite3"):
        assert pattern in ignored


def test_compose_keeps_the_database_in_the_volume() -> None:
    text = (CHECKOUT / "compose.yaml").read_text(encoding="utf-8")
    active = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    for line in ("env_file: .env", "- data:/data", "restart: unless-stopped"):
        assert line in "\n".join(active)
    assert "DATABASE: /data/liepaja-bot.sqlite3" in "\n".join(active)


def test_the_systemd_unit_is_hardened() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    unit.read(CHECKOUT / "deploy" / "liepaja-bot.service", encoding="utf-8")
    service = unit["Service"]
    assert service["User"] == "liepaja"
    assert service["EnvironmentFile"].startswith("/etc/")
    assert shlex.split(service["ExecStart"])[1:] == ["run"]
    assert service["Restart"] == "on-failure"
    assert service["ProtectSystem"] == "strict" and service["NoNewPrivileges"] == "yes"
    assert service["ReadWritePaths"] == "/var/lib/liepaja-bot"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
