"""What the fake Telegram knows: chats, messages, files, users, updates waiting for the bot.

``TelegramState`` holds it all and renders it as Bot API JSON. The Bot API methods
(``methods.py``, ``messages.py``) change it on the bot's behalf, the user-side entry points
(``server.py``, driven by the people in ``actors.py``) on the users' behalf. The read helpers
below are what tests assert on.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import mimetypes
import posixpath
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .models import ApiCall, CallbackAnswer, FakeFile, FakeMessage
from .rules import BLOCKED, CHAT_NOT_FOUND, MAX_UPLOAD_BYTES, ApiError, image_size

__all__ = ["CallbackQuery", "Chat", "Deliver", "FileTuple", "Handler", "TelegramState"]

Deliver = Callable[[dict[str, Any]], Awaitable[None]]
FileTuple = tuple[str, bytes, str]
# A Bot API method: decoded params and uploaded files in, the JSON "result" out.
Handler = Callable[[dict[str, Any], dict[str, FileTuple]], Awaitable[Any]]

_FILE_FOLDERS = {
    "photo": "photos",
    "document": "documents",
    "voice": "voice",
    "sticker": "stickers",
    "video": "videos",
    "audio": "music",
}


@dataclass
class CallbackQuery:
    """A button press waiting for (or given) the bot's answerCallbackQuery."""

    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


@dataclass(eq=False)
class Chat:
    """One chat as the fake keeps it (internal: tests read chats through the read helpers)."""

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


class TelegramState:
    """The fake's state, its JSON rendering and the read helpers tests assert on."""

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
        # Direct delivery (deliver_to): updates handed over whose handling never completed.
        self.undelivered: dict[int, dict[str, Any]] = {}

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
        self._chats: dict[int, Chat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._callback_queries: dict[str, CallbackQuery] = {}
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

    # ------------------------------------------------------------------ read helpers

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

    def mark(self) -> int:
        """A bookmark in the log of bot sends and edits, for ``replies_since``."""
        return len(self._events)

    def replies_since(self, mark: int, chat_id: int) -> list[FakeMessage]:
        """Bot messages sent or edited in ``chat_id`` after ``mark``, each once, not deleted."""
        replies: list[FakeMessage] = []
        for message in self._events[mark:]:
            if message.chat_id == chat_id and not message.deleted and message not in replies:
                replies.append(message)
        return replies

    def current_reply_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        """The reply keyboard the chat shows now (the last one the bot sent and did not remove)."""
        return self._chat(chat_id).reply_keyboard

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

    def _chat(self, chat_id: int) -> Chat:
        try:
            return self._chats[chat_id]
        except KeyError:
            raise KeyError(f"FakeTelegram knows no chat {chat_id}") from None

    def _private_chat(self, user_id: int) -> Chat:
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

    async def _emit_my_chat_member(self, chat: Chat, from_user_id: int, old: str, new: str) -> None:
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

    def _resolve_chat(self, chat_id: Any) -> Chat:
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

    def _writable_chat(self, params: dict[str, Any]) -> Chat:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat.type == "private":
            if chat.blocked:
                raise ApiError(403, BLOCKED)
            if not chat.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        elif not chat.bot_is_member:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

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

    def new_file(
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
        """Register a file (a user's or the bot's upload) so that getFile and downloads find it."""
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
