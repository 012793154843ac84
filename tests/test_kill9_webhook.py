"""A real `kill -9` of `liepaja-bot run` in webhook mode, while it handles an update.

Telegram posts each update to the webhook until it is answered 200, which the bot does only once
the update has been handled (bot/updates.py). Killed in the middle — after the resident saw the
reply, before the commit — the request is cut; Telegram posts the update again until a new
process takes it, and it takes effect once.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp

from fake_telegram import FakeTelegram, serve
from tests.conftest import STAFF_CHAT_ID, t
from tests.test_run_modes import SECRET, free_port, post_to_webhook, start_bot

TEXT = "Karostas ūdenstornim vajag skatu laukumu un apgaismojumu."


async def test_an_update_cut_short_by_kill_9_is_posted_again_and_counts_once(
    tmp_path: Path,
) -> None:
    fake = FakeTelegram(bot_username="liepaja_test_bot")
    fake.group("Staff", chat_id=STAFF_CHAT_ID)
    server = await serve(fake)
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    webhook = {
        "WEBHOOK_URL": "https://bot.example.lv/telegram/hook",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
    }
    anna = fake.user("Anna", language_code="lv")
    bots: list[asyncio.subprocess.Process] = []
    kill_at_her_next_reply = asyncio.Event()
    original = fake.call

    async def call(method: str, params: dict[str, Any], files: Any = None) -> Any:
        answer = await original(method, params, files)  # Telegram acts on it: she sees it
        to_her = method.lower() == "sendmessage" and str(params.get("chat_id")) == str(anna.id)
        if to_her and kill_at_her_next_reply.is_set():
            kill_at_her_next_reply.clear()
            bots[-1].kill()  # SIGKILL, before the bot reads the answer or commits
        return answer

    fake.call = call  # type: ignore[method-assign]

    def cards() -> list[Any]:
        return [m for m in fake.chat_messages(STAFF_CHAT_ID) if TEXT in (m.content or "")]

    log_path = tmp_path / "bot.log"
    async with aiohttp.ClientSession() as session:

        async def post_until_answered(update: dict[str, Any]) -> None:
            """Telegram's webhook delivery: again and again, until the bot answers 200."""
            for _ in range(300):
                try:
                    if await post_to_webhook(session, hook, update) == 200:
                        return
                except aiohttp.ClientError:
                    pass  # not listening (yet), or the connection was cut
                await asyncio.sleep(0.1)
            raise AssertionError(f"update {update['update_id']} was never answered")

        fake.deliver = post_until_answered
        with log_path.open("wb") as log:
            try:
                bots.append(await start_bot(server, fake, tmp_path, log, **webhook))
                await anna.send("/start")
                await anna.press("✅ Latviešu")
                await anna.press(t("lv", "📝 Submit a proposal"))
                await anna.press("Vide")  # the theme, as the municipality file names it

                kill_at_her_next_reply.set()
                sending = asyncio.create_task(anna.send(TEXT))
                assert await asyncio.wait_for(bots[0].wait(), 30) == -signal.SIGKILL
                assert not sending.done()  # never answered: Telegram keeps posting it
                assert t("lv", "➡️ Continue") in [b for row in anna.buttons() for b in row]

                bots.append(await start_bot(server, fake, tmp_path, log, **webhook))
                await asyncio.wait_for(sending, 60)  # the new process took it

                await anna.press(t("lv", "➡️ Continue"))
                await fake.wait_until(lambda: bool(anna.reply_keyboard()), 30, message="contact")
                await anna.tap(t("lv", "Skip"))
                await anna.press(t("lv", "✅ Submit"))
                await fake.wait_until(
                    lambda: "LIEP-" in (anna.last_text or ""), 30, message="the reference"
                )
                await fake.wait_until(lambda: bool(cards()), 30, message="the staff card")
            finally:
                for bot in bots:
                    if bot.returncode is None:
                        bot.send_signal(signal.SIGTERM)
                        await asyncio.wait_for(bot.wait(), 30)
                await server.close()

    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        proposals = db.execute("SELECT text FROM proposals").fetchall()
        journal = db.execute("SELECT COUNT(*) FROM update_journal").fetchone()
    assert proposals == [(TEXT,)]  # her text, taken once
    assert journal == (0,)  # the suspect the new process journaled first was handled
    assert len(cards()) == 1
