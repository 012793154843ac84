"""`liepaja-bot run` as it runs for real, in its own process against the HTTP fake Telegram:
webhook mode (the secret token checked on every request) and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp

from fake_telegram import FakeTelegram, serve
from tests.conftest import ADMIN_ID, STAFF_CHAT_ID

SECRET = "s3cret-Token_for-the-webhook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def post_to_webhook(session: aiohttp.ClientSession, hook: str, update: dict[str, Any]) -> int:
    """An update as Telegram posts it to the webhook, with the secret; the answer's status."""
    async with session.post(
        hook,
        data=json.dumps(update),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
    ) as reply:
        return reply.status


async def start_bot(
    server: Any, fake: FakeTelegram, tmp_path: Path, log: Any, **extra: str
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BOT_TOKEN": fake.token,
        "BOT_API_URL": server.base_url,
        "BOT_FILE_API_URL": server.base_file_url,
        "DATABASE": str(tmp_path / "bot.sqlite3"),
        "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
        "ADMIN_IDS": str(ADMIN_ID),
        **extra,
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


async def test_webhook_checks_the_secret_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    fake = FakeTelegram(bot_username="liepaja_test_bot")
    fake.group("Staff", chat_id=STAFF_CHAT_ID)
    server = await serve(fake)
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log:
        bot = await start_bot(
            server,
            fake,
            tmp_path,
            log,
            WEBHOOK_URL="https://bot.example.lv/telegram/hook",  # the reverse proxy's address
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
            LOG_FORMAT="json",
        )
        try:
            for _ in range(300):  # setWebhook wakes no waiter in the fake: look every 0.1 s
                if fake.webhook is not None:
                    break
                await asyncio.sleep(0.1)
            assert fake.webhook is not None
            assert fake.webhook["url"] == "https://bot.example.lv/telegram/hook"
            assert fake.webhook["secret_token"] == SECRET
            anna = fake.user("Anna", language_code="lv")
            update = {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 1_800_000_000,
                    "chat": {"id": anna.id, "type": "private", "first_name": "Anna"},
                    "from": {"id": anna.id, "is_bot": False, "first_name": "Anna"},
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                },
            }
            async with aiohttp.ClientSession() as session:
                for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong-secret-123456"}):
                    for _ in range(100):  # the listener may not be up yet
                        try:
                            async with session.post(hook, json=update, headers=headers) as reply:
                                assert reply.status == 403
                                break
                        except aiohttp.ClientConnectionError:
                            await asyncio.sleep(0.2)
                    else:
                        raise AssertionError("the webhook never listened")
                assert anna.messages == []  # refused requests were not handled

                async def deliver(update: dict[str, Any]) -> None:
                    assert await post_to_webhook(session, hook, update) == 200

                fake.deliver = deliver
                await anna.send("/start")
                # Answered 200 only once handled (bot/updates.py): the reply came before.
                assert anna.messages
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(bot.wait(), 30) == 0
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
            await server.close()
    lines = log_path.read_text(encoding="utf-8").splitlines()
    assert lines and all(json.loads(line)["level"] for line in lines)  # LOG_FORMAT=json
    assert SECRET not in "\n".join(lines) and fake.token not in "\n".join(lines)


async def test_polling_stops_on_sigterm_after_delivering_what_is_due(tmp_path: Path) -> None:
    fake = FakeTelegram(bot_username="liepaja_test_bot")
    fake.group("Staff", chat_id=STAFF_CHAT_ID)
    server = await serve(fake)
    with (tmp_path / "bot.log").open("wb") as log:
        bot = await start_bot(server, fake, tmp_path, log)
        try:
            anna = fake.user("Anna", language_code="lv")
            await anna.send("/start")
            await fake.wait_until(lambda: bool(anna.messages), 30, message="the reply")
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(bot.wait(), 30) == 0
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
            await server.close()
    log_text = (tmp_path / "bot.log").read_text(encoding="utf-8")
    assert "Traceback" not in log_text


def test_a_webhook_needs_its_secret(tmp_path: Path) -> None:
    import pytest

    from bot.config import ConfigError
    from tests.conftest import make_settings

    with pytest.raises(ConfigError) as error:
        make_settings(tmp_path, WEBHOOK_URL="https://bot.example.lv/hook")
    assert "WEBHOOK_SECRET" in str(error.value)
    with pytest.raises(ConfigError) as error:
        make_settings(tmp_path, WEBHOOK_URL="http://bot.example.lv/hook", WEBHOOK_SECRET=SECRET)
    assert "WEBHOOK_URL" in str(error.value) and SECRET not in str(error.value)
    settings = make_settings(tmp_path, WEBHOOK_URL="https://x.lv/a/b", WEBHOOK_SECRET=SECRET)
    assert settings.webhook_secret == SECRET and SECRET not in repr(settings)
