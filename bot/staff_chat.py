"""Posting staff work to the staff chat (STAFF_CHAT_ID), into a forum topic where one is given."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Message
from telegram.error import TelegramError

from bot.app import BotContext

log = logging.getLogger(__name__)


async def post_to_staff(
    context: BotContext,
    text: str,
    *,
    buttons: InlineKeyboardMarkup | None = None,
    topic_id: int | None = None,
) -> Message | None:
    """Posts to the staff chat; None when no staff chat is configured or Telegram refused."""
    chat_id = context.settings.staff_chat_id
    if chat_id is None:
        return None
    try:
        return await context.bot.send_message(
            chat_id, text, reply_markup=buttons, message_thread_id=topic_id
        )
    except TelegramError as error:
        # Staff can still find the work with /proposals; the resident's action stands.
        log.warning("could not post to the staff chat %s: %s", chat_id, error)
        return None
