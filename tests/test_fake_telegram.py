"""The offline fake Telegram, driven by the real python-telegram-bot Application."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from fake_telegram import FakeTelegram, FakeTelegramRequest, serve
from fake_telegram.actors import DEFAULT_PHOTO

NOW = dt.datetime(2025, 5, 1, 9, 30, tzinfo=dt.UTC)
VOTE_KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Jā ✅", callback_data="vote:yes"),
            InlineKeyboardButton("Nē", callback_data="vote:no"),
        ],
        [InlineKeyboardButton("Vairāk", url="https://www.liepaja.lv")],
    ]
)
App = Application[Any, Any, Any, Any, Any, Any]
CSV = "Projekts;Balsis\nJūrmalas parks;42\n".encode()


# --- a tiny bot ----------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(
        "<b>Sveiki</b>, Liepāja &amp; jūra!", parse_mode=ParseMode.HTML, reply_markup=VOTE_KEYBOARD
    )


async def vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"Paldies: {query.data}")
    await query.edit_message_text(f"Jūs balsojāt: {query.data}")


async def too_long(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    try:
        await update.message.reply_text("x" * 5000)
    except BadRequest as exc:
        context.bot_data.setdefault("errors", []).append(exc)
        await update.message.reply_text("Ziņa par garu")


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_document(CSV, filename="atskaite.csv", caption="Atskaite")


async def phone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Dalīties ar numuru", request_contact=True)]])
    await update.message.reply_text("Lūdzu, dalieties ar numuru", reply_markup=keyboard)


async def got_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.contact is not None
    contact = update.message.contact
    await update.message.reply_text(f"Numurs {contact.phone_number}, lietotājs {contact.user_id}")


async def got_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.document is not None
    file = await update.message.document.get_file()
    content = await file.download_as_bytearray()
    await update.message.reply_text(
        f"Saņemts {update.message.document.file_name}: {len(content)} B"
    )


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def track_membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.my_chat_member is not None
    context.bot_data.setdefault("membership", []).append(
        update.my_chat_member.new_chat_member.status
    )


def add_handlers(application: App) -> None:
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("long", too_long))
    application.add_handler(CommandHandler("report", report))
    application.add_handler(CommandHandler("phone", phone))
    application.add_handler(CallbackQueryHandler(vote, pattern=r"^vote:"))
    application.add_handler(MessageHandler(filters.CONTACT, got_contact))
    application.add_handler(MessageHandler(filters.Document.ALL, got_document))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(ChatMemberHandler(track_membership, ChatMemberHandler.MY_CHAT_MEMBER))


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram(clock=lambda: NOW)


def build_app(fake: FakeTelegram) -> App:
    return (
        ApplicationBuilder()
        .token(fake.token)
        .request(FakeTelegramRequest(fake))
        .get_updates_request(FakeTelegramRequest(fake))
        .build()
    )


@pytest.fixture
async def app(fake: FakeTelegram) -> AsyncIterator[App]:
    application = build_app(fake)
    add_handlers(application)
    await application.initialize()
    fake.deliver_to(application)  # synchronous: user actions return the bot's replies
    yield application
    await application.shutdown()


# --- in-process ----------------------------------------------------------------------------


async def test_text_message_gets_echoed(fake: FakeTelegram, app: App) -> None:
    anna = fake.user("Anna")

    replies = await anna.send("Labdien, 123")

    assert [m.text for m in replies] == ["Labdien, 123"]
    assert replies[0].date == NOW and replies[0].from_bot
    assert anna.last_text == "Labdien, 123"
    assert fake.calls[0].method == "getMe"
    assert fake.calls_to("sendMessage")[-1] == {"chat_id": anna.id, "text": "Labdien, 123"}
    assert "Anna: Labdien, 123\nbot: Labdien, 123" in anna.transcript()


async def test_html_is_rendered_and_button_press_edits_in_place(
    fake: FakeTelegram,
    app: App,
) -> None:
    anna = fake.user("Anna")

    [greeting] = await anna.send("/start")
    assert greeting.text == "Sveiki, Liepāja & jūra!"
    assert greeting.html == "<b>Sveiki</b>, Liepāja &amp; jūra!"
    assert anna.buttons() == [["Jā ✅", "Nē"], ["Vairāk"]]

    replies = await anna.press("Jā ✅")

    assert replies == [greeting]  # the edit updated the same FakeMessage
    assert greeting.text == "Jūs balsojāt: vote:yes"
    assert greeting.edits == ["Sveiki, Liepāja & jūra!"]
    assert greeting.buttons == []  # edit without reply_markup drops the keyboard
    assert anna.last_answer is not None and anna.last_answer.text == "Paldies: vote:yes"
    assert fake.unanswered_callback_queries() == []
    assert len(anna.messages) == 1


async def test_pressing_a_missing_button_lists_what_is_visible(
    fake: FakeTelegram,
    app: App,
) -> None:
    anna = fake.user("Anna")
    await anna.send("/start")
    with pytest.raises(AssertionError, match=r"(?s)no inline button labelled 'Varbūt'.*Jā ✅"):
        await anna.press("Varbūt")
    with pytest.raises(AssertionError, match="not a callback button"):
        await anna.press("Vairāk")


async def test_too_long_message_raises_bad_request_in_handler(
    fake: FakeTelegram,
    app: App,
) -> None:
    anna = fake.user("Anna")
    replies = await anna.send("/long")
    assert [m.text for m in replies] == ["Ziņa par garu"]
    [error] = app.bot_data["errors"]
    assert str(error) == "Message is too long"


async def test_realistic_validation_errors(fake: FakeTelegram, app: App) -> None:
    anna = fake.user("Anna")
    bot = app.bot
    message = await bot.send_message(anna.id, "Teksts")
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Teksts", chat_id=anna.id, message_id=message.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("Cits", chat_id=anna.id, message_id=999)
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        long_data = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="ā" * 33)]])
        await bot.send_message(anna.id, "x", reply_markup=long_data)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(anna.id, "  ")
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br"'):
        await bot.send_message(anna.id, "a<br>b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="reserved"):
        await bot.send_message(anna.id, "Cena: 5.00", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(42, "x")
    assert await bot.delete_message(anna.id, message.message_id)
    assert fake.bot_messages(anna.id) == []


async def test_injected_failures_surface_as_ptb_exceptions(
    fake: FakeTelegram,
    app: App,
) -> None:
    anna = fake.user("Anna")
    bot = app.bot

    fake.fail_next("sendMessage", kind="429", retry_after=7)
    with pytest.raises(RetryAfter) as rate_limited:
        await bot.send_message(anna.id, "x")
    assert rate_limited.value.retry_after in (7, dt.timedelta(seconds=7))

    fake.fail_next(kind="403", chat_id=anna.id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(anna.id, "x")

    fake.fail_next("SENDMESSAGE", kind="timeout")  # method names are case-insensitive
    with pytest.raises(TimedOut):
        await bot.send_message(anna.id, "x")

    fake.fail_next(kind="500")
    with pytest.raises(NetworkError):
        await bot.send_chat_action(anna.id, "typing")

    fake.fail_next("sendMessage", kind="network", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(anna.id, "x")

    await bot.send_message(anna.id, "beidzot")  # the rules were consumed
    assert [m.text for m in anna.messages] == ["beidzot"]


async def test_blocked_user(fake: FakeTelegram, app: App) -> None:
    anna = fake.user("Anna")
    await anna.block_bot()
    assert app.bot_data["membership"] == ["kicked"]
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await app.bot.send_message(anna.id, "Vai esat tur?")
    # Writing to the bot again unblocks it.
    await anna.send("Atkal te")
    assert app.bot_data["membership"] == ["kicked", "member"]
    assert anna.last_text == "Atkal te"


async def test_documents_round_trip(fake: FakeTelegram, app: App) -> None:
    anna = fake.user("Anna")

    [reply] = await anna.send("/report")
    assert reply.document is not None
    assert (reply.document.filename, reply.document.mime_type) == ("atskaite.csv", "text/csv")
    assert reply.document.content == CSV
    assert reply.caption == "Atskaite"
    # The bot can download what it sent: getFile + file URL through the same transport.
    file = await app.bot.get_file(reply.document.file_id)
    assert bytes(await file.download_as_bytearray()) == CSV

    [ack] = await anna.send_document("iesniegums.pdf", b"%PDF-1.4 hello")
    assert ack.text == "Saņemts iesniegums.pdf: 14 B"


async def test_media_group_uses_attach_uris(fake: FakeTelegram, app: App) -> None:
    anna = fake.user("Anna")
    sent = await app.bot.send_media_group(
        anna.id,
        [InputMediaPhoto(DEFAULT_PHOTO, caption="Pirms"), InputMediaPhoto(DEFAULT_PHOTO)],
    )
    assert len(sent) == 2 and sent[0].media_group_id == sent[1].media_group_id
    assert sent[0].photo[-1].width == 4 and sent[0].caption == "Pirms"
    media = fake.calls_to("sendMediaGroup")[0]["media"]
    assert media[0]["media"].startswith("attach://")
    assert [m.photo.content for m in anna.messages if m.photo] == [DEFAULT_PHOTO] * 2


async def test_contact_via_reply_keyboard(fake: FakeTelegram, app: App) -> None:
    anna = fake.user("Anna")
    await anna.send("/phone")
    assert anna.reply_keyboard() == [["Dalīties ar numuru"]]

    [reply] = await anna.tap("Dalīties ar numuru")

    assert reply.text == f"Numurs {anna.phone_number}, lietotājs {anna.id}"


async def test_forum_group_replies_stay_in_topic(fake: FakeTelegram, app: App) -> None:
    group = fake.group("Liepājas iedzīvotāji", forum=True)
    anna = group.as_user(fake.user("Anna"))

    [reply] = await anna.send("Sveiki visiem", thread_id=7)

    assert reply.chat_id == group.id and reply.message_thread_id == 7
    assert group.last_text == "Sveiki visiem"


async def test_commands_are_recorded(fake: FakeTelegram, app: App) -> None:
    await app.bot.set_my_commands([("start", "Sākt")], language_code="lv")
    assert fake.commands_for(language_code="lv") == [("start", "Sākt")]
    assert [c.command for c in await app.bot.get_my_commands(language_code="lv")] == ["start"]
    assert await app.bot.get_my_commands() == ()


async def test_every_user_action_is_a_valid_update(fake: FakeTelegram, app: App) -> None:
    updates: list[Update] = []

    async def parse_only(data: dict[str, Any]) -> None:
        updates.append(Update.de_json(data, app.bot))

    fake.deliver = parse_only
    anna = fake.user("Anna", username="anna_lv", last_name="Bērziņa")
    await anna.send("/start ieteikums-42")
    await anna.send_photo("Bedre ielā")
    await anna.send_voice(duration=4)
    await anna.send_sticker()
    await anna.send_location(56.5047, 21.0108)
    await anna.send_contact()
    await anna.reply_to(anna.all_messages[0], "Papildinājums")
    await anna.edit(anna.all_messages[0], "/start labots")
    await anna.block_bot()

    messages = [u.message for u in updates if u.message]
    assert [e.type for e in messages[0].entities] == ["bot_command"]
    assert messages[1].photo[-1].width == 4 and messages[1].caption == "Bedre ielā"
    assert messages[2].voice is not None and messages[3].sticker is not None
    assert messages[4].location is not None and messages[4].location.latitude == 56.5047
    assert messages[5].contact is not None and messages[5].contact.user_id == anna.id
    assert messages[6].reply_to_message is not None
    assert updates[-2].edited_message is not None
    assert updates[-2].edited_message.text == "/start labots"
    assert updates[-1].my_chat_member is not None
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)
    # The bot can fetch what users sent.
    photo = await app.bot.get_file(messages[1].photo[-1].file_id)
    assert bytes(await photo.download_as_bytearray()) == DEFAULT_PHOTO


async def test_polling_in_process(fake: FakeTelegram) -> None:
    application = build_app(fake)
    add_handlers(application)
    anna = fake.user("Anna")
    async with application:
        await application.updater.start_polling(poll_interval=0)  # type: ignore[union-attr]
        await application.start()
        await anna.send("Vai dzirdat?")
        [reply] = await anna.wait_for_reply()
        assert reply.text == "Vai dzirdat?"
        await application.updater.stop()  # type: ignore[union-attr]
        await application.stop()
    assert fake.pending_updates == []  # the final getUpdates confirmed everything


# --- over HTTP -----------------------------------------------------------------------------


async def test_polling_over_http(fake: FakeTelegram) -> None:
    server = await serve(fake)
    application = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    add_handlers(application)
    anna = fake.user("Anna")
    try:
        await application.initialize()
        await application.updater.start_polling(poll_interval=0)  # type: ignore[union-attr]
        await application.start()

        await anna.send("Labrīt no HTTP")
        [reply] = await anna.wait_for_reply()
        assert reply.text == "Labrīt no HTTP"

        # Polling: actions return at once; the bot downloads the file over HTTP, then replies.
        assert await anna.send_document("pieteikums.txt", "Sveiki, domē!".encode()) == []
        [ack] = await anna.wait_for_reply()
        assert ack.text == "Saņemts pieteikums.txt: 14 B"

        await anna.send("/report")
        [document] = await anna.wait_for_reply()
        assert document.document is not None and document.document.content == CSV

        fake.fail_next("sendMessage", kind="timeout")
        with pytest.raises(TimedOut):
            await application.bot.send_message(anna.id, "x", read_timeout=0.2)
        fake.fail_next("sendMessage", kind="network")
        with pytest.raises(NetworkError):
            await application.bot.send_message(anna.id, "x")
        fake.fail_next("sendMessage", kind="429", retry_after=2)
        with pytest.raises(RetryAfter):
            await application.bot.send_message(anna.id, "x")
    finally:
        await application.updater.stop()  # type: ignore[union-attr]
        await application.stop()
        await application.shutdown()
        await server.close()


# --- packaging -----------------------------------------------------------------------------


def test_the_fake_needs_nothing_from_the_bot() -> None:
    # fake_telegram is its own package: importing it (and its HTTP server) must not pull in
    # the bot's core or its handlers.
    code = (
        "import sys, fake_telegram, fake_telegram.http, fake_telegram.transport\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('bot', 'handlers'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
