"""`liepaja-bot demo`: the real bot, offline, against the fake Telegram served over HTTP.

No token and no internet: the fake Bot API runs on 127.0.0.1, the bot polls it exactly as it
would poll Telegram, and this terminal is the resident's Telegram app. Type text or commands;
press a button by its number; see `HELP` for the rest. `--script FILE` plays the same lines
from a file and prints the transcript (CI runs one).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
from pathlib import Path

from telegram import Update

from bot.app import BotApplication, build_application
from bot.config import Settings
from fake_telegram import FakeMessage, FakeTelegram, FakeUser, serve

DEMO_STAFF_CHAT = -1009000000001
DEMO_ADMIN = 900000001
ERROR_MARK = "Sorry, something went wrong"

HELP = """\
Type a message or a /command and press Enter. Buttons under the bot's messages are numbered:
  3          press inline button 3 of the newest message that has buttons
  k1         tap button 1 of the keyboard at the bottom (e.g. share your phone number)
  :photo  :document  :voice  :sticker  :location  :contact   send one of these
  :staff     act as a Development Office specialist in the staff chat (:resident to go back)
  :reply TEXT   (as staff) reply to the newest post in the staff chat with TEXT
  :help  :quit"""


class Terminal:
    """One person's view of a chat in the terminal."""

    def __init__(self, fake: FakeTelegram, resident: FakeUser, staff: FakeUser) -> None:
        self.fake = fake
        self.resident = resident
        self.staff = staff
        self.current = resident
        self.errors = 0
        self.shown: set[tuple[int, int, int]] = set()

    def render(self, message: FakeMessage) -> str:
        lines = [f"bot: {message.describe()}"]
        for number, label in enumerate((b for row in message.buttons for b in row), start=1):
            lines.append(f"   [{number}] {label}")
        if message.reply_keyboard:
            keys = (b for row in message.reply_keyboard for b in row)
            lines.append("   " + "  ".join(f"[k{n}] {label}" for n, label in enumerate(keys, 1)))
        return "\n".join(lines)

    async def settle(self, *, expect_reply: bool = True) -> None:
        """Prints what the bot sends until it has been quiet for a moment."""
        try:
            replies = await self.current.wait_for_reply(timeout=5.0 if expect_reply else 0.3)
        except AssertionError:
            if expect_reply:
                print("(no answer from the bot)")
                self.errors += 1
            return
        while True:
            for message in replies:
                key = (message.chat_id, message.message_id, len(message.edits))
                if key in self.shown:
                    continue
                self.shown.add(key)
                print(self.render(message))
                if message.text and ERROR_MARK in message.text:
                    self.errors += 1
            try:
                # The bot may send several messages for one action: wait until it is quiet.
                replies = await self.current.wait_for_reply(timeout=0.3)
            except AssertionError:
                break
        if self.current.last_answer and self.current.last_answer.text:
            print(f"(notice: {self.current.last_answer.text})")

    async def act(self, line: str) -> bool:
        """Carries out one typed line; False to stop."""
        line = line.rstrip("\n")
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
        if line.startswith(":reply "):
            posts = [m for m in self.staff.messages if m.text and m.buttons]
            if not posts:
                print("(nothing in the staff chat to reply to)")
                return True
            await user.reply_to(posts[-1], line.removeprefix(":reply "))
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


async def run_demo(
    settings: Settings, *, script: Path | None, database: Path | None, language: str
) -> int:
    fake = FakeTelegram(bot_username="liepaja_demo_bot")
    server = await serve(fake)
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
        app = build_application(settings, token=fake.token)
        await start(app)
        resident = fake.user("Rasma", language_code=language)
        staff = fake.user("Inese", user_id=DEMO_ADMIN, language_code="lv").in_chat(staff_group)
        terminal = Terminal(fake, resident, staff)
        try:
            if script is not None:
                for line in script.read_text(encoding="utf-8").splitlines():
                    if line.startswith("#"):
                        continue
                    who = "staff" if terminal.current is staff else "you"
                    print(f"\n{who}> {line}")
                    if not await terminal.act(line):
                        break
            else:
                print("Liepāja bot demo — offline, against a fake Telegram. :help lists commands.")
                await terminal.act("/start")
                loop = asyncio.get_running_loop()
                while True:
                    prompt = "staff> " if terminal.current is staff else "you> "
                    typed = await loop.run_in_executor(None, _read_line, prompt)
                    if typed is None or not await terminal.act(typed):
                        break
        finally:
            await stop(app)
            await server.close()
    if script is not None:
        print(f"\n{terminal.errors} errors")
    return 1 if terminal.errors else 0


def _read_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


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
