"""Reception bookings end to end: a resident books a slot, a specialist confirms or declines,
the resident gets the confirmation, the map and a calendar file, and is reminded — across a
crash — exactly once per reminder; cancelling, lapsing and closed dates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from fake_telegram import FakeMessage, FakeUser
from tests.conftest import ADMIN_ID, Harness, t
from tests.test_proposals import LANGUAGE_LABEL, MOBILITY, specialist

RIGA = ZoneInfo("Europe/Riga")
# The clock starts on Tuesday 12 January 2027, 14:00 in Riga; the reception is on Wednesdays.
WEDNESDAY = date(2027, 1, 20)


def day_label(language: str, day: date) -> str:
    from bot.i18n import translator

    return translator(language, RIGA).date(day, "MMMMEd")


async def book(
    user: FakeUser,
    language: str,
    *,
    day: date = WEDNESDAY,
    time: str = "14:30",
    theme: str | None = None,
    note: str | None = None,
) -> str:
    """Books a slot through the menu; returns what the resident read last."""
    _ = lambda message: t(language, message)  # noqa: E731
    await user.press(_("📅 Book a meeting"))
    await user.press(day_label(language, day))
    await user.press(time)
    await user.press(theme or _("No particular theme"))
    if note:
        await user.send(note)
    else:
        await user.press(_("Skip"))
    await user.press(_("✅ Confirm the booking"))
    return user.last_text or ""


def card_of(tg: Harness, booking_id: int) -> FakeMessage:
    return next(
        m
        for m in tg.staff_chat.messages
        if m.text and f"#{booking_id}\n" in m.text and m.text.startswith("🆕")
    )


def texts(user: FakeUser) -> list[str]:
    return [m.content or "" for m in user.messages]


def reminders(user: FakeUser, language: str) -> list[str]:
    prefix = t(
        language, "⏰ Reminder: your meeting with the Development Office is on {when}, at {place}."
    )
    return [text for text in texts(user) if text.startswith(prefix[:8])]


@pytest.mark.parametrize("language", ["lv", "ru"])
async def test_book_confirm_remind_across_a_crash(tg: Harness, language: str) -> None:
    anna = await tg.onboarded("Anna", language=LANGUAGE_LABEL[language], language_code=language)
    _ = lambda message: t(language, message)  # noqa: E731

    # The menu offers it right after "Submit a proposal"; the dates say where.
    assert [row[0] for row in anna.buttons()][:4] == [
        _("📝 Submit a proposal"),
        _("📅 Book a meeting"),
        _("👥 Working-group meetings"),
        _("📂 My submissions and bookings"),
    ]
    await anna.press(_("📅 Book a meeting"))
    assert "Rožu iela 6" in anna.last_text
    assert [row[0] for row in anna.buttons()][:4] == [
        day_label(language, date(2027, 1, 13)),
        day_label(language, date(2027, 1, 20)),
        day_label(language, date(2027, 1, 27)),
        day_label(language, date(2027, 2, 3)),
    ]
    await anna.press(day_label(language, WEDNESDAY))
    assert anna.buttons()[0] == ["14:00", "14:30", "15:00"]
    await anna.press("14:30")
    await anna.press(MOBILITY[language])
    await anna.send("Veloceliņi / велодорожки")
    assert "Veloceliņi / велодорожки" in anna.last_text
    await anna.press(_("✅ Confirm the booking"))
    assert "14:30" in anna.last_text
    assert _("📅 Book a meeting") in [row[0] for row in anna.buttons()]
    booking = await tg.store.bookings.active_of(anna.id)
    assert booking is not None and booking.status == "requested"
    assert booking.starts_at == datetime(2027, 1, 20, 14, 30, tzinfo=RIGA)

    # The staff chat gets the card (in Latvian) with Confirm and Decline.
    card = card_of(tg, booking.id)
    assert "Veloceliņi / велодорожки" in card.text and str(anna.id) in card.text
    assert card.buttons == [[t("lv", "✅ Confirm"), t("lv", "❌ Decline")]]
    await specialist(tg).press(t("lv", "✅ Confirm"), message=card)
    assert card.buttons == []
    assert "Inese" in card.text and t("lv", "Confirmed") in card.text

    # The resident: one message that says it all, the venue on a map, the calendar file.
    confirmation, venue, document = anna.messages[-3:]
    assert "14:30" in confirmation.text and "Rožu iela 6" in confirmation.text
    assert day_label(language, WEDNESDAY) in confirmation.text
    assert venue.venue is not None and venue.venue["address"].startswith("Rožu iela 6")
    assert document.document is not None and document.document.filename == "reception-1.ics"
    [event] = Calendar.from_ical(document.document.content).walk("VEVENT")
    assert event["DTSTART"].dt == datetime(2027, 1, 20, 14, 30, tzinfo=RIGA)
    assert event["DTSTART"].params["TZID"] == "Europe/Riga"
    assert event["DTEND"].dt == datetime(2027, 1, 20, 15, 0, tzinfo=RIGA)
    assert str(event["UID"]) == "booking-1@www.liepaja.lv"
    assert "Rožu iela 6" in str(event["LOCATION"])
    assert str(event["SUMMARY"]) == _("Meeting with the Development Office")

    # 24 hours before: the first reminder.
    assert reminders(anna, language) == []
    tg.clock.now = datetime(2027, 1, 19, 14, 31, tzinfo=RIGA)
    await tg.app.settle()
    [first] = reminders(anna, language)
    assert "14:30" in first and "Rožu iela 6" in first

    # A crash, then 2 hours before: the second reminder, once.
    await tg.crash_and_restart()
    tg.clock.now = datetime(2027, 1, 20, 12, 31, tzinfo=RIGA)
    await tg.app.settle()
    await tg.crash_and_restart()
    tg.clock.advance(hours=1)
    await tg.app.settle()
    assert len(reminders(anna, language)) == 2


async def test_decline_with_a_common_reason_and_a_typed_one(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await book(anna, "lv")
    await book(boris, "ru", time="15:00")
    inese = specialist(tg)

    await inese.press(t("lv", "❌ Decline"), message=card_of(tg, 1))
    await inese.press(
        t("lv", "The specialists are not available at that time."), message=card_of(tg, 1)
    )
    assert t("lv", "The specialists are not available at that time.") in anna.last_text
    assert card_of(tg, 1).buttons == []
    assert t("lv", "Declined") in card_of(tg, 1).text

    await inese.press(t("lv", "❌ Decline"), message=card_of(tg, 2))
    await inese.press(t("lv", "✍️ Another reason"), message=card_of(tg, 2))
    prompt = tg.staff_chat.last
    await inese.reply_to(prompt, "Šajā dienā notiek komisijas sēde.")
    assert "Šajā dienā notiek komisijas sēde." in boris.last_text
    assert boris.last_text.startswith("К сожалению, Управление развития не может")
    assert (await tg.store.bookings.booking(2)).status == "declined"
    assert card_of(tg, 2).buttons == []
    # Declined bookings hold no place and no reminder: both may book again.
    assert await tg.store.bookings.active_of(anna.id) is None
    assert await tg.store.schedule.pending("booking_reminder") == []


async def test_a_second_specialist_is_told_what_the_first_did(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await book(anna, "lv")
    admin = tg.fake.user("Inese", user_id=ADMIN_ID)
    await admin.send("/addstaff 900002")
    inese = admin.in_chat(tg.staff_chat)
    janis = tg.fake.user("Jānis", user_id=900002).in_chat(tg.staff_chat)
    card = card_of(tg, 1)
    stale = card.reply_markup
    await inese.press(t("lv", "✅ Confirm"), message=card)
    card.reply_markup = stale
    posts = len(tg.staff_chat.messages)
    await janis.press(t("lv", "❌ Decline"), message=card)
    assert janis.last_answer.show_alert
    # The card already shows the confirmation: showing it again changes nothing, says nothing.
    assert len(tg.staff_chat.messages) == posts
    assert t("lv", "Confirmed") in card.text
    assert t("lv", "Confirmed") in janis.last_answer.text and "Inese" in janis.last_answer.text
    assert (await tg.store.bookings.booking(1)).status == "confirmed"
    # Someone outside the staff is refused, whatever the button.
    card.reply_markup = stale
    stranger = tg.fake.user("Svešais", user_id=777).in_chat(tg.staff_chat)
    await stranger.press(t("lv", "✅ Confirm"), message=card)
    assert stranger.last_answer.text == t("lv", "This is for the Development Office staff only.")


async def test_cancel_before_the_deadline_and_not_after(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await book(anna, "lv")
    await specialist(tg).press(t("lv", "✅ Confirm"), message=card_of(tg, 1))
    await anna.press(t("lv", "📂 My submissions and bookings"))
    await anna.press(t("lv", "✖️ Cancel the booking"))
    await anna.press(t("lv", "Yes, cancel the booking"))
    assert (await tg.store.bookings.booking(1)).status == "cancelled"
    assert t("lv", "Cancelled") in card_of(tg, 1).text
    # No reminder ever goes out for it.
    tg.clock.now = datetime(2027, 1, 20, 14, 0, tzinfo=RIGA)
    await tg.app.settle()
    assert reminders(anna, "lv") == []

    # A new booking, confirmed; within the deadline the bot says whom to write instead.
    tg.clock.now = datetime(2027, 1, 12, 14, 0, tzinfo=RIGA)
    await book(anna, "lv", time="15:00")
    await specialist(tg).press(t("lv", "✅ Confirm"), message=card_of(tg, 2))
    await anna.press(t("lv", "📂 My submissions and bookings"))
    tg.clock.now = datetime(2027, 1, 20, 12, 0, tzinfo=RIGA)
    await anna.press(t("lv", "✖️ Cancel the booking"))
    assert "attistiba@liepaja.lv" in anna.last_answer.text
    assert (await tg.store.bookings.booking(2)).status == "confirmed"


async def test_an_unconfirmed_request_lapses(tg: Harness) -> None:
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await book(boris, "ru")
    tg.clock.now = datetime(2027, 1, 20, 2, 29, tzinfo=RIGA)
    await tg.app.settle()
    assert (await tg.store.bookings.booking(1)).status == "requested"
    tg.clock.now = datetime(2027, 1, 20, 2, 31, tzinfo=RIGA)
    await tg.app.settle()
    assert (await tg.store.bookings.booking(1)).status == "expired"
    assert "attistiba@liepaja.lv" in boris.last_text
    assert boris.last_text.startswith("К сожалению, Управление развития не успело")
    card = card_of(tg, 1)
    assert t("lv", "Lapsed: not confirmed in time") in card.text and card.buttons == []


async def test_the_agenda_shows_the_coming_reception_and_marks_attendance(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await book(anna, "lv", day=date(2027, 1, 13), time="15:00", note="Par parku")
    await book(boris, "ru", day=date(2027, 1, 13), time="14:30")
    inese = specialist(tg)
    await inese.press(t("lv", "✅ Confirm"), message=card_of(tg, 1))
    await inese.send("/bookings")
    agenda = tg.staff_chat.last
    assert agenda.text.startswith(t("lv", "Reception on {date}").split("{")[0])
    lines = agenda.text.splitlines()
    assert (
        lines[2].startswith(f"14:30 · #2 · {boris.id}")
        and t("lv", "Waiting for confirmation") in lines[2]
    )
    assert lines[3].startswith(f"15:00 · #1 · {anna.id}") and "Par parku" in lines[4]
    await inese.press(t("lv", "✔️ {time} #{id} came").format(time="15:00", id=1), message=agenda)
    assert (await tg.store.bookings.booking(1)).status == "attended"
    outsider = tg.fake.user("Svešais", user_id=777).in_chat(tg.staff_chat)
    await outsider.send("/bookings")
    assert tg.staff_chat.last_text == t("lv", "This is for the Development Office staff only.")
