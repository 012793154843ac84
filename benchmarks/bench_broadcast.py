"""How fast a working-group meeting's broadcast reaches every subscriber, and what it does to the
residents who are chatting with the bot meanwhile.

The real bot runs in its own process (`python -m liepaja_bot run`, long polling) against the
fake Telegram served over HTTP on 127.0.0.1 (fake_telegram.serve), with Telegram's overall
limit enforced by the fake (30 messages a second, 429 with retry_after beyond it). The
subscribers are written to the bot's database before it starts (through the store); then a
specialist, in the staff chat, creates a meeting and confirms its broadcast — twice:

  A. the broadcast alone;
  B. the same while `--conversing` residents chat with the bot (/start, the menu's Help button,
     /help, each after a pause of `--think` seconds).

    .venv/bin/python benchmarks/bench_broadcast.py [--subscribers 10000] [--conversing 200]
        [--rate 25] [--think 10-30]

Prints, for each broadcast: messages/s against the configured rate (OUTBOX_RATE), 429s the fake
answered, subscribers who got it twice (duplicates) or never (lost); for B the residents' reply
times (p50/p99/max, from the update queued to the reply received); and the bot process's peak
memory. 10,000 subscribers at 25/s take about 7 minutes a broadcast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.i18n import translator
from bot.store import Store
from fake_telegram import FakeTelegram, FakeUser, serve
from fake_telegram.models import FakeMessage

STAFF_CHAT_ID = -1001234567890
ADMIN_ID = 900001
TELEGRAM_LIMIT = 30


def lv(message: str) -> str:
    return translator("lv", ZoneInfo("Europe/Riga")).gettext(message)


class Watch:
    """Every message the bot sends or edits, as it reaches the fake: broadcast copies are
    counted by chat, anything else in a resident's chat answers that resident's wait."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.marker = ""
        self.copies: Counter[int] = Counter()
        self.first = self.last = 0.0
        self.waiting: dict[int, asyncio.Future[float]] = {}
        original = fake._bot_event

        async def seen(message: FakeMessage) -> None:
            now = time.perf_counter()
            text = message.text or ""
            if self.marker and self.marker in text and message.chat_id > 0:
                if not self.copies:
                    self.first = now
                self.copies[message.chat_id] += 1
                self.last = now
            elif (future := self.waiting.pop(message.chat_id, None)) and not future.done():
                future.set_result(now)
            await original(message)

        fake._bot_event = seen  # type: ignore[method-assign]


async def seed(database: Path, subscribers: list[int], conversing: list[int]) -> None:
    """The subscribers (languages lv/ru/en in turn) and the chatting residents, in one
    transaction, through the store (as if each had subscribed in the bot)."""
    store = Store(database)
    await store.open()
    try:
        async with store.unit_of_work():
            for number, user_id in enumerate(subscribers):
                await store.residents.set_language(user_id, ("lv", "ru", "en")[number % 3])
                await store.residents.record_privacy_shown(user_id)
                await store.meetings.subscribe(user_id, "culture")
            for user_id in conversing:
                await store.residents.set_language(user_id, "en")
                await store.residents.record_privacy_shown(user_id)
    finally:
        await store.close()


async def reply(user: FakeUser, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    await user.wait_for_reply(timeout)


async def broadcast(
    fake: FakeTelegram, inese: FakeUser, watch: Watch, marker: str, expected: int
) -> float:
    """A specialist creates a culture meeting and sends its broadcast; waits until the last
    copy arrived (or nothing came for 60 s). Returns the seconds from the press to the last."""
    when = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d 17:30")
    await inese.send("/newmeeting")
    await reply(inese)
    await inese.press(lv_theme())
    await reply(inese)
    for step in (inese.send(when), inese.send(f"{marker}: kultūras stratēģija.")):
        await step
        await reply(inese)
    for _ in range(2):  # no Russian, no English description: residents read the Latvian one
        await inese.press(lv("Skip"))
        await reply(inese)
    await inese.press(lv("✅ Publish"))
    send_label = (
        translator("lv", ZoneInfo("Europe/Riga"))
        .ngettext("📣 Send to {n} subscriber", "📣 Send to {n} subscribers", expected)
        .format(n=expected)
    )
    await fake.wait_until(lambda: any(m.button(send_label) for m in inese.messages), 60)
    watch.marker, watch.copies = marker, Counter()
    pressed = time.perf_counter()
    await inese.press(send_label)
    seen = -1
    while sum(watch.copies.values()) < expected:
        if sum(watch.copies.values()) == seen:
            break  # a minute without a copy: the rest are lost
        seen = sum(watch.copies.values())
        with contextlib.suppress(AssertionError):
            await fake.wait_until(lambda: sum(watch.copies.values()) >= expected, 60)
    return watch.last - pressed


def lv_theme() -> str:
    from bot.config import load_settings

    theme = load_settings(environ={}, env_file=None).municipality.theme("culture")
    assert theme is not None
    return theme.name("lv")


def report(
    name: str, watch: Watch, subscribers: list[int], rate: int, refusals: int, took: float
) -> None:
    delivered = sum(watch.copies.values())
    span = watch.last - watch.first
    per_second = (delivered - 1) / span if span > 0 else 0.0
    duplicates = sum(1 for chat in subscribers if watch.copies[chat] > 1)
    lost = sum(1 for chat in subscribers if watch.copies[chat] == 0)
    print(f"{name}: {delivered} copies to {len(subscribers)} subscribers in {took:.0f} s")
    print(
        f"  {per_second:.2f} messages/s = {per_second / rate:.3f} of OUTBOX_RATE {rate} "
        f"(first to last copy); 429s answered by the fake: {refusals}; "
        f"duplicates: {duplicates}; lost: {lost}"
    )


async def converse(
    user: FakeUser,
    watch: Watch,
    think: tuple[float, float],
    stop: asyncio.Event,
    times: list[tuple[float, float]],
) -> None:
    """One resident: /start, the menu's Help button, /help, … with a pause between."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(random.uniform(0, think[1]))
    step = 0
    while not stop.is_set():
        future: asyncio.Future[float] = loop.create_future()
        watch.waiting[user.chat_id] = future
        sent = time.perf_counter()
        if step % 3 == 1 and any(m.button("❓ Help") for m in user.messages):
            await user.press("❓ Help")
        else:
            await user.send("/help" if step % 3 == 2 else "/start")
        try:
            times.append((sent, await asyncio.wait_for(future, 30) - sent))
        except TimeoutError:
            times.append((sent, float("inf")))
        step += 1
        await asyncio.sleep(random.uniform(*think))


async def main(
    subscribers_n: int, conversing_n: int, rate: int, think: tuple[float, float]
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        fake = FakeTelegram(bot_username="liepaja_bench_bot", flood_limit_per_second=30)
        staff = fake.group("Attīstības pārvalde", chat_id=STAFF_CHAT_ID)
        inese = fake.user("Inese", user_id=ADMIN_ID, language_code="lv").in_chat(staff)
        subscribers = [fake.user(f"S{n}", language_code="lv").id for n in range(subscribers_n)]
        residents = [fake.user(f"C{n}", language_code="en") for n in range(conversing_n)]
        database = Path(scratch) / "bench.sqlite3"
        await seed(database, subscribers, [r.id for r in residents])
        watch = Watch(fake)
        server = await serve(fake)
        env = {
            **os.environ,
            "BOT_TOKEN": fake.token,
            "BOT_API_URL": server.base_url,
            "BOT_FILE_API_URL": server.base_file_url,
            "DATABASE": str(database),
            "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
            "ADMIN_IDS": str(ADMIN_ID),
            "OUTBOX_RATE": str(rate),
            "LOG_LEVEL": "WARNING",
        }
        log = (Path(scratch) / "bot.log").open("wb")
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "liepaja_bot", "--env-file", os.devnull, "run",
            env=env, stdout=log, stderr=log, cwd=scratch,
        )  # fmt: skip
        try:
            while not fake.calls_to("setMyCommands"):  # started (these wake no waiter)
                if bot.returncode is not None:
                    raise RuntimeError("the bot did not start")
                await asyncio.sleep(0.1)
            before = fake.flood_refusals
            took = await broadcast(fake, inese, watch, "BENCH-A", subscribers_n)
            report(
                "A. broadcast alone", watch, subscribers, rate, fake.flood_refusals - before, took
            )

            stop = asyncio.Event()
            times: list[tuple[float, float]] = []
            chatting = [
                asyncio.create_task(converse(user, watch, think, stop, times)) for user in residents
            ]
            await asyncio.sleep(think[1])  # everyone is talking before the broadcast starts
            before = fake.flood_refusals
            took = await broadcast(fake, inese, watch, "BENCH-B", subscribers_n)
            refusals = fake.flood_refusals - before
            stop.set()
            await asyncio.gather(*chatting)
            report(
                f"B. broadcast while {conversing_n} residents chat",
                watch,
                subscribers,
                rate,
                refusals,
                took,
            )
            during = sorted(t for sent, t in times if watch.first <= sent <= watch.last)
            if during:
                p = lambda q: during[min(len(during) - 1, int(len(during) * q))]  # noqa: E731
                print(
                    f"  residents' replies during it: {len(during)}, "
                    f"p50 {p(0.5) * 1000:.0f} ms, p99 {p(0.99) * 1000:.0f} ms, "
                    f"max {during[-1] * 1000:.0f} ms, unanswered in 30 s: "
                    f"{sum(1 for t in during if t == float('inf'))}"
                )
        finally:
            if bot.returncode is None:
                bot.send_signal(signal.SIGTERM)
                await bot.wait()
            await server.close()
            log.close()
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak RSS of the bot process: {peak:.0f} MiB (exit code {bot.returncode})")
        if bot.returncode:
            print((Path(scratch) / "bot.log").read_text()[-3000:])
    print(
        "rerun: .venv/bin/python benchmarks/bench_broadcast.py "
        f"--subscribers {subscribers_n} --conversing {conversing_n} --rate {rate} "
        f"--think {think[0]:g}-{think[1]:g}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--conversing", type=int, default=200)
    parser.add_argument("--rate", type=int, default=25, help="OUTBOX_RATE (1–30)")
    parser.add_argument("--think", default="10-30", help="seconds between a resident's actions")
    args = parser.parse_args()
    low, high = (float(x) for x in args.think.split("-"))
    asyncio.run(main(args.subscribers, args.conversing, args.rate, (low, high)))
