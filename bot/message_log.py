"""The message log: every update in and every message out, recorded in one place.

Inbound updates are recorded by `BotApplication.process_update` (`inbound_entry`), before
any handler runs. Outbound messages are recorded below the Bot, in the transport: `LoggedRequest`
wraps whatever request object the bot uses, so messages sent by handlers, jobs and the error
handler alike are caught, and no handler has to remember to log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.store import Store

log = logging.getLogger(__name__)

# Bot API methods whose result is a message the resident sees (lower-case, as the URL ends).
_OUTBOUND_KINDS = {
    "sendmessage": "text",
    "editmessagetext": "edit",
    "editmessagecaption": "edit",
    "editmessagereplymarkup": "edit_buttons",
    "senddocument": "document",
    "sendphoto": "photo",
    "sendvenue": "venue",
    "sendlocation": "location",
    "sendcontact": "contact",
    "copymessage": "copy",
    "forwardmessage": "forward",
}

OutboundSink = Callable[[str, dict[str, Any]], Awaitable[None]]
Outbound = tuple[str, dict[str, Any]]

# Set while the outbox sender sends one row: what it sends is logged in the transaction that
# settles the row (one commit for both), not on its own.
_held: ContextVar[list[Outbound] | None] = ContextVar("held_outbound", default=None)


@contextmanager
def holding_outbound(held: list[Outbound]) -> Iterator[None]:
    """Messages sent inside are collected in `held` for `record_held` instead of logged."""
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)


class ForwardingRequest(BaseRequest):
    """A transport around another: `forward` makes the call on it. Subclasses look at what goes
    by (this module's logging, the update journal in bot/app.py)."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        return await self.forward(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )

    async def forward(
        self, url: str, method: str, request_data: RequestData | None, **timeouts: Any
    ) -> tuple[int, bytes]:
        return await self.inner.do_request(url, method, request_data, **timeouts)


class LoggedRequest(ForwardingRequest):
    """A transport that hands every sent or edited message to a sink after Telegram accepted it."""

    def __init__(self, inner: BaseRequest) -> None:
        super().__init__(inner)
        self.sink: OutboundSink | None = None
        # Around every message-sending call: the shared rate budget (bot/outbox.py).
        self.sending: Callable[[str], AbstractAsyncContextManager[None]] | None = None

    async def forward(
        self, url: str, method: str, request_data: RequestData | None, **timeouts: Any
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        budget = (
            self.sending(name)
            if self.sending is not None and _sends_a_message(name.lower())
            else nullcontext()
        )
        async with budget:
            code, payload = await super().forward(url, method, request_data, **timeouts)
        method = name.lower()
        if code == 400 and _already_done(method, payload):
            # Handling an update again after a crash repeats its calls: a press answered
            # before (or over 15 minutes ago) cannot be answered again, and an edit made
            # before changes nothing — as does one for a double tap, which shows what is shown
            # already. None of these is an error, for any caller (flows and outbox alike).
            return 200, b'{"ok": true, "result": true}'
        kind = _OUTBOUND_KINDS.get(method)
        if kind and code == 200 and self.sink is not None:
            try:
                result = json.loads(payload)["result"]
                if isinstance(result, dict):
                    await self.sink(kind, result)
            except Exception:
                # The message reached the resident; a failed log write must not turn that into
                # an error (the handler might retry and send it twice).
                log.exception("could not log an outbound message")
        return code, payload


def _sends_a_message(method: str) -> bool:
    """What Telegram counts against its overall limit: new messages, not chat actions."""
    if method == "sendchataction":
        return False
    return method.startswith("send") or method in ("copymessage", "forwardmessage")


def _already_done(method: str, payload: bytes) -> bool:
    try:
        description = str(json.loads(payload).get("description", "")).lower()
    except (ValueError, AttributeError):
        return False
    if method == "answercallbackquery":
        return "query is too old" in description or "query id is invalid" in description
    return method.startswith("editmessage") and "message is not modified" in description


async def record_outbound(store: Store, kind: str, message: dict[str, Any]) -> None:
    """Records one message the bot sent or edited, as Telegram returned it: with the open unit
    of work (an update's), or held for the outbox's settle (see `holding_outbound`), or at
    once."""
    held = _held.get()
    if held is not None:
        held.append((kind, message))
        return
    await _log_outbound(store, kind, message)


async def record_held(store: Store, held: list[Outbound]) -> None:
    for kind, message in held:
        await _log_outbound(store, kind, message)


async def _log_outbound(store: Store, kind: str, message: dict[str, Any]) -> None:
    details: dict[str, Any] = {}
    if markup := message.get("reply_markup"):
        details["buttons"] = [
            [button.get("text") for button in row] for row in markup.get("inline_keyboard", [])
        ]
    if document := message.get("document"):
        details["document"] = {k: document.get(k) for k in ("file_name", "mime_type", "file_id")}
    if venue := message.get("venue"):
        details["venue"] = {"title": venue.get("title"), "address": venue.get("address")}
    if location := message.get("location"):
        details["location"] = location
    await store.messages.log_message(
        direction="out",
        kind=kind,
        chat_id=message.get("chat", {}).get("id"),
        message_id=message.get("message_id"),
        text=message.get("text") or message.get("caption"),
        details=details,
    )


def inbound_entry(update: Update) -> dict[str, Any]:
    """The message log's record of one inbound update: what the person sent or pressed, with
    media metadata (`Store.log_message`'s arguments)."""
    chat_id = update.effective_chat.id if update.effective_chat else None
    user_id = update.effective_user.id if update.effective_user else None
    kind, text, details = describe(update)
    message = update.effective_message
    return {
        "direction": "in",
        "kind": kind,
        "chat_id": chat_id,
        "user_id": user_id,
        "message_id": message.message_id if message else None,
        "update_id": update.update_id,
        "text": text,
        "details": details,
    }


def describe(update: Update) -> tuple[str, str | None, dict[str, Any]]:
    """(kind, text, metadata) of an update, for the log."""
    if query := update.callback_query:
        return "callback", None, {"data": query.data}
    if member := update.my_chat_member:
        return "membership", None, {"status": member.new_chat_member.status}
    message = update.message or update.edited_message
    if message is None:
        return "other", None, {}
    edited = update.edited_message is not None
    details: dict[str, Any] = {"edited": True} if edited else {}
    if message.is_topic_message:
        details["thread_id"] = message.message_thread_id
    if message.reply_to_message:
        details["reply_to"] = message.reply_to_message.message_id
    if message.photo:
        biggest = message.photo[-1]
        details["photo"] = {
            "file_id": biggest.file_id,
            "width": biggest.width,
            "height": biggest.height,
            "file_size": biggest.file_size,
        }
        return "photo", message.caption, details
    if document := message.document:
        details["document"] = {
            "file_id": document.file_id,
            "file_name": document.file_name,
            "mime_type": document.mime_type,
            "file_size": document.file_size,
        }
        return "document", message.caption, details
    if voice := message.voice:
        details["voice"] = {
            "file_id": voice.file_id,
            "duration": _seconds(voice.duration),
            "mime_type": voice.mime_type,
        }
        return "voice", None, details
    if location := message.location:
        details["location"] = {"latitude": location.latitude, "longitude": location.longitude}
        return "location", None, details
    if contact := message.contact:
        sender = message.from_user.id if message.from_user else None
        if contact.user_id is not None and contact.user_id == sender:
            details["contact"] = {
                "own": True,
                "phone_number": contact.phone_number,
                "user_id": contact.user_id,
            }
        else:
            # Someone else's card, which the bot refuses (residents share only their own number):
            # the log keeps that one was sent, and nothing of that person.
            details["contact"] = {"own": False}
        return "contact", None, details
    if sticker := message.sticker:
        details["sticker"] = {"emoji": sticker.emoji, "file_id": sticker.file_id}
        return "sticker", None, details
    if message.text is not None:
        kind = "command" if message.text.startswith("/") else "text"
        return ("edit" if edited else kind), message.text, details
    return "other", message.caption, details


def _seconds(duration: int | timedelta | None) -> int | None:
    """A duration as whole seconds for the JSON log: PTB gives a timedelta (bot/__init__.py opts
    in to PTB_TIMEDELTA) or, if an operator turned that off, an int."""
    if isinstance(duration, timedelta):
        return round(duration.total_seconds())
    return duration
