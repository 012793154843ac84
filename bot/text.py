"""Text helpers for Telegram's limits."""

from __future__ import annotations

import html
import re
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


_HTML_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z-]+)")


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Splits Telegram-HTML into parts of at most `limit` visible characters, each valid on its
    own: never inside a tag or an entity (`&lt;`), and tags open at a cut are closed before it
    and opened again after it. Cuts at paragraph, line or word ends where it can."""
    parts: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (name, opening tag) of the tags open here
    current: list[str] = []
    visible = 0

    def cut() -> None:
        nonlocal current, visible
        closing = "".join(f"</{name}>" for name, _ in reversed(open_tags))
        parts.append(("".join(current)).rstrip() + closing)
        current = [tag for _, tag in open_tags]
        visible = 0

    for match in _HTML_TOKEN.finditer(text):
        token = match.group()
        if token.startswith("<") and len(token) > 1:
            name_match = _TAG_NAME.match(token)
            name = name_match.group(1).lower() if name_match else ""
            if token.startswith("</"):
                for index in range(len(open_tags) - 1, -1, -1):
                    if open_tags[index][0] == name:
                        del open_tags[index]
                        break
            elif not token.endswith("/>"):
                open_tags.append((name, token))
            current.append(token)
            continue
        if token.startswith("&") and len(token) > 1:  # an entity is one visible character
            if visible + 1 > limit:
                cut()
            current.append(token)
            visible += 1
            continue
        rest = token
        while visible + len(rest) > limit:
            room = limit - visible
            window = rest[:room]
            at = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
            if at <= 0 and visible >= limit // 2:
                cut()  # a good break is before this piece of text: cut there
                continue
            if at < room // 2:
                at = room  # no good break nearby: cut hard rather than send tiny parts
            current.append(rest[:at])
            cut()
            rest = rest[at:].lstrip()
        current.append(rest)
        visible += len(rest)
    if current or not parts:
        parts.append("".join(current))
    return [part for part in parts if part.strip()] or [""]


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
    the first (the one a reply to refers to). HTML is split where its markup allows."""
    parts = split_html(text) if parse_mode == "HTML" else split_for_telegram(text)
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
