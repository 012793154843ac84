"""`/announce`: the office's own text to the subscribers of working-group meetings — who it is
for → the text in Latvian → Russian and English, each optional → a preview as residents will
read it and how many it would reach, by language → "Send" or "Don't send".

It goes through the meetings' broadcast engine (handlers/meeting_notices.py): Send writes the
ledger before the first copy goes, each resident gets it once, at the outbox's rate, a restart
resumes it, and the progress message (with Stop) ends in a report.

Who it is for: one theme's subscribers — with those subscribed to all themes, as for the theme's
meetings — or "All subscribers", everyone subscribed to any theme or to all. Residents known to
have blocked the bot are never counted. Rights are checked on every step when it happens.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.app import BotContext
from bot.auth import staff_only
from bot.callbacks import Buttons, button_args
from bot.config import LANGUAGES
from bot.i18n import N_, translator
from bot.store.meetings import ALL_THEMES
from handlers import broadcast_desk
from handlers.broadcast_desk import confirm_keyboard, reach_line
from handlers.flows import end_flows
from handlers.meeting_notices import (
    announcement_room,
    announcement_text,
    keyboard,
    say,
    telegram_length,
    theme_name,
)
from handlers.meetings_desk import expected

NAME = "announce_desk"
BUTTONS = Buttons("an:", audience="staff")
AUDIENCE, LV, RU, EN = "audience", "lv", "ru", "en"
END = ConversationHandler.END
State = str | int
ALL = "all"  # "All subscribers" in buttons
DRAFT = "announcement_draft"  # user_data: {"audience", "lv", "ru", "en"}

PROMPTS = {
    LV: N_(
        "The announcement in Latvian (required, at most {max} characters). It goes as plain "
        "text, under the heading and with a line on how to unsubscribe:"
    ),
    RU: N_("The text in Russian (optional; without it Russian readers get the Latvian one):"),
    EN: N_("The text in English (optional; without it English readers get the Latvian one):"),
}
NEXT = {LV: RU, RU: EN}


def _draft(context: BotContext) -> dict[str, Any]:
    draft = context.user_data.get(DRAFT)
    return draft if isinstance(draft, dict) else {}


def _audience_name(context: BotContext, audience: str) -> str:
    if audience == ALL_THEMES:
        return context.gettext("All subscribers")
    return theme_name(context.app, context.language, audience)


@staff_only
async def announce(update: Update, context: BotContext) -> State:
    """/announce: a new draft; asks who it is for."""
    end_flows(update, context.application, keep=NAME)
    context.user_data[DRAFT] = {}
    return await ask_audience(update, context)


async def ask_audience(update: Update, context: BotContext) -> State:
    _ = context.gettext
    rows = [[(_("📢 All subscribers"), BUTTONS.data("to", ALL))]]
    rows += [
        [(theme.name(context.language), BUTTONS.data("to", theme.slug))]
        for theme in context.municipality.themes
    ]
    rows.append([(_("✖️ Cancel"), BUTTONS.data("quit"))])
    await say(
        update,
        context,
        _(
            "An announcement to the subscribers of working-group meetings. Who is it for: one "
            "theme's subscribers (with those subscribed to all themes), or all subscribers?"
        ),
        keyboard(*rows),
    )
    return AUDIENCE


async def audience_chosen(update: Update, context: BotContext) -> State:
    """Stores who it is for and asks for the Latvian text."""
    word = button_args(context)[0]
    audience = ALL_THEMES if word == ALL else word
    if audience != ALL_THEMES and context.municipality.theme(audience) is None:
        if update.callback_query:  # a theme the municipality file no longer has
            await update.callback_query.answer(context.gettext("This button is no longer active."))
        return AUDIENCE
    context.user_data[DRAFT] = {"audience": audience}
    return await ask_text(update, context, LV)


async def ask_text(update: Update, context: BotContext, step: str) -> State:
    _ = context.gettext
    rows = [[(_("Skip"), BUTTONS.data("skip"))]] if step != LV else []
    rows.append([(_("✖️ Cancel"), BUTTONS.data("quit"))])
    prompt = _(PROMPTS[step]).format(max=announcement_room(context.app))
    await say(update, context, prompt, keyboard(*rows))
    return step


def _text_step(step: str) -> Any:
    async def received(update: Update, context: BotContext) -> State:
        """Stores the text in this step's language (if it fits) and asks for the next."""
        message = update.effective_message
        assert message is not None
        text = (message.text or "").strip()
        room = announcement_room(context.app)
        if not text:
            return await ask_text(update, context, step)
        if telegram_length(text) > room:
            await message.reply_text(
                context.gettext(
                    "This text has {n} characters; an announcement may have at most {max} "
                    "(Telegram's limit for one message, less the heading and the last line). "
                    "Nothing else is lost: please send a shorter text."
                ).format(n=telegram_length(text), max=room)
            )
            return step
        context.user_data[DRAFT] = {**_draft(context), step: text}
        return await _next(update, context, step)

    async def skipped(update: Update, context: BotContext) -> State:
        """Russian or English left out: those readers get the Latvian text."""
        context.user_data[DRAFT] = {**_draft(context), step: None}
        return await _next(update, context, step)

    return received, skipped


async def _next(update: Update, context: BotContext, step: str) -> State:
    if not _draft(context).get("audience"):  # the draft's data is gone: start over
        return await ask_audience(update, context)
    following = NEXT.get(step)
    if following is None:
        return await show_preview(update, context)
    return await ask_text(update, context, following)


async def show_preview(update: Update, context: BotContext) -> State:
    """Saves the announcement as a draft and shows it as residents will read it, in each
    language written, with who it would reach and Send / Don't send."""
    _ = context.gettext
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    draft = _draft(context)
    texts: dict[str, str | None] = {language: draft.get(language) for language in LANGUAGES}
    if not texts[LV]:
        return await ask_text(update, context, LV)
    audience = str(draft["audience"])
    counts = await context.store.broadcasts.recipients_by_language(audience)
    announcement = await context.store.broadcasts.offer_announcement(audience, texts, by=user.id)
    context.user_data.pop(DRAFT, None)
    await say(
        update,
        context,
        _("Please check the announcement. Subscribers will read it like this:"),
    )
    for language in LANGUAGES:
        if texts[language]:
            reader = translator(language, context.settings.timezone)
            await context.bot.send_message(chat.id, announcement_text(reader, str(texts[language])))
    lines = [
        _("To: {audience}.").format(audience=_audience_name(context, audience)),
        reach_line(context, counts),
    ]
    if not (texts[RU] and texts[EN]):
        lines.append(
            _(
                "Those who read a language it has no text in get the Latvian text, under the "
                "heading in their language."
            )
        )
    await context.bot.send_message(
        chat.id,
        "\n".join(lines),
        reply_markup=confirm_keyboard(context, BUTTONS, announcement.id, counts),
    )
    return END


async def quit_draft(update: Update, context: BotContext) -> State:
    context.user_data.pop(DRAFT, None)
    await say(update, context, context.gettext("Cancelled. Nothing was sent."))
    return END


def handlers() -> list[BaseHandler]:
    on = BUTTONS.on
    text = filters.TEXT & ~filters.COMMAND
    anything = ~filters.COMMAND & ~filters.StatusUpdate.ALL
    # Every step checks rights when it runs (a specialist removed mid-draft cannot go on with
    # it); only quitting is left open to anyone, so nobody is stuck in the flow.
    guarded = staff_only
    steps: dict[object, list[BaseHandler]] = {}
    for step in (LV, RU, EN):
        received, skipped = _text_step(step)
        steps[step] = [MessageHandler(text, guarded(received))]
        if step != LV:
            steps[step].append(on("skip", guarded(skipped)))
        steps[step].append(MessageHandler(anything, guarded(expected)))
    return [
        ConversationHandler(
            name=NAME,
            persistent=True,
            allow_reentry=True,
            entry_points=[CommandHandler("announce", announce)],
            states={
                AUDIENCE: [
                    on("to:{word}", guarded(audience_chosen)),
                    MessageHandler(anything, guarded(expected)),
                ],
                **steps,
            },
            fallbacks=[on("quit", quit_draft), CommandHandler("cancel", quit_draft)],
        ),
        # The preview's Send and Don't send: the same as under a meeting's broadcast.
        on("send:{id}", broadcast_desk.send),
        on("drop:{id}", broadcast_desk.drop),
    ]
