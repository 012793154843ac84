"""The main menu: each flow owns its entry (label and callback data) and the handler for it;
handlers/__init__.py lists the entries in menu order. A flow that is not built has no entry —
a resident never presses into a wall."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import BotContext
from bot.callbacks import Buttons

BUTTONS = Buttons("menu:", audience="resident")


@dataclass(frozen=True)
class MenuEntry:
    label: str  # a msgid marked with N_, shown in the person's language
    key: str  # the entry's callback data is "menu:<key>"

    @property
    def pattern(self) -> str:
        return f"^{BUTTONS.data(self.key)}$"


def main_menu(context: BotContext) -> InlineKeyboardMarkup:
    """The main menu in the person's language: one entry per row, thumbs are short."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    context.gettext(entry.label), callback_data=BUTTONS.data(entry.key)
                )
            ]
            for entry in context.app.menu
        ]
    )
