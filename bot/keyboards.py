"""Keyboard pieces more than one flow uses."""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup


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


def inline_keyboard(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    """The rows as an inline keyboard, or None when there are none: an empty keyboard is sent
    as `{}`, which Telegram refuses ("can't parse reply keyboard markup")."""
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None
