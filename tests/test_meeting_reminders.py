"""Reminders of working-group meetings: residents press ⏰ by a meeting (in the list, under a
broadcast, under the digest) and are told when the reminder will come; it comes once, in their
language, at that time — not a minute before, not twice after a restart or a second job — and
follows the meeting: moved by staff (or outside the bot), cancelled (those the cancellation's
broadcast did not reach are told instead), forgotten with /forget, kept by /stop."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import translator
from fake_telegram import FakeUser
from handlers.meeting_reminders import KIND
from liepaja_bot.cli import import_meetings
from tests.conftest import Harness, send_to_subscribers, t
from tests.test_meetings import CSV, CULTURE, publish, subscribe
from tests.test_proposals import specialist

RIGA = ZoneInfo("Europe/Riga")
# publish() makes meeting 1: Wednesday 3 February 2027, 17:30–19:00 in Riga.
START = datetime(2027, 2, 3, 17, 30, tzinfo=RIGA)
DAY_BEFORE = START - timedelta(hours=24)
SET_DAY = "⏰ Reminder set for {when}, a day before the meeting. Press ⏰ again to turn it off."
SET_HOUR = "⏰ Reminder set for {when}, an hour before the meeting. Press ⏰ again to turn it off."
OFF = "🔕 Reminder off: you will not be reminded of this meeting."
HEADING = "⏰ Reminder — working-group meeting: {theme}"
CANCELLED = (
    "❌ The working-group meeting you asked to be reminded of is cancelled: {theme}, {when}."
)


def at(language: str, moment: datetime) -> str:
    """When a reminder comes, as the answer to ⏰ says it."""
    return translator(language, RIGA).datetime(moment, "MMMMEd")


def reminders(user: FakeUser, language: str) -> list[str]:
    prefix = t(language, HEADING).split("{")[0]
    return [m.text for m in user.messages if m.text and m.text.startswith(prefix)]


def cancellation_notices(user: FakeUser, language: str) -> list[str]:
    prefix = t(language, CANCELLED).split("{")[0]
    return [m.text for m in user.messages if m.text and m.text.startswith(prefix)]


async def press_remind_in_list(user: FakeUser, language: str, number: int = 1) -> str:
    """Opens the list of meetings and presses ⏰ by one; returns the answer shown."""
    await user.press(t(language, "👥 Working-group meetings"))
    await user.press(f"⏰ {number}")
    assert user.last_answer is not None and user.last_answer.text is not None
    return user.last_answer.text


async def move_clock_to(tg: Harness, moment: datetime) -> None:
    tg.clock.now = moment.astimezone(UTC)
    await tg.app.settle()


async def test_a_reminder_comes_once_a_day_before_in_each_language(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    carla = await tg.onboarded("Carla", language="Latviešu")
    await publish(tg)

    # The list has ⏰ beside 📅 and 🗺, and says what it does.
    await anna.press(t("lv", "👥 Working-group meetings"))
    assert ["📅 1", "🗺 1", "⏰ 1"] in anna.buttons()
    assert "⏰" in (anna.last_text or "")
    assert await press_remind_in_list(anna, "lv") == t("lv", SET_DAY).format(
        when=at("lv", DAY_BEFORE)
    )
    assert "17:30" in at("lv", DAY_BEFORE) and "2." in at("lv", DAY_BEFORE)
    ru_answer = await press_remind_in_list(boris, "ru")
    assert ru_answer == t("ru", SET_DAY).format(when=at("ru", DAY_BEFORE))
    assert "февраля" in ru_answer and "17:30" in ru_answer
    await press_remind_in_list(carla, "lv")
    await carla.block_bot()  # the middleware marks her unreachable

    await move_clock_to(tg, DAY_BEFORE - timedelta(minutes=1))
    assert reminders(anna, "lv") == [] and reminders(boris, "ru") == []

    await move_clock_to(tg, DAY_BEFORE + timedelta(minutes=1))
    [lv] = reminders(anna, "lv")
    assert "Kultūra" in lv and "17:30" in lv and "Rožu laukums 5/6" in lv
    assert "kultūras stratēģiju" in lv and t("lv", "You asked for this reminder with ⏰.") in lv
    [ru] = reminders(boris, "ru")
    assert "Культура" in ru and "17:30" in ru and "стратегию культуры" in ru
    assert reminders(carla, "lv") == []  # blocked the bot: nothing
    reminder = next(m for m in anna.messages if m.text == lv)
    assert reminder.buttons == [[t("lv", "📅 Add to calendar"), t("lv", "🗺 Show on map")]]
    await anna.press(t("lv", "📅 Add to calendar"), message=reminder)
    assert anna.last.document is not None and anna.last.document.filename == "meeting-1.ics"

    # Later, until the meeting and after it: nothing more.
    for moment in (START - timedelta(hours=1), START + timedelta(hours=1)):
        await move_clock_to(tg, moment)
    assert len(reminders(anna, "lv")) == 1 and len(reminders(boris, "ru")) == 1

    # A press now, on the old list, on a meeting that has begun: said so, nothing stored.
    await anna.press("⏰ 1")
    assert anna.last_answer is not None and anna.last_answer.show_alert
    assert anna.last_answer.text == t(
        "lv", "This meeting has already begun: there is nothing to remind you of."
    )
    # The meeting is over: the night's maintenance removes what was kept for it.
    await move_clock_to(tg, START + timedelta(days=1))
    assert await tg.store.meetings.reminders_of_meeting(1) == []


async def test_pressed_again_it_is_off_and_nothing_comes(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await publish(tg)
    await press_remind_in_list(anna, "lv")
    await anna.press("⏰ 1")
    assert anna.last_answer is not None and anna.last_answer.text == t("lv", OFF)
    await press_remind_in_list(boris, "ru")
    await boris.press("⏰ 1")
    assert boris.last_answer is not None and boris.last_answer.text == t("ru", OFF)
    assert await tg.store.meetings.reminder(1, anna.id) is None
    assert await tg.store.schedule.pending(KIND) == []

    await move_clock_to(tg, DAY_BEFORE + timedelta(minutes=1))
    assert reminders(anna, "lv") == [] and reminders(boris, "ru") == []


async def test_less_than_a_day_ahead_an_hour_before_and_soon_none(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await publish(tg)
    await move_clock_to(tg, START - timedelta(hours=10))
    answer = await press_remind_in_list(anna, "lv")
    assert answer == t("lv", SET_HOUR).format(when=at("lv", START - timedelta(hours=1)))
    assert "16:30" in answer

    await move_clock_to(tg, START - timedelta(minutes=90))
    await press_remind_in_list(boris, "ru")
    assert boris.last_answer is not None and boris.last_answer.show_alert
    assert boris.last_answer.text == t(
        "ru", "This meeting starts soon, {when}: no reminder is needed."
    ).format(when="ср, 3 февраля, 17:30–19:00")
    assert await tg.store.meetings.reminder(1, boris.id) is None

    await move_clock_to(tg, START - timedelta(minutes=61))
    assert reminders(anna, "lv") == []
    await move_clock_to(tg, START - timedelta(minutes=59))
    assert len(reminders(anna, "lv")) == 1 and reminders(boris, "ru") == []


async def test_under_a_broadcast_and_a_digest_the_same_button(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await subscribe(anna, "lv", CULTURE["lv"])
    await publish(tg)
    await specialist(tg).press(send_to_subscribers(1))
    tg.clock.advance(seconds=7)
    await tg.app.settle()
    notice = anna.last
    assert notice.buttons[-1] == [t("lv", "⏰ Remind me")]
    await anna.press(t("lv", "⏰ Remind me"), message=notice)
    assert anna.last_answer is not None
    assert anna.last_answer.text == t("lv", SET_DAY).format(when=at("lv", DAY_BEFORE))
    await anna.press(t("lv", "⏰ Remind me"), message=notice)
    assert anna.last_answer is not None and anna.last_answer.text == t("lv", OFF)

    # Cancelled: the cancellation's broadcast has no ⏰ (no buttons at all); the old notice's
    # ⏰ says the meeting is cancelled and stores nothing.
    inese = specialist(tg)
    await inese.send("/meetings")
    await inese.press("❌ #1")
    await inese.press(t("lv", "❌ Yes, cancel the meeting"))
    await inese.press(send_to_subscribers(1))
    tg.clock.advance(seconds=7)
    await tg.app.settle()
    assert anna.last.buttons == []
    await anna.press(t("lv", "⏰ Remind me"), message=notice)
    assert anna.last_answer is not None and anna.last_answer.show_alert
    assert anna.last_answer.text == t("lv", "This meeting has been cancelled.")
    assert await tg.store.meetings.reminder(1, anna.id) is None


async def test_cancelled_no_reminder_and_who_missed_the_broadcast_is_told(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")  # a subscriber: the broadcast tells
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")  # not one
    await subscribe(anna, "lv", CULTURE["lv"])
    await publish(tg)
    await specialist(tg).press(t("lv", "❎ Don't send"))
    await press_remind_in_list(anna, "lv")
    await press_remind_in_list(boris, "ru")

    inese = specialist(tg)
    await inese.send("/meetings")
    await inese.press("❌ #1")
    await inese.press(t("lv", "❌ Yes, cancel the meeting"))
    # Boris would hear of it from nobody: he is told at once, in Russian, once.
    [notice] = cancellation_notices(boris, "ru")
    assert notice == t("ru", CANCELLED).format(
        theme=CULTURE["ru"], when="ср, 3 февраля, 17:30–19:00"
    )
    assert cancellation_notices(anna, "lv") == []  # the broadcast is hers
    await inese.press(send_to_subscribers(1))
    tg.clock.advance(seconds=7)
    await tg.app.settle()
    heading = t("lv", "❌ Cancelled — working-group meeting: {theme}").format(theme="Kultūra")
    assert anna.messages[-1].text is not None and anna.messages[-1].text.startswith(heading)

    await move_clock_to(tg, DAY_BEFORE + timedelta(minutes=1))
    await move_clock_to(tg, START)
    assert reminders(anna, "lv") == [] and reminders(boris, "ru") == []
    assert cancellation_notices(anna, "lv") == [] and len(cancellation_notices(boris, "ru")) == 1
    assert await tg.store.meetings.reminders_of_meeting(1) == []


async def test_a_subscriber_whose_cancellation_was_not_broadcast_is_told_in_time(
    tg: Harness,
) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await subscribe(anna, "lv", CULTURE["lv"])
    await publish(tg)
    await press_remind_in_list(anna, "lv")
    inese = specialist(tg)
    await inese.send("/meetings")
    await inese.press("❌ #1")
    await inese.press(t("lv", "❌ Yes, cancel the meeting"))
    await inese.press(t("lv", "❎ Don't send"))
    # A broadcast could still be sent until the reminder's time; then she is told instead.
    await move_clock_to(tg, DAY_BEFORE - timedelta(minutes=1))
    assert cancellation_notices(anna, "lv") == []
    await move_clock_to(tg, DAY_BEFORE + timedelta(minutes=1))
    assert len(cancellation_notices(anna, "lv")) == 1 and reminders(anna, "lv") == []


async def staff_move(tg: Harness, new_time: str) -> None:
    """A specialist changes meeting 1's time (the texts kept) and sends no broadcast."""
    lv = lambda message: t("lv", message)  # noqa: E731
    inese = specialist(tg)
    await inese.send("/meetings")
    await inese.press("✏️ #1")
    await inese.send(new_time)
    for _step in range(3):  # the descriptions in lv, ru, en
        await inese.press(lv("Keep as it is"))
    await inese.press(lv("✅ Save the changes"))
    await inese.press(lv("❎ Don't send"))


async def test_moved_by_staff_the_reminder_comes_at_the_new_time(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await publish(tg)
    await press_remind_in_list(anna, "lv")
    await press_remind_in_list(boris, "ru")
    await staff_move(tg, "2027-02-05 18:00")
    new_start = datetime(2027, 2, 5, 18, 0, tzinfo=RIGA)

    await move_clock_to(tg, DAY_BEFORE + timedelta(minutes=1))  # the old time
    await move_clock_to(tg, new_start - timedelta(hours=24, minutes=1))
    assert reminders(anna, "lv") == [] and reminders(boris, "ru") == []
    await move_clock_to(tg, new_start - timedelta(hours=23, minutes=59))
    [lv] = reminders(anna, "lv")
    assert "5. februāris" in lv and "18:00" in lv and "17:30" not in lv
    [ru] = reminders(boris, "ru")
    assert "5 февраля" in ru and "18:00" in ru


async def test_moved_earlier_by_an_imported_schedule_it_follows_at_once(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    inese = specialist(tg)
    await inese.send_document("grafiks.csv", CSV.encode(), "text/csv")
    # The third in the list: kult-2 on Wednesday 17 February, 17:00; reminded on the 16th.
    answer = await press_remind_in_list(anna, "lv", 3)
    assert "16. februāris, 17:00" in answer
    moved = CSV.replace("kult-2;culture;2027-02-17", "kult-2;culture;2027-02-11")
    await inese.send_document("grafiks.csv", moved.encode(), "text/csv")
    # Now on Thursday the 11th: the reminder comes on the 10th, not after the meeting.
    new_start = datetime(2027, 2, 11, 17, 0, tzinfo=RIGA)
    await move_clock_to(tg, new_start - timedelta(hours=24, minutes=1))
    assert reminders(anna, "lv") == []
    await move_clock_to(tg, new_start - timedelta(hours=23, minutes=59))
    [lv] = reminders(anna, "lv")
    assert "11. februāris, 17:00" in lv
    await move_clock_to(tg, datetime(2027, 2, 16, 17, 1, tzinfo=RIGA))  # the old time
    assert len(reminders(anna, "lv")) == 1


async def test_moved_outside_the_bot_the_job_still_never_reminds_of_the_old_time(
    tg: Harness,
) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await publish(tg)
    await press_remind_in_list(anna, "lv")
    # As `liepaja-bot meetings import` would: the row changes, nothing in the bot is told.
    meeting = await tg.store.meetings.meeting(1)
    assert meeting is not None
    new_start = START + timedelta(days=7)
    async with tg.store.unit_of_work():
        await tg.store.meetings.change(
            1,
            seen_version=None,
            starts_at=new_start,
            ends_at=new_start + timedelta(minutes=90),
            place=None,
            descriptions={"lv": meeting.description_lv, "ru": meeting.description_ru},
        )
    await move_clock_to(tg, DAY_BEFORE + timedelta(minutes=1))  # its job runs: planned anew
    assert reminders(anna, "lv") == []
    await move_clock_to(tg, new_start - timedelta(hours=23))
    [lv] = reminders(anna, "lv")
    assert "10. februāris" in lv and "17:30" in lv


async def test_moved_by_the_import_command_the_running_bot_follows_within_its_wait(
    tg: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`liepaja-bot meetings import` writes from a connection of its own, as from another
    process: it plans the reminders again, and the running bot's scheduler finds them when its
    wait ends without a wake-up (at most a minute) — not only when the next job it knew of (the
    night's maintenance) comes due."""
    schedule = tmp_path / "grafiks.csv"
    schedule.write_bytes(CSV.encode())
    assert await import_meetings(tg.settings, schedule) == 0
    anna = await tg.onboarded("Anna", language="Latviešu")
    assert "16. februāris, 17:00" in await press_remind_in_list(anna, "lv", 3)  # kult-2

    # kult-2 moves to tomorrow at 13:00, less than a day ahead: the reminder is due now.
    moved = CSV.replace("kult-2;culture;2027-02-17;17:00", "kult-2;culture;2027-01-13;13:00")
    schedule.write_bytes(moved.encode())
    assert await import_meetings(tg.settings, schedule) == 0
    assert "reminders planned again: 1." in capsys.readouterr().out

    scheduler = tg.app.scheduler
    scheduler.max_wait = 0  # every wait ends at once, as the running bot's does after a minute
    scheduler.start()
    try:
        for _ in range(1000):
            if not await tg.store.schedule.pending(KIND):
                break  # the reminder's job ran
            await asyncio.sleep(0)
    finally:
        await scheduler.stop()
    await tg.app.settle()
    [lv] = reminders(anna, "lv")
    assert "13. janvāris, 13:00" in lv


async def test_a_crash_between_planning_and_the_time_or_a_second_job_sends_once(
    tg: Harness,
) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await publish(tg)
    await press_remind_in_list(anna, "lv")
    await press_remind_in_list(boris, "ru")
    await tg.crash_and_restart()
    tg.clock.now = (DAY_BEFORE + timedelta(minutes=5)).astimezone(UTC)  # down over its time
    await tg.crash_and_restart()
    await tg.app.settle()
    assert len(reminders(anna, "lv")) == 1 and len(reminders(boris, "ru")) == 1

    # A second job of the same reminder (a replay, a stale plan) adds nothing.
    async with tg.store.unit_of_work():
        await tg.store.schedule.plan(
            f"meeting-reminder:1:{anna.id}@again",
            KIND,
            tg.clock(),
            {"meeting_id": 1, "resident_id": anna.id},
        )
    await tg.app.settle()
    await tg.crash_and_restart()
    await move_clock_to(tg, START)
    assert len(reminders(anna, "lv")) == 1 and len(reminders(boris, "ru")) == 1


async def test_mydata_lists_it_forget_erases_it_stop_keeps_it(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await subscribe(boris, "ru", CULTURE["ru"])
    await publish(tg)
    await specialist(tg).press(send_to_subscribers(1))
    await press_remind_in_list(anna, "lv")
    await press_remind_in_list(boris, "ru")

    await anna.send("/mydata")
    document = anna.last.document
    assert document is not None
    [held] = json.loads(document.content)["meeting_reminders"]
    assert held["meeting_id"] == 1 and held["theme"] == "culture"
    assert held["minutes_before"] == 24 * 60

    await anna.send("/forget")
    await anna.press(t("lv", "🗑 Yes, delete my data"))
    assert await tg.store.meetings.reminder(1, anna.id) is None
    jobs = await tg.store._fetch(
        "SELECT COUNT(*) FROM scheduled_jobs WHERE key LIKE ?", (f"%:{anna.id}@%",)
    )
    assert jobs[0][0] == 0  # no job names her any more

    # /stop ends Boris's subscriptions, and says the reminder he asked for still comes.
    await boris.send("/stop")
    still = translator("ru", RIGA).ngettext(
        "You still get the {n} meeting reminder you asked for with ⏰; pressing ⏰ by the "
        "meeting again turns it off.",
        "You still get the {n} meeting reminders you asked for with ⏰; pressing ⏰ by a "
        "meeting again turns one off.",
        1,
    )
    assert boris.last_text is not None and still.format(n=1) in boris.last_text
    assert "1 напоминание" in boris.last_text
    assert await tg.store.meetings.subscriptions_of(boris.id) == set()

    await move_clock_to(tg, DAY_BEFORE + timedelta(minutes=1))
    assert reminders(anna, "lv") == []
    assert len(reminders(boris, "ru")) == 1
