"""The global error handler: the traceback goes to the log, a polite sentence to the person."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.app import BotContext
from handlers.middleware import resolve_language

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    # Only ids reach the log: the update itself carries what residents wrote.
    where = ""
    if isinstance(update, Update):
        chat = update.effective_chat.id if update.effective_chat else None
        where = f" (update {update.update_id}, chat {chat})"
    if isinstance(context.error, Forbidden):
        log.info("Telegram refused a send%s: %s", where, context.error)
        return
    log.error("error while handling an update%s", where, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    # PTB builds a fresh context for the error handler: the language must be looked up again.
    await resolve_language(update, context)
    _ = context.gettext
    if update.callback_query:
        # Stops the button's spinner; fails harmlessly if the handler answered already.
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            _(
                "Sorry, something went wrong on our side. What you sent earlier is safe. "
                "Please try again, or send /cancel to start over."
            ),
        )
    except TelegramError:
        log.warning("could not tell chat %s about the error", update.effective_chat.id)
