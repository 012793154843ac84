"""Updates are journaled as they arrive, in batches: by polling, each `getUpdates` answer —
every update in it, as Telegram sent it — in one commit, before PTB's next call confirms the
batch to Telegram; by webhook, the updates whose requests come side by side share a commit.
Each update is handled once."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import BotApplication, JournalingQueue
from bot.config import Settings
from fake_telegram import FakeTelegram, FakeTelegramRequest
from liepaja_bot.assembly import build_application
from tests.conftest import FakeClock, make_settings, t
from tests.test_delivery_core import message_update


def polling_bot(fake: FakeTelegram, settings: Settings, clock: FakeClock) -> BotApplication:
    """The bot as `run` builds it, on the in-process fake: its updates come by polling."""
    return build_application(
        settings,
        request=FakeTelegramRequest(fake),
        get_updates_request=FakeTelegramRequest(fake),
        clock=clock,
        token=fake.token,
        rate_limit=False,
        background=False,
        sleep=clock.sleep,
    )


async def test_a_polled_batch_is_journaled_in_one_commit_and_each_update_handled_once(
    tmp_path: Path, clock: FakeClock
) -> None:
    fake = FakeTelegram(clock=clock, bot_username="liepaja_test_bot")
    settings = make_settings(tmp_path)
    app = polling_bot(fake, settings, clock)
    residents = [fake.user(f"Resident {n}", language_code="lv") for n in range(10)]
    for resident in residents:  # all of it waits at Telegram: one getUpdates takes it
        await resident.send("/start")
    sent = [json.loads(json.dumps(update)) for update in fake.pending_updates]
    assert len(sent) == 10

    batches: list[list[tuple[int, str]]] = []
    await app.initialize()
    journal = app.store.journal
    arrive_batch = journal.arrive_batch

    async def batch_spy(arrivals: list[tuple[int, str]]) -> list[str]:
        batches.append(arrivals)
        return await arrive_batch(arrivals)

    journal.arrive_batch = batch_spy  # type: ignore[method-assign]
    try:
        assert app.post_init is not None
        await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        await app.start()
        for resident in residents:
            await resident.wait_for_reply()
        await app.updater.stop()
        await app.stop()
    finally:
        await app.shutdown()

    # One commit journaled the ten, as Telegram sent them.
    assert len(batches) == 1
    assert [(update_id, json.loads(payload)) for update_id, payload in batches[0]] == [
        (update["update_id"], update) for update in sent
    ]
    # Each was handled once, struck off the journal, and confirmed to Telegram.
    prompt = t("lv", "Please choose your language")
    for resident in residents:
        assert sum(prompt in (m.text or "") for m in resident.messages) == 1
    assert fake.pending_updates == []
    with sqlite3.connect(settings.database) as db:
        assert db.execute("SELECT COUNT(*) FROM update_journal").fetchone() == (0,)
        handled: list[Any] = db.execute("SELECT update_id FROM processed_updates").fetchall()
    assert sorted(row[0] for row in handled) == [update["update_id"] for update in sent]


async def test_a_batch_fetched_again_after_its_answer_was_lost_is_handled_once(
    tmp_path: Path, clock: FakeClock
) -> None:
    """The journal took a batch but PTB never read it (the answer was lost on the way): the
    next `getUpdates` brings the same updates, journaled already — they are handled, once."""
    fake = FakeTelegram(clock=clock, bot_username="liepaja_test_bot")
    app = polling_bot(fake, make_settings(tmp_path), clock)
    anna, boris = fake.user("Anna", language_code="lv"), fake.user("Boris", language_code="ru")
    await anna.send("/start")
    await boris.send("/start")
    await app.initialize()
    try:
        await app.bot.get_updates()  # journaled; PTB never queues what this call returned
        again = await app.bot.get_updates()  # nothing confirmed: the same two
        assert [u.effective_user.id for u in again if u.effective_user] == [anna.id, boris.id]
        for update in again * 2:  # and PTB queues them — twice, as if fetched twice more
            await app.update_queue.put(update)
        while not app.update_queue.empty():
            await app.process_update(await app.update_queue.get())
    finally:
        await app.shutdown()
    prompt = t("lv", "Please choose your language")
    assert [sum(prompt in (m.text or "") for m in user.messages) for user in (anna, boris)] == [
        1,
        1,
    ]


async def test_webhook_updates_that_arrive_side_by_side_share_one_commit(
    tmp_path: Path, clock: FakeClock
) -> None:
    """PTB's webhook server puts each request's update in the queue, requests side by side:
    those that come together are journaled in one commit, each queued once."""
    fake = FakeTelegram(clock=clock, bot_username="liepaja_test_bot")
    app = polling_bot(fake, make_settings(tmp_path), clock)
    await app.initialize()
    batches: list[int] = []
    journal = app.store.journal
    arrive_batch = journal.arrive_batch

    async def batch_spy(arrivals: list[tuple[int, str]]) -> list[str]:
        batches.append(len(arrivals))
        return await arrive_batch(arrivals)

    journal.arrive_batch = batch_spy  # type: ignore[method-assign]
    try:
        updates = [
            Update.de_json(message_update(900 + n, 70_000 + n, "/start", 1), app.bot)
            for n in range(5)
        ]
        await asyncio.gather(*(app.update_queue.put(update) for update in updates))
        # Telegram sends one again, its 200 lost: journaled, but already waiting.
        await app.update_queue.put(updates[2])
        queued = [app.update_queue.get_nowait() for _ in range(app.update_queue.qsize())]
    finally:
        await app.shutdown()
    assert batches == [5, 1]
    assert [update.update_id for update in queued] == [900, 901, 902, 903, 904]  # type: ignore[attr-defined]


async def test_a_failed_group_commit_fails_each_request_and_queues_nothing(
    tmp_path: Path, clock: FakeClock
) -> None:
    """PTB's webhook server answers a failed put with an error, so Telegram sends again."""
    fake = FakeTelegram(clock=clock, bot_username="liepaja_test_bot")
    app = polling_bot(fake, make_settings(tmp_path), clock)
    await app.initialize()
    journal = app.store.journal
    arrive_batch = journal.arrive_batch

    async def disk_full(arrivals: list[tuple[int, str]]) -> list[str]:
        raise sqlite3.OperationalError("database or disk is full")

    try:
        updates = [
            Update.de_json(message_update(900 + n, 70_000 + n, "/start", 1), app.bot)
            for n in range(3)
        ]
        journal.arrive_batch = disk_full  # type: ignore[method-assign]
        results = await asyncio.gather(
            *(app.update_queue.put(update) for update in updates), return_exceptions=True
        )
        assert [type(result) for result in results] == [sqlite3.OperationalError] * 3
        assert app.update_queue.empty()
        journal.arrive_batch = arrive_batch  # type: ignore[method-assign]
        await asyncio.gather(*(app.update_queue.put(update) for update in updates))  # again
        assert app.update_queue.qsize() == 3
    finally:
        await app.shutdown()


async def test_a_cancelled_group_commit_leaves_nobody_waiting(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Cancelled before it took the waiting updates (the loop shutting down): their requests
    are cancelled, not left hanging, and the next update is journaled by a commit of its own."""
    fake = FakeTelegram(clock=clock, bot_username="liepaja_test_bot")
    app = polling_bot(fake, make_settings(tmp_path), clock)
    await app.initialize()
    queue = app.update_queue
    assert isinstance(queue, JournalingQueue)
    try:
        first, second = (
            Update.de_json(message_update(900 + n, 70_000 + n, "/start", 1), app.bot)
            for n in range(2)
        )
        request = asyncio.create_task(queue.put(first))
        await asyncio.sleep(0)  # the request is waiting; its commit has not begun
        for commit in list(queue._commits):
            commit.cancel()
        results = await asyncio.gather(request, return_exceptions=True)
        assert isinstance(results[0], asyncio.CancelledError)
        await asyncio.wait_for(queue.put(second), timeout=5)  # not stuck behind it
        assert [queue.get_nowait().update_id] == [901]  # type: ignore[attr-defined]
    finally:
        await app.shutdown()
