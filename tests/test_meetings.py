"""Working-group meetings end to end: residents subscribe in Latvian and Russian, staff publish a
meeting and broadcast it — each subscriber gets it once, in their language, through 429s, a
block and a crash — a cancellation broadcast as such, and schedules imported from .ics and .csv
files (by staff only)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fake_telegram import FakeUser
from tests.conftest import Harness, send_to_subscribers, t
from tests.test_proposals import specialist

RIGA = ZoneInfo("Europe/Riga")
CULTURE = {"lv": "Kultūra", "ru": "Культура"}


async def subscribe(user: FakeUser, language: str, theme: str) -> None:
    _ = lambda message: t(language, message)  # noqa: E731
    await user.press(_("👥 Working-group meetings"))
    await user.press(_("🔔 Subscriptions"))
    await user.press(theme)


async def publish(tg: Harness, when: str = "2027-02-03 17:30") -> None:
    """A specialist creates a culture meeting in the staff chat; the broadcast offer follows."""
    _ = lambda message: t("lv", message)  # noqa: E731
    inese = specialist(tg)
    await inese.send("/newmeeting")
    await inese.press(CULTURE["lv"])
    await inese.send(when)
    await inese.send("Apspriedīsim kultūras stratēģiju.")
    await inese.send("Обсудим стратегию культуры.")
    await inese.press(_("Skip"))
    await inese.press(_("✅ Publish"))


def meeting_notices(user: FakeUser, heading: str) -> list[str]:
    prefix = heading.split("{")[0]
    return [m.text for m in user.messages if m.text and m.text.startswith(prefix)]


async def test_subscribe_publish_broadcast_once_each_in_their_language(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    carla = await tg.onboarded("Carla", language="Latviešu")
    dace = await tg.onboarded("Dace", language="Latviešu")
    await subscribe(anna, "lv", CULTURE["lv"])
    await subscribe(boris, "ru", t("ru", "All themes"))
    await subscribe(carla, "lv", CULTURE["lv"])
    await subscribe(dace, "lv", CULTURE["lv"])
    # The menu lists the meetings after "Book a meeting".
    await anna.send("/start")
    labels = [row[0] for row in anna.buttons()]
    assert labels.index(t("lv", "👥 Working-group meetings")) == (
        labels.index(t("lv", "📅 Book a meeting")) + 1
    )
    # Carla blocked the bot (the middleware marked her unreachable): not a recipient.
    await carla.block_bot()
    await publish(tg)
    offer = tg.staff_chat.messages[-1]
    assert "Rožu laukums 5/6" in offer.text and "17:30" in offer.text
    send_label = send_to_subscribers(3)
    assert offer.buttons[0] == [send_label]
    # Dace blocks the bot only now, unseen: her send gets a 403. And Telegram says 429 once.
    tg.fake.fail_next("sendMessage", kind="429", retry_after=5)
    tg.fake.fail_next("sendMessage", kind="403", chat_id=dace.id)
    await specialist(tg).press(send_label, message=offer)
    for _ in range(3):
        tg.clock.advance(seconds=7)
        await tg.app.settle()

    [lv_notice] = meeting_notices(anna, t("lv", "👥 Working-group meeting: {theme}"))
    assert "Kultūra" in lv_notice and "17:30" in lv_notice and "kultūras stratēģiju" in lv_notice
    # The place: the venue's name, then its address — once, not inside the name as well.
    assert lv_notice.count("Rožu laukums 5/6") == 1
    [ru_notice] = meeting_notices(boris, t("ru", "👥 Working-group meeting: {theme}"))
    assert "Культура" in ru_notice and "17:30" in ru_notice and "стратегию культуры" in ru_notice
    assert meeting_notices(carla, t("lv", "👥 Working-group meeting: {theme}")) == []
    broadcast = await tg.store.broadcasts.broadcast(1)
    assert broadcast is not None and broadcast.recipients == 3 and broadcast.status == "done"
    progress = await tg.store.broadcasts.progress(1)
    assert (progress.sent, progress.failed, progress.left) == (2, 1, 0)
    report = "\n".join(
        [
            t("lv", "✅ Broadcast #{id} finished: {sent} of {n} delivered.").format(
                id=1, sent=2, n=3
            ),
            t("lv", "🚫 Blocked the bot: {n}").format(n=1),
        ]
    )
    assert report in [m.text for m in tg.staff_chat.messages]

    # The buttons under the notice: the calendar file and the map.
    await anna.press(t("lv", "📅 Add to calendar"))
    assert anna.last.document is not None and anna.last.document.filename == "meeting-1.ics"
    await anna.press(t("lv", "🗺 Show on map"))
    assert anna.last.venue is not None and anna.last.venue["address"] == "Rožu laukums 5/6, Liepāja"

    # Cancelled: broadcast as such. Boris sent /stop meanwhile: only Anna hears of it.
    await boris.send("/stop")
    assert await tg.store.meetings.subscriptions_of(boris.id) == set()
    inese = specialist(tg)
    await inese.send("/meetings")
    await inese.press("❌ #1")
    await inese.press(t("lv", "❌ Yes, cancel the meeting"))
    # Dace is unreachable since her 403: only Anna is left.
    await inese.press(send_to_subscribers(1))
    for _ in range(2):
        tg.clock.advance(seconds=7)
        await tg.app.settle()
    [cancelled] = meeting_notices(anna, t("lv", "❌ Cancelled — working-group meeting: {theme}"))
    assert "17:30" in cancelled
    assert meeting_notices(boris, t("ru", "❌ Cancelled — working-group meeting: {theme}")) == []


async def test_a_crash_mid_broadcast_duplicates_and_skips_nobody(tg: Harness) -> None:
    residents = []
    for number in range(40):
        user = await tg.onboarded(f"R{number}", language="Latviešu")
        await subscribe(user, "lv", CULTURE["lv"])
        residents.append(user)
    await publish(tg)
    offer = tg.staff_chat.messages[-1]
    # A second later (the replies above no longer take the outbox's rate), confirm, but
    # deliver only a part before the process dies.
    tg.clock.advance(seconds=1)
    deliver = tg.app.settle
    tg.app.settle = lambda: tg.app.outbox.deliver_due()  # type: ignore[assignment,method-assign,return-value]
    await specialist(tg).press(send_to_subscribers(40), message=offer)
    tg.app.settle = deliver  # type: ignore[method-assign]
    left = (await tg.store.broadcasts.progress(1)).left
    assert 0 < left < 40
    await tg.crash_and_restart()
    for _ in range(3):
        tg.clock.advance(seconds=7)
        await tg.app.settle()
    heading = t("lv", "👥 Working-group meeting: {theme}")
    assert [len(meeting_notices(user, heading)) for user in residents] == [1] * 40


ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:culture-weekly@liepaja.lv
DTSTART;TZID=Europe/Riga:20270203T170000
DTEND;TZID=Europe/Riga:20270203T183000
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Kult\xc5\xabras darba grupa
CATEGORIES:culture
DESCRIPTION:Kult\xc5\xabras strat\xc4\x93\xc4\xa3ija
END:VEVENT
BEGIN:VEVENT
UID:sport-once@liepaja.lv
DTSTART:20270210T150000Z
SUMMARY:Sporta darba grupa
CATEGORIES:Sports
END:VEVENT
%s
END:VCALENDAR
"""
BAD = b"""BEGIN:VEVENT
UID:no-theme@liepaja.lv
DTSTART;TZID=Europe/Riga:20270204T170000
SUMMARY:Something else
END:VEVENT"""


async def test_import_ics_recurring_bad_event_and_twice(tg: Harness) -> None:
    inese = specialist(tg)
    await inese.send_document("grafiks.ics", ICS % BAD, "text/calendar")
    no_theme = t("lv", "no theme: put a theme's name or slug in CATEGORIES or SUMMARY")
    assert f"no-theme@liepaja.lv: {no_theme}" in inese.last_text  # the reason in Latvian too
    assert (await tg.store.meetings.upcoming(tg.clock()))[1] == 0  # nothing half-imported

    await inese.send_document("grafiks.ics", ICS % b"", "text/calendar")
    imported = t(
        "lv",
        "Imported: {added} new, {updated} changed, {cancelled} cancelled, "
        "{same} unchanged. /meetings shows them; ✏️ and ❌ there offer a broadcast.",
    )
    assert inese.last_text == imported.format(added=4, updated=0, cancelled=0, same=0)
    meetings, total = await tg.store.meetings.upcoming(tg.clock(), limit=10)
    assert total == 4
    assert [m.starts_at.astimezone(RIGA) for m in meetings] == [
        datetime(2027, 2, 3, 17, 0, tzinfo=RIGA),
        datetime(2027, 2, 10, 17, 0, tzinfo=RIGA),
        datetime(2027, 2, 10, 17, 0, tzinfo=RIGA),
        datetime(2027, 2, 17, 17, 0, tzinfo=RIGA),
    ]
    assert {m.theme for m in meetings} == {"culture", "sport"}

    await inese.send_document("grafiks.ics", ICS % b"", "text/calendar")
    assert inese.last_text == imported.format(added=0, updated=0, cancelled=0, same=4)
    changed = (ICS % b"").replace(b"Sporta darba grupa", b"Sporta darba grupa (telpa 2)")
    await inese.send_document("grafiks.ics", changed, "text/calendar")
    assert inese.last_text == imported.format(added=0, updated=1, cancelled=0, same=3)


# As Excel in Latvia saves "CSV UTF-8": a BOM, semicolons, CRLF, its dates.
CSV = (
    "\ufeffid;theme;date;start;end;place;description_lv;description_ru\r\n"
    "kult-1;Kultūra;03.02.2027;17:00;18:30;;Kultūras stratēģija;Стратегия культуры\r\n"
    ";Sports;2027-02-10;17:00;;Olimpiskais centrs;Sporta darba grupa;\r\n"
    "kult-2;culture;2027-02-17;17:00;18:30;;Kultūras stratēģija (2);\r\n"
)
IMPORTED = (
    "Imported: {added} new, {updated} changed, {cancelled} cancelled, "
    "{same} unchanged. /meetings shows them; ✏️ and ❌ there offer a broadcast."
)


async def test_import_csv_bad_row_then_twice_and_changed(tg: Harness) -> None:
    inese = specialist(tg)
    bad = CSV.replace(";Sports;", ";Futbols;")
    await inese.send_document("grafiks.csv", bad.encode(), "text/csv")
    lv = lambda message: t("lv", message)  # noqa: E731 — the staff chat is in Latvian
    assert inese.last_text == (
        lv("Nothing was imported. Please correct these lines and send the file again:")
        + "\n• "
        + lv("line {number}").format(number=3)
        + ": "
        + lv(
            "unknown theme '{theme}': give a theme's slug or its name in Latvian, Russian or "
            "English"
        ).format(theme="Futbols")
    )
    assert (await tg.store.meetings.upcoming(tg.clock()))[1] == 0  # nothing half-imported

    await inese.send_document("grafiks.csv", CSV.encode(), "text/csv")
    assert inese.last_text == lv(IMPORTED).format(added=3, updated=0, cancelled=0, same=0)
    meetings, total = await tg.store.meetings.upcoming(tg.clock(), limit=10)
    assert total == 3
    assert [(m.theme, m.starts_at.astimezone(RIGA), m.place) for m in meetings] == [
        ("culture", datetime(2027, 2, 3, 17, 0, tzinfo=RIGA), None),
        ("sport", datetime(2027, 2, 10, 17, 0, tzinfo=RIGA), "Olimpiskais centrs"),
        ("culture", datetime(2027, 2, 17, 17, 0, tzinfo=RIGA), None),
    ]
    assert meetings[0].description("ru") == "Стратегия культуры"
    assert meetings[1].description("ru") == "Sporta darba grupa"  # none in Russian: Latvian

    await inese.send_document("grafiks.csv", CSV.encode(), "text/csv")
    assert inese.last_text == lv(IMPORTED).format(added=0, updated=0, cancelled=0, same=3)
    # kult-2 moves a day later: the same meeting, changed — not a new one.
    moved = CSV.replace("kult-2;culture;2027-02-17", "kult-2;culture;2027-02-18")
    await inese.send_document("Grafiks.CSV", moved.encode(), "text/csv")
    assert inese.last_text == lv(IMPORTED).format(added=0, updated=1, cancelled=0, same=2)
    meetings, total = await tg.store.meetings.upcoming(tg.clock(), limit=10)
    assert total == 3
    assert meetings[2].starts_at.astimezone(RIGA) == datetime(2027, 2, 18, 17, 0, tzinfo=RIGA)


async def test_a_resident_cannot_import_a_schedule(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await anna.send_document("grafiks.csv", CSV.encode(), "text/csv")
    assert anna.last_text == t("lv", "This is for the Development Office staff only.")
    assert (await tg.store.meetings.upcoming(tg.clock()))[1] == 0

    # A CSV attached to a proposal is an attachment like any other, not a schedule.
    await anna.press(t("lv", "📝 Submit a proposal"))
    await anna.press(CULTURE["lv"])
    await anna.send("Pielikumā kultūras pasākumu saraksts.")
    await anna.send_document("pasakumi.csv", CSV.encode(), "text/csv")
    [attachment] = (await tg.store.drafts.draft_of(anna.id)).attachments
    assert attachment.kind == "document"
    assert (await tg.store.meetings.upcoming(tg.clock()))[1] == 0


async def test_an_answer_overtakes_a_broadcast_already_queued(tg: Harness) -> None:
    residents = []
    for number in range(40):
        user = await tg.onboarded(f"R{number}", language="Latviešu")
        await subscribe(user, "lv", CULTURE["lv"])
        residents.append(user)
    outsider = await tg.onboarded("Zane", language="Latviešu")  # no subscription
    await publish(tg)
    offer = tg.staff_chat.messages[-1]
    tg.clock.advance(seconds=1)
    deliver = tg.app.settle
    tg.app.settle = lambda: tg.app.outbox.deliver_due()  # type: ignore[assignment,method-assign,return-value]
    await specialist(tg).press(send_to_subscribers(40), message=offer)
    tg.app.settle = deliver  # type: ignore[method-assign]
    heading = t("lv", "👥 Working-group meeting: {theme}")
    sent_before = sum(len(meeting_notices(user, heading)) for user in residents)
    assert 0 < sent_before < 40  # one second's budget went; the rest are queued, in lane 1

    # An answer to a resident is written now (lane 0, as every notice): it goes next.
    async with tg.store.unit_of_work():
        await tg.store.outbox.enqueue("answer:1", outsider.id, "send_message", {"text": "Atbilde"})
    tg.clock.advance(seconds=1)
    await tg.app.outbox.deliver_due()
    # The order the messages reached Telegram: the answer first, then the copies queued earlier.
    sends = tg.fake.calls_to("sendMessage")
    answer_at = next(n for n, call in enumerate(sends) if call.get("text") == "Atbilde")
    subscribers = {user.id for user in residents}
    copies_after = [call for call in sends[answer_at:] if call["chat_id"] in subscribers]
    assert outsider.last_text == "Atbilde"
    assert len(copies_after) == 40 - sent_before

    for _ in range(3):
        tg.clock.advance(seconds=7)
        await tg.app.settle()
    assert [len(meeting_notices(user, heading)) for user in residents] == [1] * 40


async def test_a_csv_template_to_fill_in_and_send_back(tg: Harness) -> None:
    """/schedulecsv: a file with the columns and two example rows, dated last week — sent back
    unchanged it adds nothing; with a row filled in, that meeting is imported."""
    inese = specialist(tg)
    lv = lambda message: t("lv", message)  # noqa: E731 — the staff chat is in Latvian
    await inese.send("/schedulecsv")
    document = inese.last.document
    assert document is not None and document.filename == "meetings.csv"
    before, after = lv(
        "A schedule to fill in, one meeting a row; send the file back here. id: your own "
        "name for the meeting (keep it to move or cancel the meeting later). theme: as in "
        "the bot. date: 03.02.2027. start and end: 17:30 (without an end, 90 minutes). "
        "place: empty for {venue}. description_lv is needed; description_ru and "
        "description_en are not. cancelled: “jā” cancels the meeting. In Excel, save it as "
        "“CSV UTF-8”. The two rows are examples, dated last week: replace them."
    ).split("{venue}")
    caption = inese.last.caption or ""
    assert caption.startswith(before) and caption.endswith(after) and "Rožu laukums" in caption
    # As Excel in Latvia opens it: a BOM, semicolons, a header of the import's columns.
    text = document.content.decode("utf-8")
    assert text.startswith("\ufeffid;theme;date;start;end;place;description_lv;")
    _header, first, _second = text.strip().split("\r\n")
    assert first.split(";")[:5] == ["piemers-1", "Izglītība", "05.01.2027", "17:00", "18:30"]

    await inese.send_document("meetings.csv", document.content, "text/csv")
    assert inese.last_text == lv(IMPORTED).format(added=0, updated=0, cancelled=0, same=0)
    filled = text.replace("05.01.2027;17:00;18:30", "10.02.2027;17:00;18:30")
    await inese.send_document("meetings.csv", filled.encode("utf-8"), "text/csv")
    assert inese.last_text == lv(IMPORTED).format(added=1, updated=0, cancelled=0, same=0)
    [meeting], _total = await tg.store.meetings.upcoming(tg.clock())
    assert meeting.theme == "education"
    assert meeting.starts_at == datetime(2027, 2, 10, 17, 0, tzinfo=RIGA)

    # Residents are not handed the office's files.
    anna = await tg.onboarded("Anna", language="Latviešu")
    await anna.send("/schedulecsv")
    assert anna.last_text == t("lv", "This is for the Development Office staff only.")
