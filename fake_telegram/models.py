"""Plain data kept by the fake Telegram for test assertions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

__all__ = [
    "ApiCall",
    "CallbackAnswer",
    "FakeFile",
    "FakeMessage",
    "command_entities",
    "inline_labels",
    "reply_labels",
]


class ApiCall(NamedTuple):
    """One Bot API call as the fake received it (params already decoded)."""

    method: str
    params: dict[str, Any]


@dataclass(eq=False)
class FakeFile:
    """A file known to the fake: uploaded by the bot or sent by a user."""

    file_id: str
    file_unique_id: str
    kind: str  # "document" | "photo" | "voice" | "sticker" | "video" | "audio" | ...
    filename: str | None
    mime_type: str | None
    content: bytes
    file_path: str
    width: int | None = None
    height: int | None = None
    duration: int | None = None
    url: str | None = None  # set when the bot sent the file by HTTP URL
    emoji: str | None = None  # stickers

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(eq=False)
class CallbackAnswer:
    """An ``answerCallbackQuery`` call."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None = None
    cache_time: int | None = None
    user_id: int | None = None
    chat_id: int | None = None


def command_entities(text: str) -> list[dict[str, Any]]:
    """A bot_command entity at offset 0, as Telegram clients attach to "/command args"."""
    if not text.startswith("/") or len(text) < 2:
        return []
    command = text.split(maxsplit=1)[0]
    # Entity offsets/lengths are in UTF-16 code units.
    return [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]


def inline_labels(markup: dict[str, Any] | None) -> list[list[str]]:
    """Visible labels of an InlineKeyboardMarkup dict (``[]`` for anything else)."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [[str(button.get("text", "")) for button in row] for row in markup["inline_keyboard"]]


def reply_labels(markup: dict[str, Any] | None) -> list[list[str]]:
    """Visible labels of a ReplyKeyboardMarkup dict (``[]`` for anything else)."""
    if not markup or "keyboard" not in markup:
        return []
    return [
        [button if isinstance(button, str) else str(button.get("text", "")) for button in row]
        for row in markup["keyboard"]
    ]


@dataclass(eq=False)
class FakeMessage:
    """A message in a chat, sent by the bot (``from_bot``) or by a user.

    ``text``/``caption`` hold the plain text as a Telegram client displays it (markup removed,
    entities unescaped); ``html``/``caption_html`` hold the raw string the bot sent. Edits update
    the object in place and push the previous text onto ``edits``.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    date: datetime
    sender_id: int
    text: str | None = None
    html: str | None = None
    parse_mode: str | None = None
    caption: str | None = None
    caption_html: str | None = None
    reply_markup: dict[str, Any] | None = None
    document: FakeFile | None = None
    photo: FakeFile | None = None
    voice: FakeFile | None = None
    sticker: FakeFile | None = None
    video: FakeFile | None = None
    audio: FakeFile | None = None
    venue: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    message_thread_id: int | None = None
    reply_to_message_id: int | None = None
    media_group_id: str | None = None
    forward_origin: dict[str, Any] | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    edits: list[str | None] = field(default_factory=list)
    edit_date: datetime | None = None
    deleted: bool = False

    @property
    def content(self) -> str | None:
        """The text, or the caption for media messages."""
        return self.text if self.text is not None else self.caption

    @property
    def buttons(self) -> list[list[str]]:
        """Labels of the inline keyboard, row by row."""
        return inline_labels(self.reply_markup)

    @property
    def reply_keyboard(self) -> list[list[str]]:
        """Labels of the reply keyboard this message carried, row by row."""
        return reply_labels(self.reply_markup)

    def button(self, label: str) -> dict[str, Any] | None:
        """The inline button dict with exactly this visible label, if any."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return None
        for row in self.reply_markup["inline_keyboard"]:
            for button in row:
                if button.get("text") == label:
                    return button
        return None

    def callback_data(self, label: str) -> str | None:
        """The callback_data of the button labelled ``label``."""
        button = self.button(label)
        return None if button is None else button.get("callback_data")

    def describe(self) -> str:
        """A one-line human description of the content (for transcripts and errors)."""
        parts: list[str] = []
        if self.text is not None:
            parts.append(self.text)
        for kind in ("document", "photo", "voice", "sticker", "video", "audio"):
            file = getattr(self, kind)
            if file is not None:
                name = f" {file.filename}" if file.filename and kind == "document" else ""
                parts.append(f"[{kind}{name}]")
        if self.caption is not None:
            parts.append(self.caption)
        if self.venue is not None:
            parts.append(f"[venue {self.venue.get('title')}, {self.venue.get('address')}]")
        elif self.location is not None:
            parts.append(f"[location {self.location['latitude']}, {self.location['longitude']}]")
        if self.contact is not None:
            parts.append(f"[contact {self.contact.get('phone_number')}]")
        if self.forward_origin is not None:
            parts.insert(0, "[forwarded]")
        return " ".join(parts) if parts else "[message]"
