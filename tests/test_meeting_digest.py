"""The weekly meeting digest end to end: residents in Latvian and Russian subscribe and turn the
digest on with its button; at the office's day and time each gets one message in their language
with the coming 7 days' meetings of their themes — not other themes', not later ones, not
cancelled ones — and nobody gets one twice: not when the job runs again, not after the bot was
down over two weekly slots. /stop and the digest's own button turn it off."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fake_telegram import FakeMessage, FakeUser
from handlers.meeting_digest import KIND
from tests.conftest import Harness, make_settings, start_app, t

RIGA = ZoneInfo("Europe/Riga")
# The fixture's clock starts on Tuesday 12 January 2027; the digest's default slot is Mondays
# at 09:00, Riga time.
FIRST_SLOT = datetime(2027, 1, 18, 9, 0, tzinfo=RIGA)
HEADING = "🗓 Working-group meetings of your themes in the coming 7 days"


def riga(day: int, hour: int, minute: int = 0, month: int = 1) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=RIGA)


async def meeting(
    tg: Harness,
    theme: str,
    starts: datetime,
    lv: str,
    ru: str | None = None,
    *,
    place: str | None = None,
    minutes: int = 90,
) -> int:
    """A meeting the office published (the store, as /newmeeting leaves it)."""
    created = await tg.store.meetings.create(
        theme=theme,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=minutes),
        place=place,
        descriptions={"lv": lv, "ru": ru, "en": None},
        by=None,
    )
    return created.id


async def follow(user: FakeUser, language: str, theme: str, *, digest: bool = True) -> None:
    """Subscribes to a theme (or "All themes") and, with `digest`, turns the digest on — by the
    buttons' labels, as the resident sees them."""
    await user.press(t(language, "👥 Working-group meetings"))
    await user.press(t(language, "🔔 Subscriptions"))
    await user.press(theme)
    if digest:
        await user.press(t(language, "🗓 Weekly digest: off"))


def digests(user: FakeUser, language: str) -> list[FakeMessage]:
    heading = t(language, HEADING)
    return [m for m in user.messages if m.text and m.text.startswith(heading)]


async def at(tg: Harness, moment: datetime) -> None:
    """Time passes to `moment`; the bot runs what came due and delivers the outbox."""
    tg.clock.now = moment
    await tg.app.settle()


async def restart(tg: Harness, *, down_until: datetime | None = None, **settings: str) -> None:
    """Stops the bot; it stays down until `down_until` (nothing runs meanwhile) and starts again,
    with changed `settings` if any."""
    await tg.app.shutdown()
    if down_until is not None:
        tg.clock.now = down_until
    if settings:
        tg.settings = make_settings(Path(tg.settings.database).parent, **settings)
    tg.app = await start_app(tg.fake, tg.settings, tg.clock)


async def test_each_reader_gets_one_digest_in_their_language_with_their_themes(
    tg: Harness,
) -> None:
    strategy = await meeting(
        tg, "culture", riga(20, 17, 30), "Kultūras stratēģija 2027", "Стратегия культуры 2027"
    )
    await meeting(
        tg, "culture", riga(22, 16), "Bibliotēkas lasījumi", place="Zivju iela 7, bibliotēka"
    )
    await meeting(tg, "education", riga(19, 18), "Skolu tīkls")
    cancelled = await meeting(tg, "culture", riga(21, 17), "Atceltā sanāksme")
    await tg.store.meetings.cancel(cancelled)
    await meeting(tg, "culture", riga(25, 10), "Pēc nedēļas")  # the 8th day: not this week
    await meeting(tg, "sport", riga(14, 17), "Sporta stratēģija")  # over before the digest

    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    carla = await tg.onboarded("Carla", language="Latviešu")
    dace = await tg.onboarded("Dace", language="Latviešu")
    await follow(anna, "lv", "Kultūra")
    # The button now says it is on, and when it comes; the answer says what it brings.
    on_lv = t("lv", "🗓 Weekly digest: on ({when})").format(when="pirmdienās, 09:00")
    assert [on_lv] in anna.buttons()
    assert anna.last_answer is not None and "pirmdienās, 09:00" in (anna.last_answer.text or "")
    await follow(boris, "ru", t("ru", "All themes"))
    on_ru = t("ru", "🗓 Weekly digest: on ({when})").format(when="по понедельникам, 09:00")
    assert [on_ru] in boris.buttons()
    await follow(carla, "lv", "Kultūra", digest=False)  # off unless asked for
    await follow(dace, "lv", "Sports")  # on, but no sports meeting that week
    # The meetings menu shows the state too.
    await anna.press(t("lv", "◀️ Meetings"))
    assert [on_lv] in anna.buttons()
    await carla.press(t("lv", "◀️ Meetings"))
    assert [t("lv", "🗓 Weekly digest: off")] in carla.buttons()

    await at(tg, FIRST_SLOT - timedelta(minutes=1))
    assert digests(anna, "lv") == [] and digests(boris, "ru") == []
    await at(tg, FIRST_SLOT)

    [lv] = digests(anna, "lv")
    text = lv.text or ""
    assert "Trešdiena, 20. janvāris" in text and "17:30–19:00 · Kultūra" in text
    assert "Kultūras stratēģija 2027" in text and "Rožu laukums 5/6" in text
    assert "Piektdiena, 22. janvāris" in text and "📍 Zivju iela 7, bibliotēka" in text
    assert text.index("Kultūras stratēģija") < text.index("Bibliotēkas lasījumi")
    for other in ("Skolu tīkls", "Atceltā sanāksme", "Pēc nedēļas", "Sporta stratēģija"):
        assert other not in text, other
    assert "pirmdienās, 09:00" in text  # why they get it
    assert lv.buttons[0] == ["📅 1", "🗺 1", "⏰ 1", "📅 2", "🗺 2", "⏰ 2"]
    assert lv.buttons[-1] == [t("lv", "🔕 Turn off the weekly digest")]

    [ru] = digests(boris, "ru")
    text = ru.text or ""
    assert "Вторник, 19 января" in text and "18:00–19:30 · Образование" in text
    assert "Стратегия культуры 2027" in text  # the Russian description where there is one
    assert "Bibliotēkas lasījumi" in text  # the Latvian one where there is not
    assert "Kultūras stratēģija" not in text and "Atceltā sanāksme" not in text
    assert "Pēc nedēļas" not in text and "по понедельникам, 09:00" in text

    assert digests(carla, "lv") == []  # the digest is off
    assert digests(dace, "lv") == []  # nothing of her themes this week: no message at all

    # 📅 under the digest is the meeting's calendar file; ⏰ its reminder, a day before.
    await anna.press("📅 1", message=lv)
    assert anna.last.document is not None
    assert anna.last.document.filename == f"meeting-{strategy}.ics"
    await anna.press("⏰ 1", message=lv)
    assert anna.last_answer is not None
    assert anna.last_answer.text == t(
        "lv", "⏰ Reminder set for {when}, a day before the meeting. Press ⏰ again to turn it off."
    ).format(when="otrd., 19. janvāris, 17:30")

    # The job again (a replay) and a restart with a later time the same week: nothing twice.
    [job] = await tg.store.schedule.pending(KIND)
    assert job.due_at == riga(25, 9)  # re-armed for the next week
    replayed = "meeting_digest:2027-01-18T09:00"
    await tg.store.schedule.replan(replayed, KIND, FIRST_SLOT, {"week": "2027-W03"})
    await at(tg, FIRST_SLOT + timedelta(minutes=5))
    assert replayed not in [j.key for j in await tg.store.schedule.pending(KIND)]  # it ran
    await restart(tg, DIGEST_TIME="10:00")
    await at(tg, riga(18, 10))
    assert len(digests(anna, "lv")) == 1 and len(digests(boris, "ru")) == 1
    # The next week's digest comes at the new time.
    assert [j.due_at for j in await tg.store.schedule.pending(KIND)] == [riga(25, 10)]


async def test_down_over_two_weekly_slots_one_digest_then_weekly_again(tg: Harness) -> None:
    await meeting(tg, "culture", riga(28, 17), "Kultūras sanāksme janvārī")
    await meeting(tg, "culture", riga(2, 17, month=2), "Kultūras sanāksme februārī")
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await follow(anna, "lv", "Kultūra")
    await follow(boris, "ru", t("ru", "Культура"))
    # The bot is down from Sunday 17 January to Wednesday 27 January: the slots of the 18th and
    # the 25th pass while it is.
    await at(tg, riga(17, 12))
    await restart(tg, down_until=riga(27, 8))
    [lv] = digests(anna, "lv")
    [ru] = digests(boris, "ru")
    assert "Kultūras sanāksme janvārī" in (lv.text or "")
    assert "Kultūras sanāksme februārī" in (lv.text or "")  # 2 February: within 7 days of now
    assert "Kultūras sanāksme janvārī" in (ru.text or "")
    # It runs again at the next slot after the restart — not once more for the missed week.
    await at(tg, riga(1, 8, 59, month=2))
    assert len(digests(anna, "lv")) == 1
    await at(tg, riga(1, 9, month=2))
    assert [len(digests(anna, "lv")), len(digests(boris, "ru"))] == [2, 2]
    assert "Kultūras sanāksme februārī" in (digests(anna, "lv")[-1].text or "")
    assert "Kultūras sanāksme janvārī" not in (digests(anna, "lv")[-1].text or "")


async def test_stop_the_digests_own_button_and_a_blocked_bot_mean_no_digest(
    tg: Harness,
) -> None:
    await meeting(tg, "culture", riga(20, 17, 30), "Kultūras stratēģija")
    await meeting(tg, "culture", riga(27, 17, 30), "Kultūras stratēģija, turpinājums")
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    carla = await tg.onboarded("Carla", language="Latviešu")
    dace = await tg.onboarded("Dace", language="Latviešu")
    for user in (anna, carla, dace):
        await follow(user, "lv", "Kultūra")
    await follow(boris, "ru", t("ru", "Культура"))
    # Anna: /stop ends her subscriptions and the digest; she is told so.
    await anna.send("/stop")
    assert "nedēļas apkopojumu" in (anna.last_text or "")
    await anna.press(t("lv", "👥 Working-group meetings"))
    assert [t("lv", "🗓 Weekly digest: off")] in anna.buttons()
    # On again without a theme: she is told it will have nothing to list.
    await anna.press(t("lv", "🗓 Weekly digest: off"))
    assert anna.last_answer is not None and anna.last_answer.show_alert
    assert anna.last_answer.text == t(
        "lv",
        "The weekly digest is on ({when}), but you have no subscriptions yet: choose "
        "themes under “🔔 Subscriptions”.",
    ).format(when="pirmdienās, 09:00")
    # Dace blocked the bot.
    await dace.block_bot()

    sent_before = len(tg.fake.calls_to("sendMessage"))
    await at(tg, FIRST_SLOT)
    assert digests(anna, "lv") == [] and digests(dace, "lv") == []
    sent = tg.fake.calls_to("sendMessage")[sent_before:]
    assert {call["chat_id"] for call in sent} == {boris.id, carla.id}  # not even tried for Dace
    [first] = digests(carla, "lv")
    assert len(digests(boris, "ru")) == 1
    # Carla turns it off from the digest itself; the button then shows it off (and would
    # turn it on again).
    await carla.press(t("lv", "🔕 Turn off the weekly digest"), message=first)
    assert carla.last_answer is not None
    assert carla.last_answer.text == t("lv", "The weekly digest is off.")
    assert first.buttons[-1] == [t("lv", "🗓 Weekly digest: off")]
    # Pressing the old "turn off" twice changes nothing (the button names the state it asks).
    await carla.press_forged("mt:dg:off", message=first)
    assert not await tg.store.meetings.digest_on(carla.id)

    await at(tg, riga(25, 9))
    assert len(digests(carla, "lv")) == 1  # still only last week's
    assert len(digests(boris, "ru")) == 2  # he kept his on


async def test_a_long_digest_comes_in_parts_and_only_once(tg: Harness) -> None:
    words = "Apspriedīsim pilsētas kultūras dzīvi, bibliotēkas, muzejus un koncertus. " * 4
    for number in range(30):
        start = riga(19, 8) + timedelta(hours=4 * number)
        await meeting(tg, "culture", start, f"Nr. {number + 1}: {words}")
    anna = await tg.onboarded("Anna", language="Latviešu")
    await follow(anna, "lv", t("lv", "All themes"))

    await at(tg, FIRST_SLOT)
    start = len(anna.messages) - 1
    while start > 0 and not (anna.messages[start].text or "").startswith(t("lv", HEADING)):
        start -= 1
    parts = anna.messages[start:]
    assert len(parts) > 1 and all(len(part.text or "") <= 4096 for part in parts)
    # Buttons under the last part only: 📅, 🗺 and ⏰ for the first 24, and turning it off.
    assert all(part.buttons == [] for part in parts[:-1])
    labels = [label for row in parts[-1].buttons for label in row]
    assert "📅 24" in labels and "📅 25" not in labels and "⏰ 24" in labels
    assert len(labels) <= 100 and all(len(row) <= 8 for row in parts[-1].buttons)  # Telegram's
    assert labels[-1] == t("lv", "🔕 Turn off the weekly digest")
    whole = "\n".join(part.text or "" for part in parts)
    assert all(f"Nr. {number}:" in whole for number in range(1, 31))
    # Run again the same week, now with more meetings (a longer digest, in more parts):
    # nothing more, not even the parts the first run did not have.
    for number in range(15):
        await meeting(tg, "culture", riga(19, 10) + timedelta(hours=4 * number), words)
    await tg.store.schedule.replan(
        "meeting_digest:2027-01-18T09:00", KIND, FIRST_SLOT, {"week": "2027-W03"}
    )
    before = len(anna.messages)
    await at(tg, FIRST_SLOT + timedelta(minutes=1))
    assert len(anna.messages) == before


async def test_an_answer_is_not_held_up_by_the_digests(tg: Harness) -> None:
    await meeting(tg, "culture", riga(20, 17, 30), "Kultūras stratēģija")
    readers = []
    for number in range(40):
        user = await tg.onboarded(f"R{number}", language="Latviešu")
        await follow(user, "lv", "Kultūra")
        readers.append(user)
    outsider = await tg.onboarded("Zane", language="Latviešu")
    tg.clock.now = FIRST_SLOT
    await tg.app.scheduler.run_due()  # the digests are queued, none sent yet
    await tg.app.outbox.deliver_due()  # one second's budget goes
    sent_before = sum(len(digests(user, "lv")) for user in readers)
    assert 0 < sent_before < 40
    # An answer to a resident written now goes before the digests still queued.
    async with tg.store.unit_of_work():
        await tg.store.outbox.enqueue("answer:1", outsider.id, "send_message", {"text": "Atbilde"})
    tg.clock.advance(seconds=1)
    await tg.app.outbox.deliver_due()
    sends = tg.fake.calls_to("sendMessage")
    answer_at = next(n for n, call in enumerate(sends) if call.get("text") == "Atbilde")
    ids = {user.id for user in readers}
    assert len([call for call in sends[answer_at:] if call["chat_id"] in ids]) == 40 - sent_before
    await at(tg, FIRST_SLOT + timedelta(seconds=10))
    assert [len(digests(user, "lv")) for user in readers] == [1] * 40


async def test_the_office_sets_the_day_and_time(tg: Harness) -> None:
    await restart(tg, DIGEST_WEEKDAY="friday", DIGEST_TIME="16:30")
    await meeting(tg, "culture", riga(20, 17, 30), "Kultūras stratēģija")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await follow(boris, "ru", t("ru", "Культура"))
    on = t("ru", "🗓 Weekly digest: on ({when})").format(when="по пятницам, 16:30")
    assert [on] in boris.buttons()
    await at(tg, riga(15, 16, 29))
    assert digests(boris, "ru") == []
    await at(tg, riga(15, 16, 30))  # Friday 15 January, 16:30 in Riga
    [ru] = digests(boris, "ru")
    assert "Kultūras stratēģija" in (ru.text or "") and "по пятницам, 16:30" in (ru.text or "")
    await at(tg, FIRST_SLOT)  # Monday: not the day any more
    assert len(digests(boris, "ru")) == 1
    assert [job.due_at for job in await tg.store.schedule.pending(KIND)] == [riga(22, 16, 30)]


async def test_a_double_tap_on_the_digest_button_is_answered_and_changes_nothing(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await anna.press(t("lv", "👥 Working-group meetings"))
    meetings = anna.last
    label = t("lv", "🗓 Weekly digest: off")
    [data] = [
        button["callback_data"]
        for row in meetings.reply_markup["inline_keyboard"]
        for button in row
        if button["text"] == label
    ]
    await anna.press(label, message=meetings)
    assert [label] not in anna.buttons()  # now it says "on (…)"
    seen, answers = len(anna.messages), len(tg.fake.callback_answers)
    # Her second tap, on the button her screen still showed: Telegram sends the message as
    # it is now, and the buttons the bot would show are the ones it shows.
    caplog.clear()
    await tg.fake.user_press(anna.api, meetings, label, str(data))
    # Answered as the first; Telegram refuses the edit that changes nothing, which is no
    # error; and nothing else comes.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert len(tg.fake.callback_answers) == answers + 1
    assert tg.fake.callback_answers[-1].show_alert
    assert len(anna.messages) == seen
    assert await tg.store.meetings.digest_on(anna.id)
