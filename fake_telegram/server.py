"""In-memory fake of the Telegram Bot API (state + method implementations, no transport).

``FakeTelegram.call(method, params, files)`` is what both transports (in-process
``FakeTelegramRequest`` and the aiohttp server in ``http.py``) end up calling. Users and
groups are simulated with ``FakeTelegram.user()`` / ``FakeTelegram.group()``; the updates they
produce are handed to ``FakeTelegram.deliver`` (by default: the getUpdates queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import mimetypes
import posixpath
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from .actors import FakeGroup, FakeUser
from .models import (
    ApiCall,
    CallbackAnswer,
    FakeFile,
    FakeMessage,
    command_entities,
    inline_labels,
    reply_labels,
)
from .rules import (
    BLOCKED,
    CAPTION_TOO_LONG,
    CHAT_NOT_FOUND,
    DELETE_NOT_FOUND,
    EDIT_NOT_FOUND,
    MAX_CALLBACK_ANSWER,
    MAX_CAPTION,
    MAX_TEXT,
    MAX_UPLOAD_BYTES,
    NOT_MODIFIED,
    QUERY_INVALID,
    TEXT_EMPTY,
    TEXT_TOO_LONG,
    ApiError,
    check_markup,
    decode_params,
    image_size,
    render_text,
)

if TYPE_CHECKING:
    from telegram.ext import Application

__all__ = [
    "ApiError",
    "Deliver",
    "FailureKind",
    "FakeTelegram",
    "SimulatedNetworkError",
    "SimulatedTimeout",
    "decode_params",
]

_LOGGER = logging.getLogger(__name__)

FailureKind = Literal["429", "403", "400", "timeout", "500", "network"]
Deliver = Callable[[dict[str, Any]], Awaitable[None]]
FileTuple = tuple[str, bytes, str]
_Handler = Callable[[dict[str, Any], dict[str, FileTuple]], Awaitable[Any]]

_FILE_FOLDERS = {
    "photo": "photos",
    "document": "documents",
    "voice": "voice",
    "sticker": "stickers",
    "video": "videos",
    "audio": "music",
}
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_DEFAULT_UPDATES_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class SimulatedTimeout(Exception):
    """Raised by ``FakeTelegram.call``; transports turn it into a client-side timeout."""


class SimulatedNetworkError(Exception):
    """Raised by ``FakeTelegram.call``; transports turn it into a dropped connection."""


@dataclass
class _FailRule:
    method: str | None  # lower-case; None = any method except getUpdates
    kind: FailureKind
    retry_after: int
    times: int
    chat_id: int | None
    description: str | None


@dataclass
class _CallbackQuery:
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


@dataclass(eq=False)
class _Chat:
    """Internal per-chat state."""

    id: int
    type: str  # "private" | "group" | "supergroup"
    title: str | None = None
    user: dict[str, Any] | None = None  # the other party of a private chat
    is_forum: bool = False
    username: str | None = None
    messages: list[FakeMessage] = field(default_factory=list)
    by_id: dict[int, FakeMessage] = field(default_factory=dict)
    next_message_id: int = 1
    blocked: bool = False  # private chats: the user blocked the bot
    started: bool = True  # private chats: the user has ever written to the bot
    bot_is_member: bool = True  # groups
    reply_keyboard: dict[str, Any] | None = None
    member_status: dict[int, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def api(self) -> dict[str, Any]:
        if self.type == "private":
            assert self.user is not None
            chat = {"id": self.id, "type": "private", "first_name": self.user["first_name"]}
            for key in ("last_name", "username"):
                if self.user.get(key):
                    chat[key] = self.user[key]
            return chat
        chat = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            chat["username"] = self.username
        if self.is_forum:
            chat["is_forum"] = True
        return chat

    def live(self, message_id: int | None) -> FakeMessage | None:
        message = self.by_id.get(message_id) if message_id is not None else None
        return None if message is None or message.deleted else message

    def add(self, message: FakeMessage) -> None:
        self.messages.append(message)
        self.by_id[message.message_id] = message


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _as_int(params: dict[str, Any], name: str) -> int:
    value = params.get(name)
    if value is None or value == "":
        raise ApiError(400, f"Bad Request: {name} is empty")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def _as_float(params: dict[str, Any], name: str) -> float:
    value = params.get(name)
    if value is None or value == "":
        raise ApiError(400, f"Bad Request: {name} is empty")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def _optional_int(params: dict[str, Any], name: str) -> int | None:
    return None if params.get(name) in (None, "") else _as_int(params, name)


class FakeTelegram:
    """The fake Bot API: chats, messages, files, updates, error injection."""

    def __init__(
        self,
        *,
        bot_username: str = "liepaja_demo_bot",
        bot_first_name: str = "Liepāja",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.bot_id = 123456789
        self.token = f"{self.bot_id}:FAKE-token-for-offline-use"
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        # Where user actions go. Default: the getUpdates queue (polling / HTTP mode).
        self.deliver: Deliver = self._enqueue_update

        # State kept for assertions.
        self.calls: list[ApiCall] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.bot_settings: dict[tuple[str, str], str] = {}
        self.webhook: dict[str, Any] | None = None
        self.logged_out = False
        self.files: dict[str, FakeFile] = {}

        self._files_by_path: dict[str, FakeFile] = {}
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._failures: list[_FailRule] = []
        self._callback_queries: dict[str, _CallbackQuery] = {}
        self._update_ids = itertools.count(1)
        self._user_ids = itertools.count(100_000_001)
        self._group_ids = itertools.count(1)
        self._file_seq = itertools.count(1)
        self._query_seq = itertools.count(1)
        self._media_group_seq = itertools.count(1)
        self._pending: list[dict[str, Any]] = []
        self._allowed_updates: list[str] | None = None
        # Conditions are created here but bind to the running loop lazily on first use.
        self._updates_cond = asyncio.Condition()
        self._activity = asyncio.Condition()
        # Every bot message sent or edited, in order; FakeUser reads "replies" from it.
        self._events: list[FakeMessage] = []

        handlers: dict[str, _Handler] = {
            "getMe": self._get_me,
            "logOut": self._log_out,
            "close": self._close,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "setMyDescription": self._bot_setting("description"),
            "getMyDescription": self._bot_setting("description", get=True),
            "setMyShortDescription": self._bot_setting("short_description"),
            "getMyShortDescription": self._bot_setting("short_description", get=True),
            "setMyName": self._bot_setting("name"),
            "getMyName": self._bot_setting("name", get=True),
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_media("document"),
            "sendPhoto": self._send_media("photo"),
            "sendVideo": self._send_media("video"),
            "sendAudio": self._send_media("audio"),
            "sendVoice": self._send_media("voice"),
            "sendSticker": self._send_media("sticker"),
            "sendMediaGroup": self._send_media_group,
            "sendVenue": self._send_venue,
            "sendLocation": self._send_location,
            "sendContact": self._send_contact,
            "sendChatAction": self._send_chat_action,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "leaveChat": self._leave_chat,
            "getFile": self._get_file,
        }
        self._methods: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler) for name, handler in handlers.items()
        }

    # ------------------------------------------------------------------ entry point

    async def call(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, FileTuple] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Execute one Bot API method; returns (HTTP status, JSON body)."""
        files = files or {}
        decoded = decode_params(params)
        known = self._methods.get(method.lower())
        recorded = dict(decoded)
        for name, (filename, content, _mime) in files.items():
            recorded.setdefault(name, f"<file {filename} ({len(content)} bytes)>")
        self.calls.append(ApiCall(known[0] if known else method, recorded))
        if known is None:
            # Real Telegram says 404 here, but PTB maps 404 to InvalidToken: 400 is clearer.
            return 400, ApiError(400, f"Bad Request: method {method!r} not found").body()
        canonical, handler = known
        rule = self._take_failure(canonical, decoded)
        if rule is not None:
            return self._failure_response(rule)
        try:
            result = await handler(decoded, files)
        except ApiError as exc:
            return exc.status, exc.body()
        except Exception as exc:
            # A bug in the fake (or wildly malformed input): make it loud, not a silent retry.
            _LOGGER.exception("FakeTelegram failed on %s", canonical)
            return 500, ApiError(500, f"Internal Server Error: FakeTelegram: {exc!r}").body()
        return 200, {"ok": True, "result": result}

    # ------------------------------------------------------------------ error injection

    def fail_next(
        self,
        method: str | None = None,
        *,
        kind: FailureKind,
        retry_after: int = 3,
        times: int = 1,
        chat_id: int | None = None,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` matching calls fail.

        ``method=None`` matches any method except getUpdates (a running poller would otherwise
        swallow the failure). ``kind``: "429" (with ``parameters.retry_after``), "403", "400",
        "500", "timeout" (PTB raises TimedOut; the call is not executed) or "network" (dropped
        connection, PTB raises NetworkError).
        """
        if kind == "429" and retry_after < 1:
            # PTB only raises RetryAfter for a truthy retry_after; 0 becomes a plain error.
            raise ValueError("retry_after must be at least 1 second")
        self._failures.append(
            _FailRule(
                method=method.lower() if method else None,
                kind=kind,
                retry_after=retry_after,
                times=times,
                chat_id=chat_id,
                description=description,
            )
        )

    def _take_failure(self, method: str, params: dict[str, Any]) -> _FailRule | None:
        for rule in self._failures:
            if rule.method is None and method == "getUpdates":
                continue
            if rule.method is not None and rule.method != method.lower():
                continue
            if rule.chat_id is not None and str(params.get("chat_id")) != str(rule.chat_id):
                continue
            rule.times -= 1
            if rule.times <= 0:
                self._failures.remove(rule)
            return rule
        return None

    @staticmethod
    def _failure_response(rule: _FailRule) -> tuple[int, dict[str, Any]]:
        if rule.kind == "timeout":
            raise SimulatedTimeout(rule.description or "simulated timeout")
        if rule.kind == "network":
            raise SimulatedNetworkError(rule.description or "simulated connection drop")
        if rule.kind == "429":
            error = ApiError(
                429,
                rule.description or f"Too Many Requests: retry after {rule.retry_after}",
                {"retry_after": rule.retry_after},
            )
        elif rule.kind == "403":
            error = ApiError(403, rule.description or BLOCKED)
        elif rule.kind == "400":
            error = ApiError(400, rule.description or "Bad Request: injected failure")
        else:
            error = ApiError(500, rule.description or "Internal Server Error")
        return error.status, error.body()

    # ------------------------------------------------------------------ actors

    def user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "lv",
        username: str | None = None,
        last_name: str | None = None,
        phone_number: str | None = None,
        started: bool = True,
    ) -> FakeUser:
        """Create a user with a private chat with the bot (ids are assigned in order).

        ``started=False`` simulates a user who never wrote to the bot: sends to them fail with
        403 until they send something.
        """
        if user_id is None:
            user_id = next(self._user_ids)
            while user_id in self._users:
                user_id = next(self._user_ids)
        api: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            api["last_name"] = last_name
        if username:
            api["username"] = username
        if language_code:
            api["language_code"] = language_code
        self._users[user_id] = api
        if user_id not in self._chats:
            self._chats[user_id] = _Chat(
                id=user_id, type="private", user=api, username=username, started=started
            )
        else:
            self._chats[user_id].user = api
        phone = phone_number or f"+3712{user_id % 10_000_000:07d}"
        return FakeUser(self, api, chat_id=user_id, phone_number=phone)

    def group(
        self,
        title: str,
        *,
        chat_id: int | None = None,
        forum: bool = False,
        username: str | None = None,
    ) -> FakeGroup:
        """Create a supergroup (a forum if ``forum``) in which the bot is a member."""
        if chat_id is None:
            chat_id = -1_001_000_000_000 - next(self._group_ids)
        self._chats[chat_id] = _Chat(
            id=chat_id, type="supergroup", title=title, is_forum=forum, username=username
        )
        return FakeGroup(self, chat_id, title, forum=forum)

    def deliver_to(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Feed updates straight into ``application.process_update`` (synchronous delivery)."""
        # Imported lazily so that the fake state itself does not depend on PTB.
        from telegram import Update

        async def deliver(update: dict[str, Any]) -> None:
            await application.process_update(Update.de_json(update, application.bot))

        self.deliver = deliver

    async def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: sends fail with 403; a my_chat_member update is emitted."""
        chat = self._private_chat(user_id)
        if not chat.blocked:
            chat.blocked = True
            chat.log.append(f"{chat.user and chat.user['first_name']} blocked the bot")
            await self._emit_my_chat_member(chat, user_id, "member", "kicked")

    async def unblock_bot(self, user_id: int) -> None:
        """The user unblocks the bot (emits my_chat_member kicked -> member)."""
        chat = self._private_chat(user_id)
        if chat.blocked:
            chat.blocked = False
            chat.log.append(f"{chat.user and chat.user['first_name']} unblocked the bot")
            await self._emit_my_chat_member(chat, user_id, "kicked", "member")

    # ------------------------------------------------------------------ assertions helpers

    def chat_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[FakeMessage]:
        """All messages (user and bot) of a chat, oldest first."""
        return [m for m in self._chat(chat_id).messages if include_deleted or not m.deleted]

    def bot_messages(self, chat_id: int | None = None) -> list[FakeMessage]:
        """Live bot messages in one chat, or in all chats (in send order)."""
        if chat_id is not None:
            return [m for m in self._chat(chat_id).messages if m.from_bot and not m.deleted]
        found = [m for c in self._chats.values() for m in c.messages if m.from_bot]
        return sorted((m for m in found if not m.deleted), key=lambda m: (m.date, id(m)))

    def transcript(self, chat_id: int) -> str:
        """Readable log of a chat: user lines, bot lines, keyboards, edits, presses."""
        return "\n".join(self._chat(chat_id).log)

    def commands_for(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[tuple[str, str]]:
        """(command, description) pairs set with setMyCommands for this scope and language."""
        stored = self.commands.get(self._scope_key(scope, language_code), [])
        return [(c["command"], c["description"]) for c in stored]

    def callback_answer(self, callback_query_id: str) -> CallbackAnswer | None:
        """The answerCallbackQuery call for this query id, if it was answered."""
        for answer in self.callback_answers:
            if answer.callback_query_id == callback_query_id:
                return answer
        return None

    def unanswered_callback_queries(self) -> list[str]:
        """Ids of callback queries the bot never answered (the client spinner keeps spinning)."""
        return [qid for qid, q in self._callback_queries.items() if not q.answered]

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """Params of every call to ``method`` (case-insensitive)."""
        return [c.params for c in self.calls if c.method.lower() == method.lower()]

    def file_bytes(self, file_path: str) -> bytes | None:
        """Content of a file by the file_path getFile returned."""
        file = self._files_by_path.get(file_path)
        return None if file is None else file.content

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates waiting in the getUpdates queue."""
        return list(self._pending)

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109  (a test-facing deadline, not a cancel scope)
        *,
        message: str = "",
    ) -> None:
        """Wait (event-driven) until ``predicate()`` holds; re-checked on every bot action."""
        async with self._activity:
            try:
                await asyncio.wait_for(self._activity.wait_for(predicate), timeout)
            except TimeoutError:
                raise AssertionError(message or f"condition not met within {timeout}s") from None

    # ------------------------------------------------------------------ internals

    def _chat(self, chat_id: int) -> _Chat:
        try:
            return self._chats[chat_id]
        except KeyError:
            raise KeyError(f"FakeTelegram knows no chat {chat_id}") from None

    def _private_chat(self, user_id: int) -> _Chat:
        chat = self._chat(user_id)
        if chat.type != "private":
            raise ValueError(f"{user_id} is not a private chat")
        return chat

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _now(self) -> int:
        return int(self.clock().timestamp())

    def _mark(self) -> int:
        return len(self._events)

    def _replies_since(self, mark: int, chat_id: int) -> list[FakeMessage]:
        replies: list[FakeMessage] = []
        for message in self._events[mark:]:
            if message.chat_id == chat_id and not message.deleted and message not in replies:
                replies.append(message)
        return replies

    async def _notify_activity(self) -> None:
        async with self._activity:
            self._activity.notify_all()

    async def _bot_event(self, message: FakeMessage) -> None:
        self._events.append(message)
        await self._notify_activity()

    async def _enqueue_update(self, update: dict[str, Any]) -> None:
        async with self._updates_cond:
            self._pending.append(update)
            self._updates_cond.notify_all()

    async def emit(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Wrap ``payload`` in an update with the next update_id and deliver it."""
        update = {"update_id": next(self._update_ids), kind: payload}
        await self.deliver(update)
        return update

    async def _emit_my_chat_member(
        self, chat: _Chat, from_user_id: int, old: str, new: str
    ) -> None:
        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"user": self._bot_user(), "status": status}
            if status == "kicked":
                data["until_date"] = 0
            return data

        await self.emit(
            "my_chat_member",
            {
                "chat": chat.api(),
                "from": self._users[from_user_id],
                "date": self._now(),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    @staticmethod
    def _scope_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    def _resolve_chat(self, chat_id: Any) -> _Chat:
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for chat in self._chats.values():
                if chat.username and chat.username.lower() == chat_id[1:].lower():
                    return chat
            raise ApiError(400, CHAT_NOT_FOUND)
        try:
            return self._chats[int(chat_id)]
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, CHAT_NOT_FOUND) from None

    def _writable_chat(self, params: dict[str, Any]) -> _Chat:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat.type == "private":
            if chat.blocked:
                raise ApiError(403, BLOCKED)
            if not chat.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        elif not chat.bot_is_member:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

    def _text(self, params: dict[str, Any]) -> tuple[str, str, str | None]:
        raw = params.get("text")
        raw = "" if raw is None else str(raw)
        parse_mode = params.get("parse_mode") or None
        plain = render_text(raw, parse_mode)
        if not plain:
            raise ApiError(400, TEXT_EMPTY)
        if len(plain) > MAX_TEXT:
            raise ApiError(400, TEXT_TOO_LONG)
        return plain, raw, parse_mode

    def _caption(self, params: dict[str, Any]) -> tuple[str | None, str | None]:
        raw = params.get("caption")
        if raw is None:
            return None, None
        plain = render_text(str(raw), params.get("parse_mode") or None)
        if len(plain) > MAX_CAPTION:
            raise ApiError(400, CAPTION_TOO_LONG)
        return (plain or None), str(raw)

    def _reply_target(self, chat: _Chat, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = _as_bool(reply.get("allow_sending_without_reply", False))
            target_chat = chat
            if reply.get("chat_id") not in (None, chat.id):
                target_chat = self._resolve_chat(reply.get("chat_id"))
        else:
            message_id = params.get("reply_to_message_id")
            allow_missing = _as_bool(params.get("allow_sending_without_reply", False))
            target_chat = chat
        if message_id in (None, ""):
            return None
        if target_chat.live(int(message_id)) is None:
            if allow_missing:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return int(message_id)

    def _describe_markup(self, markup: dict[str, Any] | None) -> str:
        if not markup:
            return ""
        if "inline_keyboard" in markup:
            rows = inline_labels(markup)
            return "".join("\n    " + " ".join(f"[{label}]" for label in row) for row in rows)
        if "keyboard" in markup:
            rows = reply_labels(markup)
            return "\n    keyboard: " + " / ".join(" | ".join(row) for row in rows)
        if markup.get("remove_keyboard"):
            return "\n    (keyboard removed)"
        return ""

    async def _store_bot_message(
        self, chat: _Chat, params: dict[str, Any], **fields: Any
    ) -> FakeMessage:
        reply_to = self._reply_target(chat, params)
        message = FakeMessage(
            message_id=chat.next_message_id,
            chat_id=chat.id,
            from_bot=True,
            date=self.clock(),
            sender_id=self.bot_id,
            message_thread_id=_optional_int(params, "message_thread_id"),
            reply_to_message_id=reply_to,
            **fields,
        )
        chat.next_message_id += 1
        markup = message.reply_markup
        if markup and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        chat.add(message)
        chat.log.append(f"bot: {message.describe()}{self._describe_markup(markup)}")
        await self._bot_event(message)
        return message

    def _user_api(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_id:
            return self._bot_user()
        return self._users[user_id]

    def _file_json(self, file: FakeFile) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_size": file.size,
        }
        if file.kind in ("document", "video", "audio") and file.filename:
            data["file_name"] = file.filename
        if file.mime_type and file.kind not in ("sticker", "photo"):
            data["mime_type"] = file.mime_type
        if file.kind in ("photo", "sticker", "video"):
            data["width"] = file.width or 0
            data["height"] = file.height or 0
        if file.kind in ("voice", "video", "audio"):
            data["duration"] = file.duration or 0
        if file.kind == "sticker":
            data.update({"is_animated": False, "is_video": False, "type": "regular"})
            if file.emoji:
                data["emoji"] = file.emoji
        return data

    def _message_json(self, message: FakeMessage, *, nested: bool = False) -> dict[str, Any]:
        """Bot API JSON for a message, as PTB's Message.de_json expects it."""
        chat = self._chat(message.chat_id)
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(message.date.timestamp()),
            "chat": chat.api(),
            "from": self._user_api(message.sender_id),
        }
        if message.message_thread_id is not None:
            data["message_thread_id"] = message.message_thread_id
            if chat.is_forum:
                data["is_topic_message"] = True
        if message.text is not None:
            data["text"] = message.text
        if message.entities:
            data["entities"] = message.entities
        if message.caption is not None:
            data["caption"] = message.caption
        if message.edit_date is not None:
            data["edit_date"] = int(message.edit_date.timestamp())
        # Message.reply_markup in the Bot API is only ever an inline keyboard.
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.media_group_id:
            data["media_group_id"] = message.media_group_id
        if message.forward_origin:
            data["forward_origin"] = message.forward_origin
        for kind in ("document", "voice", "sticker", "video", "audio"):
            file = getattr(message, kind)
            if file is not None:
                data[kind] = self._file_json(file)
        if message.photo is not None:
            data["photo"] = [self._file_json(message.photo)]
        if message.venue is not None:
            data["venue"] = message.venue
        if message.location is not None:
            data["location"] = message.location
        if message.contact is not None:
            data["contact"] = message.contact
        if message.reply_to_message_id is not None and not nested:
            target = chat.by_id.get(message.reply_to_message_id)
            if target is not None:
                data["reply_to_message"] = self._message_json(target, nested=True)
        return data

    # --- files

    def _new_file(
        self,
        kind: str,
        filename: str | None,
        content: bytes,
        mime_type: str | None,
        *,
        url: str | None = None,
        duration: int | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> FakeFile:
        if not content and url is None:
            raise ApiError(400, "Bad Request: file must be non-empty")
        if len(content) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        number = next(self._file_seq)
        ext = posixpath.splitext(filename or "")[1]
        if not ext and mime_type:
            ext = mimetypes.guess_extension(mime_type) or ""
        if kind in ("photo", "sticker") and (width is None or height is None):
            width, height = image_size(content) if content else (640, 480)
            if kind == "sticker":
                width, height = 512, 512
        file = FakeFile(
            file_id=f"FAKE-{kind}-{number:05d}",
            file_unique_id=f"FAKEU{number:05d}",
            kind=kind,
            filename=filename,
            mime_type=mime_type,
            content=content,
            file_path=f"{_FILE_FOLDERS.get(kind, kind + 's')}/file_{number}{ext}",
            width=width,
            height=height,
            duration=duration,
            url=url,
        )
        self.files[file.file_id] = file
        self._files_by_path[file.file_path] = file
        return file

    def _file_ref(self, value: Any, files: dict[str, FileTuple], field: str, kind: str) -> FakeFile:
        if value is None or value == "":
            raise ApiError(400, f"Bad Request: there is no {field} in the request")
        value = str(value)
        if value.startswith("attach://"):
            name = value.removeprefix("attach://")
            if name not in files:
                raise ApiError(400, f"Bad Request: file {value} not found in the request")
            return self._new_file(kind, *files[name])
        if value in self.files:
            return self.files[value]
        if value.startswith(("http://", "https://")):
            filename = posixpath.basename(urlsplit(value).path) or "file"
            mime = mimetypes.guess_type(filename)[0]
            return self._new_file(kind, filename, b"", mime, url=value)
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _input_file(
        self, params: dict[str, Any], files: dict[str, FileTuple], field: str
    ) -> FakeFile:
        # PTB uploads these without attach://: the part is named after the parameter and the
        # parameter itself is absent from the form data.
        if field in files:
            return self._new_file(field, *files[field])
        return self._file_ref(params.get(field), files, field, field)

    # ------------------------------------------------------------------ Bot API methods

    async def _get_me(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _log_out(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        self.logged_out = True
        return True

    async def _close(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        return True

    def _drop_confirmed(self, offset: int | None) -> None:
        if offset is not None and offset < 0:
            self._pending = self._pending[offset:]
        elif offset is not None:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        allowed = set(self._allowed_updates or [])
        if allowed:
            self._pending = [u for u in self._pending if allowed & u.keys()]
        else:
            self._pending = [u for u in self._pending if not _DEFAULT_UPDATES_EXCLUDED & u.keys()]

    async def _get_updates(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        if self.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = _optional_int(params, "offset")
        limit = min(max(_optional_int(params, "limit") or 100, 1), 100)
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = allowed or None
        async with self._updates_cond:
            self._drop_confirmed(offset)
            if not self._pending and timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._updates_cond.wait_for(lambda: bool(self._pending)), timeout
                    )
                self._drop_confirmed(None)
            return self._pending[:limit]

    async def _set_webhook(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        url = params.get("url")
        self.webhook = {**params, "url": str(url)} if url else None
        if _as_bool(params.get("drop_pending_updates")):
            self._pending.clear()
        return True

    async def _delete_webhook(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        self.webhook = None
        if _as_bool(params.get("drop_pending_updates")):
            self._pending.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _set_my_commands(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be an Array of at most 100 items")
        cleaned: list[dict[str, str]] = []
        for command in commands:
            name = str((command or {}).get("command", ""))
            description = str((command or {}).get("description", ""))
            if not _COMMAND_RE.match(name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        self.commands[key] = cleaned
        return True

    async def _get_my_commands(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        return self.commands.get(key, [])

    async def _delete_my_commands(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        self.commands.pop(self._scope_key(params.get("scope"), params.get("language_code")), None)
        return True

    async def _set_chat_menu_button(
        self, params: dict[str, Any], files: dict[str, FileTuple]
    ) -> Any:
        chat_id = _optional_int(params, "chat_id")
        if chat_id is not None:
            self._resolve_chat(chat_id)
        self.menu_buttons[chat_id] = params.get("menu_button") or {"type": "default"}
        return True

    async def _get_chat_menu_button(
        self, params: dict[str, Any], files: dict[str, FileTuple]
    ) -> Any:
        chat_id = _optional_int(params, "chat_id")
        return self.menu_buttons.get(chat_id, self.menu_buttons.get(None, {"type": "commands"}))

    def _bot_setting(self, field_name: str, *, get: bool = False) -> _Handler:
        async def handler(params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
            key = (field_name, str(params.get("language_code") or ""))
            if get:
                return {field_name: self.bot_settings.get(key, "")}
            self.bot_settings[key] = str(params.get(field_name) or "")
            return True

        return handler

    async def _send_message(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._writable_chat(params)
        plain, raw, parse_mode = self._text(params)
        markup = check_markup(params.get("reply_markup"))
        message = await self._store_bot_message(
            chat, params, text=plain, html=raw, parse_mode=parse_mode, reply_markup=markup
        )
        return self._message_json(message)

    def _editable(self, params: dict[str, Any]) -> tuple[_Chat, FakeMessage]:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: inline messages are not supported by FakeTelegram")
        chat = self._writable_chat(params)
        message = chat.live(_as_int(params, "message_id"))
        if message is None:
            raise ApiError(400, EDIT_NOT_FOUND)
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, message

    def _edit_markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        # Omitting reply_markup in an edit removes the inline keyboard, as on real Telegram.
        markup = check_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise ApiError(400, "Bad Request: inline keyboard expected")
        return markup

    async def _record_edit(self, chat: _Chat, message: FakeMessage, previous: str | None) -> None:
        message.edits.append(previous)
        message.edit_date = self.clock()
        chat.log.append(
            f"bot (edited #{message.message_id}): {message.describe()}"
            f"{self._describe_markup(message.reply_markup)}"
        )
        await self._bot_event(message)

    async def _edit_message_text(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat, message = self._editable(params)
        if message.text is None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        plain, raw, parse_mode = self._text(params)
        markup = self._edit_markup(params)
        if (plain, raw, markup) == (message.text, message.html, message.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        previous = message.text
        message.text, message.html, message.parse_mode = plain, raw, parse_mode
        message.reply_markup = markup
        await self._record_edit(chat, message, previous)
        return self._message_json(message)

    async def _edit_message_caption(
        self, params: dict[str, Any], files: dict[str, FileTuple]
    ) -> Any:
        chat, message = self._editable(params)
        if message.text is not None:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, raw = self._caption(params)
        markup = self._edit_markup(params)
        if (caption, raw, markup) == (message.caption, message.caption_html, message.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        previous = message.caption
        message.caption, message.caption_html, message.reply_markup = caption, raw, markup
        await self._record_edit(chat, message, previous)
        return self._message_json(message)

    async def _edit_message_reply_markup(
        self, params: dict[str, Any], files: dict[str, FileTuple]
    ) -> Any:
        chat, message = self._editable(params)
        markup = self._edit_markup(params)
        if markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        await self._record_edit(chat, message, message.content)
        return self._message_json(message)

    async def _delete_one(self, chat: _Chat, message_id: int) -> bool:
        message = chat.live(message_id)
        if message is None:
            return False
        message.deleted = True
        who = "bot" if message.from_bot else "user"
        chat.log.append(f"bot deleted #{message_id} ({who}: {message.describe()})")
        await self._notify_activity()
        return True

    async def _delete_message(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._resolve_chat(params.get("chat_id"))
        if not await self._delete_one(chat, _as_int(params, "message_id")):
            raise ApiError(400, DELETE_NOT_FOUND)
        return True

    async def _delete_messages(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._resolve_chat(params.get("chat_id"))
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise ApiError(400, "Bad Request: message_ids must contain 1-100 identifiers")
        for message_id in ids:
            await self._delete_one(chat, int(message_id))
        return True

    async def _answer_callback_query(
        self, params: dict[str, Any], files: dict[str, FileTuple]
    ) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        query = self._callback_queries.get(query_id)
        if query is None or query.answered:
            raise ApiError(400, QUERY_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        query.answered = True
        answer = CallbackAnswer(
            callback_query_id=query_id,
            text=None if text is None else str(text),
            show_alert=_as_bool(params.get("show_alert", False)),
            url=params.get("url"),
            cache_time=_optional_int(params, "cache_time"),
            user_id=query.user_id,
            chat_id=query.chat_id,
        )
        self.callback_answers.append(answer)
        if answer.text:
            kind = "alert" if answer.show_alert else "toast"
            self._chat(query.chat_id).log.append(f"bot ({kind}): {answer.text}")
        await self._notify_activity()
        return True

    def _send_media(self, field_name: str) -> _Handler:
        async def handler(params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
            chat = self._writable_chat(params)
            caption, caption_raw = self._caption(params)
            markup = check_markup(params.get("reply_markup"))
            file = self._input_file(params, files, field_name)
            if field_name in ("voice", "video", "audio") and params.get("duration"):
                file.duration = _optional_int(params, "duration")
            message = await self._store_bot_message(
                chat,
                params,
                caption=None if field_name == "sticker" else caption,
                caption_html=None if field_name == "sticker" else caption_raw,
                parse_mode=params.get("parse_mode") or None,
                reply_markup=markup,
                **{field_name: file},
            )
            return self._message_json(message)

        return handler

    async def _send_media_group(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._writable_chat(params)
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: media group must contain 2-10 items")
        prepared: list[dict[str, Any]] = []
        for item in media:
            kind = str((item or {}).get("type", ""))
            if kind not in ("photo", "document", "video", "audio"):
                raise ApiError(400, f"Bad Request: unsupported media type {kind!r} in album")
            caption, caption_raw = self._caption(item)
            file = self._file_ref(item.get("media"), files, "media", kind)
            prepared.append(
                {
                    kind: file,
                    "caption": caption,
                    "caption_html": caption_raw,
                    "parse_mode": item.get("parse_mode"),
                }
            )
        group_id = f"fake-album-{next(self._media_group_seq)}"
        result = []
        for fields in prepared:
            message = await self._store_bot_message(chat, params, media_group_id=group_id, **fields)
            result.append(self._message_json(message))
        return result

    async def _send_venue(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._writable_chat(params)
        location = {
            "latitude": _as_float(params, "latitude"),
            "longitude": _as_float(params, "longitude"),
        }
        for name in ("title", "address"):
            if not params.get(name):
                raise ApiError(400, f"Bad Request: {name} is empty")
        venue: dict[str, Any] = {
            "location": location,
            "title": str(params["title"]),
            "address": str(params["address"]),
        }
        for name in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
            if params.get(name):
                venue[name] = str(params[name])
        markup = check_markup(params.get("reply_markup"))
        message = await self._store_bot_message(
            chat, params, venue=venue, location=location, reply_markup=markup
        )
        return self._message_json(message)

    async def _send_location(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._writable_chat(params)
        latitude, longitude = _as_float(params, "latitude"), _as_float(params, "longitude")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ApiError(400, "Bad Request: wrong location")
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        for name in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if params.get(name) is not None:
                location[name] = params[name]
        markup = check_markup(params.get("reply_markup"))
        message = await self._store_bot_message(
            chat, params, location=location, reply_markup=markup
        )
        return self._message_json(message)

    async def _send_contact(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._writable_chat(params)
        for name in ("phone_number", "first_name"):
            if not params.get(name):
                raise ApiError(400, f"Bad Request: {name} is empty")
        contact = {
            "phone_number": str(params["phone_number"]),
            "first_name": str(params["first_name"]),
        }
        for name in ("last_name", "vcard"):
            if params.get(name):
                contact[name] = str(params[name])
        markup = check_markup(params.get("reply_markup"))
        message = await self._store_bot_message(chat, params, contact=contact, reply_markup=markup)
        return self._message_json(message)

    async def _send_chat_action(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._writable_chat(params)
        self.chat_actions.append((chat.id, str(params.get("action") or "")))
        return True

    def _copy_content(self, source: FakeMessage) -> dict[str, Any]:
        return {
            "text": source.text,
            "html": source.html,
            "parse_mode": source.parse_mode,
            "caption": source.caption,
            "caption_html": source.caption_html,
            "document": source.document,
            "photo": source.photo,
            "voice": source.voice,
            "sticker": source.sticker,
            "video": source.video,
            "audio": source.audio,
            "venue": source.venue,
            "location": source.location,
            "contact": source.contact,
        }

    def _source_message(self, params: dict[str, Any], action: str) -> FakeMessage:
        source_chat = self._resolve_chat(params.get("from_chat_id"))
        source = source_chat.live(_as_int(params, "message_id"))
        if source is None:
            raise ApiError(400, f"Bad Request: message to {action} not found")
        return source

    async def _copy_message(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._writable_chat(params)
        source = self._source_message(params, "copy")
        content = self._copy_content(source)
        if "caption" in params and source.text is None:
            content["caption"], content["caption_html"] = self._caption(params)
        markup = check_markup(params.get("reply_markup"))
        message = await self._store_bot_message(chat, params, reply_markup=markup, **content)
        return {"message_id": message.message_id}

    async def _forward_message(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._writable_chat(params)
        source = self._source_message(params, "forward")
        origin = {
            "type": "user",
            "sender_user": self._user_api(source.sender_id),
            "date": int(source.date.timestamp()),
        }
        message = await self._store_bot_message(
            chat, params, forward_origin=origin, **self._copy_content(source)
        )
        return self._message_json(message)

    async def _get_chat(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._resolve_chat(params.get("chat_id"))
        return {
            **chat.api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_chat_member(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._resolve_chat(params.get("chat_id"))
        user_id = _as_int(params, "user_id")
        if user_id != self.bot_id and user_id not in self._users:
            raise ApiError(400, "Bad Request: user not found")
        if chat.type == "private":
            status = "kicked" if chat.blocked and user_id == self.bot_id else "member"
        elif user_id == self.bot_id:
            status = "member" if chat.bot_is_member else "left"
        else:
            status = chat.member_status.get(user_id, "member")
        member: dict[str, Any] = {"user": self._user_api(user_id), "status": status}
        if status == "kicked":
            member["until_date"] = 0
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    **dict.fromkeys(
                        (
                            "can_manage_chat",
                            "can_delete_messages",
                            "can_manage_video_chats",
                            "can_restrict_members",
                            "can_promote_members",
                            "can_change_info",
                            "can_invite_users",
                            "can_post_stories",
                            "can_edit_stories",
                            "can_delete_stories",
                        ),
                        True,
                    ),
                }
            )
        return member

    async def _leave_chat(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat.type == "private":
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        chat.bot_is_member = False
        chat.log.append("bot left the chat")
        return True

    async def _get_file(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        file = self.files.get(str(params.get("file_id") or ""))
        if file is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_size": file.size,
            "file_path": file.file_path,
        }

    # ------------------------------------------------------------------ user side (FakeUser)

    async def _user_message(
        self,
        user: dict[str, Any],
        chat_id: int,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        **content: Any,
    ) -> FakeMessage:
        """A user posts a message in a chat; the resulting update is delivered."""
        chat = self._chat(chat_id)
        if chat.type == "private":
            # Writing to a blocked bot unblocks it (the client's "Restart" button).
            if chat.blocked:
                await self.unblock_bot(user["id"])
            chat.started = True
        message = FakeMessage(
            message_id=chat.next_message_id,
            chat_id=chat.id,
            from_bot=False,
            date=self.clock(),
            sender_id=user["id"],
            message_thread_id=thread_id,
            reply_to_message_id=reply_to,
            **content,
        )
        chat.next_message_id += 1
        chat.add(message)
        chat.log.append(f"{user['first_name']}: {message.describe()}")
        await self.emit("message", self._message_json(message))
        return message

    async def _user_edit(self, user: dict[str, Any], message: FakeMessage, text: str) -> None:
        chat = self._chat(message.chat_id)
        message.edits.append(message.text)
        message.text = text
        message.entities = command_entities(text)
        message.edit_date = self.clock()
        chat.log.append(f"{user['first_name']} (edited #{message.message_id}): {text}")
        await self.emit("edited_message", self._message_json(message))

    async def _user_press(
        self, user: dict[str, Any], message: FakeMessage, label: str, data: str
    ) -> str:
        chat = self._chat(message.chat_id)
        query_id = str(next(self._query_seq))
        self._callback_queries[query_id] = _CallbackQuery(
            user_id=user["id"], chat_id=chat.id, message_id=message.message_id, data=data
        )
        chat.log.append(f"{user['first_name']} pressed [{label}]")
        await self.emit(
            "callback_query",
            {
                "id": query_id,
                "from": user,
                "message": self._message_json(message),
                "chat_instance": str(abs(chat.id) * 7919 % 10**12),
                "data": data,
            },
        )
        return query_id
