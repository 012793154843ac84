"""The offline demo: the real bot polling the fake Telegram over HTTP, driven by a script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# The scripts beside tests/ (CI copies both when it tests the installed wheel).
DEMO = Path(__file__).resolve().parent.parent / "demo"


def test_scripted_demo_runs_a_whole_proposal_over_http(tmp_path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "--env-file",
            os.devnull,
            "demo",
            "--script",
            str(DEMO / "proposal.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE")},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Lūdzu, izveidojiet drošu veloceliņu" in out
    assert "LIEP-" in out and "Paldies! Nodots Mobilitātes darba grupai." in out
    assert out.rstrip().endswith("0 errors")
    assert not (tmp_path / "data").exists()  # the demo leaves no database behind
