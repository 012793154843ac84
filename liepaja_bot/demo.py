"""`liepaja-bot demo`: the real bot, offline, against the fake Telegram served over HTTP.

No token and no internet: the fake Bot API runs on 127.0.0.1, the bot polls it exactly as it
would poll Telegram, and this terminal is the resident's Telegram app. Type text or commands;
press a button by its number; see `HELP` for the rest. `--script FILE` plays the same lines
from a file and prints the transcript (CI runs one). Ctrl-C, Ctrl-D and `:quit` end it at once,
shutting the bot down.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from telegram import Update

from bot.app import BotApplication
from bot.config import Settings
from bot.outbox import Limits
from fake_telegram import CallbackAnswer, FakeGroup, FakeMessage, FakeTelegram, FakeUser, serve
from liepaja_bot.assembly import build_application

DEMO_STAFF_CHAT = -1009000000001
DEMO_ADMIN = 900000001
ERROR_MARK = "Sorry, something went wrong"

HELP = """\
Type a message or a /command and press Enter. The bot's messages are numbered [#N], the buttons
under them [1], [2], ...:
  3          press inline button 3 of the newest message that has buttons
  k1         tap button 1 of the keyboard at the bottom (e.g. share your phone number)
  :photo  :document  :voice  :sticker  :location  :contact   send one of these
  :staff     act as a Development Office specialist in the staff chat (:resident to go back)
  :reply TEXT     reply with TEXT to the newest message with buttons (as staff: the newest post)
  :reply N TEXT   reply with TEXT to the bot's message [#N] — e.g. to its question why a
                  proposal is not included: the reason goes to the resident with the status
  :help      this list
  :quit      leave the demo (Ctrl-D and Ctrl-C too)"""

# How long the bot must stay silent before its answer to one action counts as complete.
QUIET = 0.3


class LineSource(Protocol):
    """Where typed lines come from: the terminal, or whatever a test feeds in."""

    async def readline(self) -> bytes | str | None:
        """The next line without its line break; None at the end of input (Ctrl-D)."""
        ...


class StdinLines:
    """Lines from standard input, read on the event loop (no thread).

    A thread blocked in input() kept the process alive after Ctrl-C; here a Ctrl-C cancels the
    read like any other await. Bytes come raw so that the demo decides how to decode them.
    """

    def __init__(self, fd: int = 0) -> None:
        self._fd = fd
        self._buffer = b""
        self._eof = False

    async def readline(self) -> bytes | None:
        while b"\n" not in self._buffer and not self._eof:
            chunk = await self._read()
            self._buffer += chunk
            self._eof = not chunk
        if not self._buffer:
            return None
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    async def _read(self) -> bytes:
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()

        def ready() -> None:
            if not readable.done():
                readable.set_result(None)

        try:
            loop.add_reader(self._fd, ready)
        except (OSError, ValueError):
            # A regular file (`demo < lines.txt`) cannot be watched; reading it never blocks.
            return os.read(self._fd, 65536)
        try:
            await readable
        finally:
            loop.remove_reader(self._fd)
        return os.read(self._fd, 65536)


def clean_line(raw: bytes | str) -> str:
    """A typed line as valid text: bytes that are not UTF-8 (a long paste the terminal cut in
    the middle of a character) and lone surrogates become U+FFFD. Such text cannot be encoded
    as UTF-8 JSON, and one update that cannot be sent stalled every later getUpdates."""
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace").rstrip("\r\n")
    try:
        data = raw.encode("utf-8", "surrogateescape")  # undo what a lenient stdin decoded
    except UnicodeEncodeError:  # a lone surrogate that surrogateescape did not make
        data = raw.encode("utf-8", "replace")
    return clean_line(data)


@dataclasses.dataclass
class Shown:
    """A bot message as this terminal last printed it."""

    number: int
    look: tuple[str | None, list[list[str]]]  # content, inline buttons


class Terminal:
    """The terminal as a Telegram app: whoever acts now (the resident, or a specialist in the
    staff chat) types here and reads what the bot sends them."""

    def __init__(self, fake: FakeTelegram, resident: FakeUser, staff: FakeUser) -> None:
        self.fake = fake
        self.resident = resident
        self.staff = staff
        self.current = resident
        self.errors = 0
        # Where each chat's printing has got to in the fake's log of bot sends and edits.
        self.cursors = {resident.chat_id: fake.mark(), staff.chat_id: fake.mark()}
        self.shown: dict[tuple[int, int], Shown] = {}
        self.numbered: dict[int, FakeMessage] = {}  # [#N] -> message, for :reply N
        self.noticed: set[str] = set()  # callback queries whose notice was printed

    @staticmethod
    def look(message: FakeMessage) -> tuple[str | None, list[list[str]]]:
        return message.content, message.buttons

    @staticmethod
    def render_buttons(message: FakeMessage) -> list[str]:
        lines = []
        for number, label in enumerate((b for row in message.buttons for b in row), start=1):
            lines.append(f"   [{number}] {label}")
        return lines

    def render(self, number: int, message: FakeMessage) -> str:
        lines = [f"[#{number}] bot: {message.describe()}", *self.render_buttons(message)]
        if message.reply_keyboard:
            keys = (b for row in message.reply_keyboard for b in row)
            lines.append("   " + "  ".join(f"[k{n}] {label}" for n, label in enumerate(keys, 1)))
        return "\n".join(lines)

    def render_edit(self, number: int, message: FakeMessage, before: Shown) -> str:
        if message.content != before.look[0]:
            head = f"[#{number}] bot (edited): {message.describe()}"
        elif message.buttons:
            head = f"[#{number}] (edited: new buttons)"
        else:
            # Only the buttons went (a card after Submit): printing the card again read as a
            # second message.
            head = f"[#{number}] (edited: buttons removed)"
        return "\n".join([head, *self.render_buttons(message)])

    def show(self, message: FakeMessage) -> None:
        """Prints a new message, or what changed in one printed before; nothing twice."""
        key = (message.chat_id, message.message_id)
        before = self.shown.get(key)
        look = self.look(message)
        if before is None:
            number = len(self.numbered) + 1
            self.numbered[number] = message
            self.shown[key] = Shown(number, look)
            print(self.render(number, message))
        elif look != before.look:
            print(self.render_edit(before.number, message, before))
            before.look = look
        else:
            return
        if message.text and ERROR_MARK in message.text:
            self.errors += 1

    def show_new(self, chat_id: int) -> None:
        """Prints what the bot sent or edited in the chat since the last call, in order."""
        mark = self.fake.mark()
        for message in self.fake.replies_since(self.cursors[chat_id], chat_id):
            self.show(message)
        self.cursors[chat_id] = mark

    def pending_notice(self) -> CallbackAnswer | None:
        """The toast or alert answering the current person's latest press, if not yet shown."""
        answer = self.current.last_answer
        if answer is None or not answer.text or answer.callback_query_id in self.noticed:
            return None
        return answer

    async def settle(self, *, expect_reply: bool = True) -> None:
        """Prints what the bot sends until it has been quiet for a moment."""
        chat_id = self.current.chat_id

        def replies() -> bool:
            return bool(self.fake.replies_since(self.cursors[chat_id], chat_id))

        try:
            # A press may be answered by a notice alone.
            await self.fake.wait_until(
                lambda: replies() or self.pending_notice() is not None,
                5.0 if expect_reply else QUIET,
            )
        except AssertionError:
            if expect_reply:
                print("(no answer from the bot)")
                self.errors += 1
            return
        while True:
            self.show_new(chat_id)
            try:
                # The bot may send several messages for one action: wait until it is quiet.
                await self.fake.wait_until(replies, QUIET)
            except AssertionError:
                break
        notice = self.pending_notice()
        if notice is not None:
            self.noticed.add(notice.callback_query_id)
            print(f"(notice: {notice.text})")

    def reply_target(self, rest: str) -> tuple[FakeMessage, str] | None:
        """For `:reply [N] TEXT`: the message replied to and the text; None (said why) if not."""
        user = self.current
        first, _, text = rest.partition(" ")
        if first.removeprefix("#").isdigit():
            number = int(first.removeprefix("#"))
            message = self.numbered.get(number)
            if message is None or message.chat_id != user.chat_id or message.deleted:
                print(f"(no message [#{number}] in this chat)")
                return None
            if not text.strip():
                print("(:reply N TEXT: what should the reply say?)")
                return None
            return message, text.strip()
        posts = [m for m in user.messages if m.text and m.buttons]
        if not posts:
            print("(nothing with buttons in this chat to reply to; :reply N TEXT replies to [#N])")
            return None
        if not rest.strip():
            print("(:reply TEXT: what should the reply say?)")
            return None
        return posts[-1], rest.strip()

    async def act(self, line: str) -> bool:
        """Carries out one typed line; False to stop."""
        line = line.rstrip("\r\n")
        user = self.current
        if not line.strip():
            return True
        if line in (":quit", ":q"):
            return False
        if line == ":help":
            print(HELP)
            return True
        if line in (":staff", ":resident"):
            self.current = self.staff if line == ":staff" else self.resident
            print(
                "(you are now a specialist in the staff chat)"
                if line == ":staff"
                else "(you are the resident again)"
            )
            await self.settle(expect_reply=False)  # what arrived here meanwhile
            return True
        if line == ":reply" or line.startswith(":reply "):
            target = self.reply_target(line.removeprefix(":reply").strip())
            if target is None:
                return True
            await user.reply_to(*target)
        elif line.isdigit():
            with_buttons = [m for m in user.messages if m.buttons]
            labels = [b for row in with_buttons[-1].buttons for b in row] if with_buttons else []
            if not 1 <= int(line) <= len(labels):
                print("(no such button)")
                return True
            await user.press(labels[int(line) - 1], message=with_buttons[-1])
        elif line.startswith("k") and line[1:].isdigit():
            keys = [b for row in user.reply_keyboard() for b in row]
            if not 1 <= int(line[1:]) <= len(keys):
                print("(no such key)")
                return True
            await user.tap(keys[int(line[1:]) - 1])
        elif line == ":photo":
            await user.send_photo()
        elif line == ":document":
            await user.send_document("plans.pdf", b"%PDF-1.4 demo", mime_type="application/pdf")
        elif line == ":voice":
            await user.send_voice()
        elif line == ":sticker":
            await user.send_sticker()
        elif line == ":location":
            await user.send_location(56.5047, 21.0108)
        elif line == ":contact":
            await user.send_contact()
        else:
            await user.send(line)
        await self.settle()
        return True

    async def play(self, script: Path) -> None:
        """Plays a script, printing each line as if typed."""
        for raw in script.read_bytes().splitlines():
            line = clean_line(raw)
            if line.startswith("#"):
                continue
            who = "staff" if self.current is self.staff else "you"
            print(f"\n{who}> {line}")
            if not await self.act(line):
                break

    async def converse(self, lines: LineSource) -> None:
        """The interactive loop: a prompt, a line, its effect; until :quit or end of input."""
        print("Liepāja bot demo — offline, against a fake Telegram. :help lists commands.")
        await self.act("/start")
        while True:
            print("staff> " if self.current is self.staff else "you> ", end="", flush=True)
            raw = await lines.readline()
            if raw is None:
                print()  # Ctrl-D: end the prompt's line
                return
            if not await self.act(clean_line(raw)):
                return


async def run_demo(
    settings: Settings,
    *,
    script: Path | None,
    database: Path | None,
    language: str,
    lines: LineSource | None = None,
) -> int:
    """The demo; returns the exit code (130 after Ctrl-C). ``lines`` default to stdin."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    interrupted = False

    def interrupt() -> None:
        # asyncio.run's own Ctrl-C handling ends in a KeyboardInterrupt traceback. Cancel the
        # demo once instead: it shuts the bot down and returns; a second Ctrl-C during that
        # short shutdown is ignored.
        nonlocal interrupted
        if not interrupted and task is not None:
            interrupted = True
            task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, interrupt)
        handles_sigint = True
    except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
        handles_sigint = False
    try:
        return await _run_demo(settings, script, database, language, lines or StdinLines())
    except asyncio.CancelledError:
        if not interrupted or task is None:
            raise
        task.uncancel()
        print()
        return 130
    finally:
        if handles_sigint:
            loop.remove_signal_handler(signal.SIGINT)


async def _run_demo(
    settings: Settings, script: Path | None, database: Path | None, language: str, lines: LineSource
) -> int:
    async with offline_bot(settings, database) as (fake, staff_group):
        resident = fake.user("Rasma", language_code=language)
        terminal = Terminal(fake, resident, demo_specialist(fake, staff_group))
        if script is not None:
            await terminal.play(script)
        else:
            await terminal.converse(lines)
    if script is not None:
        print(f"\n{terminal.errors} errors")
    return 1 if terminal.errors else 0


@contextlib.asynccontextmanager
async def offline_bot(
    settings: Settings, database: Path | None
) -> AsyncIterator[tuple[FakeTelegram, FakeGroup]]:
    """The real bot polling a fake Telegram served on 127.0.0.1, with the demo's staff chat;
    shut down (bot, then server) on leaving. Shared by the terminal and the web demo."""
    fake = FakeTelegram(bot_username="liepaja_demo_bot")
    server = await serve(fake)
    try:
        with tempfile.TemporaryDirectory(prefix="liepaja-demo-") as scratch:
            staff_group = fake.group("Attīstības pārvalde (demo)", chat_id=DEMO_STAFF_CHAT)
            settings = dataclasses.replace(
                settings,
                database=database or Path(scratch) / "demo.sqlite3",
                bot_api_url=server.base_url,
                bot_file_api_url=server.base_file_url,
                staff_chat_id=DEMO_STAFF_CHAT,
                admin_ids=frozenset({DEMO_ADMIN}),
                bot_token=None,
            )
            # The offline Telegram has no flood limits, and a reader should not wait a second
            # between two notices to the same chat as real Telegram would require.
            unlimited = Limits(
                per_chat_interval=0.0, group_per_minute=10**6, overall_per_second=10**6
            )
            app = build_application(settings, token=fake.token, limits=unlimited)
            await start(app)
            try:
                yield fake, staff_group
            finally:
                await stop(app)
    finally:
        await server.close()


def demo_specialist(fake: FakeTelegram, staff_group: FakeGroup) -> FakeUser:
    """Inese, a Development Office specialist (and admin), acting in the staff chat."""
    return fake.user("Inese", user_id=DEMO_ADMIN, language_code="lv").in_chat(staff_group)


async def start(app: BotApplication) -> None:
    """What run_polling() does, split so the demo can share the event loop with the terminal."""
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
    await app.start()


async def stop(app: BotApplication) -> None:
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run it as: liepaja-bot demo")
