"""Last in the handler list: whatever no flow took gets a short answer in the person's language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.app import BotContext
from handlers.menu import main_menu
from handlers.onboarding import show_main_menu


async def cancel_outside_flow(update: Update, context: BotContext) -> None:
    """/cancel with nothing going on."""
    _ = context.gettext
    if update.effective_message:
        await update.effective_message.reply_text(
            _("There is nothing to cancel."), reply_markup=main_menu(context)
        )


async def unknown_command(update: Update, context: BotContext) -> None:
    _ = context.gettext
    if update.effective_message:
        await update.effective_message.reply_text(
            _("I don't know that command. /help lists what I can do."),
            reply_markup=main_menu(context),
        )


async def unexpected_text(update: Update, context: BotContext) -> None:
    """Free text outside any flow: point to the menu rather than guess what was meant."""
    _ = context.gettext
    if update.effective_message:
        await update.effective_message.reply_text(
            _(
                "To send this to the Development Office as a proposal, choose "
                "“Submit a proposal” first. What would you like to do?"
            ),
            reply_markup=main_menu(context),
        )


async def unexpected_content(update: Update, context: BotContext) -> None:
    """A sticker, voice message, photo, location … outside any flow."""
    _ = context.gettext
    if update.effective_message:
        await update.effective_message.reply_text(
            _(
                "I can't use this here. Photos, documents, voice messages and locations can be "
                "attached to a proposal — start one from the menu."
            ),
            reply_markup=main_menu(context),
        )


async def stale_button(update: Update, context: BotContext) -> None:
    """A button from an old message, a finished flow or before a restart."""
    _ = context.gettext
    query = update.callback_query
    if query is None:
        return
    await query.answer(_("This button is no longer active."), show_alert=False)
    if query.message is not None and query.message.chat.type == "private":
        await show_main_menu(update, context)


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("cancel", cancel_outside_flow, filters=private),
        MessageHandler(private & filters.COMMAND, unknown_command),
        MessageHandler(private & filters.TEXT, unexpected_text),
        MessageHandler(private & ~filters.StatusUpdate.ALL, unexpected_content),
        CallbackQueryHandler(stale_button),
    ]
