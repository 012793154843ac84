"""What the real Bot API accepts: limits, error texts, parameter decoding, markup checks."""

from __future__ import annotations

import contextlib
import json
import struct
from typing import Any
from urllib.parse import urlsplit

from .formatting import EntityParseError, render

__all__ = [
    "ApiError",
    "as_bool",
    "as_float",
    "as_int",
    "check_markup",
    "decode_params",
    "image_size",
    "optional_int",
    "render_text",
]

# Limits of the real Bot API.
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

# Error descriptions exactly as Telegram words them.
TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
MARKUP_TOO_LONG = "Bad Request: reply markup is too long"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
CHAT_NOT_FOUND = "Bad Request: chat not found"
BLOCKED = "Forbidden: bot was blocked by the user"
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"

# Parameters whose value is free text (or a file id / URL) and must never be JSON-decoded:
# PTB sends str values raw, so a text of "123" or "true" would otherwise turn into a number.
TEXT_FIELDS = frozenset(
    {
        "text",
        "caption",
        "title",
        "address",
        "description",
        "short_description",
        "name",
        "parse_mode",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "file_name",
        "file_id",
        "callback_query_id",
        "inline_message_id",
        "url",
        "action",
        "emoji",
        "question",
        "explanation",
        "language_code",
        "secret_token",
        "ip_address",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "business_connection_id",
        "message_effect_id",
        "document",
        "photo",
        "video",
        "audio",
        "voice",
        "animation",
        "sticker",
        "video_note",
        "thumbnail",
    }
)

INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class ApiError(Exception):
    """A Bot API error response (``{"ok": false, ...}``)."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


# Parameter values as the Bot API reads them (form fields arrive as strings).


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def as_int(params: dict[str, Any], name: str) -> int:
    value = params.get(name)
    if value is None or value == "":
        raise ApiError(400, f"Bad Request: {name} is empty")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def as_float(params: dict[str, Any], name: str) -> float:
    value = params.get(name)
    if value is None or value == "":
        raise ApiError(400, f"Bad Request: {name} is empty")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def optional_int(params: dict[str, Any], name: str) -> int | None:
    return None if params.get(name) in (None, "") else as_int(params, name)


def decode_params(params: dict[str, Any]) -> dict[str, Any]:
    """Decode form fields the way the Bot API does: JSON for everything but free text."""
    decoded: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str) and key not in TEXT_FIELDS:
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        decoded[key] = value
    return decoded


def render_text(raw: str, parse_mode: Any) -> str:
    """Plain text of a message text/caption, or a 400 "can't parse entities" ApiError."""
    try:
        plain = render(raw, str(parse_mode) if parse_mode else None)
    except EntityParseError as exc:
        raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    # Telegram trims leading/trailing whitespace of message texts and captions.
    return plain.strip()


def check_markup(markup: Any) -> dict[str, Any] | None:
    """Validate a decoded reply_markup like Telegram does; returns it (or None if absent)."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array of Arrays')
        count = 0
        for row in rows:
            for button in row:
                count += 1
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                actions = [key for key in INLINE_ACTIONS if key in button]
                if not actions:
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                if len(actions) > 1:
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: "
                        "exactly one of the optional fields must be used",
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                    if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                        raise ApiError(400, BUTTON_DATA_INVALID)
                if "url" in button:
                    url = str(button["url"])
                    if urlsplit(url).scheme not in ("http", "https", "tg"):
                        raise ApiError(
                            400,
                            f"Bad Request: inline keyboard button URL '{url}' is invalid: "
                            "Wrong HTTP URL",
                        )
        if count > MAX_INLINE_BUTTONS:
            raise ApiError(400, MARKUP_TOO_LONG)
        return markup
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, 'Bad Request: field "keyboard" must be an Array of Arrays')
        for row in rows:
            for button in row:
                text = button if isinstance(button, str) else (button or {}).get("text")
                if not text:
                    raise ApiError(400, "Bad Request: keyboard button text is empty")
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")


def image_size(content: bytes) -> tuple[int, int]:
    """Best-effort width/height of PNG or JPEG bytes (640x480 when unknown)."""
    if content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return width, height
    if content[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(content):
            if content[i] != 0xFF:
                i += 1
                continue
            marker = content[i + 1]
            length = struct.unpack(">H", content[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", content[i + 5 : i + 9])
                return width, height
            i += 2 + length
    return 640, 480
