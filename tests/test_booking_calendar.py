"""The calendar file follows the booking: a confirmed booking moved to another time sends the
same event again (same UID, higher SEQUENCE, the new time), and one cancelled — by the resident or
by a closed date — sends its cancellation, so the resident's calendar app updates or removes the
event instead of keeping the old one beside it. Each once, whatever is replayed."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from icalendar import Calendar

from fake_telegram import FakeUser
from tests.conftest import Harness, t
from tests.test_booking import RIGA, WEDNESDAY, book, card_of, day_label
from tests.test_delivery_core import record_deliveries
from tests.test_proposals import LANGUAGE_LABEL, specialist

NEXT_WEDNESDAY = date(2027, 1, 27)


def calendar_files(user: FakeUser) -> list[Calendar]:
    """Every calendar file the resident was sent, in order."""
    return [
        Calendar.from_ical(m.document.content)
        for m in user.messages
        if m.document is not None and m.document.filename.endswith(".ics")
    ]


def event_of(calendar: Calendar):
    [event] = calendar.walk("VEVENT")
    return event


async def confirmed_booking(tg: Harness, language: str) -> FakeUser:
    """Anna, whose Telegram is in `language`, with a booking on Wednesday at 14:30 (booking 1)
    that the office has confirmed."""
    anna = await tg.onboarded("Anna", language=LANGUAGE_LABEL[language], language_code=language)
    await book(anna, language)
    await specialist(tg).press(t("lv", "✅ Confirm"), message=card_of(tg, 1))
    return anna


async def move(user: FakeUser, language: str, day: date, time: str) -> None:
    _ = lambda message: t(language, message)  # noqa: E731
    await user.press(_("📂 My submissions and bookings"))
    await user.press(_("🔁 Change the time"))
    await user.press(day_label(language, day))
    await user.press(time)


@pytest.mark.parametrize("language", ["lv", "ru"])
async def test_a_moved_booking_updates_the_event_in_the_residents_calendar(
    tg: Harness, language: str
) -> None:
    _ = lambda message: t(language, message)  # noqa: E731
    anna = await confirmed_booking(tg, language)  # Wednesday 14:30
    [first] = calendar_files(anna)
    assert str(first["METHOD"]) == "PUBLISH"
    assert event_of(first)["SEQUENCE"] == 0
    assert str(event_of(first)["STATUS"]) == "CONFIRMED"

    seen = record_deliveries(tg)
    await anna.press(_("📂 My submissions and bookings"))
    await anna.press(_("🔁 Change the time"))
    await anna.press(day_label(language, NEXT_WEDNESDAY))
    times, stale = anna.last, anna.last.reply_markup
    await anna.press("15:00")
    assert "15:00" in anna.messages[-2].text  # the move's answer, then the file
    document = anna.messages[-1].document
    assert document is not None and document.filename == "reception-1.ics"
    assert anna.messages[-1].caption == _(
        "The new time for your calendar: opening this file moves the meeting you added before."
    )
    first_event = event_of(first)
    [_first, second] = calendar_files(anna)
    moved = event_of(second)
    assert str(second["METHOD"]) == "PUBLISH"
    assert str(moved["UID"]) == str(first_event["UID"]) == "booking-1@www.liepaja.lv"
    assert moved["SEQUENCE"] > first_event["SEQUENCE"]
    assert moved["DTSTART"].dt == datetime(2027, 1, 27, 15, 0, tzinfo=RIGA)
    assert moved["DTEND"].dt == datetime(2027, 1, 27, 15, 30, tzinfo=RIGA)
    assert moved["DTSTART"].params["TZID"] == "Europe/Riga"
    assert str(moved["STATUS"]) == "CONFIRMED"

    # Telegram sends the press again, the bot restarts, the old button is pressed again: the
    # calendar gets no third file, and the booking's sequence stays where the file left it.
    await tg.fake.deliver(seen[-1])
    await tg.crash_and_restart()
    times.reply_markup = stale
    await anna.press("15:00", message=times)
    assert len(calendar_files(anna)) == 2
    assert (await tg.store.bookings.booking(1)).calendar_sequence == moved["SEQUENCE"]

    # Cancelled afterwards: a cancellation of the same event, one step further.
    await anna.press(_("📂 My submissions and bookings"))
    await anna.press(_("✖️ Cancel the booking"))
    await anna.press(_("Yes, cancel the booking"))
    [_first, _second, third] = calendar_files(anna)
    cancelled = event_of(third)
    assert str(third["METHOD"]) == "CANCEL"
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["UID"]) == "booking-1@www.liepaja.lv"
    assert cancelled["SEQUENCE"] > moved["SEQUENCE"]
    assert anna.messages[-1].caption == _(
        "For your calendar: opening this file removes the cancelled meeting from it."
    )


async def test_a_closed_date_cancels_the_event_and_an_unconfirmed_booking_sends_none(
    tg: Harness,
) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await book(anna, "lv")
    await book(boris, "ru", time="15:00")
    inese = specialist(tg)
    await inese.press(t("lv", "✅ Confirm"), message=card_of(tg, 1))
    # Boris moves his request before anyone confirms it: nothing is in his calendar to change.
    await move(boris, "ru", WEDNESDAY, "16:00")
    assert calendar_files(boris) == []

    await inese.send("/closedate 2027-01-20 mācības")
    [_confirmed, closed] = calendar_files(anna)
    assert str(closed["METHOD"]) == "CANCEL"
    assert str(event_of(closed)["UID"]) == "booking-1@www.liepaja.lv"
    assert event_of(closed)["SEQUENCE"] == 1
    assert event_of(closed)["DTSTART"].dt == datetime(2027, 1, 20, 14, 30, tzinfo=RIGA)
    assert calendar_files(boris) == []  # his request was never confirmed


async def test_a_request_moved_before_confirmation_gets_its_first_file_at_the_new_time(
    tg: Harness,
) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await book(anna, "lv")
    await move(anna, "lv", NEXT_WEDNESDAY, "16:00")
    assert calendar_files(anna) == []
    await specialist(tg).press(t("lv", "✅ Confirm"), message=card_of(tg, 1))
    [calendar] = calendar_files(anna)
    assert event_of(calendar)["SEQUENCE"] == 0
    assert event_of(calendar)["DTSTART"].dt == datetime(2027, 1, 27, 16, 0, tzinfo=RIGA)
