"""Simulated people and groups that talk to the bot through a FakeTelegram."""

from __future__ import annotations

import copy
import mimetypes
import struct
import zlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from .models import CallbackAnswer, FakeMessage, command_entities, inline_labels, reply_labels

if TYPE_CHECKING:
    from .server import FakeTelegram

__all__ = ["FakeGroup", "FakeUser"]


def _tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A valid, very small PNG (so photo sizes and downloads look real)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


DEFAULT_PHOTO = _tiny_png()
DEFAULT_VOICE = b"OggS\x00\x02" + b"\x00" * 58  # an Ogg page header is all anyone checks
DEFAULT_STICKER = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24


class _ChatView:
    """Read helpers over one chat (shared by FakeUser and FakeGroup)."""

    _fake: FakeTelegram
    chat_id: int

    @property
    def messages(self) -> list[FakeMessage]:
        """Bot messages in the chat that are not deleted, oldest first."""
        return self._fake.bot_messages(self.chat_id)

    @property
    def all_messages(self) -> list[FakeMessage]:
        """User and bot messages in the chat that are not deleted, oldest first."""
        return self._fake.chat_messages(self.chat_id)

    @property
    def last(self) -> FakeMessage:
        """The newest bot message (edits are applied in place)."""
        messages = self.messages
        if not messages:
            raise AssertionError(
                f"the bot has sent nothing to chat {self.chat_id}\n{self.transcript()}"
            )
        return messages[-1]

    @property
    def last_text(self) -> str | None:
        """Plain text (or caption) of the newest bot message."""
        return self.last.content

    def buttons(self, message: FakeMessage | None = None) -> list[list[str]]:
        """Inline keyboard labels of ``message`` (default: the newest bot message)."""
        return inline_labels((message or self.last).reply_markup)

    def reply_keyboard(self, message: FakeMessage | None = None) -> list[list[str]]:
        """Reply keyboard labels of ``message``, or of the keyboard currently shown."""
        if message is not None:
            return reply_labels(message.reply_markup)
        return reply_labels(self._fake.current_reply_keyboard(self.chat_id))

    def transcript(self) -> str:
        """The whole chat as readable lines (user and bot)."""
        return self._fake.transcript(self.chat_id)


class FakeUser(_ChatView):
    """A Telegram user. Acts in its private chat with the bot unless bound to a group.

    Every action returns the bot messages that appeared (or were edited) in the chat while the
    update was being delivered. That is the complete reply when delivery is synchronous
    (``FakeTelegram.deliver_to(app)``); with polling use ``wait_for_reply``.
    """

    def __init__(
        self,
        fake: FakeTelegram,
        api: dict[str, Any],
        *,
        chat_id: int,
        phone_number: str,
    ) -> None:
        self._fake = fake
        self.api = api
        self.chat_id = chat_id
        self.phone_number = phone_number
        self._seen = fake.mark()  # replies before this event index were already returned
        self._last_query_id: str | None = None

    def __repr__(self) -> str:
        return f"FakeUser({self.first_name!r}, id={self.id}, chat={self.chat_id})"

    @property
    def id(self) -> int:
        return int(self.api["id"])

    @property
    def first_name(self) -> str:
        return str(self.api["first_name"])

    @property
    def username(self) -> str | None:
        return self.api.get("username")

    @property
    def language_code(self) -> str | None:
        return self.api.get("language_code")

    def in_chat(self, group: FakeGroup) -> FakeUser:
        """The same person, acting in ``group`` instead of the private chat."""
        bound = copy.copy(self)
        bound.chat_id = group.chat_id
        bound._seen = self._fake.mark()
        return bound

    # --- actions

    async def _act(self, action: Awaitable[Any]) -> list[FakeMessage]:
        mark = self._fake.mark()
        self._seen = mark
        await action
        return self._fake.replies_since(mark, self.chat_id)

    def _post(self, *, thread_id: int | None = None, **content: Any) -> Awaitable[FakeMessage]:
        return self._fake.user_message(self.api, self.chat_id, thread_id=thread_id, **content)

    async def send(self, text: str, *, thread_id: int | None = None) -> list[FakeMessage]:
        """Send a text message ("/start payload" gets a bot_command entity)."""
        return await self._act(
            self._post(text=text, html=text, entities=command_entities(text), thread_id=thread_id)
        )

    async def reply_to(self, message: FakeMessage, text: str) -> list[FakeMessage]:
        """Send ``text`` as a reply to ``message``."""
        return await self._act(
            self._post(
                text=text,
                html=text,
                entities=command_entities(text),
                reply_to=message.message_id,
                thread_id=message.message_thread_id,
            )
        )

    async def edit(self, message: FakeMessage, new_text: str) -> list[FakeMessage]:
        """Edit one of this user's own messages (an edited_message update)."""
        if message.from_bot or message.sender_id != self.id:
            raise AssertionError("a user can only edit their own messages")
        return await self._act(self._fake.user_edit(self.api, message, new_text))

    async def press(self, label: str, *, message: FakeMessage | None = None) -> list[FakeMessage]:
        """Press the inline button with exactly this visible label.

        Without ``message`` the newest bot message in the chat having such a button is used.
        """
        if message is None:
            for candidate in reversed(self.messages):
                if candidate.button(label) is not None:
                    message = candidate
                    break
            else:
                with_keyboard = [m for m in self.messages if m.buttons][-5:]
                shown = "\n".join(f"  #{m.message_id}: {m.buttons}" for m in with_keyboard)
                shown = shown or "  (no inline keyboards)"
                raise AssertionError(
                    f"no inline button labelled {label!r} in chat {self.chat_id}; "
                    f"visible keyboards (newest last):\n{shown}"
                )
        button = message.button(label)
        if button is None:
            raise AssertionError(
                f"message #{message.message_id} has no button {label!r}; it has {message.buttons}"
            )
        if "callback_data" not in button:
            raise AssertionError(f"button {label!r} is not a callback button: {button}")
        mark = self._fake.mark()
        self._seen = mark
        self._last_query_id = await self._fake.user_press(
            self.api, message, label, str(button["callback_data"])
        )
        return self._fake.replies_since(mark, self.chat_id)

    async def press_forged(
        self, callback_data: str, *, message: FakeMessage | None = None
    ) -> list[FakeMessage]:
        """Send a callback query with data of the caller's choosing, as a modified client can:
        for tests that the bot never trusts callback data."""
        if message is None:
            if not self.messages:
                raise AssertionError(f"no bot message in chat {self.chat_id} to press on")
            message = self.messages[-1]
        mark = self._fake.mark()
        self._seen = mark
        self._last_query_id = await self._fake.user_press(
            self.api, message, f"forged {callback_data}", callback_data
        )
        return self._fake.replies_since(mark, self.chat_id)

    @property
    def last_answer(self) -> CallbackAnswer | None:
        """The bot's answerCallbackQuery for this user's latest press (None if unanswered)."""
        if self._last_query_id is None:
            return None
        return self._fake.callback_answer(self._last_query_id)

    async def tap(self, label: str) -> list[FakeMessage]:
        """Tap a button of the reply keyboard currently shown (contact buttons share contact)."""
        markup = self._fake.current_reply_keyboard(self.chat_id)
        for row in (markup or {}).get("keyboard", []):
            for button in row:
                text = button if isinstance(button, str) else button.get("text")
                if text != label:
                    continue
                if isinstance(button, dict) and button.get("request_contact"):
                    return await self.send_contact()
                if isinstance(button, dict) and button.get("request_location"):
                    raise AssertionError(f"{label!r} requests a location: use send_location()")
                return await self.send(label)
        raise AssertionError(
            f"no reply keyboard button {label!r}; shown keyboard: {reply_labels(markup)}"
        )

    async def send_photo(
        self, caption: str | None = None, *, content: bytes = DEFAULT_PHOTO
    ) -> list[FakeMessage]:
        """Send a photo (a tiny PNG unless ``content`` is given)."""
        photo = self._fake.new_file("photo", None, content, "image/jpeg")
        return await self._act(self._post(photo=photo, caption=caption, caption_html=caption))

    async def send_document(
        self,
        filename: str,
        content: bytes = b"%PDF-1.4 fake document\n",
        mime_type: str | None = None,
        *,
        caption: str | None = None,
    ) -> list[FakeMessage]:
        """Send a file as a document."""
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        document = self._fake.new_file("document", filename, content, mime)
        return await self._act(self._post(document=document, caption=caption, caption_html=caption))

    async def send_voice(self, duration: int = 3) -> list[FakeMessage]:
        """Send a voice message."""
        voice = self._fake.new_file("voice", None, DEFAULT_VOICE, "audio/ogg", duration=duration)
        return await self._act(self._post(voice=voice))

    async def send_sticker(self, emoji: str = "👍") -> list[FakeMessage]:
        """Send a sticker."""
        sticker = self._fake.new_file("sticker", None, DEFAULT_STICKER, "image/webp")
        sticker.emoji = emoji
        return await self._act(self._post(sticker=sticker))

    async def send_location(self, latitude: float, longitude: float) -> list[FakeMessage]:
        """Share a location."""
        return await self._act(self._post(location={"latitude": latitude, "longitude": longitude}))

    async def send_contact(
        self,
        phone_number: str | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        user_id: int | None = None,
    ) -> list[FakeMessage]:
        """Share a contact; by default the user's own (as a request_contact button sends it)."""
        own = phone_number is None
        contact: dict[str, Any] = {
            "phone_number": self.phone_number if own else phone_number,
            "first_name": first_name or (self.first_name if own else "Contact"),
        }
        last = last_name if last_name is not None else (self.api.get("last_name") if own else None)
        if last:
            contact["last_name"] = last
        if user_id is not None or own:
            contact["user_id"] = user_id if user_id is not None else self.id
        return await self._act(self._post(contact=contact))

    async def block_bot(self) -> None:
        """Block the bot (its sends to this user fail with 403 Forbidden)."""
        await self._fake.block_bot(self.id)

    async def unblock_bot(self) -> None:
        """Unblock the bot."""
        await self._fake.unblock_bot(self.id)

    async def wait_for_reply(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109  (a test-facing deadline, not a cancel scope)
        *,
        count: int = 1,
    ) -> list[FakeMessage]:
        """Wait until ``count`` bot messages appeared (or were edited) since the last action.

        Event-driven: woken on every bot message. Returns them and moves the mark, so the next
        call waits for newer ones.
        """
        mark = self._seen

        def ready() -> bool:
            return len(self._fake.replies_since(mark, self.chat_id)) >= count

        await self._fake.wait_until(
            ready,
            timeout,
            message=f"no reply from the bot within {timeout}s in chat {self.chat_id}\n"
            f"{self.transcript()}",
        )
        replies = self._fake.replies_since(mark, self.chat_id)
        self._seen = self._fake.mark()
        return replies


class FakeGroup(_ChatView):
    """A (super)group the bot is a member of."""

    def __init__(self, fake: FakeTelegram, chat_id: int, title: str, *, forum: bool) -> None:
        self._fake = fake
        self.chat_id = chat_id
        self.title = title
        self.forum = forum

    def __repr__(self) -> str:
        return f"FakeGroup({self.title!r}, id={self.chat_id})"

    @property
    def id(self) -> int:
        return self.chat_id

    def as_user(self, user: FakeUser) -> FakeUser:
        """``user`` acting in this group."""
        return user.in_chat(self)

    def set_member_status(self, user: FakeUser, status: str) -> None:
        """What getChatMember reports for ``user`` ("member", "administrator", "creator", ...)."""
        self._fake.set_member_status(self.chat_id, user.id, status)

    async def add_bot(self, *, by: FakeUser) -> None:
        """``by`` adds the bot to this group (a my_chat_member update: left -> member)."""
        await self._fake.add_bot_to_group(self.chat_id, by.id)
