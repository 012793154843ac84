"""Callback data: the one place where buttons' data is declared and parsed, with bounds.

Each flow declares its prefix once (`BUTTONS = Buttons("mine:", audience="resident")`); no two
flows may share one. Patterns name their arguments with placeholders — `{id}` is a number of at
most 12 digits, `{word}` a short lower-case word — so data that does not fit (a forged
`mine:open:99999999999999999999999`) matches no handler and gets the stale-button answer. The
data never authorises anything: staff handlers check rights when pressed, residents' handlers
check the proposal is theirs. A button's audience keeps residents' buttons out of the staff
chat (see handlers/middleware.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from telegram import Update
from telegram.ext import CallbackContext, CallbackQueryHandler

ID = r"(\d{1,12})"
WORD = r"([a-z][a-z0-9_]{0,31})"
DATA_LIMIT = 64  # bytes, Telegram's limit

Audience = Literal["resident", "staff"]
ButtonCallback = Callable[[Update, Any], Coroutine[Any, Any, Any]]

_AUDIENCES: dict[str, Audience] = {}


@dataclass(frozen=True)
class Buttons:
    """The buttons of one flow: its prefix, who they are for, their handlers and their data."""

    prefix: str
    audience: Audience

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z]{1,8}:", self.prefix):
            raise ValueError(f"a prefix is a short word and a colon, not {self.prefix!r}")
        if _AUDIENCES.setdefault(self.prefix, self.audience) != self.audience or any(
            other != self.prefix and other.startswith(self.prefix) for other in _AUDIENCES
        ):
            raise ValueError(f"callback prefix {self.prefix!r} is declared twice")

    def on(self, pattern: str, callback: ButtonCallback) -> CallbackQueryHandler[Any, Any]:
        """A handler for this flow's buttons whose whole data is prefix + pattern."""
        regex = re.escape(self.prefix) + pattern.format(id=ID, word=WORD)
        return CallbackQueryHandler(callback, pattern=f"^{regex}$")

    def data(self, *parts: object) -> str:
        """The data of one button: the prefix and the parts, joined by colons."""
        data = self.prefix + ":".join(str(part) for part in parts)
        if len(data.encode()) > DATA_LIMIT:
            raise ValueError(f"callback data over {DATA_LIMIT} bytes: {data!r}")
        return data


def button_args(context: CallbackContext[Any, Any, Any, Any]) -> tuple[str, ...]:
    """The placeholders' values of the pressed button, in order (numbers as digit strings)."""
    match = context.matches[0] if context.matches else None
    return tuple(match.groups()) if match else ()


def button_id(context: CallbackContext[Any, Any, Any, Any], index: int = 0) -> int:
    """The `index`-th `{id}` of the pressed button; the pattern has bounded it."""
    return int(button_args(context)[index])


def audience_of(data: str | None) -> Audience | None:
    """Whom a button with this data is for; None for data no flow declared."""
    prefix = (data or "").split(":", 1)[0] + ":"
    return _AUDIENCES.get(prefix)
