"""Keyboard pieces more than one flow uses."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, Update
from telegram.ext import CallbackQueryHandler


def paging_row(
    *,
    page: int,
    total: int,
    page_size: int,
    previous_label: str,
    next_label: str,
    data_for: Callable[[int], str],
) -> list[InlineKeyboardButton]:
    """◀️/▶️ buttons for a paged list (empty when everything fits on one page)."""
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(previous_label, callback_data=data_for(page - 1)))
    if (page + 1) * page_size < total:
        row.append(InlineKeyboardButton(next_label, callback_data=data_for(page + 1)))
    return row


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


ButtonCallback = Callable[[Update, Any], Coroutine[Any, Any, Any]]


def button_router(prefix: str) -> Callable[[str, ButtonCallback], CallbackQueryHandler[Any, Any]]:
    """`on = button_router("mine:")`, then `on(r"open:\\d+", open_one)`: a handler for the
    buttons of one flow whose whole callback data matches prefix + pattern."""

    def on(pattern: str, callback: ButtonCallback) -> CallbackQueryHandler[Any, Any]:
        return CallbackQueryHandler(callback, pattern=f"^{re.escape(prefix)}{pattern}$")

    return on
