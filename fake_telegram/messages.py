"""The Bot API methods that send, edit, copy and delete messages (and chat actions)."""

from __future__ import annotations

import mimetypes
import posixpath
from typing import Any
from urllib.parse import urlsplit

from .models import FakeFile, FakeMessage, inline_labels, reply_labels
from .rules import (
    CAPTION_TOO_LONG,
    DELETE_NOT_FOUND,
    EDIT_NOT_FOUND,
    MAX_CAPTION,
    MAX_TEXT,
    NOT_MODIFIED,
    TEXT_EMPTY,
    TEXT_TOO_LONG,
    ApiError,
    as_bool,
    as_float,
    as_int,
    check_markup,
    optional_int,
    render_text,
)
from .state import Chat, FileTuple, Handler, TelegramState

__all__ = ["MessageMethods"]


class MessageMethods(TelegramState):
    """sendMessage, send<Media>, edit*, delete*, copyMessage, forwardMessage, sendChatAction."""

    # ------------------------------------------------------------------ shared by the methods

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

    def _reply_target(self, chat: Chat, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = as_bool(reply.get("allow_sending_without_reply", False))
            target_chat = chat
            if reply.get("chat_id") not in (None, chat.id):
                target_chat = self._resolve_chat(reply.get("chat_id"))
        else:
            message_id = params.get("reply_to_message_id")
            allow_missing = as_bool(params.get("allow_sending_without_reply", False))
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
        self, chat: Chat, params: dict[str, Any], **fields: Any
    ) -> FakeMessage:
        reply_to = self._reply_target(chat, params)
        message = FakeMessage(
            message_id=chat.next_message_id,
            chat_id=chat.id,
            from_bot=True,
            date=self.clock(),
            sender_id=self.bot_id,
            message_thread_id=optional_int(params, "message_thread_id"),
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

    def _file_ref(self, value: Any, files: dict[str, FileTuple], field: str, kind: str) -> FakeFile:
        if value is None or value == "":
            raise ApiError(400, f"Bad Request: there is no {field} in the request")
        value = str(value)
        if value.startswith("attach://"):
            name = value.removeprefix("attach://")
            if name not in files:
                raise ApiError(400, f"Bad Request: file {value} not found in the request")
            return self.new_file(kind, *files[name])
        if value in self.files:
            return self.files[value]
        if value.startswith(("http://", "https://")):
            filename = posixpath.basename(urlsplit(value).path) or "file"
            mime = mimetypes.guess_type(filename)[0]
            return self.new_file(kind, filename, b"", mime, url=value)
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _input_file(
        self, params: dict[str, Any], files: dict[str, FileTuple], field: str
    ) -> FakeFile:
        # PTB uploads these without attach://: the part is named after the parameter and the
        # parameter itself is absent from the form data.
        if field in files:
            return self.new_file(field, *files[field])
        return self._file_ref(params.get(field), files, field, field)

    # ------------------------------------------------------------------ Bot API methods

    async def _send_message(self, params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
        chat = self._writable_chat(params)
        plain, raw, parse_mode = self._text(params)
        markup = check_markup(params.get("reply_markup"))
        message = await self._store_bot_message(
            chat, params, text=plain, html=raw, parse_mode=parse_mode, reply_markup=markup
        )
        return self._message_json(message)

    def _editable(self, params: dict[str, Any]) -> tuple[Chat, FakeMessage]:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: inline messages are not supported by FakeTelegram")
        chat = self._writable_chat(params)
        message = chat.live(as_int(params, "message_id"))
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

    async def _record_edit(self, chat: Chat, message: FakeMessage, previous: str | None) -> None:
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

    async def _delete_one(self, chat: Chat, message_id: int) -> bool:
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
        if not await self._delete_one(chat, as_int(params, "message_id")):
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

    def _send_media(self, field_name: str) -> Handler:
        async def handler(params: dict[str, Any], files: dict[str, FileTuple]) -> Any:
            chat = self._writable_chat(params)
            caption, caption_raw = self._caption(params)
            markup = check_markup(params.get("reply_markup"))
            file = self._input_file(params, files, field_name)
            if field_name in ("voice", "video", "audio") and params.get("duration"):
                file.duration = optional_int(params, "duration")
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
            "latitude": as_float(params, "latitude"),
            "longitude": as_float(params, "longitude"),
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
        latitude, longitude = as_float(params, "latitude"), as_float(params, "longitude")
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
        source = source_chat.live(as_int(params, "message_id"))
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
