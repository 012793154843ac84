"""Staff see the reception's waitlists: the agenda counts a date's line and opens it, `/waitlist`
lists the dates waited for; a line shows who waits, in the order places are offered, with their
language and since when, paged; only staff see any of it, checked at every press."""

from __future__ import annotations

from datetime import date, datetime

from bot.i18n import translator
from tests.conftest import Harness, t
from tests.test_booking import RIGA, WEDNESDAY, book, card_of, day_label
from tests.test_proposals import specialist
from tests.test_waitlist import fill, join_waitlist

LV = translator("lv", RIGA)


def since(moment: datetime) -> str:
    return LV.datetime(moment, "MMMd")


def count(n: int) -> str:
    return LV.ngettext(
        "📝 Waitlist: {n} resident waiting", "📝 Waitlist: {n} residents waiting", n
    ).format(n=n)


def line_button(day: date, n: int) -> str:
    return t("lv", "📝 {date}: waitlist ({n})").format(date=day_label("lv", day), n=n)


async def test_staff_see_who_waits_in_order_from_the_agenda_and_the_command(tg: Harness) -> None:
    tg.clock.now = datetime(2027, 1, 14, 10, 0, tzinfo=RIGA)  # the 20th within the agenda's week
    anna = await tg.onboarded("Anna", language="Latviešu")
    await book(anna, "lv")
    await fill(tg)
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    cara = await tg.onboarded("Cara", language="Latviešu")
    boris_joined = tg.clock.now
    await join_waitlist(boris, "ru")
    tg.clock.advance(minutes=7)
    cara_joined = tg.clock.now
    await join_waitlist(cara, "lv")
    inese = specialist(tg)

    # The agenda's day counts the line and opens it.
    await inese.send("/bookings")
    agenda = tg.staff_chat.last
    assert agenda.text.startswith(t("lv", "Reception on {date}").split("{")[0])
    assert count(2) in agenda.text
    await inese.press(line_button(WEDNESDAY, 2), message=agenda)
    listing = tg.staff_chat.last.text.splitlines()
    assert listing[0] == t("lv", "Waitlist for {date}").format(date=LV.date(WEDNESDAY))
    assert listing[1] == count(2)
    entry = t("lv", "{number}. {resident} · {language} · since {since}")
    assert listing[3:] == [
        entry.format(number=1, resident=boris.id, language="ru", since=since(boris_joined)),
        entry.format(number=2, resident=cara.id, language="lv", since=since(cara_joined)),
    ]
    assert tg.staff_chat.last.buttons == []  # one page

    # A place frees: Boris is offered it — still in the line, with the offer beside him.
    await anna.press(t("lv", "📂 My submissions and bookings"))
    await anna.press(t("lv", "✖️ Cancel the booking"))
    await anna.press(t("lv", "Yes, cancel the booking"))
    await inese.send("/waitlist")
    overview = tg.staff_chat.last
    assert overview.buttons == [[line_button(WEDNESDAY, 2)]]
    await inese.press(line_button(WEDNESDAY, 2), message=overview)
    listing = tg.staff_chat.last.text.splitlines()
    assert listing[3].startswith(f"1. {boris.id} · ru")
    assert listing[4].strip() == t("lv", "offered {time}, to answer by {until}").format(
        time="14:30", until=since(datetime(2027, 1, 14, 12, 7, tzinfo=RIGA))
    )  # held for offer_minutes (120) from Anna's cancellation
    assert listing[5].startswith(f"2. {cara.id} · lv")

    # Boris says no thanks: the line is Cara alone.
    await boris.press(t("ru", "No, thanks"))
    await inese.send("/waitlist")
    assert tg.staff_chat.last.buttons == [[line_button(WEDNESDAY, 1)]]


async def test_only_staff_see_the_waitlist(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await book(anna, "lv")
    await specialist(tg).press(t("lv", "✅ Confirm"), message=card_of(tg, 1))
    await fill(tg)
    boris = await tg.onboarded("Boris", language="Latviešu")
    await join_waitlist(boris, "lv")
    inese = specialist(tg)
    await inese.send("/waitlist")
    overview = tg.staff_chat.last
    shown = len(tg.staff_chat.messages)

    refused = t("lv", "This is for the Development Office staff only.")
    outsider = tg.fake.user("Svešais", user_id=777).in_chat(tg.staff_chat)
    await outsider.press(line_button(WEDNESDAY, 1), message=overview)
    assert outsider.last_answer.show_alert and outsider.last_answer.text == refused
    await outsider.press_forged("bd:wlp:20270120:0", message=overview)
    assert outsider.last_answer.text == refused
    assert len(tg.staff_chat.messages) == shown and overview.text == tg.staff_chat.last.text
    await outsider.send("/waitlist")
    assert tg.staff_chat.last_text == refused
    # A resident in their own chat: the same.
    await boris.send("/waitlist")
    assert boris.last_text == refused
    seen = [(m.message_id, m.text) for m in boris.messages]
    await boris.press_forged("bd:wl:20270120:0")
    assert boris.last_answer.text == refused
    # No waitlist shown in his chat, nor edited into the message he pressed on.
    assert [(m.message_id, m.text) for m in boris.messages] == seen


async def test_a_long_line_is_paged(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await book(anna, "lv")
    await fill(tg)
    waiting = [60_001 + n for n in range(12)]
    for n, uid in enumerate(waiting):
        await tg.store.residents.record_resident_seen(uid, "ru" if n % 2 else "lv")
        await tg.store.waitlist.join(uid, WEDNESDAY, language="ru" if n % 2 else "lv")
    inese = specialist(tg)
    await inese.send("/waitlist")
    await inese.press(line_button(WEDNESDAY, 12))
    first = tg.staff_chat.last
    lines = first.text.splitlines()
    assert lines[1] == count(12)
    assert lines[2] == t("lv", "Page {page} of {pages}").format(page=1, pages=2)
    entries = lines[4:]  # after the heading, the count, the page and a blank line
    assert [line.split(" · ")[0] for line in entries] == [
        f"{n + 1}. {uid}" for n, uid in enumerate(waiting[:10])
    ]
    assert first.buttons == [[t("lv", "Next ▶️")]]

    # The next page replaces the first, numbered on.
    await inese.press(t("lv", "Next ▶️"), message=first)
    lines = first.text.splitlines()
    assert lines[2] == t("lv", "Page {page} of {pages}").format(page=2, pages=2)
    entries = lines[4:]  # after the heading, the count, the page and a blank line
    assert [line.split(" · ")[0] for line in entries] == ["11. 60011", "12. 60012"]
    assert entries[1].split(" · ")[1] == "ru"
    assert first.buttons == [[t("lv", "◀️ Previous")]]
    await inese.press(t("lv", "◀️ Previous"), message=first)
    assert t("lv", "Page {page} of {pages}").format(page=1, pages=2) in first.text
