"""FakeTelegram: the one object a test, the demo or a benchmark holds.

It is put together from the parts of the fake, one concern each:

* ``state.py``: what the fake knows (chats, messages, files, users, pending updates) and the
  read helpers tests assert on;
* ``methods.py`` and ``messages.py``: the Bot API methods the bot calls, reached through
  ``FakeTelegram.call(method, params, files)`` (both transports, in-process
  ``transport.py`` and HTTP ``http.py``, end up there);
* ``faults.py``: ``fail_next`` and the failures it injects;
* the user side below: what a Telegram client sends (messages, edits, button presses) as
  updates, handed to ``FakeTelegram.deliver`` (by default: the getUpdates queue). The people
  who do it are ``FakeUser`` and ``FakeGroup`` in ``actors.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .actors import FakeGroup, FakeUser
from .faults import FaultInjection
from .messages import MessageMethods
from .methods import BotMethods
from .models import ApiCall, FakeMessage, command_entities
from .rules import ApiError, decode_params
from .state import CallbackQuery, Chat, FileTuple, Handler, TelegramState

if TYPE_CHECKING:
    from telegram.ext import Application

__all__ = ["FakeTelegram"]

_LOGGER = logging.getLogger(__name__)


class FakeTelegram(MessageMethods, BotMethods, FaultInjection):
    """The fake Bot API: chats, messages, files, updates, error injection."""

    def __init__(
        self,
        *,
        bot_username: str = "liepaja_demo_bot",
        bot_first_name: str = "Liepāja",
        clock: Callable[[], datetime] | None = None,
        flood_limit_per_second: int | None = None,
    ) -> None:
        """``flood_limit_per_second``: enforce Telegram's overall limit (see faults.py)."""
        TelegramState.__init__(
            self, bot_username=bot_username, bot_first_name=bot_first_name, clock=clock
        )
        FaultInjection.__init__(self, flood_limit_per_second)

        # Every Bot API method the fake implements: methods.py has those about the bot,
        # updates, chats and files; messages.py those that send, edit and delete messages.
        handlers: dict[str, Handler] = {
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
        self._methods: dict[str, tuple[str, Handler]] = {
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
        if (refusal := self._flood_refusal(canonical, self.clock())) is not None:
            return refusal.status, refusal.body()
        try:
            result = await handler(decoded, files)
        except ApiError as exc:
            return exc.status, exc.body()
        except Exception as exc:
            # A bug in the fake (or wildly malformed input): make it loud, not a silent retry.
            _LOGGER.exception("FakeTelegram failed on %s", canonical)
            return 500, ApiError(500, f"Internal Server Error: FakeTelegram: {exc!r}").body()
        return 200, {"ok": True, "result": result}

    # ------------------------------------------------------------------ people and chats

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
            self._chats[user_id] = Chat(
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
        self._chats[chat_id] = Chat(
            id=chat_id, type="supergroup", title=title, is_forum=forum, username=username
        )
        return FakeGroup(self, chat_id, title, forum=forum)

    def deliver_to(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Feed updates straight into ``application.process_update`` (synchronous delivery).

        As a webhook: an update counts as delivered once ``process_update`` has returned; until
        then Telegram keeps it, and ``resend_undelivered`` sends it again (after a crash)."""
        # Imported lazily so that the fake state itself does not depend on PTB.
        from telegram import Update

        async def deliver(update: dict[str, Any]) -> None:
            self.undelivered.setdefault(update["update_id"], update)
            await application.process_update(Update.de_json(update, application.bot))
            self.undelivered.pop(update["update_id"], None)

        self.deliver = deliver

    async def resend_undelivered(self) -> None:
        """Telegram sends again, in order, the updates whose delivery never completed."""
        for update in list(self.undelivered.values()):
            await self.deliver(update)

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

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember reports for ``user_id`` in a group ("administrator", "left", ...)."""
        self._chat(chat_id).member_status[user_id] = status

    async def add_bot_to_group(self, chat_id: int, by_user_id: int) -> None:
        """A member adds the bot to a group (a my_chat_member update: left -> member)."""
        chat = self._chat(chat_id)
        chat.bot_is_member = True
        await self._emit_my_chat_member(chat, by_user_id, "left", "member")

    # ------------------------------------------------------------------ user side (FakeUser)
    # What a Telegram client sends on a user's behalf; each delivers one update to the bot.

    async def user_message(
        self,
        user: dict[str, Any],
        chat_id: int,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        **content: Any,
    ) -> FakeMessage:
        """A user posts a message in a chat (a message update); returns the message."""
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

    async def user_edit(self, user: dict[str, Any], message: FakeMessage, text: str) -> None:
        """A user edits their own text message (an edited_message update)."""
        chat = self._chat(message.chat_id)
        message.edits.append(message.text)
        message.text = text
        message.entities = command_entities(text)
        message.edit_date = self.clock()
        chat.log.append(f"{user['first_name']} (edited #{message.message_id}): {text}")
        await self.emit("edited_message", self._message_json(message))

    async def user_press(
        self, user: dict[str, Any], message: FakeMessage, label: str, data: str
    ) -> str:
        """A user presses an inline button (a callback_query update); returns the query id."""
        chat = self._chat(message.chat_id)
        query_id = str(next(self._query_seq))
        self._callback_queries[query_id] = CallbackQuery(
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
