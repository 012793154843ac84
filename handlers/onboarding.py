"""Onboarding: /start, the language choice, the privacy notice, /help and the main menu.

Stateless on purpose: every button here works whenever it is pressed, also on a message from
before a restart, so none of it needs a ConversationHandler.
"""

from __future__ import annotations

import contextlib
import re

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.app import BotContext, resident_of_this_update
from bot.callbacks import Buttons, button_args
from bot.config import LANGUAGES
from bot.i18n import LANGUAGE_NAMES, N_, negotiate, translator
from handlers.commands import command_menu
from handlers.menu import MenuEntry, main_menu

LANGUAGE_BUTTONS = Buttons("lang:", audience="resident")
LANGUAGE_ENTRY = MenuEntry(N_("🌐 Language"), "language")
HELP_ENTRY = MenuEntry(N_("❓ Help"), "help")
DEEP_LINK_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PENDING_PAYLOAD = "start_payload"  # user_data key: a deep link waiting for the language choice


async def show_main_menu(update: Update, context: BotContext) -> None:
    _ = context.gettext
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(
            chat.id, _("What would you like to do?"), reply_markup=main_menu(context)
        )


def language_picker(context: BotContext, suggested: str) -> InlineKeyboardMarkup:
    """The three languages, each named in itself; the suggested one first and ticked."""
    order = [suggested, *(lang for lang in LANGUAGES if lang != suggested)]
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    ("✅ " if lang == suggested else "") + LANGUAGE_NAMES[lang],
                    callback_data=LANGUAGE_BUTTONS.data(lang),
                )
            ]
            for lang in order
        ]
    )


def language_question(context: BotContext) -> str:
    # Asked before we know the language, so in all three; Latvian, the state language, first.
    return " · ".join(
        translator(lang, context.settings.timezone).gettext("Please choose your language")
        for lang in LANGUAGES
    )


async def start(update: Update, context: BotContext) -> None:
    """Greets the resident; on first contact asks for the language before anything else."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    if context.args and DEEP_LINK_PAYLOAD.match(context.args[0]):
        # Kept (persisted) until the resident has chosen a language; see deep_link_offer().
        context.user_data[PENDING_PAYLOAD] = context.args[0]
    # Met at the start of this update (nothing changed it since); read only if not.
    resident = resident_of_this_update() or await context.store.residents.resident(user.id)
    if resident is None or resident.language is None:
        await message.reply_text(
            language_question(context),
            reply_markup=language_picker(context, negotiate(user.language_code)),
        )
        return
    await welcome(update, context, first_time=not resident.privacy_shown)


async def choose_language(update: Update, context: BotContext) -> None:
    """Shows the language picker (/language or the menu's Language button)."""
    chat = update.effective_chat
    if update.callback_query:
        await update.callback_query.answer()
    if chat is not None:
        await context.bot.send_message(
            chat.id,
            language_question(context),
            reply_markup=language_picker(context, context.language),
        )


async def language_chosen(update: Update, context: BotContext) -> None:
    """Stores the chosen language, confirms it in that language, then welcomes or shows the menu."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    (language,) = button_args(context)
    if language not in LANGUAGES:
        await query.answer()
        return
    await context.store.residents.set_language(user.id, language)
    _ = context.use_language(language).gettext
    await query.answer()
    await query.edit_message_text(
        _("Language: {language}").format(language=LANGUAGE_NAMES[language])
    )
    await set_chat_commands(context, user.id)
    # Whether the privacy notice was shown: the language just set does not change that.
    resident = resident_of_this_update() or await context.store.residents.resident(user.id)
    await welcome(update, context, first_time=resident is None or not resident.privacy_shown)


async def set_chat_commands(context: BotContext, chat_id: int) -> None:
    """The command menu in the resident's chosen language (Telegram's own pick follows the app's
    interface language, which for Latvian speakers is seldom Latvian)."""
    commands = [BotCommand(name, text) for name, text in command_menu(context.tr)]
    with contextlib.suppress(TelegramError):  # a convenience; the language is stored already
        await context.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))


async def welcome(update: Update, context: BotContext, *, first_time: bool) -> None:
    """The welcome (with the short privacy notice the first time), the menu, then any deep link."""
    _ = context.gettext
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    municipality = context.municipality
    lang = context.language
    if first_time:
        await context.bot.send_message(
            chat.id,
            _(
                "Welcome! Here you can take part in the {programme}: send proposals to its "
                "working groups and follow each one to the Development Office's answer."
            ).format(programme=municipality.programme(lang)),
        )
        await context.bot.send_message(chat.id, short_privacy_notice(context))
        await context.store.residents.record_privacy_shown(user.id)
    await show_main_menu(update, context)
    await deep_link_offer(update, context)


async def deep_link_offer(update: Update, context: BotContext) -> None:
    """A /start payload from a poster or QR code (a theme) becomes a button to act on it."""
    from handlers.submitting import BUTTONS as proposal_buttons  # it imports this module

    payload = context.user_data.pop(PENDING_PAYLOAD, None)
    chat = update.effective_chat
    theme = context.municipality.theme(payload) if payload else None
    if theme is None or chat is None:
        return
    _ = context.gettext
    await context.bot.send_message(
        chat.id,
        _("You followed a link for the theme “{theme}”.").format(
            theme=theme.name(context.language)
        ),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("📝 Submit a proposal on this theme"),
                        callback_data=proposal_buttons.data("theme", theme.slug),
                    )
                ]
            ]
        ),
    )


def short_privacy_notice(context: BotContext) -> str:
    _ = context.gettext
    municipality = context.municipality
    return _(
        "Privacy in short: {controller} processes what you send here to handle your proposals "
        "and bookings. It is kept for {months} months after your last message. Messages pass "
        "through Telegram's servers. Full notice: /privacy. A copy of your data: /mydata; to "
        "have it deleted: /forget"
    ).format(controller=municipality.name(context.language), months=municipality.retention_months)


async def privacy(update: Update, context: BotContext) -> None:
    """The full privacy notice."""
    _ = context.gettext
    municipality = context.municipality
    lang = context.language
    text = _(
        "<b>How your data is used</b>\n\n"
        "<b>Controller:</b> {controller}; the work is done by the {office}. "
        "Contact: {email}.\n\n"
        "<b>Purposes:</b> receiving and answering your proposals, opinions and comments for the "
        "{programme}; booking meetings with the Development Office; sending you the working "
        "groups' meeting schedules if you ask for them.\n\n"
        "<b>Legal basis:</b> a task carried out in the public interest (GDPR Art. 6(1)(e)). "
        "Being contacted back and subscriptions are optional and based on your consent, which "
        "you can withdraw at any time.\n\n"
        "<b>What is kept:</b> your Telegram id, chosen language, the messages you exchange with "
        "this bot, your proposals and bookings, and contact details only if you give them.\n\n"
        "<b>Who sees it:</b> the Development Office staff and the working group of the chosen "
        "theme. Proposals may be summarised in the programme without your name.\n\n"
        "<b>Retention:</b> {months} months after your last message, then deleted.\n\n"
        "<b>Telegram:</b> messages pass through Telegram's servers and are subject to "
        "Telegram's own privacy policy.\n\n"
        "<b>Your rights:</b> access, correction, erasure, restriction and objection. /mydata "
        "sends you a copy of everything this bot holds about you; /forget deletes it (your "
        "proposals stay, anonymous). For anything else write to {email}; we answer within one "
        "month. You may also complain to the Data State "
        "Inspectorate (www.dvi.gov.lv)."
    ).format(
        controller=municipality.name(lang),
        office=municipality.office(lang),
        email=municipality.email,
        programme=municipality.programme(lang),
        months=municipality.retention_months,
    )
    if update.callback_query:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, text, parse_mode=ParseMode.HTML)


async def help_command(update: Update, context: BotContext) -> None:
    """What the bot does, its commands, and how else to reach the office."""
    _ = context.gettext
    municipality = context.municipality
    lang = context.language
    commands = "\n".join(f"/{name} — {text}" for name, text in command_menu(context.tr))
    text = _(
        "This bot takes your proposals, opinions and comments for the {programme} to its "
        "working groups and brings you the office's answers.\n\n"
        "{commands}\n\n"
        "You can also write to {email} or hand in a proposal at the {reception}, {address}. "
        "More: {website}"
    ).format(
        programme=municipality.programme(lang),
        commands=commands,
        email=municipality.email,
        reception=municipality.reception_venue.name(lang),
        address=municipality.reception_venue.address,
        website=municipality.website,
    )
    if update.callback_query:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, text, reply_markup=main_menu(context))


async def menu_command(update: Update, context: BotContext) -> None:
    """/menu: the main menu again."""
    await show_main_menu(update, context)


async def myid(update: Update, context: BotContext) -> None:
    """Tells a person their Telegram id (an admin needs it to add them as a specialist)."""
    _ = context.gettext
    if update.effective_user and update.effective_message:
        await update.effective_message.reply_text(
            _("Your Telegram id is {id}.").format(id=update.effective_user.id)
        )


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", start, filters=private),
        CommandHandler("menu", menu_command, filters=private),
        CommandHandler("language", choose_language, filters=private),
        CommandHandler("privacy", privacy, filters=private),
        CommandHandler("help", help_command, filters=private),
        CommandHandler("myid", myid),
        LANGUAGE_BUTTONS.on("{word}", language_chosen),
        CallbackQueryHandler(choose_language, pattern=LANGUAGE_ENTRY.pattern),
        CallbackQueryHandler(help_command, pattern=HELP_ENTRY.pattern),
    ]
