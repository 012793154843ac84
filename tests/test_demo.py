"""The offline demo: the real bot polling the fake Telegram over HTTP, driven by a script or by
what is typed on its standard input."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from liepaja_bot.demo import Terminal
from tests.conftest import ADMIN_ID, Harness

DEMO = [sys.executable, "-m", "liepaja_bot", "--env-file", os.devnull, "demo"]
# The scripts beside tests/ (CI copies both when it tests the installed wheel).
SCRIPTS = Path(__file__).resolve().parent.parent / "demo"
ENV = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE")}
REVIEW_CARD = "Lūdzu, pārbaudiet savu priekšlikumu"

# A specialist marks a proposal "in review" (a toast answers the press), answers the resident,
# then sets "not included": the bot asks, in message [#14], to reply to it with the reason.
NOT_INCLUDED = """\
/start
1
1
6
Lūdzu, uzstādiet soliņus Jūrmalas parkā pie strūklakas.
1
k2
1
:staff
2
2
:reply Paldies, izskatām.
2
5
:reply 14 Parks ir valsts īpašums; tas nav pašvaldības kompetencē.
:resident
"""


# A paste cut in the middle of "é" leaves bytes that are not UTF-8; nothing after :quit runs.
SHORT = b"/start\ncaf\xc3\n:help\n:quit\n/mine\n"


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """`liepaja-bot demo --script` on each script, side by side (each takes seconds)."""
    scripts = {
        "proposal": (SCRIPTS / "proposal.txt").read_bytes(),
        "booking": (SCRIPTS / "booking.txt").read_bytes(),
        "not included": NOT_INCLUDED.encode(),
        "short": SHORT,
    }
    running = {}
    for name, script in scripts.items():
        cwd = tmp_path_factory.mktemp("demo")  # no .env, and room for stray files
        (cwd / "script.txt").write_bytes(script)
        running[name] = (
            cwd,
            subprocess.Popen(
                [*DEMO, "--script", "script.txt"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=ENV,
                cwd=cwd,
            ),
        )
    runs = {}
    for name, (cwd, process) in running.items():
        try:
            out, err = process.communicate(timeout=120)
        finally:
            process.kill()
        runs[name] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
        assert not (cwd / "data").exists()  # the demo leaves no database behind
    return runs


@pytest.fixture
def proposal_run(
    played: dict[str, subprocess.CompletedProcess[str]],
) -> subprocess.CompletedProcess[str]:
    return played["proposal"]


@pytest.fixture
def not_included_run(
    played: dict[str, subprocess.CompletedProcess[str]],
) -> subprocess.CompletedProcess[str]:
    return played["not included"]


def test_scripted_demo_runs_a_whole_proposal_over_http(
    proposal_run: subprocess.CompletedProcess[str],
) -> None:
    assert proposal_run.returncode == 0, proposal_run.stdout + proposal_run.stderr
    out = proposal_run.stdout
    assert "Lūdzu, izveidojiet drošu veloceliņu" in out
    assert "LIEP-" in out and "Paldies! Nodots Mobilitātes darba grupai." in out
    assert out.rstrip().endswith("0 errors")


def test_scripted_demo_books_a_meeting_that_a_specialist_confirms(
    played: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = played["booking"]
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Piezīme: Vēlos pārrunāt veloceliņu pie jūras." in out  # the staff card
    assert "Statuss: Apstiprināts\nLēmumu pieņēma: Inese." in out, out
    resident_side = out.split("(you are the resident again)", 1)[1]
    assert "✅ Jūsu tikšanās ar Attīstības pārvaldi ir apstiprināta." in resident_side, out
    assert "[document reception-1.ics]" in resident_side
    assert "🔁 Mainīt laiku" in resident_side  # /mine offers to move it
    assert out.rstrip().endswith("0 errors")


def test_each_bot_message_and_edit_is_printed_once_in_order(
    proposal_run: subprocess.CompletedProcess[str],
) -> None:
    out = proposal_run.stdout
    # Submit removes the review card's buttons: that edit is one short line, not the card again.
    assert out.count(REVIEW_CARD) == 1, out
    assert re.search(r"\[#(\d+)\] \(edited: buttons removed\)\n\[#\d+\] bot: Paldies!", out)
    numbers = [int(n) for n in re.findall(r"^\[#(\d+)\] bot: ", out, flags=re.MULTILINE)]
    assert numbers == list(range(1, len(numbers) + 1)), out  # each new message once, in order


def test_a_specialist_sets_not_included_with_a_reason_by_replying_to_the_prompt(
    not_included_run: subprocess.CompletedProcess[str],
) -> None:
    assert not_included_run.returncode == 0, not_included_run.stdout + not_included_run.stderr
    out = not_included_run.stdout
    assert "[#14] bot: ✍️ Kāpēc priekšlikums LIEP-" in out, out  # the prompt the script replies to
    resident_side = out.split("(you are the resident again)", 1)[1]
    assert (
        "statuss mainīts uz „Nav iekļauts programmā”.\n\n"
        "Iemesls: Parks ir valsts īpašums; tas nav pašvaldības kompetencē." in resident_side
    ), out
    # The reason did not go to the resident as an ordinary answer.
    assert not re.search(r"atbildējusi uz Jūsu priekšlikumu \S+:\n\nParks", out), out


def test_a_notice_is_printed_once_not_again_after_unrelated_actions(
    not_included_run: subprocess.CompletedProcess[str],
) -> None:
    out = not_included_run.stdout
    assert out.count("(notice: Statuss: Izskatīšanā)") == 1, out


def test_quit_ends_a_script_and_text_that_is_not_utf8_is_read_with_replacements(
    played: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = played["short"]
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"you> caf\ufffd\n\[#2\] bot: ", out), out  # read, sent, answered
    assert ":quit" in out.split("you> :help", 1)[1] and ":reply N TEXT" in out
    assert "/mine" not in out  # nothing after :quit ran


async def test_ctrl_c_quits_at_once_without_a_traceback(tmp_path: Path) -> None:
    demo = await asyncio.create_subprocess_exec(
        *DEMO,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=ENV,
        cwd=tmp_path,
    )
    try:
        async with asyncio.timeout(60):
            assert demo.stdout is not None
            await demo.stdout.readuntil(b"you> ")  # greeted by the bot; waiting for input
        demo.send_signal(signal.SIGINT)
        async with asyncio.timeout(20):  # at once: no second Ctrl-C, no hanging thread
            _, stderr = await demo.communicate()
    finally:
        if demo.returncode is None:
            demo.kill()
            await demo.wait()
    assert demo.returncode == 130, stderr.decode()
    assert stderr == b""  # no traceback, no unclosed session: the bot was shut down


def test_input_that_is_not_utf8_does_not_wedge_the_demo(tmp_path: Path) -> None:
    # Typed (piped) input: a line cut mid-character, then a button press, then Ctrl-D. In UTF-8
    # mode (as under the C locale) Python's own stdin would turn the stray byte into a lone
    # surrogate, which no JSON update can carry: the bot then heard nothing more.
    result = subprocess.run(
        DEMO,
        input=b"caf\xc3\n1\n",
        capture_output=True,
        timeout=120,
        env={**ENV, "PYTHONUTF8": "1"},
        cwd=tmp_path,
    )
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, out + err  # Ctrl-D (end of input) quits cleanly
    assert "(no answer from the bot)" not in out, out
    assert "Kurai tēmai atbilst Jūsu priekšlikums?" in out  # the press after it was answered
    assert "Traceback" not in err, err


class Typed:
    """Lines for the demo's input loop, as a terminal hands them over; then Ctrl-D."""

    def __init__(self, *lines: bytes | str) -> None:
        self.lines = list(lines)

    async def readline(self) -> bytes | str | None:
        return self.lines.pop(0) if self.lines else None


async def test_the_input_loop_hands_the_bot_valid_text_and_ends_at_end_of_input(
    tg: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    resident = tg.resident("Rasma")
    staff = tg.fake.user("Inese", user_id=ADMIN_ID).in_chat(tg.staff_chat)
    terminal = Terminal(tg.fake, resident, staff)

    # Raw bytes cut mid-character, and the lone surrogate a lenient stdin makes of them.
    await terminal.converse(Typed(b"caf\xc3", "t\udcc3ja"))

    typed = [m.text for m in resident.all_messages if not m.from_bot]
    assert typed == ["/start", "caf\ufffd", "t\ufffdja"]
    assert "(no answer from the bot)" not in capsys.readouterr().out
