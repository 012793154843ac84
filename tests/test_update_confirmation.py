"""Updates are confirmed to Telegram only once handled (bot/updates.py): by polling, the next
`getUpdates` waits until the batch before has been handled; by webhook, the request is answered
once its update has been. What a crash or a failed commit interrupts, Telegram still has and
sends again, and it takes effect once. An update that kills the bot every time is given up
after a few starts."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

import bot.app
import bot.updates
from bot.app import BotApplication
from bot.config import Settings
from fake_telegram import FakeTelegram, FakeTelegramRequest, FakeUser
from tests.conftest import FakeClock, Harness, bot_on, make_settings, t

PROMPT = t("lv", "Please choose your language")


class WatchedPolling(FakeTelegramRequest):
    """The fake's getUpdates, noting the offset of each call and how many updates the database
    held as handled (committed) by then."""

    def __init__(self, fake: FakeTelegram, database: Path) -> None:
        super().__init__(fake)
        self.database = database
        self.calls: list[tuple[int, int]] = []  # (offset, updates handled)
        self.brought_updates = asyncio.Event()

    def handled(self) -> int:
        with sqlite3.connect(self.database) as db:  # a reader beside the bot (WAL)
            row: tuple[int] = db.execute("SELECT COUNT(*) FROM processed_updates").fetchone()
        return row[0]

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **kwargs: Any
    ) -> tuple[int, bytes]:
        if url.endswith("/getUpdates") and request_data is not None:
            offset = int(request_data.parameters.get("offset") or 0)
            self.calls.append((offset, self.handled()))
        code, body = await super().do_request(url, method, request_data, **kwargs)
        if b'"update_id"' in body:
            self.brought_updates.set()
        return code, body


def answered(resident: FakeUser) -> int:
    return sum(PROMPT in (m.text or "") for m in resident.messages)


def polling_bot(
    fake: FakeTelegram,
    settings: Settings,
    clock: FakeClock,
    get_updates_request: BaseRequest | None = None,
) -> BotApplication:
    """The bot as `run` builds it, on the in-process fake: its updates come by polling."""
    return bot_on(fake, settings, clock, get_updates_request=get_updates_request)


async def started(app: BotApplication) -> BotApplication:
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    return app


async def poll_until_answered(app: BotApplication, residents: list[FakeUser]) -> None:
    """Runs the bot as `run` does until each of `residents` has an answer, then stops it."""
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0)
    await app.start()
    for resident in residents:
        await resident.wait_for_reply()
    await app.updater.stop()
    await app.stop()


async def anna_at_telegram(clock: FakeClock) -> tuple[FakeTelegram, FakeUser]:
    """Telegram, with Anna's /start waiting there."""
    fake = FakeTelegram(clock=clock, bot_username="liepaja_test_bot")
    anna = fake.user("Anna", language_code="lv")
    await anna.send("/start")
    return fake, anna


async def disk_full(*args: Any) -> None:
    raise OSError("database or disk is full")


def commits(statements: list[str]) -> int:
    return sum(statement == "COMMIT" for statement in statements)


async def test_a_polled_batch_is_confirmed_only_once_handled_and_costs_no_commit_of_its_own(
    tmp_path: Path, clock: FakeClock
) -> None:
    fake = FakeTelegram(clock=clock, bot_username="liepaja_test_bot")
    residents = [fake.user(f"Resident {n}", language_code="lv") for n in range(10)]
    for resident in residents:  # all of it waits at Telegram: one getUpdates takes it
        await resident.send("/start")
    last = fake.pending_updates[-1]["update_id"]
    settings = make_settings(tmp_path)
    polling = WatchedPolling(fake, settings.database)
    app = await started(polling_bot(fake, settings, clock, polling))
    statements: list[str] = []
    await app.store.db.set_trace_callback(statements.append)
    try:
        await poll_until_answered(app, residents)
    finally:
        await app.store.db.set_trace_callback(None)
        await app.shutdown()

    # The first call that confirms the batch came when all ten had been handled, committed.
    confirming = [handled for offset, handled in polling.calls if offset > last]
    assert confirming and confirming[0] == 10
    assert [answered(resident) for resident in residents] == [1] * 10
    assert fake.pending_updates == []
    # One commit per update, the one that holds its effects: none to note its arrival.
    assert commits(statements) == 10
    assert not any("update_journal (" in statement for statement in statements)
    assert polling.handled() == 10


async def test_updates_fetched_but_not_handled_when_the_bot_died_come_again_and_count_once(
    tmp_path: Path, clock: FakeClock
) -> None:
    fake = FakeTelegram(clock=clock, bot_username="liepaja_test_bot")
    anna, boris = fake.user("Anna", language_code="lv"), fake.user("Boris", language_code="lv")
    await anna.send("/start")
    await boris.send("/start")
    settings = make_settings(tmp_path)
    dead = polling_bot(fake, settings, clock)
    await dead.initialize()
    # It fetched both, handled Anna's, and died before it asked Telegram for more.
    fetched = await dead.bot.get_updates()
    for update in fetched:
        await dead.update_queue.put(update)
    await dead.process_update(await dead.update_queue.get())
    await dead.store.close()  # as kill -9 leaves it: nothing else runs
    assert [answered(anna), answered(boris)] == [1, 0]

    app = await started(polling_bot(fake, settings, clock))
    try:
        await poll_until_answered(app, [boris])
    finally:
        await app.shutdown()
    assert [answered(anna), answered(boris)] == [1, 1]  # Anna's came again: no effect
    assert fake.pending_updates == []


async def test_a_stop_does_not_confirm_what_was_not_handled(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.updates, "MAX_CONFIRM_WAIT", 0.05)
    fake, anna = await anna_at_telegram(clock)
    settings = make_settings(tmp_path)
    polling = WatchedPolling(fake, settings.database)
    app = await started(polling_bot(fake, settings, clock, polling))
    assert app.updater is not None
    try:
        await app.updater.start_polling(poll_interval=0)  # fetching, but nothing handles
        await asyncio.wait_for(polling.brought_updates.wait(), timeout=5)
        await app.updater.stop()  # PTB's last call would confirm what it fetched
    finally:
        await app.shutdown()
    assert [update["update_id"] for update in fake.pending_updates] == [
        app.update_queue.get_nowait().update_id  # type: ignore[attr-defined]
    ]
    again = await started(polling_bot(fake, settings, clock))
    try:
        await poll_until_answered(again, [anna])
    finally:
        await again.shutdown()
    assert answered(anna) == 1


async def test_a_webhook_request_is_answered_once_its_update_is_handled(
    tmp_path: Path, clock: FakeClock
) -> None:
    fake, anna = await anna_at_telegram(clock)  # her /start, for the webhook to post
    app = polling_bot(fake, make_settings(tmp_path), clock)
    await app.initialize()
    update = Update.de_json(fake.pending_updates[0], app.bot)
    try:
        # PTB's webhook server puts each request's update in the queue and answers when that
        # returns. Telegram, impatient, sends a copy before the first request is answered.
        request = asyncio.create_task(app.update_queue.put(update))
        copy = asyncio.create_task(app.update_queue.put(update))
        await asyncio.sleep(0.01)
        assert not request.done() and not copy.done()  # queued, not handled: no answer yet
        assert app.update_queue.qsize() == 1  # the copy waits for the same update
        await app.process_update(await app.update_queue.get())  # as PTB's fetcher does
        await asyncio.wait_for(asyncio.gather(request, copy), timeout=5)
    finally:
        await app.shutdown()
    assert answered(anna) == 1


async def test_a_webhook_request_whose_update_failed_fails_and_the_copy_counts_once(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, anna = await anna_at_telegram(clock)  # her /start, for the webhook to post
    app = polling_bot(fake, make_settings(tmp_path), clock)
    await app.initialize()
    update = Update.de_json(fake.pending_updates[0], app.bot)
    original = app.store.journal.finish

    try:
        request = asyncio.create_task(app.update_queue.put(update))
        await asyncio.sleep(0.01)
        monkeypatch.setattr(app.store.journal, "finish", disk_full)
        with pytest.raises(OSError, match="disk is full"):
            await app.process_update(await app.update_queue.get())
        with pytest.raises(OSError, match="disk is full"):  # PTB's webhook server answers 500
            await asyncio.wait_for(request, timeout=5)
        monkeypatch.setattr(app.store.journal, "finish", original)
        again = asyncio.create_task(app.update_queue.put(update))  # Telegram sends it again
        await asyncio.sleep(0.01)
        await app.process_update(await app.update_queue.get())
        await asyncio.wait_for(again, timeout=5)
        inbound = [
            entry
            for entry in await app.store.messages.conversation_with(anna.id)
            if entry.direction == "in"
        ]
    finally:
        await app.shutdown()
    # She saw the first answer, whose effects were rolled back, and the one that counted.
    assert answered(anna) == 2
    assert len(inbound) == 1


class Killed(BaseException):
    """Stands for SIGKILL: nothing catches it."""


async def test_an_update_that_kills_the_bot_every_time_is_given_up_after_a_few_starts(
    tg: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = await tg.onboarded("Anna", language="English")
    dispatch = Application.process_update
    kills = 0

    async def deadly(app: Application, update: object) -> None:  # type: ignore[type-arg]
        nonlocal kills
        message = update.effective_message if isinstance(update, Update) else None
        if message is not None and message.text == "poison":
            kills += 1
            raise Killed  # in the middle of its handling, its transaction open
        await dispatch(app, update)

    monkeypatch.setattr(Application, "process_update", deadly)
    with pytest.raises(Killed):
        await anna.send("poison")
    starts = 0
    while True:  # the supervisor starts it again, and again
        starts += 1
        try:
            await tg.crash_and_restart()
            break
        except Killed:
            assert starts < 10, "never given up"
    # Died on it: first, as the suspect of the start after, then at each of MAX_ATTEMPTS
    # starts that handled it from the journal; the next gave up on it.
    assert kills == 1 + 1 + bot.app.MAX_ATTEMPTS
    assert await tg.store.journal.unfinished() == []
    assert tg.fake.undelivered == {}  # Telegram's copy came again and was skipped
    await anna.send("/help")
    assert "/start" in anna.last_text


async def test_updates_fetched_but_never_queued_do_not_stop_the_polling(
    tmp_path: Path, clock: FakeClock
) -> None:
    """PTB drops a batch it cannot read (and logs it): nothing will handle those updates, so
    the next call must not wait for them."""
    fake, _ = await anna_at_telegram(clock)
    app = await started(polling_bot(fake, make_settings(tmp_path), clock))
    try:
        [update] = await app.bot.get_updates()  # and PTB never queues it
        again = await asyncio.wait_for(app.bot.get_updates(offset=update.update_id + 1), 1)
    finally:
        await app.shutdown()
    assert again == ()
    assert fake.pending_updates == []


async def test_a_polled_update_whose_commit_failed_is_never_confirmed(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.updates, "PAUSE", 0.01)
    fake, _ = await anna_at_telegram(clock)
    app = await started(polling_bot(fake, make_settings(tmp_path), clock))

    try:
        [update] = await app.bot.get_updates()
        await app.update_queue.put(update)
        monkeypatch.setattr(app.store.journal, "finish", disk_full)
        with pytest.raises(OSError, match="disk is full"):
            await app.process_update(await app.update_queue.get())
        # The bot is stopping; PTB asks on, with an offset that would confirm it.
        for _ in range(3):
            assert await app.bot.get_updates(offset=update.update_id + 1) == ()
    finally:
        await app.shutdown()
    assert [u["update_id"] for u in fake.pending_updates] == [update.update_id]
