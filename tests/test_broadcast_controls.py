"""A broadcast's controls, as the office uses them in the staff chat: the progress message says
how long the rest will take, Pause holds what is not sent (through a restart too), Resume sends
it — each subscriber still once — Stop works while paused, nobody but staff can press them, a
stale press changes nothing, and the final report says who was not reached and why."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from babel.dates import format_timedelta

from fake_telegram import FakeMessage, FakeTelegram, FakeUser
from handlers.meeting_notices import STAFF_BUTTONS
from tests.conftest import (
    STAFF_CHAT_ID,
    FakeClock,
    Harness,
    make_settings,
    send_to_subscribers,
    start_app,
    t,
    tn,
)
from tests.test_meetings import CULTURE, meeting_notices, publish, subscribe
from tests.test_proposals import specialist

lv = lambda message: t("lv", message)  # noqa: E731 — the staff chat reads Latvian
HEADING = lv("👥 Working-group meeting: {theme}")
PROGRESS = lv("📣 Broadcast #{id} to {n} subscribers: sent {sent} · failed {failed} · left {left}")
PAUSED = lv("⏸ Paused: nothing more goes out until Resume is pressed.")
PAUSE, RESUME, STOP = lv("⏸ Pause"), lv("▶️ Resume"), lv("⏹ Stop the broadcast")
STALE = lv("This broadcast has finished or was stopped: there is nothing to change.")


@pytest.fixture
async def slow(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    """The bot with OUTBOX_RATE=1: a dozen subscribers take seconds, time to press buttons."""
    fake = FakeTelegram(clock=clock, bot_username="liepaja_test_bot")
    settings = make_settings(tmp_path, OUTBOX_RATE="1")
    app = await start_app(fake, settings, clock)
    harness = Harness(fake=fake, settings=settings, clock=clock, app=app)
    harness._staff_chat = fake.group("Attīstības pārvalde", chat_id=STAFF_CHAT_ID, forum=False)  # type: ignore[attr-defined]
    try:
        yield harness
    finally:
        await harness.app.shutdown()


@contextmanager
def only_what_is_due_now(tg: Harness) -> Iterator[None]:
    """While inside, a delivered update is followed by the sends due this very moment only (not
    the whole outbox, with the clock moved as far as it takes): a broadcast stays under way."""
    settle = tg.app.settle
    tg.app.settle = lambda: tg.app.outbox.deliver_due()  # type: ignore[assignment,method-assign,return-value]
    try:
        yield
    finally:
        tg.app.settle = settle  # type: ignore[method-assign]


async def subscribers(tg: Harness, count: int) -> list[FakeUser]:
    residents = []
    for number in range(count):
        user = await tg.onboarded(f"R{number}", language="Latviešu")
        await subscribe(user, "lv", CULTURE["lv"])
        residents.append(user)
    return residents


async def send_and_leave_under_way(tg: Harness, count: int) -> FakeMessage:
    """Publishes a meeting, presses Send, lets only the first moment's sends go; returns the
    progress message."""
    await publish(tg)
    offer = tg.staff_chat.messages[-1]
    tg.clock.advance(seconds=1)
    with only_what_is_due_now(tg):
        await specialist(tg).press(send_to_subscribers(count), message=offer)
    return progress_message(tg)


def progress_message(tg: Harness) -> FakeMessage:
    prefix = PROGRESS.split("{")[0]
    return next(m for m in tg.staff_chat.messages if (m.text or "").startswith(prefix))


def copies(residents: list[FakeUser]) -> list[int]:
    return [len(meeting_notices(user, HEADING)) for user in residents]


async def run_for(tg: Harness, seconds: int) -> None:
    """Time passes: the progress job and the outbox do what falls due, second by second."""
    for _ in range(seconds):
        tg.clock.advance(seconds=1)
        await tg.app.settle()


async def test_pause_holds_the_rest_and_resume_sends_each_their_one_copy(tg: Harness) -> None:
    residents = await subscribers(tg, 40)
    progress = await send_and_leave_under_way(tg, 40)
    inese = specialist(tg)
    assert progress.buttons == [[PAUSE, STOP]]
    reached = [n for n, user in enumerate(residents) if meeting_notices(user, HEADING)]
    assert 0 < len(reached) < 40

    await inese.press(PAUSE, message=progress)
    left = 40 - len(reached)
    assert inese.last_answer is not None and not inese.last_answer.show_alert
    assert inese.last_answer.text == lv("Paused. Waiting: {n}").format(n=left)
    assert progress.text == "\n".join(
        [PROGRESS.format(id=1, n=40, sent=len(reached), failed=0, left=left), PAUSED]
    )
    assert progress.buttons == [[RESUME, STOP]]
    broadcast = await tg.store.broadcasts.broadcast(1)
    assert broadcast is not None and broadcast.paused

    # Ten minutes pass: nobody else gets it, and the message is not edited for nothing.
    edits = len(progress.edits)
    await run_for(tg, 600)
    assert copies(residents) == [1 if n in reached else 0 for n in range(40)]
    assert len(progress.edits) == edits and progress.buttons == [[RESUME, STOP]]

    # Pause pressed again (a second specialist's older view of the message): harmless.
    await inese.press_forged(STAFF_BUTTONS.data("pause", broadcast.id), message=progress)
    assert inese.last_answer is not None and not inese.last_answer.show_alert
    assert inese.last_answer.text == lv("It is paused already.")
    assert (await tg.store.broadcasts.progress(1)).left == left

    await inese.press(RESUME, message=progress)
    assert inese.last_answer is not None
    assert inese.last_answer.text == lv("Resumed. To send: {n}").format(n=left)
    await run_for(tg, 14)
    assert copies(residents) == [1] * 40
    assert progress.buttons == []
    report = lv("✅ Broadcast #{id} finished: {sent} of {n} delivered.").format(id=1, sent=40, n=40)
    assert tg.staff_chat.last_text == report


async def test_a_pause_outlasts_a_crash_and_resume_then_finishes_it(tg: Harness) -> None:
    residents = await subscribers(tg, 40)
    progress = await send_and_leave_under_way(tg, 40)
    await specialist(tg).press(PAUSE, message=progress)
    reached = copies(residents)

    await tg.crash_and_restart()
    await run_for(tg, 120)
    assert copies(residents) == reached  # still held after the restart
    broadcast = await tg.store.broadcasts.broadcast(1)
    assert broadcast is not None and broadcast.paused
    assert PAUSED in (progress.text or "") and progress.buttons == [[RESUME, STOP]]

    await specialist(tg).press(RESUME, message=progress)
    await run_for(tg, 14)
    assert copies(residents) == [1] * 40
    broadcast = await tg.store.broadcasts.broadcast(1)
    assert broadcast is not None and broadcast.status == "done"


async def test_stop_while_paused_sends_nothing_more_and_reports_the_rest(tg: Harness) -> None:
    residents = await subscribers(tg, 40)
    progress = await send_and_leave_under_way(tg, 40)
    inese = specialist(tg)
    await inese.press(PAUSE, message=progress)
    reached = copies(residents)
    sent = sum(reached)

    await inese.press(STOP, message=progress)
    assert inese.last_answer is not None and inese.last_answer.show_alert
    assert inese.last_answer.text == tn(
        "lv",
        "Stopped: {n} message will not be sent.",
        "Stopped: {n} messages will not be sent.",
        40 - sent,
    ).format(n=40 - sent)
    await run_for(tg, 60)
    assert copies(residents) == reached
    assert progress.buttons == []
    assert tg.staff_chat.last_text == "\n".join(
        [
            lv("⏹ Broadcast #{id} stopped: {sent} of {n} delivered.").format(id=1, sent=sent, n=40),
            lv("⏹ Not sent, as the broadcast was stopped: {n}").format(n=40 - sent),
        ]
    )
    report = await tg.store.broadcasts.report(1)
    assert (report.sent, report.stopped, report.failed) == (sent, 40 - sent, 0)

    # A stale press on a stopped broadcast: a clear alert, and nothing changes.
    for action in ("pause", "resume", "stop"):
        await inese.press_forged(STAFF_BUTTONS.data(action, 1), message=progress)
        assert inese.last_answer is not None and inese.last_answer.show_alert
        assert inese.last_answer.text == STALE
    broadcast = await tg.store.broadcasts.broadcast(1)
    assert broadcast is not None and broadcast.status == "cancelled"
    assert copies(residents) == reached


async def test_only_staff_can_pause_resume_or_stop(tg: Harness) -> None:
    residents = await subscribers(tg, 40)
    progress = await send_and_leave_under_way(tg, 40)
    stranger = tg.fake.user("Svešinieks", language_code="lv").in_chat(tg.staff_chat)
    left = (await tg.store.broadcasts.progress(1)).left
    for label in (PAUSE, STOP):
        with only_what_is_due_now(tg):
            await stranger.press(label, message=progress)
        assert stranger.last_answer is not None and stranger.last_answer.show_alert
        assert stranger.last_answer.text == lv("This is for the Development Office staff only.")
    broadcast = await tg.store.broadcasts.broadcast(1)
    assert broadcast is not None and broadcast.status == "sending"
    assert (await tg.store.broadcasts.progress(1)).left == left  # nothing held, nothing stopped
    assert progress.buttons == [[PAUSE, STOP]]
    await run_for(tg, 14)
    assert copies(residents) == [1] * 40


async def test_the_progress_message_says_about_how_long_the_rest_takes(slow: Harness) -> None:
    tg = slow
    await subscribers(tg, 12)
    progress = await send_and_leave_under_way(tg, 12)
    about = lv("⏳ About {duration} left")
    # Nothing observed yet: at OUTBOX_RATE, 1 a second.
    assert progress.text is not None
    assert progress.text.splitlines()[-1] == about.format(duration=duration(12))
    # Six seconds on, a copy a second (the progress edits taking their share): the pace seen.
    for _ in range(6):
        await second_by_second(tg)
    left = (await tg.store.broadcasts.progress(1)).left
    assert 0 < left < 12
    plausible = {about.format(duration=duration(s)) for s in range(left, 3 * left)}
    assert progress.text.splitlines()[-1] in plausible, progress.text

    # Paused: no time remaining; resumed: it is back.
    inese = specialist(tg)
    with only_what_is_due_now(tg):
        await inese.press(PAUSE, message=progress)
    await second_by_second(tg)
    assert progress.text.splitlines()[-1] == PAUSED
    with only_what_is_due_now(tg):
        await inese.press(RESUME, message=progress)
    await second_by_second(tg)
    assert progress.text.splitlines()[-1].startswith(about.split("{")[0])


def duration(seconds: int) -> str:
    return format_timedelta(timedelta(seconds=seconds), locale="lv")


async def second_by_second(tg: Harness) -> None:
    """A second passes: what falls due runs, and the outbox sends what its budget allows."""
    tg.clock.advance(seconds=1)
    await tg.app.scheduler.run_due()
    await tg.app.outbox.deliver_due()


async def test_the_final_report_names_who_was_not_reached_and_why(tg: Harness) -> None:
    residents = await subscribers(tg, 7)
    blocked, timed_out, gone, gone_too, refused = residents[:5]
    tg.fake.fail_next("sendMessage", kind="403", chat_id=blocked.id)
    tg.fake.fail_next("sendMessage", kind="timeout", chat_id=timed_out.id)
    for user in (gone, gone_too):
        tg.fake.fail_next(
            "sendMessage", kind="400", chat_id=user.id, description="Bad Request: chat not found"
        )
    tg.fake.fail_next(
        "sendMessage",
        kind="400",
        chat_id=refused.id,
        description="Bad Request: message text is empty",
    )
    await publish(tg)
    await specialist(tg).press(send_to_subscribers(7))
    await run_for(tg, 7)
    assert tg.staff_chat.last_text == "\n".join(
        [
            lv("✅ Broadcast #{id} finished: {sent} of {n} delivered.").format(id=1, sent=2, n=7),
            lv("🚫 Blocked the bot: {n}").format(n=1),
            lv("❓ Uncertain (timed out: may have arrived, not sent again): {n}").format(n=1),
            lv("⚠️ Failed: {n}").format(n=3),
            "  • Chat not found × 2",
            "  • Message text is empty × 1",
        ]
    )


async def test_dont_send_pressed_after_send_drops_nothing(tg: Harness) -> None:
    """Two specialists looking at the same preview: one sends, the other's "Don't send" comes
    after. It is told so, and the broadcast goes on."""
    residents = await subscribers(tg, 2)
    await publish(tg)
    offer = tg.staff_chat.messages[-1]
    stale = offer.reply_markup
    await specialist(tg).press(send_to_subscribers(2), message=offer)
    offer.reply_markup = stale  # the second specialist's screen, not yet refreshed
    inese = specialist(tg)
    await inese.press(lv("❎ Don't send"), message=offer)
    assert inese.last_answer is not None and inese.last_answer.text == lv(
        "This broadcast was sent already, or its meeting has changed since."
    )
    await run_for(tg, 3)
    assert copies(residents) == [1, 1]
