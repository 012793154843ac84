"""Posting to the staff chat (STAFF_CHAT_ID), into a forum topic where one is given — always
through the outbox, in the transaction of the change that causes the post, so a crash can lose
or repeat none of them and the group's 20-messages-a-minute limit never holds up a reply."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup

from bot.app import BotContext
from bot.i18n import STAFF_LANGUAGE, translator


def staff_text(context: BotContext, message: str) -> str:
    """A msgid (marked with N_) in the staff chat's language, whoever acts."""
    return translator(STAFF_LANGUAGE, context.settings.timezone).gettext(message)


async def post_to_staff(
    context: BotContext,
    key: str,
    text: str,
    *,
    buttons: InlineKeyboardMarkup | None = None,
    topic_id: int | None = None,
    reply_to_key: str | None = None,
    purpose: dict[str, Any] | None = None,
    parse_mode: str | None = None,
) -> bool:
    """Queues a post; False when no staff chat is configured (or the key was queued before).
    `reply_to_key` makes it a reply to the message another queued post became."""
    chat_id = context.settings.staff_chat_id
    if chat_id is None:
        return False
    payload: dict[str, Any] = {"text": text}
    if buttons is not None:
        payload["reply_markup"] = buttons.to_dict()
    if topic_id is not None:
        payload["message_thread_id"] = topic_id
    if parse_mode is not None:
        payload["parse_mode"] = parse_mode
    if reply_to_key is not None:
        payload["reply_to_message_id"] = {"$message_of": reply_to_key}
    return await context.store.outbox.enqueue(
        key, chat_id, "send_message", payload, purpose=purpose
    )
