"""The bot's throughput against a bare ceiling, stored-resident scaling, start-up, and a flood.

    .venv/bin/python benchmarks/bench_flow.py [--synchronous FULL|NORMAL] [--slow-fsync-ms 2]

Everything runs in this one process against the in-process fake Telegram, delivered as the
tests deliver it (`fake.deliver_to(app)`, then `app.settle()` after each update; no background
loops, no rate limiter) — as a webhook delivers it: handled, then confirmed (bot/updates.py) —
with an injected clock that moves 4 s per resident action (the flood guard's 20 messages a
minute is not what is measured).

1. Ceiling. A bare PTB `Application` whose one handler commits one row (aiosqlite, WAL, the same
   `synchronous`) and replies, fed the very updates the bot received. Beside it, "bare +
   replies": the same, but its handler makes the very Bot API calls the bot made for each update
   (recorded in the round before, answered from the recording) — what the bot's replies alone
   cost PTB. Bare and bot rounds alternate (`--rounds`, default 3); ranges across the rounds are
   printed, and the ratios.
   Each bot round: `--residents` new residents through the whole proposal flow (11 updates:
   /start, language, menu, theme, text, photo, continue, skip contact, submit, /mine, thanks)
   with a staff chat, so submitted proposals go through the outbox too. Commits, trips to
   aiosqlite's thread, statements and Bot API calls per update come from one more, untimed,
   round of each with the connection instrumented (`--statements N` lists the bot's top N).
2. Stored residents. Fresh databases pre-filled with 1,000 / 10,000 / 100,000 residents (with
   conversation states, user_data, drafts, proposals, message log, handled update ids, outbox
   rows, as use leaves them); the time of start-up (`initialize()`), then `--rounds` passes of
   the flow for `--scale-residents` new residents while as many stored ones come back.
3. Flood. One resident sends 100 messages within 10 s (injected clock), one at a time or ten at
   once, while another goes through the flow; the other's reply latency, with the updates that
   arrive together handled one at a time (PTB's default) or by PerChatOrder (bot/ordering.py).
4. Burst (`--burst`). Residents' /start waiting at Telegram, fetched by the real polling path:
   the time until the last answer, and the commits made.

Latency is wall time per update, from the fake handing the update over to the reply (the end of
`process_update`); "incl. outbox" runs to the end of `settle()`. CPU is the process's, both
threads, per update: steadier than wall time when other jobs share the machine. With
`--api-latency-ms`, every Bot API call waits that long, as a round trip to Telegram would.
Figures depend on the disk's fsync speed (FULL syncs the WAL at every commit); compare runs on
one machine only. `--slow-fsync-ms 2` makes every fsync 2 ms slower, as on a slow disk (it
builds benchmarks/slow_fsync.c with gcc and runs the script again with it preloaded).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import os
import pstats
import random
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosqlite
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBUserWarning

from bot.app import BotApplication
from bot.config import Settings, load_settings
from bot.ordering import PerChatOrder
from bot.store import Store
from liepaja_bot.assembly import build_application

# isort: split
# The in-process fake Telegram: when it moves to a top-level package, change this line only.
from fake_telegram import FakeTelegram, FakeTelegramRequest, FakeUser

# The replies ceiling calls the Bot API by method name, on purpose (the recorded calls, whatever
# they are); PTB would warn at every one that a named method exists.
warnings.filterwarnings("ignore", "Please use 'Bot.", PTBUserWarning)

STAFF_CHAT_ID = -1001234567890
STEP = timedelta(seconds=4)  # injected time between two actions of one resident
Deliver = Callable[[dict[str, Any]], Awaitable[None]]


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# -- counting -------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one app did with its SQLite connection and the Bot API, counted while `on`."""

    round_trips: int = 0  # aiosqlite thread hops (Connection._execute calls)
    statements: int = 0  # statements SQLite ran (trace callback)
    commits: int = 0
    api_calls: int = 0
    seen: list[str] = field(default_factory=list)  # the statements, with --statements

    def reset(self) -> None:
        self.round_trips = self.statements = self.commits = self.api_calls = 0
        self.seen.clear()

    def copy(self) -> Tally:
        return Tally(
            self.round_trips, self.statements, self.commits, self.api_calls, list(self.seen)
        )


async def instrument(
    db: aiosqlite.Connection, tally: Tally, *, keep: bool
) -> Callable[[], Awaitable[None]]:
    """Counts the connection's trips to its thread (a wrapper around the one way there) and the
    statements SQLite runs (its trace callback) until the returned function is awaited. Only
    the counting rounds are instrumented: the timed ones run as they would in production."""
    inner = db._execute

    async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
        tally.round_trips += 1
        return await inner(fn, *args, **kwargs)

    def trace(sql: str) -> None:  # runs on the connection's thread, before the statement
        tally.statements += 1
        head = sql[:7].upper()
        # A COMMIT, or a write outside any transaction (SQLite commits it by itself).
        if head.startswith("COMMIT") or (head.startswith(_WRITES) and not db._conn.in_transaction):
            tally.commits += 1
        if keep:
            tally.seen.append(sql)

    db._execute = counted  # type: ignore[method-assign]
    await db.set_trace_callback(trace)

    async def remove() -> None:
        await db.set_trace_callback(None)
        del db._execute

    return remove


def _shape(sql: str) -> str:
    """A traced statement (SQLite expands its parameters) with the values taken out again."""
    sql = _STRING.sub("?", " ".join(sql.split()))
    return _NUMBER.sub("?", sql)[:100]


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


class CountingRequest(FakeTelegramRequest):
    """The in-process transport, counting Bot API calls for one app; with --api-latency-ms,
    each call also waits that long, as a round trip to Telegram would."""

    latency = 0.0  # seconds, for every instance (set from the command line)

    def __init__(self, fake: FakeTelegram, tally: Tally) -> None:
        super().__init__(fake)
        self.tally = tally
        # While `recording` is set, each call is kept under the update it follows: the replies
        # ceiling makes the very same calls.
        self.recording: dict[int, list[Call]] | None = None
        self.update_id = 0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **kwargs: Any
    ) -> Any:
        self.tally.api_calls += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        answer = await super().do_request(url, method, request_data, **kwargs)
        if self.recording is not None and request_data is not None:
            call = Call(url.rsplit("/", 1)[1], dict(request_data.parameters), answer)
            self.recording.setdefault(self.update_id, []).append(call)
        return answer


@dataclass(frozen=True)
class Call:
    """One Bot API call the bot made, and Telegram's answer to it."""

    endpoint: str
    parameters: dict[str, Any]
    answer: tuple[int, bytes]

    @property
    def returns_message(self) -> bool:
        return b'"message_id"' in self.answer[1]


class ReplayRequest(BaseRequest):
    """The replies ceiling's transport: gives back the answers Telegram gave the bot, in order,
    without asking the fake again (it would refuse an edit that changes nothing, or a press
    answered twice): what is left is PTB's own work for each call."""

    def __init__(self, fake: FakeTelegram, tally: Tally) -> None:
        self.fake = FakeTelegramRequest(fake)  # for what is not a replayed call (getMe)
        self.tally = tally
        self.answers: list[tuple[int, bytes]] = []

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if not self.answers:
            return await self.fake.do_request(url, method, *args, **kwargs)
        self.tally.api_calls += 1
        if CountingRequest.latency:
            await asyncio.sleep(CountingRequest.latency)
        return self.answers.pop(0)


@dataclass
class Round:
    updates: int
    elapsed: float
    latencies: list[float]
    tally: Tally
    settled: list[float] = field(default_factory=list)
    cpu: float = 0.0  # CPU time of the process (all threads): less swayed by other load

    @property
    def rate(self) -> float:
        return self.updates / self.elapsed

    def per_update(self, count: int) -> float:
        return count / self.updates


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


# -- the bot --------------------------------------------------------------------------------


def bot_on(
    fake: FakeTelegram, settings: Settings, clock: FakeClock, request: BaseRequest | None = None
) -> BotApplication:
    """The bot on the in-process fake as the tests build it: no rate limiter, no background
    loops (each delivery settles the outbox and the schedule), the injected clock."""
    return build_application(
        settings,
        request=request or FakeTelegramRequest(fake),
        get_updates_request=FakeTelegramRequest(fake),
        clock=clock,
        token=fake.token,
        rate_limit=False,
        background=False,
        sleep=clock.sleep,
    )


class BotUnderTest:
    def __init__(self, path: Path, fake: FakeTelegram, clock: FakeClock, sync: str) -> None:
        self.fake = fake
        self.clock = clock
        self.tally = Tally()
        self.latencies: list[float] = []  # the reply: until process_update returned
        self.settled: list[float] = []  # and until settle() delivered the outbox
        self.received: list[dict[str, Any]] = []
        settings = load_settings(
            environ={
                "DATABASE": str(path),
                "PROPOSALS_PER_DAY": "1000",
                "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
                "SQLITE_SYNCHRONOUS": sync,
            },
            env_file=None,
        )
        self.request = CountingRequest(fake, self.tally)
        self.app = bot_on(fake, settings, clock, request=self.request)
        self.startup = 0.0
        self.replied_at = 0.0
        self._deliver: Deliver | None = None

    async def start(self) -> None:
        started = time.perf_counter()
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)
        self.startup = time.perf_counter() - started
        self.fake.deliver_to(self.app)
        self._deliver = self.fake.deliver
        await self.app.settle()

    def listen(self) -> None:
        """Makes the fake's users talk to this bot, each update timed and recorded."""
        inner = self._deliver
        assert inner is not None

        async def deliver(update: dict[str, Any]) -> None:
            self.request.update_id = update["update_id"]
            started = time.perf_counter()
            await inner(update)
            self.replied_at = time.perf_counter()
            self.latencies.append(self.replied_at - started)
            await self.app.settle()
            self.settled.append(time.perf_counter() - started)
            self.received.append(update)

        self.fake.deliver = deliver

    async def stop(self) -> None:
        await self.app.shutdown()


async def proposal_flow(user: FakeUser, clock: FakeClock, n: int) -> None:
    """A new resident's 11 updates, a few injected seconds apart."""
    steps: list[Callable[[], Awaitable[Any]]] = [
        lambda: user.send("/start"),
        lambda: user.press("✅ English"),
        lambda: user.press("📝 Submit a proposal"),
        lambda: user.press("Mobility"),
        lambda: user.send(f"Proposal number {n}: more bicycle parking near schools."),
        lambda: user.send_photo(),
        lambda: user.press("➡️ Continue"),
        lambda: user.tap("Skip"),
        lambda: user.press("✅ Submit"),
        lambda: user.send("/mine"),
        lambda: user.send("thanks"),
    ]
    for step in steps:
        clock.advance(STEP)
        await step()


async def bot_round(
    bot: BotUnderTest, residents: int, first: int, *, count: bool = False, keep: bool = False
) -> Round:
    """`residents` new residents through the flow, one after another. With `count`, the
    database's trips and statements are counted (and the times are not worth reporting)."""
    bot.listen()
    bot.latencies.clear()
    bot.settled.clear()
    bot.received.clear()
    gc.collect()
    bot.tally.reset()
    remove = await instrument(bot.app.store.db, bot.tally, keep=keep) if count else None
    cpu = time.process_time()
    started = time.perf_counter()
    for n in range(first, first + residents):
        await proposal_flow(bot.fake.user(f"R{n}", language_code="en"), bot.clock, n)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if remove is not None:
        await remove()
    return Round(
        len(bot.latencies),
        elapsed,
        list(bot.latencies),
        bot.tally.copy(),
        list(bot.settled),
        cpu,
    )


# -- the bare ceiling -----------------------------------------------------------------------


class BareApp:
    """The ceiling: PTB with one handler that commits one row and replies. Nothing else.

    With `replies`, the handler makes instead the very Bot API calls the bot made for that
    update (same methods, parameters and inline keyboards, built as PTB objects), answered by
    `ReplayRequest`: the bot's replies at PTB's own cost, without the bot's bookkeeping."""

    def __init__(
        self,
        path: Path,
        fake: FakeTelegram,
        sync: str,
        replies: dict[int, list[Call]] | None = None,
    ) -> None:
        self.path = path
        self.fake = fake
        self.sync = sync
        self.tally = Tally()
        self.db: aiosqlite.Connection | None = None
        self.replies = replies
        self.replay = ReplayRequest(fake, self.tally)
        self.app: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(fake.token)
            .request(self.replay if replies is not None else CountingRequest(fake, self.tally))
            .get_updates_request(FakeTelegramRequest(fake))
            .build()
        )
        self.app.add_handler(TypeHandler(Update, self.handle))

    async def handle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert self.db is not None and update.effective_chat is not None
        await self.db.execute(
            "INSERT INTO seen (update_id, chat_id, at) VALUES (?, ?, ?)",
            (update.update_id, update.effective_chat.id, time.time()),
        )
        await self.db.commit()
        if self.replies is None:
            await context.bot.send_message(update.effective_chat.id, "Noted.")
            return
        calls = self.replies.get(update.update_id, [])
        self.replay.answers = [call.answer for call in calls]
        for call in calls:
            parameters = dict(call.parameters)
            markup = parameters.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                parameters["reply_markup"] = InlineKeyboardMarkup.de_json(markup, context.bot)
            with contextlib.suppress(TelegramError):  # as the bot met it
                await context.bot.do_api_request(
                    call.endpoint,
                    api_kwargs=parameters,
                    return_type=Message if call.returns_message else None,
                )

    async def start(self) -> None:
        self.db = await aiosqlite.connect(self.path)
        await self.db.execute("PRAGMA journal_mode = WAL")
        await self.db.execute(f"PRAGMA synchronous = {self.sync}")
        await self.db.execute(
            "CREATE TABLE seen (id INTEGER PRIMARY KEY, update_id INTEGER, chat_id INTEGER,"
            " at REAL)"
        )
        await self.db.commit()
        await self.app.initialize()

    async def run(self, updates: list[dict[str, Any]], *, count: bool = False) -> Round:
        assert self.db is not None
        latencies: list[float] = []
        gc.collect()
        self.tally.reset()
        remove = await instrument(self.db, self.tally, keep=False) if count else None
        cpu = time.process_time()
        started = time.perf_counter()
        for raw in updates:
            begun = time.perf_counter()
            await self.app.process_update(Update.de_json(raw, self.app.bot))
            latencies.append(time.perf_counter() - begun)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        if remove is not None:
            await remove()
        return Round(len(updates), elapsed, latencies, self.tally.copy(), cpu=cpu)

    async def stop(self) -> None:
        await self.app.shutdown()
        if self.db is not None:
            await self.db.close()


# -- 1. bot against the ceiling -------------------------------------------------------------


async def against_ceiling(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    clock = FakeClock()
    fake = FakeTelegram(clock=clock, bot_username="liepaja_bench_bot")
    fake.group("Attīstības pārvalde", chat_id=STAFF_CHAT_ID)
    bot = BotUnderTest(scratch / "bot.sqlite3", fake, clock, args.synchronous)
    bare = BareApp(scratch / "bare.sqlite3", fake, args.synchronous)
    recorded: dict[int, list[Call]] = {}
    replies = BareApp(scratch / "replies.sqlite3", fake, args.synchronous, replies=recorded)
    await bot.start()
    await bare.start()
    await replies.start()
    profile = cProfile.Profile() if args.profile else None
    try:
        # Warm-up (not reported): fills caches and records a sample of the bot's traffic.
        bot.request.recording = recorded
        await bot_round(bot, 20, first=0)
        sample = list(bot.received)
        bots: list[Round] = []
        bares: list[Round] = []
        replied: list[Round] = []
        first = 20
        for _ in range(args.rounds):
            traffic = [sample[i % len(sample)] for i in range(args.residents * 11)]
            bares.append(await bare.run(traffic))
            replied.append(await replies.run(traffic))
            recorded.clear()  # the bot's round records the next round's replies
            if profile is not None:
                profile.enable()
            bots.append(await bot_round(bot, args.residents, first))
            if profile is not None:
                profile.disable()
            first += args.residents
            sample = list(bot.received)
            print(
                f"  round {len(bots)}: bare {bares[-1].rate:.0f}/s,"
                f" bare with the bot's replies {replied[-1].rate:.0f}/s, bot {bots[-1].rate:.0f}/s",
                flush=True,
            )
        bot.request.recording = None
        # Counting rounds (untimed): the same traffic, with the database instrumented.
        counted_bot = await bot_round(bot, 50, first, count=True, keep=bool(args.statements))
        counted_bare = await bare.run(sample[: 50 * 11], count=True)
    finally:
        await replies.stop()
        await bare.stop()
        await bot.stop()
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    return {"bot": bots, "bare": bares, "replies": replied, "counts": (counted_bot, counted_bare)}


# -- 2. stored residents --------------------------------------------------------------------

STORED_BASE = 500_000_000  # stored residents' ids (the fake's own start at 100,000,001)


def prefill(path: Path, residents: int, now: datetime) -> None:
    """What `residents` people leave in the store after months of use (plain SQL, one
    transaction): each has a row, a chosen language and ~10 logged messages; every fifth a
    proposal with its staff post; a tenth are in the middle of the proposal flow (state, draft,
    user_data) and some more have old states; a week of handled update ids."""
    rng = random.Random(residents)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("BEGIN")

    def ago(days: float) -> str:
        return (now - timedelta(days=days)).isoformat(timespec="microseconds")

    ids = range(STORED_BASE, STORED_BASE + residents)
    db.executemany(
        "INSERT INTO residents (user_id, language, telegram_language, first_seen, last_seen,"
        " privacy_shown_at) VALUES (?, ?, ?, ?, ?, ?)",
        (
            (
                i,
                rng.choice(("lv", "lv", "ru", "en")),
                "ru",
                ago(200),
                ago(rng.uniform(0, 90)),
                ago(200),
            )
            for i in ids
        ),
    )
    db.executemany(
        "INSERT INTO message_log (at, direction, chat_id, user_id, message_id, update_id, kind,"
        " text, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                ago(rng.uniform(0, 200)),
                "in" if k % 2 else "out",
                i,
                i if k % 2 else None,
                k,
                None,
                "text",
                "Labdien! Vai varētu uzlikt vairāk soliņu parkā?",
                None,
            )
            for i in ids
            for k in range(10)
        ),
    )
    active = [i for i in ids if i % 10 == 0]
    idle = [i for i in ids if i % 10 == 5]
    db.executemany(
        "INSERT INTO conversation_states (name, key, state, updated_at) VALUES (?, ?, ?, ?)",
        [("proposal", json.dumps([i, i]), '"text"', ago(rng.uniform(0, 20))) for i in active]
        + [("proposal", json.dumps([i, i]), '"theme"', ago(rng.uniform(40, 90))) for i in idle],
    )
    db.executemany(
        "INSERT INTO user_data (user_id, data, updated_at) VALUES (?, ?, ?)",
        (
            (i, json.dumps({"theme": "mobility", "page": 0}), ago(rng.uniform(0, 90)))
            for i in active + idle
        ),
    )
    db.executemany(
        "INSERT INTO proposal_drafts (resident_id, theme, updated_at) VALUES (?, ?, ?)",
        ((i, "mobility", ago(1)) for i in active),
    )
    authors = [i for i in ids if i % 5 == 1]
    db.executemany(
        "INSERT INTO proposals (id, reference, year, number, resident_id, theme, text, language,"
        " created_at, updated_at, staff_chat_id, staff_message_id)"
        " VALUES (?, ?, 2026, ?, ?, 'mobility', ?, 'lv', ?, ?, ?, ?)",
        (
            (
                n,
                f"LIEP-2026-{n:04d}",
                n,
                i,
                "Vairāk velonovietņu pie skolām.",
                ago(100),
                ago(100),
                STAFF_CHAT_ID,
                n,
            )
            for n, i in enumerate(authors, start=1)
        ),
    )
    db.execute(
        "INSERT INTO staff_posts (chat_id, message_id, proposal_id)"
        " SELECT staff_chat_id, staff_message_id, id FROM proposals"
    )
    db.executemany(
        "INSERT INTO outbox (key, chat_id, method, payload, status, attempts, not_before,"
        " created_at, settled_at, message_id) VALUES (?, ?, 'send_message', ?, 'sent', 1, ?, ?,"
        " ?, ?)",
        (
            (f"post:{n}", STAFF_CHAT_ID, '{"text": "…"}', ago(d), ago(d), ago(d), n)
            for n in range(1, len(authors) + 1)
            for d in (rng.uniform(0, 30),)
        ),
    )
    db.executemany(
        "INSERT INTO processed_updates (update_id, finished_at) VALUES (?, ?)",
        ((900_000_000 + k, ago(rng.uniform(0, 7))) for k in range(residents)),
    )
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


async def stored_residents(args: argparse.Namespace, scratch: Path, size: int) -> dict[str, Any]:
    """Start-up on a store of `size` residents, then `--rounds` passes of `--scale-residents`
    new residents through the flow, as many stored ones coming back (/mine, thanks) between."""
    clock = FakeClock()
    path = scratch / f"stored-{size}.sqlite3"
    store = Store(path, clock=clock)
    await store.open()
    await store.close()
    prefill(path, size, clock())
    fake = FakeTelegram(clock=clock, bot_username="liepaja_bench_bot")
    fake.group("Attīstības pārvalde", chat_id=STAFF_CHAT_ID)
    bot = BotUnderTest(path, fake, clock, args.synchronous)
    gc.collect()
    await bot.start()
    passes: list[Round] = []
    count = args.scale_residents
    back = random.Random(size).sample(range(STORED_BASE, STORED_BASE + size), count * args.rounds)
    try:
        bot.listen()
        for first in range(0, count * args.rounds, count):
            bot.latencies.clear()
            gc.collect()
            cpu = time.process_time()
            started = time.perf_counter()
            for n in range(first, first + count):
                await proposal_flow(fake.user(f"N{n}", language_code="en"), clock, n)
                old = fake.user(f"S{n}", user_id=back[n], language_code="lv")
                for text in ("/mine", "paldies"):
                    clock.advance(STEP)
                    await old.send(text)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            passes.append(Round(len(bot.latencies), elapsed, list(bot.latencies), Tally(), cpu=cpu))
    finally:
        await bot.stop()
    return {"startup": bot.startup, "passes": passes}


# -- 3. flood -------------------------------------------------------------------------------

SLOW_DOWN = "faster than I can read them"


async def flood(
    args: argparse.Namespace, scratch: Path, *, per_chat: bool, burst: int
) -> dict[str, Any]:
    """The flooder sends 100 messages within 10 s (injected clock), `burst` at a time (1:
    one every 0.1 s; 10: ten at once every second, as a pasted or forwarded batch arrives),
    while another resident goes through the flow, one action a second, arriving together with
    a batch. What arrives together is handled one update at a time in arrival order (PTB's
    default: the other waits for the whole batch), or with `per_chat` by PerChatOrder
    (different chats side by side, each chat's in order: it waits for at most the one update
    holding the write lock). The other's latency runs from the arrival to its reply.
    `--floods` episodes, a minute apart."""
    clock = FakeClock()
    fake = FakeTelegram(clock=clock, bot_username="liepaja_bench_bot")
    fake.group("Attīstības pārvalde", chat_id=STAFF_CHAT_ID)
    bot = BotUnderTest(scratch / f"flood-{burst}-{per_chat}.sqlite3", fake, clock, args.synchronous)
    await bot.start()
    app = bot.app
    processor = PerChatOrder()
    replied_at: dict[int, float] = {}
    arrived: list[dict[str, Any]] = []

    async def handle(raw: dict[str, Any]) -> None:
        update = Update.de_json(raw, app.bot)
        if per_chat:
            await processor.process_update(update, app.process_update(update))
        else:
            await app.process_update(update)
        replied_at[raw["update_id"]] = time.perf_counter()

    async def arrive(raw: dict[str, Any]) -> None:  # the fake's delivery: it only arrives
        arrived.append(raw)

    fake.deliver = arrive
    flooder = fake.user("Flooder", language_code="en")
    latencies: list[float] = []
    sent = 0
    try:
        for episode in range(args.floods):
            other = fake.user(f"Other{episode}", language_code="en")
            steps = _flow_steps(other, episode)
            for batch in range(100 // burst):
                clock.advance(timedelta(seconds=burst / 10))
                for _ in range(burst):
                    await flooder.send(f"spam {sent}")
                    sent += 1
                if batch % (10 // burst) == 0 and steps:
                    await steps.pop(0)()  # arrives right behind the batch
                started = time.perf_counter()
                if per_chat:
                    await asyncio.gather(*(handle(raw) for raw in arrived))
                else:
                    for raw in arrived:
                        await handle(raw)
                latencies.extend(
                    replied_at[raw["update_id"]] - started
                    for raw in arrived
                    if _from(raw) == other.id
                )
                arrived.clear()
                await app.settle()
            clock.advance(timedelta(minutes=1))
        replies = [m.text or "" for m in fake.bot_messages(flooder.chat_id)]
    finally:
        await bot.stop()
    slowed = sum(SLOW_DOWN in text for text in replies)
    return {
        "sent": sent,
        "slowed": slowed,
        "answered": len(replies) - slowed,
        "other_p50": percentile(latencies, 50),
        "other_p99": percentile(latencies, 99),
        "other_n": len(latencies),
    }


def _from(raw: dict[str, Any]) -> int | None:
    for kind in ("message", "callback_query"):
        if kind in raw:
            return int(raw[kind]["from"]["id"])
    return None


def _flow_steps(user: FakeUser, n: int) -> list[Callable[[], Awaitable[Any]]]:
    return [
        lambda: user.send("/start"),
        lambda: user.press("✅ English"),
        lambda: user.press("📝 Submit a proposal"),
        lambda: user.press("Mobility"),
        lambda: user.send(f"Proposal {n}: a pedestrian crossing on Graudu iela."),
        lambda: user.press("➡️ Continue"),
        lambda: user.tap("Skip"),
        lambda: user.press("✅ Submit"),
        lambda: user.send("/mine"),
        lambda: user.send("thanks"),
    ]


# -- 4. a burst through polling -------------------------------------------------------------


async def polling_burst(args: argparse.Namespace, scratch: Path, n: int) -> dict[str, Any]:
    """`args.burst` residents' /start wait at Telegram; the bot polls as it runs for real (PTB's
    Updater, PerChatOrder) and answers each. The time from starting to poll until the last
    answer, and the commits made until the bot stopped (the batch is confirmed to Telegram by
    the next getUpdates, once handled: no commit notes its arrival)."""
    clock = FakeClock()
    fake = FakeTelegram(clock=clock, bot_username="liepaja_bench_bot")
    settings = load_settings(
        environ={
            "DATABASE": str(scratch / f"burst-{n}.sqlite3"),
            "SQLITE_SYNCHRONOUS": args.synchronous,
        },
        env_file=None,
    )
    app = bot_on(fake, settings, clock)
    residents = [fake.user(f"B{n}-{k}", language_code="lv") for k in range(args.burst)]
    for resident in residents:
        await resident.send("/start")
    await app.initialize()
    statements: list[str] = []
    try:
        assert app.post_init is not None and app.updater is not None
        await app.post_init(app)
        await app.store.db.set_trace_callback(statements.append)
        started = time.perf_counter()
        await app.updater.start_polling(poll_interval=0)
        await app.start()
        for resident in residents:
            await resident.wait_for_reply(timeout=60)
        elapsed = time.perf_counter() - started
        await app.updater.stop()
        await app.stop()
        commits = statements.count("COMMIT")
    finally:
        await app.shutdown()
    return {"elapsed": elapsed, "commits": commits}


# -- a slow disk ----------------------------------------------------------------------------


def run_with_slow_fsync(milliseconds: float) -> NoReturn:
    """Builds benchmarks/slow_fsync.c and runs this script again with it preloaded."""
    shim = Path(tempfile.mkdtemp(prefix="slow-fsync-")) / "slow_fsync.so"
    source = Path(__file__).with_name("slow_fsync.c")
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", shim, source, "-ldl"], check=True)
    environment = {
        **os.environ,
        "LD_PRELOAD": str(shim),
        "FSYNC_DELAY_US": str(round(milliseconds * 1000)),
    }
    print(f"every fsync {milliseconds:g} ms slower ({source.name}, preloaded)", flush=True)
    os.execve(sys.executable, [sys.executable, *sys.argv], environment)


# -- report ---------------------------------------------------------------------------------


def span(values: list[float], fmt: str = ".0f") -> str:
    low, high = min(values), max(values)
    return f"{low:{fmt}}" if f"{low:{fmt}}" == f"{high:{fmt}}" else f"{low:{fmt}}–{high:{fmt}}"


def ms(seconds: float) -> float:
    return seconds * 1000


def report_ceiling(result: dict[str, Any], sync: str) -> None:
    bots: list[Round] = result["bot"]
    bares: list[Round] = result["bare"]
    replied: list[Round] = result["replies"]
    print(f"\n== bot against the bare ceiling (synchronous={sync}, {len(bots)} rounds) ==")
    print(f"{'':24}{'bot':>14}{'bare ceiling':>16}{'bare + replies':>16}")
    timed: list[tuple[str, Callable[[Round], float], str]] = [
        ("updates/s", lambda r: r.rate, ".0f"),
        ("p50 ms/update", lambda r: ms(percentile(r.latencies, 50)), ".2f"),
        ("p99 ms/update", lambda r: ms(percentile(r.latencies, 99)), ".2f"),
        ("p99 ms incl. outbox", lambda r: ms(percentile(r.settled or r.latencies, 99)), ".2f"),
        ("CPU ms/update", lambda r: ms(r.per_update(r.cpu)), ".2f"),
    ]
    for label, value, fmt in timed:
        print(
            f"{label:24}{span([value(r) for r in bots], fmt):>14}"
            f"{span([value(r) for r in bares], fmt):>16}"
            f"{span([value(r) for r in replied], fmt):>16}"
        )
    ratios = [bot.rate / bare.rate for bot, bare in zip(bots, bares, strict=True)]
    print(f"{'ratio bot/ceiling':24}{span(ratios, '.2f'):>14}   (per round)")
    ratios = [bot.rate / other.rate for bot, other in zip(bots, replied, strict=True)]
    print(f"{'ratio bot/bare + replies':24}{span(ratios, '.2f'):>14}   (per round)")
    counted = result["counts"]
    counts: list[tuple[str, Callable[[Round], float], str]] = [
        ("commits/update", lambda r: r.per_update(r.tally.commits), ".2f"),
        ("round trips/update", lambda r: r.per_update(r.tally.round_trips), ".2f"),
        ("statements/update", lambda r: r.per_update(r.tally.statements), ".1f"),
        ("Bot API calls/update", lambda r: r.per_update(r.tally.api_calls), ".2f"),
    ]
    for label, value, fmt in counts:
        print(f"{label:24}{value(counted[0]):>14{fmt}}{value(counted[1]):>16{fmt}}")
    print(
        "(bare + replies: the bare handler's one commit, then the very Bot API calls the bot"
        " made for that update, answered from a recording)"
    )


def report_statements(counted: Round, top: int) -> None:
    print("\n== the bot's most frequent statements, per update (counting round) ==")
    shapes = Counter(_shape(sql) for sql in counted.tally.seen)
    for sql, count in shapes.most_common(top):
        print(f"{count / counted.updates:6.2f}  {sql}")


async def main(args: argparse.Namespace) -> None:
    CountingRequest.latency = args.api_latency_ms / 1000
    workdir = Path(args.workdir) if args.workdir else Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory(dir=workdir, prefix="bench-") as name:
        scratch = Path(name)
        print(f"against the ceiling: {args.rounds} rounds of {args.residents} residents ...")
        ceiling = await against_ceiling(args, scratch)
        report_ceiling(ceiling, args.synchronous)
        if args.statements:
            report_statements(ceiling["counts"][0], args.statements)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS (bot, bare app and fake Telegram in one process): {peak:.0f} MiB")

        if args.sizes:
            print(
                f"\n== stored residents (synchronous={args.synchronous}, {args.rounds} passes) =="
            )
            print(
                f"{'stored':>9}{'start-up s':>12}{'updates/s':>12}{'p50 ms':>12}{'p99 ms':>12}"
                f"{'CPU ms/upd':>12}"
            )
            for size in args.sizes:
                r = await stored_residents(args, scratch, size)
                passes: list[Round] = r["passes"]
                print(
                    f"{size:>9,}{r['startup']:>12.2f}{span([p.rate for p in passes]):>12}"
                    f"{span([ms(percentile(p.latencies, 50)) for p in passes], '.2f'):>12}"
                    f"{span([ms(percentile(p.latencies, 99)) for p in passes], '.2f'):>12}"
                    f"{span([ms(p.per_update(p.cpu)) for p in passes], '.2f'):>12}",
                    flush=True,
                )
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak RSS after the stored-resident runs: {peak:.0f} MiB")

        if args.burst:
            runs = [await polling_burst(args, scratch, n) for n in range(args.rounds)]
            last = span([ms(r["elapsed"]) for r in runs], ".0f")
            print(
                f"\n== a burst: {args.burst} residents' /start waiting at Telegram, fetched by"
                f" polling ({args.rounds} runs) ==\nthe last answer after {last} ms;"
                f" {span([r['commits'] for r in runs])} commits in all"
            )

        if args.floods:
            print(
                f"\n== flood: one resident sends 100 messages in 10 s (x{args.floods}) while"
                " another goes through the flow; the other's reply latency =="
            )
            for burst in args.bursts:
                for per_chat, how in ((False, "one at a time"), (True, "PerChatOrder")):
                    r = await flood(args, scratch, per_chat=per_chat, burst=burst)
                    print(
                        f"{burst:>2} at once, {how:>13}: p50 {ms(r['other_p50']):6.2f} ms,"
                        f" p99 {ms(r['other_p99']):6.2f} ms ({r['other_n']} updates)",
                        flush=True,
                    )
            print(
                f"of the flood's {r['sent']}: {r['answered']} answered, {r['slowed']} got the"
                f" slow-down message, {r['sent'] - r['answered'] - r['slowed']} were logged and"
                " not acted on"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synchronous", choices=("FULL", "NORMAL"), default="FULL")
    parser.add_argument("--residents", type=int, default=200, help="per round (11 updates each)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(part) for part in text.split(",") if part],
        default=[1_000, 10_000, 100_000],
        help="stored residents, comma-separated ('' to skip)",
    )
    parser.add_argument("--scale-residents", type=int, default=100)
    parser.add_argument("--floods", type=int, default=10, help="flood episodes (0 to skip)")
    parser.add_argument(
        "--burst",
        type=int,
        default=25,
        help="residents in the polling burst (0 to skip; under 30: Telegram's 30 messages/s)",
    )
    parser.add_argument(
        "--bursts",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1, 10],
        help="how many flood messages arrive at once (1, 2, 5 or 10; comma-separated)",
    )
    parser.add_argument(
        "--api-latency-ms",
        type=float,
        default=0.0,
        help="a simulated round trip to Telegram per Bot API call (default: none)",
    )
    parser.add_argument("--statements", type=int, default=0, help="print the top N statements")
    parser.add_argument("--profile", action="store_true", help="cProfile the bot rounds")
    parser.add_argument("--workdir", help="where the scratch databases go (default: here)")
    parser.add_argument(
        "--slow-fsync-ms",
        type=float,
        default=0.0,
        help="make every fsync this much slower, as on a slow disk (needs gcc; see slow_fsync.c)",
    )
    arguments = parser.parse_args()
    if arguments.slow_fsync_ms and "FSYNC_DELAY_US" not in os.environ:
        run_with_slow_fsync(arguments.slow_fsync_ms)
    asyncio.run(main(arguments))
