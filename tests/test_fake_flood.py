"""The fake Telegram's opt-in overall limit: more than N messages sent within one second (by the
fake's clock) are answered 429 with `retry_after`, as Telegram does to a bot that floods."""

from __future__ import annotations

import datetime as dt

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from fake_telegram import FakeTelegram, FakeTelegramRequest
from tests.conftest import FakeClock

START = dt.datetime(2027, 1, 12, 12, 0, tzinfo=dt.UTC)


async def send(fake: FakeTelegram, chat_id: int, method: str = "sendMessage") -> int:
    params = {"chat_id": chat_id}
    if method == "sendMessage":
        params["text"] = "x"
    elif method == "sendLocation":
        params |= {"latitude": 56.5, "longitude": 21.0}
    elif method == "sendChatAction":
        params["action"] = "typing"
    status, body = await fake.call(method, params)
    assert status in (200, 429), body
    return status


async def test_the_limit_is_off_unless_asked() -> None:
    clock = FakeClock(START)
    fake = FakeTelegram(clock=clock)
    anna = fake.user("Anna")
    assert [await send(fake, anna.id) for _ in range(100)] == [200] * 100
    assert fake.flood_refusals == 0


async def test_over_the_limit_within_a_second_is_429_with_retry_after() -> None:
    clock = FakeClock(START)
    fake = FakeTelegram(clock=clock, flood_limit_per_second=30)
    people = [fake.user(f"R{n}") for n in range(40)]
    # 30 to different chats (and sendLocation counts as a message too) are accepted ...
    statuses = [await send(fake, person.id) for person in people[:29]]
    statuses.append(await send(fake, people[29].id, "sendLocation"))
    assert statuses == [200] * 30
    # ... a chat action is no message and is not limited; the 31st message is refused.
    assert await send(fake, people[30].id, "sendChatAction") == 200
    clock.advance(seconds=0.4)
    status, body = await fake.call("sendMessage", {"chat_id": people[30].id, "text": "x"})
    assert status == 429 and body["parameters"]["retry_after"] == 1
    assert fake.flood_refusals == 1
    assert people[30].messages == []  # refused: nothing was sent
    # Refusals do not count; a second after the first 30 the window is free again.
    clock.advance(seconds=0.6)
    assert [await send(fake, person.id) for person in people[30:]] == [200] * 10
    clock.advance(seconds=0.5)
    assert await send(fake, people[0].id) == 200  # 10 in the last second: room for 20 more


async def test_the_bot_sees_retry_after_and_the_limit_can_be_changed() -> None:
    clock = FakeClock(START)
    fake = FakeTelegram(clock=clock)
    fake.set_flood_limit(2)
    anna = fake.user("Anna")
    bot = Bot(fake.token, request=FakeTelegramRequest(fake))
    async with bot:
        await bot.send_message(anna.id, "1")
        await bot.send_message(anna.id, "2")
        with pytest.raises(RetryAfter):
            await bot.send_message(anna.id, "3")
        fake.set_flood_limit(None)
        await bot.send_message(anna.id, "4")
    assert [m.text for m in anna.messages] == ["1", "2", "4"]
    with pytest.raises(ValueError):
        fake.set_flood_limit(0)
