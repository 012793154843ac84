"""The reception's waitlist and rescheduling end to end: a resident joins a full date's line, a
freed place is offered to the first in line (taken, declined, or lapsed and passed on), nobody is
offered a place twice, a stale "Take it" is refused; a booking is moved to another time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot import reception
from fake_telegram import FakeUser
from tests.conftest import Harness, t
from tests.test_booking import RIGA, WEDNESDAY, book, card_of, day_label, texts
from tests.test_proposals import LANGUAGE_LABEL, specialist

OFFER = (
    "A place has freed at the reception: {when}, {place}. You are next on the waitlist for "
    "{date}. Would you like it? It is held for you until {until}."
)
LAPSED = (
    "The place on {when} offered to you was not taken in time, so it has been offered to the "
    "next in line."
)


async def fill(tg: Harness, day: date = WEDNESDAY, *, leave: int = 0) -> None:
    """Takes every place of `day` but `leave`, by residents who never use the chat."""
    rec = tg.settings.municipality.reception
    places = [s for s in reception.slots_of(rec, day, RIGA) for _ in range(rec.places_per_slot)]
    taken = await tg.store.bookings.taken_places(places[0], places[-1] + rec.slot)
    free = [s for s in places if taken.get(s, 0) < rec.places_per_slot]
    counts: dict[datetime, int] = {}
    todo = []
    for slot in free:
        counts[slot] = counts.get(slot, 0) + 1
        if counts[slot] + taken.get(slot, 0) <= rec.places_per_slot:
            todo.append(slot)
    for n, slot in enumerate(todo[: len(todo) - leave]):
        uid = 50_000 + n + int(slot.timestamp()) % 1000 * 100
        await tg.store.residents.record_resident_seen(uid, "lv")
        await tg.store.bookings.request(
            uid,
            language="lv",
            starts_at=slot,
            ends_at=slot + rec.slot,
            places=rec.places_per_slot,
            theme=None,
            note=None,
        )


async def join_waitlist(user: FakeUser, language: str, day: date = WEDNESDAY) -> str:
    _ = lambda message: t(language, message)  # noqa: E731
    await user.press(_("📅 Book a meeting"))
    await user.press(_("{date} · full, waitlist").format(date=day_label(language, day)))
    await user.press(_("📝 Join the waitlist"))
    return user.last_text or ""


def offers(user: FakeUser, language: str) -> list[str]:
    prefix = t(language, OFFER).split("{")[0]
    return [text for text in texts(user) if text.startswith(prefix)]


async def cancel_booking(user: FakeUser, language: str) -> None:
    await user.press(t(language, "📂 My submissions and bookings"))
    await user.press(t(language, "✖️ Cancel the booking"))
    await user.press(t(language, "Yes, cancel the booking"))


@pytest.mark.parametrize("language", ["lv", "ru"])
async def test_a_freed_place_is_offered_and_taken(tg: Harness, language: str) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await book(anna, "lv")  # 14:30
    await fill(tg)
    boris = await tg.onboarded("Boris", language=LANGUAGE_LABEL[language], language_code=language)
    _ = lambda message: t(language, message)  # noqa: E731
    joined = await join_waitlist(boris, language)
    assert joined == _(
        "You are on the waitlist for {date}. If a place frees, we will offer it to you here."
    ).format(date=day_label(language, WEDNESDAY))
    assert await join_waitlist(boris, language) == _(
        "You are on the waitlist for {date} already."
    ).format(date=day_label(language, WEDNESDAY))

    await cancel_booking(anna, "lv")
    [offer] = offers(boris, language)
    assert "14:30" in offer and "Rožu iela 6" in offer
    assert boris.buttons() == [[_("✅ Take it"), _("No, thanks")]]
    await boris.press(_("✅ Take it"))
    assert "14:30" in boris.last_text
    booking = await tg.store.bookings.active_of(boris.id)
    assert booking is not None and booking.status == "requested"
    assert booking.starts_at == datetime(2027, 1, 20, 14, 30, tzinfo=RIGA)
    # The office confirms it like any booking.
    await specialist(tg).press(t("lv", "✅ Confirm"), message=card_of(tg, booking.id))
    assert (await tg.store.bookings.booking(booking.id)).status == "confirmed"
    assert "14:30" in boris.messages[-3].text
    taken = await tg.store.bookings.taken_places(booking.starts_at, booking.ends_at)
    assert taken[booking.starts_at] == 2  # never more than the places


async def test_an_unanswered_offer_lapses_and_passes_on_and_nobody_is_offered_twice(
    tg: Harness,
) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await book(anna, "lv")
    await fill(tg)
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    cara = await tg.onboarded("Cara", language="Latviešu")
    await join_waitlist(boris, "ru")
    await join_waitlist(cara, "lv")
    await cancel_booking(anna, "lv")
    assert len(offers(boris, "ru")) == 1 and offers(cara, "lv") == []

    # 2 hours (offer_minutes = 120) with no answer: Boris is told, Cara is offered the place.
    tg.clock.advance(minutes=119)
    await tg.app.settle()
    assert offers(cara, "lv") == []
    tg.clock.advance(minutes=2)
    await tg.app.settle()
    assert (
        "14:30" in boris.last_text
        and t(
            "ru",
            LAPSED,
        )[:10]
        in boris.last_text
    )
    assert len(offers(cara, "lv")) == 1

    # Boris's stale button: the offer has lapsed, nothing is booked.
    await boris.press(t("ru", "✅ Take it"))
    assert boris.last_answer.show_alert
    assert boris.last_answer.text == t(
        "ru", "This offer has lapsed: the place was offered to the next in line."
    )
    assert await tg.store.bookings.active_of(boris.id) is None

    # Cara says no thanks: nobody is left who was not offered it already; Boris is not asked again.
    await cara.press(t("lv", "No, thanks"))
    tg.clock.advance(hours=3)
    await tg.app.settle()
    assert len(offers(boris, "ru")) == 1 and len(offers(cara, "lv")) == 1
    start = datetime(2027, 1, 20, 14, 30, tzinfo=RIGA)
    taken = await tg.store.bookings.taken_places(start, start + timedelta(minutes=30))
    assert taken.get(start, 0) == 1  # the place is free again, for anyone to book


async def test_a_declined_booking_frees_its_place_but_a_closed_date_does_not(
    tg: Harness,
) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await book(anna, "lv")
    await fill(tg)
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await join_waitlist(boris, "ru")
    staff = specialist(tg)
    await staff.press(t("lv", "❌ Decline"), message=card_of(tg, 1))
    await staff.press(
        t("lv", "The specialists are not available at that time."), message=card_of(tg, 1)
    )
    assert len(offers(boris, "ru")) == 1
    await boris.press(t("ru", "No, thanks"))

    # A closed date frees its places for nobody.
    cara = await tg.onboarded("Cara", language="Latviešu")
    await fill(tg)
    await join_waitlist(cara, "lv")
    await staff.send("/closedate 2027-01-20 mācības")
    tg.clock.advance(minutes=5)
    await tg.app.settle()
    assert offers(cara, "lv") == []


@pytest.mark.parametrize("language", ["lv", "ru"])
async def test_a_booking_is_moved_and_its_old_place_offered(tg: Harness, language: str) -> None:
    _ = lambda message: t(language, message)  # noqa: E731
    anna = await tg.onboarded("Anna", language=LANGUAGE_LABEL[language], language_code=language)
    await book(anna, language)  # Wednesday 14:30
    await specialist(tg).press(t("lv", "✅ Confirm"), message=card_of(tg, 1))
    await fill(tg)
    boris = await tg.onboarded("Boris", language="Latviešu")
    await join_waitlist(boris, "lv")

    await anna.press(_("📂 My submissions and bookings"))
    await anna.press(_("🔁 Change the time"))
    await anna.press(day_label(language, date(2027, 1, 27)))
    await anna.press("15:00")
    # The answer, then the calendar file at the new time (tests/test_booking_calendar.py).
    answer, calendar = anna.messages[-2:]
    assert answer.text.startswith(_("Your booking is moved to {when}.").split("{")[0])
    assert "15:00" in answer.text
    assert calendar.document is not None and calendar.document.filename == "reception-1.ics"
    moved = await tg.store.bookings.booking(1)
    assert moved.status == "confirmed"
    assert moved.starts_at == datetime(2027, 1, 27, 15, 0, tzinfo=RIGA)
    assert "15:00" in card_of(tg, 1).text
    # The reminders follow the new time; the old place goes to the waitlist.
    pending = {job.key: job.due_at for job in await tg.store.schedule.pending("booking_reminder")}
    assert pending["booking:1:remind:24h"] == moved.starts_at - timedelta(hours=24)
    assert pending["booking:1:remind:2h"] == moved.starts_at - timedelta(hours=2)
    [offer] = offers(boris, "lv")
    assert "14:30" in offer
    tg.clock.now = datetime(2027, 1, 26, 15, 1, tzinfo=RIGA)
    await tg.app.settle()
    assert any(text.startswith("⏰") and "15:00" in text for text in texts(anna))


async def test_a_cancelled_or_declined_booking_cannot_be_moved(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await book(anna, "lv")
    await anna.press(t("lv", "📂 My submissions and bookings"))
    listing = anna.last
    await anna.press(t("lv", "✖️ Cancel the booking"))
    await anna.press(t("lv", "Yes, cancel the booking"))
    listing.reply_markup = {"inline_keyboard": [[{"text": "move", "callback_data": "mv:start:1"}]]}
    await anna.press("move", message=listing)
    assert anna.last_answer.show_alert
    assert anna.last_answer.text == t(
        "lv",
        "This booking is “{status}”, so its time cannot be changed. You are welcome to book a "
        "new time.",
    ).format(status=t("lv", "Cancelled"))
    assert (await tg.store.bookings.booking(1)).starts_at.hour == 12  # 14:30 in Riga (UTC)
