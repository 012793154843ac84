"""Reception bookings when things go wrong: the race for the last place, closed dates (holidays
and staff's), and every way a resident can press or type the wrong thing — each answered in
their language, with nothing lost and nothing booked twice."""

from __future__ import annotations

from datetime import date, datetime

from tests.conftest import ADMIN_ID, Harness, t
from tests.test_booking import RIGA, WEDNESDAY, book, card_of, day_label, reminders
from tests.test_proposals import specialist


async def test_twenty_residents_race_for_the_last_place(tg: Harness) -> None:
    first = await tg.onboarded("Pirmā", language="Latviešu")
    await book(first, "lv")  # one of the two places of 14:30 is taken
    racers = [
        await tg.onboarded(f"R{n}", language=("Latviešu", "Русский")[n % 2]) for n in range(20)
    ]
    languages = [("lv", "ru")[n % 2] for n in range(20)]
    # Everyone sees 14:30 free and gets as far as the summary…
    for racer, language in zip(racers, languages, strict=True):
        await racer.press(t(language, "📅 Book a meeting"))
        await racer.press(day_label(language, WEDNESDAY))
        await racer.press("14:30")
        await racer.press(t(language, "No particular theme"))
        await racer.press(t(language, "Skip"))
    # …then all press Confirm.
    for racer, language in zip(racers, languages, strict=True):
        await racer.press(t(language, "✅ Confirm the booking"))
    taken = await tg.store.bookings.taken_places(
        datetime(2027, 1, 20, 14, 30, tzinfo=RIGA), datetime(2027, 1, 20, 15, 0, tzinfo=RIGA)
    )
    assert list(taken.values()) == [2]
    winners = [r for r in racers if await tg.store.bookings.active_of(r.id) is not None]
    assert winners == [racers[0]]
    for racer, language in zip(racers[1:], languages[1:], strict=True):
        just_taken = t(language, "Sorry, {time} was just taken.").format(time="14:30")
        assert racer.last_text.startswith(just_taken)
        assert racer.buttons()[0] == ["14:00", "15:00", "15:30"]  # the free times again
    # The one who lost can take another time from there.
    await racers[1].press("15:00")
    await racers[1].press(t("ru", "No particular theme"))
    await racers[1].press(t("ru", "Skip"))
    await racers[1].press(t("ru", "✅ Confirm the booking"))
    assert await tg.store.bookings.active_of(racers[1].id) is not None


async def test_18_november_is_closed_without_configuration(tg: Harness) -> None:
    tg.clock.now = datetime(2026, 11, 2, 10, 0, tzinfo=RIGA)  # a Monday; 18 November: Wednesday
    anna = await tg.onboarded("Anna", language="Latviešu")
    await anna.press(t("lv", "📅 Book a meeting"))
    dates = [row[0] for row in anna.buttons()[:-1]]
    assert dates == [day_label("lv", date(2026, 11, d)) for d in (4, 11, 25)]
    # Even a forged button for it finds it closed.
    await anna.press_forged("bk:day:20261118")
    closed = t("lv", "The reception is closed on {date}.").format(
        date=day_label("lv", date(2026, 11, 18))
    )
    assert anna.last_text.startswith(closed)
    assert await tg.store.bookings.active_of(anna.id) is None


async def test_staff_close_a_date_and_every_resident_is_told_in_their_language(
    tg: Harness,
) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await book(anna, "lv")
    await book(boris, "ru", time="15:00")
    inese = specialist(tg)
    await inese.press(t("lv", "✅ Confirm"), message=card_of(tg, 1))

    await inese.send("/closedate 20.01.2027 apmācības")
    assert tg.staff_chat.last_text.startswith("Lietojums: /closedate")
    outsider = tg.fake.user("Svešais", user_id=777).in_chat(tg.staff_chat)
    await outsider.send("/closedate 2027-01-20 nekas")
    assert (await tg.store.bookings.booking(1)).status == "confirmed"

    await inese.send("/closedate 2027-01-20 darbinieku apmācības")
    assert "2" in tg.staff_chat.last_text
    # Again, and a date gone by: said so, the date as Latvian readers write it.
    await inese.send("/closedate 2027-01-20 darbinieku apmācības")
    assert tg.staff_chat.last_text == t("lv", "{date} is closed already.").format(
        date="trešd., 2027. gada 20. janvāris"
    )
    await inese.send("/closedate 2020-01-20 par vēlu")
    assert tg.staff_chat.last_text == t("lv", "{date} is in the past.").format(
        date="pirmd., 2020. gada 20. janvāris"
    )
    assert (await tg.store.bookings.booking(1)).status == "cancelled"
    assert (await tg.store.bookings.booking(2)).status == "cancelled"
    # Anna's booking was confirmed: the notice, then the cancellation for her calendar.
    notice, calendar = anna.messages[-2:]
    assert "darbinieku apmācības" in notice.text and "14:30" in notice.text
    assert notice.text.startswith("Atvainojiet, pieņemšana")
    assert calendar.document is not None and calendar.document.filename == "reception-1.ics"
    assert boris.last_text.startswith("К сожалению, приёма")
    assert card_of(tg, 1).buttons == [] and card_of(tg, 2).buttons == []
    # No reminder goes out, and the date is no longer offered.
    tg.clock.now = datetime(2027, 1, 20, 14, 0, tzinfo=RIGA)
    await tg.app.settle()
    assert reminders(anna, "lv") == []
    tg.clock.now = datetime(2027, 1, 12, 14, 0, tzinfo=RIGA)
    await anna.press(t("lv", "📅 Book a meeting"))
    assert [day_label("lv", WEDNESDAY)] not in anna.buttons()


async def test_a_slot_that_became_past_full_or_closed_is_refused_with_the_free_times(
    tg: Harness,
) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await anna.press(t("lv", "📅 Book a meeting"))
    await anna.press(day_label("lv", WEDNESDAY))
    times = anna.last

    # Full: two others take both places of 14:30 meanwhile.
    for name in ("Bērziņš", "Ozola"):
        await book(await tg.onboarded(name, language="Latviešu"), "lv")
    await anna.press("14:30", message=times)
    assert anna.last_text.startswith(t("lv", "Sorry, {time} was just taken.").format(time="14:30"))
    assert "14:30" not in anna.buttons()[0]

    # Past: by the time she presses, 14:00 is less than a day away.
    tg.clock.now = datetime(2027, 1, 19, 14, 10, tzinfo=RIGA)
    await anna.press("14:00", message=times)
    refused = t("lv", "{time} on {date} can no longer be booked.").format(
        time="14:00", date=day_label("lv", WEDNESDAY)
    )
    assert anna.last_text.startswith(refused)
    assert anna.buttons()[0][0] == "15:00"

    # Closed: the office closes the date before she presses.
    await specialist(tg).send("/closedate 2027-01-20 remonts")
    await anna.press("16:00", message=times)
    assert anna.last_text.startswith(
        t("lv", "The reception is closed on {date}.").format(date=day_label("lv", WEDNESDAY))
    )
    assert await tg.store.bookings.active_of(anna.id) is None


async def test_typed_text_double_taps_and_stale_buttons(tg: Harness) -> None:
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    _ = lambda message: t("ru", message)  # noqa: E731
    await boris.press(_("📅 Book a meeting"))
    await boris.send("в среду")
    assert boris.last_text == _("Please choose a date with the buttons above.")
    await boris.press(day_label("ru", WEDNESDAY))
    await boris.send("14:30")
    assert boris.last_text == _("Please choose a time with the buttons above.")

    # A restart in the middle: the time buttons still work, the step is where it was.
    await tg.crash_and_restart()
    await boris.press("14:30")
    await boris.send_sticker()
    assert boris.last_text == _(
        "Please choose a theme with the buttons above, or “No particular theme”."
    )
    await boris.press("Мобильность")
    await boris.send("x" * 301)
    assert boris.last_text.startswith(
        _(
            "The note has {n} characters; the limit is {max}. Please shorten it and send it again."
        ).format(n=301, max=300)
    )
    await boris.send("Велодорожки на улице Грауду")
    await boris.send("да")
    assert boris.last_text == _("Please confirm the booking with the button above, or cancel it.")
    summary = next(
        m
        for m in reversed(boris.messages)
        if m.buttons and m.buttons[0] == [_("✅ Confirm the booking")]
    )
    assert "Велодорожки на улице Грауду" in summary.text and "Мобильность" in summary.text

    # A double tap on Confirm books once.
    await boris.press(_("✅ Confirm the booking"), message=summary)
    summary.reply_markup = {
        "inline_keyboard": [[{"text": _("✅ Confirm the booking"), "callback_data": "bk:confirm"}]]
    }
    await boris.press(_("✅ Confirm the booking"), message=summary)
    assert boris.last_answer.text == _("This button is no longer active.")
    booking = await tg.store.bookings.active_of(boris.id)
    assert booking is not None and booking.note == "Велодорожки на улице Грауду"
    assert len([m for m in tg.staff_chat.messages if m.text and m.text.startswith("🆕 📅")]) == 1

    # One booking at a time.
    await boris.press(_("📅 Book a meeting"))
    assert boris.last_text.startswith("У Вас уже есть запись")

    # A forged button for someone else's booking opens nothing.
    anna = await tg.onboarded("Anna", language="Latviešu")
    await anna.press_forged(f"mybk:dropyes:{booking.id}")
    assert anna.last_answer.text == t("lv", "This booking is no longer active.")
    assert (await tg.store.bookings.booking(booking.id)).status == "requested"
    assert ADMIN_ID  # the staff side is in test_booking.py
