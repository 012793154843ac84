"""Announcements end to end: staff write the office's own text in the staff chat (/announce), to
one theme's subscribers or to all, see it as residents will and confirm it; it goes through the
meetings' broadcast engine — once each, in the reader's language, through a crash — and only
staff can start it or send it. Residents here: Anna (Latvian) and Boris (Russian) follow culture,
Emma (English) follows mobility."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store import MIGRATIONS_DIR, Store
from bot.store.meetings import ALL_THEMES
from fake_telegram import FakeMessage, FakeUser
from handlers.meeting_notices import (
    ANNOUNCEMENT_FOOTER,
    ANNOUNCEMENT_HEADING,
    announcement_room,
)
from tests.conftest import FakeClock, Harness, send_to_subscribers, t
from tests.test_meetings import subscribe
from tests.test_proposals import specialist

LV_TEXT = "Aicinām uz atklāto diskusiju par Liepājas parkiem 3. februārī. <Ieeja brīva> & laipni!"
RU_TEXT = "Приглашаем на открытую дискуссию о парках Лиепаи 3 февраля."
EN_TEXT = "Join the open discussion on Liepāja's parks on 3 February."
REFUSED = "This is for the Development Office staff only."


def lv(message: str) -> str:
    """What the staff chat reads (it is in Latvian, whoever acts)."""
    return t("lv", message)


def as_read(language: str, text: str) -> str:
    """The announcement exactly as a resident reading `language` gets it."""
    heading, footer = t(language, ANNOUNCEMENT_HEADING), t(language, ANNOUNCEMENT_FOOTER)
    return f"{heading}\n\n{text}\n\n{footer}"


def announcements(user: FakeUser) -> list[str]:
    headings = {t(language, ANNOUNCEMENT_HEADING) for language in ("lv", "ru", "en")}
    return [m.text for m in user.messages if m.text and m.text.split("\n")[0] in headings]


async def residents(tg: Harness) -> tuple[FakeUser, FakeUser, FakeUser]:
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    emma = await tg.onboarded("Emma", language="English", language_code="en")
    await subscribe(anna, "lv", "Kultūra")
    await subscribe(boris, "ru", "Культура")
    await subscribe(emma, "en", "Mobility")
    return anna, boris, emma


async def write_announcement(
    tg: Harness, audience: str, lv_text: str, ru_text: str | None = None, en_text: str | None = None
) -> FakeMessage:
    """A specialist writes an announcement in the staff chat up to its preview; returns the
    message with Send / Don't send."""
    inese = specialist(tg)
    await inese.send("/announce")
    await inese.press(audience)
    await inese.send(lv_text)
    for text in (ru_text, en_text):
        if text is None:
            await inese.press(lv("Skip"))
        else:
            await inese.send(text)
    return tg.staff_chat.messages[-1]


async def finish(tg: Harness, rounds: int = 3) -> None:
    """Time passes: the outbox sends and the progress message is edited, then reports."""
    for _ in range(rounds):
        tg.clock.advance(seconds=7)
        await tg.app.settle()


def send_label(n: int) -> str:
    return send_to_subscribers(n)


async def test_to_one_theme_each_once_in_their_language_and_a_second_press_sends_nothing(
    tg: Harness,
) -> None:
    anna, boris, emma = await residents(tg)
    preview = await write_announcement(tg, "Kultūra", LV_TEXT, RU_TEXT)

    # The preview: the texts as residents read them, who it is for and how many, by language.
    shown = [m.text for m in tg.staff_chat.messages[-4:]]
    assert shown[0] == lv("Please check the announcement. Subscribers will read it like this:")
    assert shown[1:3] == [as_read("lv", LV_TEXT), as_read("ru", RU_TEXT)]
    assert lv("To: {audience}.").format(audience="Kultūra") in preview.text
    assert (
        lv("Subscribers who would get it: {n} (lv {lv}, ru {ru}, en {en}).").format(
            n=2, lv=1, ru=1, en=0
        )
        in preview.text
    )
    assert preview.buttons == [[send_label(2)], [lv("❎ Don't send")]]
    assert announcements(anna) == []  # nothing before Send

    send = preview.button(send_label(2))
    assert send is not None
    inese = specialist(tg)
    await inese.press(send_label(2), message=preview)
    [shown_now] = [m for m in tg.staff_chat.messages if m.message_id == preview.message_id]
    assert shown_now.buttons == []  # the preview's buttons are gone
    # The same press again (a double tap, a replayed update): nothing more is sent.
    await inese.press_forged(str(send["callback_data"]), message=preview)
    assert inese.last_answer is not None
    assert inese.last_answer.text == lv("This announcement was sent already, or dropped.")
    await finish(tg)

    assert announcements(anna) == [as_read("lv", LV_TEXT)]
    assert announcements(boris) == [as_read("ru", RU_TEXT)]
    assert announcements(emma) == []
    # Plain text, no parse mode: "<" and "&" reach the resident as written.
    to_anna = [c for c in tg.fake.calls_to("sendMessage") if c["chat_id"] == anna.id][-1]
    assert to_anna["text"] == as_read("lv", LV_TEXT) and "parse_mode" not in to_anna

    # The store holds the broadcast, what it says and to whom, and its ledger.
    broadcast = await tg.store.broadcasts.broadcast(1)
    assert broadcast is not None
    assert (broadcast.kind, broadcast.meeting_id, broadcast.status, broadcast.recipients) == (
        "announcement",
        None,
        "done",
        2,
    )
    announcement = await tg.store.broadcasts.announcement(1)
    assert announcement is not None
    assert (announcement.audience, announcement.text_lv, announcement.text_ru) == (
        "culture",
        LV_TEXT,
        RU_TEXT,
    )
    assert announcement.text_en is None and announcement.text("en") == LV_TEXT
    ledger = await tg.store._fetch(
        "SELECT key, chat_id, status, lane FROM outbox WHERE broadcast_id = 1 ORDER BY chat_id"
    )
    assert [tuple(row) for row in ledger] == [
        (f"broadcast:1:{user.id}", user.id, "sent", 1)
        for user in sorted((anna, boris), key=lambda user: user.id)
    ]
    report = lv("✅ Broadcast #{id} finished: {sent} of {n} delivered.").format(id=1, sent=2, n=2)
    assert tg.staff_chat.last_text == report


async def test_to_all_subscribers_everyone_once_and_nobody_else(tg: Harness) -> None:
    anna, boris, emma = await residents(tg)
    outsider = await tg.onboarded("Zane", language="Latviešu")  # subscribed to nothing
    carla = await tg.onboarded("Carla", language="Latviešu")
    await subscribe(carla, "lv", t("lv", "All themes"))
    await carla.block_bot()  # never counted, never sent to
    preview = await write_announcement(tg, lv("📢 All subscribers"), LV_TEXT, RU_TEXT, EN_TEXT)
    assert (
        lv("Subscribers who would get it: {n} (lv {lv}, ru {ru}, en {en}).").format(
            n=3, lv=1, ru=1, en=1
        )
        in preview.text
    )
    await specialist(tg).press(send_label(3), message=preview)
    await finish(tg)

    assert announcements(anna) == [as_read("lv", LV_TEXT)]
    assert announcements(boris) == [as_read("ru", RU_TEXT)]
    assert announcements(emma) == [as_read("en", EN_TEXT)]
    assert announcements(outsider) == [] and announcements(carla) == []
    announcement = await tg.store.broadcasts.announcement(1)
    assert announcement is not None and announcement.audience == ALL_THEMES

    # Without an English text, Emma reads the Latvian one under her own heading.
    preview = await write_announcement(tg, lv("📢 All subscribers"), "Otrais paziņojums.")
    assert (
        lv(
            "Those who read a language it has no text in get the Latvian text, under the heading "
            "in their language."
        )
        in preview.text
    )
    await specialist(tg).press(send_label(3), message=preview)
    await finish(tg)
    assert announcements(emma) == [as_read("en", EN_TEXT), as_read("en", "Otrais paziņojums.")]
    assert announcements(boris)[-1] == as_read("ru", "Otrais paziņojums.")

    # /stop still works: Boris hears nothing of the next one.
    await boris.send("/stop")
    preview = await write_announcement(tg, lv("📢 All subscribers"), "Trešais paziņojums.")
    await specialist(tg).press(send_label(2), message=preview)
    await finish(tg)
    assert len(announcements(boris)) == 2 and len(announcements(anna)) == 3


async def test_dont_send_sends_nothing(tg: Harness) -> None:
    anna, boris, emma = await residents(tg)
    preview = await write_announcement(tg, lv("📢 All subscribers"), LV_TEXT)
    send = preview.button(send_label(3))
    assert send is not None
    inese = specialist(tg)
    await inese.press(lv("❎ Don't send"), message=preview)
    assert inese.last_answer is not None and inese.last_answer.text == lv("Not sent.")
    # Send pressed afterwards on the old preview (or replayed): still nothing.
    await inese.press_forged(str(send["callback_data"]), message=preview)
    await finish(tg)
    assert [announcements(user) for user in (anna, boris, emma)] == [[], [], []]
    broadcast = await tg.store.broadcasts.broadcast(1)
    assert broadcast is not None and broadcast.status == "dropped"
    assert await tg.store._fetch("SELECT key FROM outbox WHERE broadcast_id = 1") == []


async def test_a_text_too_long_is_refused_and_the_flow_goes_on(tg: Harness) -> None:
    anna, boris, _ = await residents(tg)
    room = announcement_room(tg.app)
    assert 3900 < room < 4096
    inese = specialist(tg)
    await inese.send("/announce")
    await inese.press("Kultūra")
    too_long = lv(
        "This text has {n} characters; an announcement may have at most {max} (Telegram's "
        "limit for one message, less the heading and the last line). Nothing else is lost: "
        "please send a shorter text."
    )
    await inese.send("ā" * (room + 1))
    assert inese.last_text == too_long.format(n=room + 1, max=room)
    # Telegram counts an emoji outside the basic plane as two: so does the bot.
    await inese.send("🌳" * (room // 2 + 1))
    assert inese.last_text == too_long.format(n=2 * (room // 2 + 1), max=room)
    # The same step goes on, the theme still chosen; a text that just fits is taken.
    fits = ("Parki. " * 600)[: room - 1] + "!"
    await inese.send(fits)
    assert inese.last_text == lv(
        "The text in Russian (optional; without it Russian readers get the Latvian one):"
    )
    await inese.send("Я" * (room + 1))  # the Russian text is held to the same limit
    assert inese.last_text == too_long.format(n=room + 1, max=room)
    await inese.press(lv("Skip"))
    await inese.press(lv("Skip"))
    await inese.press(send_label(2))
    await finish(tg)
    [received] = announcements(anna)
    assert received == as_read("lv", fits) and len(received) <= 4096
    assert announcements(boris) == [as_read("ru", fits)]
    assert len(as_read("ru", fits)) <= 4096 and len(as_read("en", fits)) <= 4096


async def test_the_refusal_is_in_the_persons_language_in_a_private_chat(tg: Harness) -> None:
    from tests.conftest import ADMIN_ID

    ru = lambda message: t("ru", message)  # noqa: E731
    admin = await tg.onboarded("Inese", language="Русский", language_code="ru", user_id=ADMIN_ID)
    await admin.send("/announce")
    await admin.press("Культура")
    room = announcement_room(tg.app)
    await admin.send("a" * (room + 1))
    assert admin.last_text == ru(
        "This text has {n} characters; an announcement may have at most {max} "
        "(Telegram's limit for one message, less the heading and the last line). "
        "Nothing else is lost: please send a shorter text."
    ).format(n=room + 1, max=room)
    assert not admin.last_text.startswith("This text")  # in Russian, not the English source
    await admin.send("/cancel")
    assert admin.last_text == ru("Cancelled. Nothing was sent.")
    await admin.send("Текст после /cancel")  # no flow takes it any more
    russian_step = ru(
        "The text in Russian (optional; without it Russian readers get the Latvian one):"
    )
    assert all(m.text != russian_step for m in admin.messages)
    assert await tg.store.broadcasts.broadcast(1) is None


async def test_only_staff_can_start_an_announcement_or_send_it(tg: Harness) -> None:
    anna, boris, _ = await residents(tg)
    stranger = tg.fake.user("Svešinieks", language_code="lv").in_chat(tg.staff_chat)
    await stranger.send("/announce")
    assert tg.staff_chat.last_text == lv(REFUSED)
    shown = len(tg.staff_chat.messages)
    await stranger.send(LV_TEXT)  # no flow of theirs takes it: nothing is said to it
    assert len(tg.staff_chat.messages) == shown
    await anna.send("/announce")  # a resident in their own chat
    assert anna.last_text == lv(REFUSED)

    preview = await write_announcement(tg, "Kultūra", LV_TEXT)
    send = preview.button(send_label(2))
    assert send is not None
    await stranger.press(send_label(2), message=preview)
    assert stranger.last_answer is not None and stranger.last_answer.text == lv(REFUSED)
    await stranger.press(lv("❎ Don't send"), message=preview)
    await finish(tg)
    assert announcements(anna) == [] and announcements(boris) == []
    broadcast = await tg.store.broadcasts.broadcast(1)
    assert broadcast is not None and broadcast.status == "draft"
    # A specialist removed since starting a draft cannot go on with it.
    await specialist(tg).send("/addstaff 700700")
    marta = tg.fake.user("Marta", user_id=700700, language_code="lv").in_chat(tg.staff_chat)
    await marta.send("/announce")
    await marta.press("Kultūra")
    await specialist(tg).send("/removestaff 700700")
    shown = len(tg.staff_chat.messages)
    await marta.send("Martas teksts.")
    # Refused, and her draft went no further (no step for the Russian text).
    assert [m.text for m in tg.staff_chat.messages[shown:]] == [lv(REFUSED)]
    # The specialist's Send still works.
    await specialist(tg).press(send_label(2), message=preview)
    await finish(tg)
    assert announcements(anna) == [as_read("lv", LV_TEXT)]


async def test_a_crash_mid_announcement_duplicates_and_skips_nobody(tg: Harness) -> None:
    subscribers = []
    for number in range(40):
        user = await tg.onboarded(f"R{number}", language="Latviešu")
        await subscribe(user, "lv", "Kultūra")
        subscribers.append(user)
    preview = await write_announcement(tg, "Kultūra", LV_TEXT)
    tg.clock.advance(seconds=1)  # the replies above no longer take the outbox's rate
    deliver = tg.app.settle
    tg.app.settle = lambda: tg.app.outbox.deliver_due()  # type: ignore[assignment,method-assign,return-value]
    await specialist(tg).press(send_label(40), message=preview)
    tg.app.settle = deliver  # type: ignore[method-assign]
    left = (await tg.store.broadcasts.progress(1)).left
    assert 0 < left < 40  # the ledger is written; a part went before the process died
    await tg.crash_and_restart()
    await finish(tg)
    assert [announcements(user) for user in subscribers] == [[as_read("lv", LV_TEXT)]] * 40
    progress = await tg.store.broadcasts.progress(1)
    assert (progress.sent, progress.failed, progress.left) == (40, 0, 0)


async def test_staff_help_and_menu_name_announce(tg: Harness) -> None:
    staff_menu = dict(tg.fake.commands_for(scope={"type": "chat", "chat_id": tg.staff_chat.id}))
    assert "announce" in staff_menu
    await specialist(tg).send("/staffhelp")
    assert "/announce" in tg.staff_chat.last_text


async def test_an_older_database_keeps_its_meeting_broadcasts(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Migration 0012 rebuilds broadcasts (meeting_id may be NULL now): a database with a meeting
    broadcast and its ledger keeps them, its index and its foreign key."""
    older = tmp_path / "older"
    older.mkdir()
    for file in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if file.name < "0012":
            (older / file.name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "bot.sqlite3"
    store = Store(path, clock=clock)
    await store.open(older)
    async with store._write() as db:
        await db.execute(
            "INSERT INTO meetings (id, theme, starts_at, ends_at, description_lv, created_at,"
            " updated_at) VALUES (7, 'culture', 'a', 'b', 'Apraksts', 'c', 'c')"
        )
        await db.execute(
            "INSERT INTO broadcasts (id, meeting_id, kind, meeting_version, status, recipients,"
            " created_by, created_at) VALUES (3, 7, 'published', 1, 'sending', 1, 1, 'c')"
        )
        await db.execute(
            "INSERT INTO outbox (key, chat_id, method, payload, created_at, not_before, lane,"
            " broadcast_id) VALUES ('broadcast:3:5', 5, 'send_message', '{}', 'c', 'c', 1, 3)"
        )
    await store.close()

    store = Store(path, clock=clock)
    await store.open()
    try:
        broadcast = await store.broadcasts.broadcast(3)
        assert broadcast is not None
        assert (broadcast.meeting_id, broadcast.kind, broadcast.status) == (
            7,
            "published",
            "sending",
        )
        assert (await store.broadcasts.progress(3)).left == 1
        indexes = await store._fetch("SELECT name FROM sqlite_master WHERE tbl_name = 'broadcasts'")
        assert {row[0] for row in indexes} >= {"broadcasts", "broadcasts_by_status"}
        assert await store._fetch("PRAGMA foreign_key_check") == []
        # The next broadcast takes the next id; a meeting that does not exist is still refused,
        # and so is an announcement without its text.
        created = await store.broadcasts.offer_announcement("culture", {"lv": "Teksts"}, by=1)
        assert created.id == 4 and created.meeting_id is None
        for sql in (
            "INSERT INTO broadcasts (meeting_id, kind, meeting_version, created_by, created_at)"
            " VALUES (99, 'published', 1, 1, 'c')",
            "INSERT INTO broadcasts (kind, audience, created_by, created_at)"
            " VALUES ('announcement', '*', 1, 'c')",
        ):
            with pytest.raises(sqlite3.IntegrityError):
                async with store._write() as db:
                    await db.execute(sql)
    finally:
        await store.close()
