"""`liepaja-bot demo --web`: the real bot, offline, with a page on 127.0.0.1 as the Telegram app.

The bot polls the fake Telegram exactly as in the terminal demo (``demo.offline_bot``). This
small aiohttp app serves a page (``liepaja_bot/web/``: plain HTML, CSS and JS, nothing from the
internet) with a resident's chat and the staff chat side by side, and acts for the people on
the page through the fake's user-side API (``FakeUser.send``, ``press``, ``tap``, …). The page
learns of every change — a message, an edit, a deletion, a button's notice — from server-sent
events carrying the whole state; it updates only what changed, in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import signal
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.config import Settings
from fake_telegram import FakeMessage, FakeTelegram, FakeUser
from liepaja_bot.demo import demo_specialist, offline_bot
from liepaja_bot.telegram_html import safe_html

# "Share location" sends this: Rožu laukums, Liepāja (the terminal demo's :location too).
DEMO_LOCATION = (56.5047, 21.0108)
LANGUAGES = ("lv", "ru", "en")
# Residents added on the page, by their Telegram's language; the first one is Rasma.
NAMES = {
    "lv": ["Rasma", "Jānis", "Līga", "Andris"],
    "ru": ["Olga", "Dmitrijs", "Svetlana", "Igors"],
    "en": ["Emma", "Tom", "Sarah", "David"],
}
# Images the page may show inline; anything else is only downloaded.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
KEEP_ALIVE = 15.0  # seconds between the event stream's comments when nothing happens


class Pane:
    """One chat on the page: a resident's private chat, or the staff chat as the specialist."""

    def __init__(self, pane_id: str, kind: str, user: FakeUser, title: str) -> None:
        self.id = pane_id
        self.kind = kind
        self.user = user
        self.title = title


class WebDemo:
    """The page's server side: the panes, their state as JSON, and the people's actions."""

    def __init__(self, fake: FakeTelegram, specialist: FakeUser) -> None:
        self.fake = fake
        self.panes: dict[str, Pane] = {
            "staff": Pane("staff", "staff", specialist, "Attīstības pārvalde (demo)")
        }
        self.names = {fake.bot_id: fake.bot_first_name, specialist.id: specialist.first_name}
        self.version = 0
        self.closing = False
        self._changed = asyncio.Event()

    # --- the residents

    def add_resident(self, language: str) -> Pane:
        """A new resident whose Telegram is in ``language``, in a tab of their own."""
        number = sum(1 for pane in self.panes.values() if pane.kind == "resident")
        taken = {pane.user.first_name for pane in self.panes.values()}
        names = NAMES.get(language, NAMES["en"])
        free = [name for name in names if name not in taken]
        name = free[0] if free else f"{names[0]} {number + 1}"
        user = self.fake.user(name, language_code=language)
        self.names[user.id] = name
        pane = Pane(f"r{number + 1}", "resident", user, f"{name} ({language})")
        self.panes[pane.id] = pane
        self.changed()
        return pane

    # --- changes

    def changed(self) -> None:
        """Wakes every event stream: the state is new."""
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    def _signature(self) -> tuple[int, ...]:
        deleted = sum(
            1
            for pane in self.panes.values()
            for message in self.fake.chat_messages(pane.user.chat_id, include_deleted=True)
            if message.deleted
        )
        return self.fake.mark(), len(self.fake.callback_answers), deleted

    async def next_change(self, seen: int, patience: float) -> None:
        """Returns once the state is newer than version ``seen``, or after ``patience`` s."""
        event = self._changed  # set, never cleared, when replaced: no change is missed
        if self.version != seen:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), patience)

    def _moved(self, since: tuple[int, ...]) -> bool:
        return self._signature() != since

    async def watch(self) -> None:
        """Turns the bot's sends, edits, deletions and notices into changes (event-driven)."""
        seen = self._signature()
        while not self.closing:
            with contextlib.suppress(AssertionError):  # a quiet hour
                await self.fake.wait_until(functools.partial(self._moved, seen), 3600)
            now = self._signature()
            if now != seen:
                seen = now
                self.changed()

    # --- the state the page shows

    def state(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "languages": list(LANGUAGES),
            "panes": [self._pane_state(pane) for pane in self.panes.values()],
        }

    def _pane_state(self, pane: Pane) -> dict[str, Any]:
        chat_id = pane.user.chat_id
        everything = self.fake.chat_messages(chat_id, include_deleted=True)
        by_id = {message.message_id: message for message in everything}
        answer = pane.user.last_answer
        return {
            "id": pane.id,
            "kind": pane.kind,
            "title": pane.title,
            "me": pane.user.first_name,
            "language": pane.user.language_code,
            "messages": [
                self._message(pane, message, by_id) for message in everything if not message.deleted
            ],
            "keyboard": self._keyboard(chat_id),
            "notice": (
                {"id": answer.callback_query_id, "text": answer.text, "alert": answer.show_alert}
                if answer is not None and answer.text
                else None
            ),
        }

    def _keyboard(self, chat_id: int) -> list[list[dict[str, str]]]:
        markup = self.fake.current_reply_keyboard(chat_id) or {}
        rows = []
        for row in markup.get("keyboard", []):
            keys = []
            for button in row:
                key = {"text": button} if isinstance(button, str) else button
                kind = "contact" if key.get("request_contact") else "text"
                kind = "location" if key.get("request_location") else kind
                keys.append({"label": str(key.get("text", "")), "kind": kind})
            rows.append(keys)
        return rows

    def _message(
        self, pane: Pane, message: FakeMessage, by_id: dict[int, FakeMessage]
    ) -> dict[str, Any]:
        text, caption = message.text, message.caption
        data: dict[str, Any] = {
            "key": f"{message.chat_id}:{message.message_id}",
            "id": message.message_id,
            "bot": message.from_bot,
            "mine": message.sender_id == pane.user.id,
            "sender": self.names.get(message.sender_id, str(message.sender_id)),
            "time": message.date.astimezone().strftime("%H:%M"),
            "edited": message.edit_date is not None or bool(message.edits),
            "html": safe_html(message.html, text, message.parse_mode) if text is not None else "",
            "caption": (
                safe_html(message.caption_html, caption, message.parse_mode)
                if caption is not None
                else ""
            ),
            "buttons": [
                [{"label": str(button.get("text", "")), "url": button.get("url")} for button in row]
                for row in (message.reply_markup or {}).get("inline_keyboard", [])
            ],
        }
        target = by_id.get(message.reply_to_message_id or 0)
        if target is not None:
            data["reply"] = {
                "sender": self.names.get(target.sender_id, ""),
                "text": target.describe()[:90],
            }
        for kind in ("photo", "document", "voice", "sticker", "video", "audio"):
            file = getattr(message, kind)
            if file is not None:
                data["file"] = {
                    "kind": kind,
                    "url": f"/file/{file.file_id}",
                    "name": file.filename or f"{kind}{Path(file.file_path).suffix}",
                    "size": file.size,
                    "inline": (file.mime_type or "") in INLINE_TYPES or kind == "photo",
                    "emoji": file.emoji,
                }
        if message.venue is not None:
            data["venue"] = {
                "title": message.venue.get("title", ""),
                "address": message.venue.get("address", ""),
            }
        if message.location is not None:
            data["location"] = [message.location["latitude"], message.location["longitude"]]
        if message.contact is not None:
            contact = message.contact
            name = " ".join(filter(None, (contact.get("first_name"), contact.get("last_name"))))
            data["contact"] = {"name": name, "phone": contact.get("phone_number", "")}
        return data

    # --- what the people on the page do

    async def act(self, pane: Pane, action: str, body: dict[str, Any]) -> None:
        """One action of the pane's person. Raises LookupError for what is no longer there."""
        user = pane.user
        if action == "send":
            text = str(body.get("text", "")).strip()
            if not text:
                raise LookupError("nothing to send")
            reply_to = body.get("reply_to")
            if reply_to is not None:
                await user.reply_to(self._live(pane, reply_to), text)
            else:
                await user.send(text)
        elif action == "press":
            message = self._live(pane, body.get("message"))
            try:
                await user.press(str(body.get("label")), message=message)
            except AssertionError as error:  # the buttons changed meanwhile
                raise LookupError("that button is no longer there") from error
        elif action == "key":
            label = str(body.get("label"))
            kinds = {
                key["label"]: key["kind"] for row in self._keyboard(user.chat_id) for key in row
            }
            if label not in kinds:
                raise LookupError("that key is no longer there")
            if kinds[label] == "location":
                await user.send_location(*DEMO_LOCATION)
            else:
                await user.tap(label)
        elif action == "location":
            await user.send_location(*DEMO_LOCATION)
        else:
            raise LookupError(f"no such action: {action}")
        self.changed()

    async def upload(self, pane: Pane, name: str, content: bytes, mime: str) -> None:
        """A file from the page: an image goes as a photo, anything else as a document."""
        if not content:
            raise LookupError("the file is empty")
        if mime in INLINE_TYPES:
            await pane.user.send_photo(content=content)
        else:
            await pane.user.send_document(name or "file", content, mime or None)
        self.changed()

    def _live(self, pane: Pane, message_id: Any) -> FakeMessage:
        for message in self.fake.chat_messages(pane.user.chat_id):
            if message.message_id == message_id:
                return message
        raise LookupError("that message is no longer there")


def static(name: str) -> bytes:
    return resources.files("liepaja_bot").joinpath("web", name).read_bytes()


def build_app(demo: WebDemo) -> web.Application:
    """The page, its files, the event stream and the actions."""

    @web.middleware
    async def local_only(request: web.Request, handler: Any) -> web.StreamResponse:
        # Only this page may act: no other site's form (Origin) nor a rebound name (Host).
        host = request.host.rsplit(":", 1)[0]
        origin = request.headers.get("Origin")
        if host not in ("127.0.0.1", "localhost") or (
            request.method == "POST" and origin not in (None, f"http://{request.host}")
        ):
            return web.json_response({"error": "forbidden"}, status=403)
        response = await handler(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    def page(name: str, content_type: str) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=static(name), content_type=content_type, charset="utf-8")

        return handler

    async def state(request: web.Request) -> web.Response:
        return web.json_response(demo.state())

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        sent = -1
        while not demo.closing:
            if demo.version != sent:
                sent = demo.version
                payload = json.dumps(demo.state(), ensure_ascii=False)
                await response.write(f"data: {payload}\n\n".encode())
            else:
                await response.write(b": still here\n\n")
            await demo.next_change(sent, KEEP_ALIVE)
        return response

    def pane_of(request: web.Request) -> Pane:
        pane = demo.panes.get(request.match_info["pane"])
        if pane is None:
            raise web.HTTPNotFound(text="no such chat")
        return pane

    async def act(request: web.Request) -> web.Response:
        pane = pane_of(request)
        try:
            body = await request.json()
            await demo.act(
                pane, request.match_info["action"], body if isinstance(body, dict) else {}
            )
        except (LookupError, ValueError) as error:
            return web.json_response({"error": str(error)}, status=409)
        return web.json_response({"ok": True})

    async def upload(request: web.Request) -> web.Response:
        pane = pane_of(request)
        form = await request.post()
        file = form.get("file")
        if not isinstance(file, web.FileField):
            return web.json_response({"error": "choose a file"}, status=400)
        try:
            await demo.upload(pane, file.filename, file.file.read(), file.content_type)
        except LookupError as error:
            return web.json_response({"error": str(error)}, status=409)
        return web.json_response({"ok": True})

    async def resident(request: web.Request) -> web.Response:
        body = await request.json()
        language = body.get("language") if isinstance(body, dict) else None
        if language not in LANGUAGES:
            return web.json_response({"error": "language: lv, ru or en"}, status=400)
        pane = demo.add_resident(language)
        await pane.user.send("/start")
        demo.changed()
        return web.json_response({"pane": pane.id})

    async def download(request: web.Request) -> web.Response:
        file = demo.fake.files.get(request.match_info["file_id"])
        if file is None or not file.content:
            raise web.HTTPNotFound(text="no such file")
        mime = file.mime_type or "application/octet-stream"
        if file.kind == "photo" or mime in INLINE_TYPES:
            return web.Response(body=file.content, content_type=sniff_image(file.content))
        name = file.filename or Path(file.file_path).name
        return web.Response(
            body=file.content,
            content_type="application/octet-stream",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}"},
        )

    app = web.Application(middlewares=[local_only], client_max_size=21 * 1024 * 1024)
    app.router.add_get("/", page("index.html", "text/html"))
    app.router.add_get("/app.js", page("app.js", "text/javascript"))
    app.router.add_get("/style.css", page("style.css", "text/css"))
    app.router.add_get("/state", state)
    app.router.add_get("/events", events)
    app.router.add_post("/chat/{pane}/upload", upload)
    app.router.add_post("/chat/{pane}/{action}", act)
    app.router.add_post("/residents", resident)
    app.router.add_get("/file/{file_id}", download)
    return app


def sniff_image(content: bytes) -> str:
    """An image's type from its first bytes (a resident's photo is sent as image/jpeg)."""
    if content.startswith(b"\x89PNG"):
        return "image/png"
    if content.startswith(b"GIF8"):
        return "image/gif"
    if content[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"


async def run_web_demo(
    settings: Settings, *, database: Path | None, language: str, port: int
) -> int:
    """Serves the page until Ctrl-C (or SIGTERM); returns the exit code."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        async with offline_bot(settings, database) as (fake, staff_group):
            demo = WebDemo(fake, demo_specialist(fake, staff_group))
            first = demo.add_resident(language)
            await first.user.send("/start")
            watcher = asyncio.create_task(demo.watch())
            runner = web.AppRunner(
                build_app(demo), handler_cancellation=True, access_log=None, shutdown_timeout=1.0
            )
            await runner.setup()
            try:
                site = web.TCPSite(runner, "127.0.0.1", port)
                try:
                    await site.start()
                except OSError as error:
                    print(f"liepaja-bot: cannot serve on port {port}: {error}", file=sys.stderr)
                    return 1
                url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
                print(f"The web demo is at {url} — open it in a browser.", flush=True)
                print("Ctrl-C here ends it.", flush=True)
                await stop.wait()
            finally:
                demo.closing = True
                demo.changed()
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
                await runner.cleanup()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
    return 0
