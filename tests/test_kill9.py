"""A real `kill -9` of `liepaja-bot run` mid-flow: the resident carries on where they were.

The bot runs as its own process, polling the fake Telegram over HTTP exactly as it would poll
Telegram, and is killed with SIGKILL right after it answered — no shutdown, no flush.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from fake_telegram import FakeTelegram, serve
from tests.conftest import ADMIN_ID, STAFF_CHAT_ID

TEXT = "Karostas ūdenstornim vajag skatu laukumu un apgaismojumu."


async def start_bot(server, fake: FakeTelegram, tmp_path: Path, log) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BOT_TOKEN": fake.token,
        "BOT_API_URL": server.base_url,
        "BOT_FILE_API_URL": server.base_file_url,
        "DATABASE": str(tmp_path / "bot.sqlite3"),
        "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
        "ADMIN_IDS": str(ADMIN_ID),
        "LOG_LEVEL": "DEBUG",  # the most talkative level must still not leak the token
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "liepaja_bot",
        "--env-file",
        os.devnull,
        "run",
        env=env,
        stdout=log,
        stderr=log,
        cwd=tmp_path,
    )


async def press_when_shown(fake: FakeTelegram, user, label: str, within: float = 10) -> None:
    """Polling is asynchronous: wait (event-driven) until the button is there, then press it."""
    await fake.wait_until(
        lambda: any(m.button(label) for m in user.messages), within, message=label
    )
    await user.press(label)


async def test_kill_9_right_after_a_reply_loses_nothing(tmp_path: Path) -> None:
    fake = FakeTelegram(bot_username="liepaja_test_bot")
    fake.group("Staff", chat_id=STAFF_CHAT_ID)
    server = await serve(fake)
    log_path = tmp_path / "bot.log"
    processes = []
    try:
        with log_path.open("wb") as log:
            processes.append(await start_bot(server, fake, tmp_path, log))
            anna = fake.user("Anna", language_code="lv")
            await anna.send("/start")
            await press_when_shown(fake, anna, "✅ Latviešu", within=30)  # first start: imports
            await press_when_shown(fake, anna, "📝 Iesniegt priekšlikumu")
            await press_when_shown(fake, anna, "Vide")
            await fake.wait_until(lambda: anna.last.buttons == [["✖️ Atcelt"]], 10)  # "write"
            await anna.send(TEXT)
            await fake.wait_until(lambda: anna.last.buttons[0] == ["➡️ Turpināt"], 10)
            saved = anna.last

            processes[0].send_signal(signal.SIGKILL)
            assert await processes[0].wait() == -signal.SIGKILL

            processes.append(await start_bot(server, fake, tmp_path, log))
            await anna.press("➡️ Turpināt", message=saved)
            await fake.wait_until(lambda: bool(anna.reply_keyboard()), 30, message="contact")
            assert anna.reply_keyboard() == [["📱 Kopīgot tālruņa numuru"], ["Izlaist"]]
            await anna.tap("Izlaist")
            await press_when_shown(fake, anna, "✅ Iesniegt")
            await fake.wait_until(lambda: "LIEP-" in (anna.last_text or ""), 10)
            preview = next(m for m in reversed(anna.messages) if m.text and TEXT in m.text)
            assert "Vide" in preview.text  # the text typed before the kill, on its theme
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)
        await server.close()
    logs = log_path.read_text(encoding="utf-8", errors="replace")
    assert " DEBUG " in logs  # DEBUG logging was really on
    assert fake.token not in logs
    assert fake.token.split(":")[1] not in logs
    assert TEXT not in logs  # no personal data, even at DEBUG
