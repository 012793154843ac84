"""Text helpers for Telegram's limits."""

from __future__ import annotations

import html
from typing import TypeAlias

from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

ReplyMarkup: TypeAlias = (
    InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply
)

MESSAGE_LIMIT = 4096  # characters in one message's text


def split_for_telegram(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Splits text into messages of at most `limit` characters, at paragraph, line or word ends
    where it can, so a long proposal shown back to its author arrives whole, in parts."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:  # no good break nearby: cut hard rather than send tiny parts
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


def escape(text: str) -> str:
    """Resident-written text made safe inside our HTML-formatted messages."""
    return html.escape(text, quote=False)


def shorten(text: str, length: int) -> str:
    """The first `length` characters of a one-line preview, with an ellipsis if cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


async def send_long(
    bot: Bot,
    chat_id: int,
    text: str,
    *,
    reply_markup: ReplyMarkup | None = None,
    parse_mode: str | None = None,
    message_thread_id: int | None = None,
    reply_to_message_id: int | None = None,
) -> Message:
    """Sends text of any length as consecutive messages, the buttons on the last one; returns
    the first (the one a reply to refers to)."""
    parts = split_for_telegram(text)
    first: Message | None = None
    for index, part in enumerate(parts):
        sent = await bot.send_message(
            chat_id,
            part,
            parse_mode=parse_mode,
            reply_markup=reply_markup if index == len(parts) - 1 else None,
            message_thread_id=message_thread_id,
            reply_to_message_id=reply_to_message_id if index == 0 else None,
            allow_sending_without_reply=True,
        )
        first = first or sent
    assert first is not None
    return first
