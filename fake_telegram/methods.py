"""The Bot API methods about the bot, updates, commands, chats, files and button answers."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

from .models import CallbackAnswer
from .rules import MAX_CALLBACK_ANSWER, QUERY_INVALID, ApiError, as_bool, as_int, optional_int
from .state import FileTuple, Handler, TelegramState

__all__ = ["BotMethods"]

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_DEFAULT_UPDATES_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class BotMethods(TelegramState):
    """getMe, getUpdates, webhooks, commands, menu button, bot settings, chats, files, answers."""

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
        offset = optional_int(params, "offset")
        limit = min(max(optional_int(params, "limit") or 100, 1), 100)
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
        if as_bool(params.get("drop_pending_updates")):
            self._pending.clear()
        return True

    async def _delete_webhook(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        self.webhook = None
        if as_bool(params.get("drop_pending_updates")):
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
        chat_id = optional_int(params, "chat_id")
        if chat_id is not None:
            self._resolve_chat(chat_id)
        self.menu_buttons[chat_id] = params.get("menu_button") or {"type": "default"}
        return True

    async def _get_chat_menu_button(
        self, params: dict[str, Any], files: dict[str, FileTuple]
    ) -> Any:
        chat_id = optional_int(params, "chat_id")
        return self.menu_buttons.get(chat_id, self.menu_buttons.get(None, {"type": "commands"}))

    def _bot_setting(self, field_name: str, *, get: bool = False) -> Handler:
        async def handler(params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
            key = (field_name, str(params.get("language_code") or ""))
            if get:
                return {field_name: self.bot_settings.get(key, "")}
            self.bot_settings[key] = str(params.get(field_name) or "")
            return True

        return handler

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
            show_alert=as_bool(params.get("show_alert", False)),
            url=params.get("url"),
            cache_time=optional_int(params, "cache_time"),
            user_id=query.user_id,
            chat_id=query.chat_id,
        )
        self.callback_answers.append(answer)
        if answer.text:
            kind = "alert" if answer.show_alert else "toast"
            self._chat(query.chat_id).log.append(f"bot ({kind}): {answer.text}")
        await self._notify_activity()
        return True

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
        user_id = as_int(params, "user_id")
        if user_id != self.bot_id and user_id not in self._users:
            raise ApiError(400, "Bad Request: user not found")
        if chat.type == "private":
            status = "kicked" if chat.blocked and user_id == self.bot_id else "member"
        elif user_id == self.bot_id:
            # set_member_status(chat, bot_id, "administrator") makes the bot an admin there.
            status = chat.member_status.get(user_id, "member") if chat.bot_is_member else "left"
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
