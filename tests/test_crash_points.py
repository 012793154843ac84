"""A crash at every await point: each store call and each Bot API request of four scenarios
(the proposal flow, staff triage, a staff answer through the prompt, a resident's follow-up).

For every scenario a clean run first counts its await points of each kind: the calls the store
makes on its aiosqlite connection, and the requests the bot makes to Telegram (direct replies
and outbox sends alike). Then, for every n, a fresh bot is killed at the n-th one — before a
request reaches Telegram, or after Telegram acted on it but before the bot saw the answer —,
abandoned without any shutdown, and a new one is started on the same database file. Telegram
sends the interrupted update again (same update_id), the person carries on from what they see,
and the scenario must end with every notice delivered once and every effect applied once.

The kill is a BaseException: PTB and the bot catch Exception, and nothing may catch a SIGKILL.
Once it has struck, every later call of that "process" on its connection or its transport
raises it again — tasks the crash left behind (an outbox batch runs its sends side by side) get
no further than a real killed process would.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram.request import BaseRequest, RequestData

from bot.app import BotApplication
from bot.message_log import ForwardingRequest
from bot.store import Store
from fake_telegram import FakeMessage, FakeTelegram, FakeTelegramRequest, FakeUser
from tests.conftest import (
    ADMIN_ID,
    STAFF_CHAT_ID,
    FakeClock,
    Harness,
    make_settings,
    start_app,
    t,
)

TEXT = "Graudu ielā vajag vairāk soliņu un koku ēnu vasarā."
ANSWER = "Paldies! Soliņi ir iekļauti nākamā gada plānā."
FOLLOW_UP = "Vēl viena doma: arī dzeramā ūdens strūklaka."
REFERENCE = "LIEP-2027-0001"


class Killed(BaseException):
    """Stands for SIGKILL: not an Exception, so no handler of PTB's or ours catches it."""


class Process:
    """The fate of one bot process: counts its await points of each kind while armed, and dies
    at the chosen one. A dead process gets nowhere: every later call raises Killed again."""

    def __init__(self, kind: str | None = None, at: int = 0, when: str = "before") -> None:
        self.kind, self.at, self.when = kind, at, when
        self.counts = {"store": 0, "transport": 0}
        self.points: list[tuple[str, str]] = []  # (kind, what) of every counted point
        self.armed = False
        self.struck: str | None = None  # what the crash interrupted, once it did

    @property
    def dead(self) -> bool:
        return self.struck is not None

    def alive(self) -> None:
        if self.struck is not None:
            raise Killed(f"the process died at {self.struck}")

    def point(self, kind: str, what: str) -> bool:
        """One await point; True if it is the one this process dies at."""
        self.alive()
        if not self.armed:
            return False
        self.counts[kind] += 1
        self.points.append((kind, what))
        return kind == self.kind and self.counts[kind] == self.at

    def die(self, what: str) -> None:
        self.struck = f"{self.kind} call {self.at} ({what})"
        raise Killed(self.struck)


class MortalConnection:
    """The store's aiosqlite connection, with an await point before each call."""

    def __init__(self, inner: Any, process: Process) -> None:
        self._inner = inner
        self._process = process

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def _call(self, method: str, *args: Any) -> Any:
        what = f"{method} {str(args[0])[:60]}" if args else method
        if self._process.point("store", what):
            self._process.die(what)
        result = await getattr(self._inner, method)(*args)
        self._process.alive()  # a call that was under way when another task died: no further
        return result

    async def execute(self, *args: Any) -> Any:
        return await self._call("execute", *args)

    async def execute_fetchall(self, *args: Any) -> Any:
        return await self._call("execute_fetchall", *args)

    async def executemany(self, *args: Any) -> Any:
        return await self._call("executemany", *args)

    async def executescript(self, *args: Any) -> Any:
        return await self._call("executescript", *args)

    async def commit(self) -> None:
        await self._call("commit")

    async def rollback(self) -> None:
        await self._call("rollback")

    async def close(self) -> None:
        # Only the test closes it, after the crash, so that its worker thread ends.
        await self._inner.close()


class MortalRequest(ForwardingRequest):
    """The transport to the fake Telegram, dying before a request is sent or after Telegram
    acted on it, before the bot sees the answer (the second is what can make duplicates)."""

    def __init__(self, inner: BaseRequest, process: Process) -> None:
        super().__init__(inner)
        self.process = process

    async def forward(
        self, url: str, method: str, request_data: RequestData | None, **timeouts: Any
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        chosen = self.process.point("transport", api_method)
        if chosen and self.process.when == "before":
            self.process.die(f"before {api_method} reached Telegram")
        answer = await super().forward(url, method, request_data, **timeouts)
        if chosen:
            self.process.die(f"after Telegram did {api_method}")
        self.process.alive()
        return answer


# -- one run: a bot that may die, and the people who use it ------------------------------------


@dataclass
class Step:
    """What a person does, and how they can tell it was answered."""

    name: str
    act: Callable[[], Awaitable[Any]]
    seen: Callable[[], bool]


@dataclass
class Run:
    h: Harness
    process: Process
    people: dict[str, FakeUser] = field(default_factory=dict)
    crashes: int = 0

    async def restart(self) -> None:
        """A new process on the same file; Telegram re-sends the update the dead one never
        confirmed, with the same update_id."""
        self.crashes += 1
        await self.h.crash_and_restart()
        await no_fsync(self.h.app)

    async def drive(self, steps: list[Step]) -> None:
        for step in steps:
            crashed_before = self.process.dead
            try:
                await step.act()
            except Killed:
                if crashed_before:
                    raise  # only the first process is mortal
            except Exception:
                if crashed_before or not self.process.dead:
                    raise  # a real failure, not the crash surfacing through a handler
            if self.process.dead and not crashed_before:
                await self.restart()
                if not step.seen():
                    await step.act()  # they saw no answer, so they try again
            assert step.seen(), f"after «{step.name}» the person does not see its answer\n" + (
                self.transcripts()
            )

    def transcripts(self) -> str:
        chats = [*self.people.values(), self.h.staff_chat]
        return "\n\n".join(f"--- {chat!r}\n{chat.transcript()}" for chat in chats)


_MIGRATED: list[bytes] = []


async def migrated_database(path: Path) -> None:
    """An empty, migrated database at `path`: copied from one made once (hundreds of runs
    need not each apply every migration)."""
    if not _MIGRATED:
        with tempfile.TemporaryDirectory() as directory:
            store = Store(Path(directory) / "template.sqlite3")
            await store.open()
            await store.close()  # the last connection: the WAL is folded into the file
            _MIGRATED.append((Path(directory) / "template.sqlite3").read_bytes())
    path.write_bytes(_MIGRATED[0])


async def no_fsync(app: BotApplication) -> None:
    """Speed only: an fsync protects commits from a power cut, and these crashes kill no
    machine — what SQLite handed to the OS outlives the process, with or without it. (The real
    kill -9 test, tests/test_kill9_loop.py, runs the bot as configured.)"""
    await app.store.db.execute("PRAGMA synchronous = OFF")


async def new_run(tmp_path: Path, process: Process) -> Run:
    clock = FakeClock(datetime(2027, 1, 12, 12, 0, tzinfo=UTC))
    fake = FakeTelegram(clock=clock, bot_username="liepaja_test_bot")
    settings = make_settings(tmp_path)
    await migrated_database(settings.database)
    app = await start_app(
        fake, settings, clock, request=MortalRequest(FakeTelegramRequest(fake), process)
    )
    await no_fsync(app)
    app.store._db = MortalConnection(app.store.db, process)  # type: ignore[assignment]
    h = Harness(fake=fake, settings=settings, clock=clock, app=app)
    h._staff_chat = fake.group("Attīstības pārvalde", chat_id=STAFF_CHAT_ID)  # type: ignore[attr-defined]
    run = Run(h, process)
    return run


# -- what people see -------------------------------------------------------------------------


def texts(chat: Any) -> list[str]:
    return [m.content or "" for m in chat.messages]


def newest_with(user: FakeUser, label: str) -> FakeMessage | None:
    return next((m for m in reversed(user.messages) if m.button(label)), None)


def last_has(user: FakeUser, label: str) -> bool:
    return bool(user.messages) and user.last.button(label) is not None


def last_says(user: FakeUser, words: str) -> bool:
    return bool(user.messages) and words in (user.last_text or "")


def press(user: FakeUser, label: str) -> Callable[[], Awaitable[Any]]:
    return lambda: user.press(label)


async def delivered_once(run: Run, chat_id: int, key: str, shown: int, what: str) -> str:
    """The outbox row `key` to `chat_id` was delivered exactly once (`shown` times is what the
    chat shows) — or, if the store marked it uncertain (the crash struck between claiming it
    and Telegram's answer), at most once. Returns its status."""
    rows = dict(await run.h.store.outbox.deliveries_to(chat_id))
    status = rows.get(key)
    assert status is not None, f"{what}: no outbox row {key}; the rows: {rows}"
    if status == "uncertain":
        assert shown <= 1, f"{what}: uncertain, yet shown {shown} times\n{run.transcripts()}"
    else:
        assert status == "sent", f"{what}: outbox row {key} is {status}"
        assert shown == 1, f"{what}: shown {shown} times\n{run.transcripts()}"
    return status


async def assert_outbox_settled(run: Run, expected_keys: dict[int, set[str]]) -> None:
    """Nothing left to send, nothing failed, and no row besides the expected ones."""
    counts = await run.h.store.outbox.counts()
    assert set(counts) <= {"sent", "uncertain"}, counts
    for chat_id, keys in expected_keys.items():
        rows = [key for key, _ in await run.h.store.outbox.deliveries_to(chat_id)]
        assert sorted(rows) == sorted(keys), f"outbox rows to {chat_id}: {rows}"
        assert len(rows) == len(set(rows))


# -- the scenarios ---------------------------------------------------------------------------


class Scenario:
    name: str

    async def setup(self, run: Run) -> None:
        """What happened before (not counted, never interrupted)."""

    def steps(self, run: Run) -> list[Step]:
        raise NotImplementedError

    async def check(self, run: Run) -> None:
        raise NotImplementedError


async def submit_without_attachments(anna: FakeUser) -> None:
    await anna.press("📝 Submit a proposal")
    await anna.press("Environment")
    await anna.send(TEXT)
    await anna.press("➡️ Continue")
    await anna.tap("Skip")
    await anna.press("✅ Submit")


class ProposalFlow(Scenario):
    """A resident: theme, text, a photo, no contact, preview, Submit; the card and the photo
    reach the staff chat."""

    name = "proposal"

    async def setup(self, run: Run) -> None:
        run.people["anna"] = await run.h.onboarded("Anna", language="English")

    def steps(self, run: Run) -> list[Step]:
        anna = run.people["anna"]
        submitted: list[FakeMessage] = []

        async def submit() -> None:
            preview = newest_with(anna, "✅ Submit")
            assert preview is not None, anna.transcript()
            submitted.append(preview)
            await anna.press("✅ Submit", message=preview)

        return [
            Step(
                "📝 Submit a proposal",
                press(anna, "📝 Submit a proposal"),
                lambda: last_has(anna, "Environment"),
            ),
            Step(
                "Environment",
                press(anna, "Environment"),
                lambda: last_says(anna, "Now write your proposal"),
            ),
            Step(
                "the text",
                lambda: anna.send(TEXT),
                lambda: last_says(anna, "Saved.") and last_has(anna, "➡️ Continue"),
            ),
            Step(
                "a photo",
                anna.send_photo,
                lambda: last_says(anna, "1 attachment so far") and last_has(anna, "➡️ Continue"),
            ),
            Step(
                "➡️ Continue",
                press(anna, "➡️ Continue"),
                lambda: anna.reply_keyboard() == [["📱 Share my phone number"], ["Skip"]],
            ),
            Step(
                "Skip",
                lambda: anna.tap("Skip"),
                lambda: last_has(anna, "✅ Submit") and "1 × photo" in (anna.last_text or ""),
            ),
            # Submitted: the preview's buttons are gone (the reference comes from the outbox).
            Step("✅ Submit", submit, lambda: not submitted[-1].buttons),
        ]

    async def check(self, run: Run) -> None:
        store, anna, staff = run.h.store, run.people["anna"], run.h.staff_chat
        [proposal] = await store.proposals.proposals_of(anna.id, offset=0, limit=50)
        assert (proposal.reference, proposal.text, proposal.theme) == (
            REFERENCE,
            TEXT,
            "environment",
        )
        assert [a.kind for a in await store.proposals.attachments_of(proposal.id)] == ["photo"]
        assert await store.drafts.draft_of(anna.id) is None
        assert [h.status for h in await store.proposals.status_history_of(proposal.id)] == [
            "received"
        ]
        assert not await store.conversations.conversation_states("proposal")

        key = f"proposal:{proposal.id}:post"
        await delivered_once(
            run,
            anna.id,
            f"proposal:{proposal.id}:registered",
            sum(f"registered as {REFERENCE}" in text for text in texts(anna)),
            "the reference",
        )
        cards = [m for m in staff.messages if REFERENCE in (m.content or "") and "🆕" in m.content]
        card = await delivered_once(run, STAFF_CHAT_ID, key, len(cards), "the staff card")
        photos = [m for m in staff.messages if m.photo]
        photo = await delivered_once(run, STAFF_CHAT_ID, f"{key}:attachment0", len(photos), "photo")
        if card == "sent" and photo == "sent":
            assert photos[0].reply_to_message_id == cards[0].message_id
        await assert_outbox_settled(
            run,
            {
                anna.id: {f"proposal:{proposal.id}:registered"},
                STAFF_CHAT_ID: {key, f"{key}:attachment0"},
            },
        )


class Submitted(Scenario):
    """Anna's proposal is in, its card in the staff chat; Inese, an admin, is there."""

    async def setup(self, run: Run) -> None:
        anna = run.people["anna"] = await run.h.onboarded("Anna", language="English")
        await submit_without_attachments(anna)
        inese = run.h.fake.user("Inese", user_id=ADMIN_ID, language_code="lv")
        run.people["inese"] = inese.in_chat(run.h.staff_chat)

    def card(self, run: Run) -> FakeMessage:
        return next(m for m in run.h.staff_chat.messages if TEXT in (m.content or ""))


class StaffTriage(Submitted):
    """A specialist in the staff chat: 🔄 Status → In review (the resident is told), then an
    answer by replying to the card (the resident gets it)."""

    name = "triage"

    def steps(self, run: Run) -> list[Step]:
        inese = run.people["inese"]
        in_review = t("lv", "In review")
        sent = t("lv", "✅ Answer to {reference} sent to the resident.").format(reference=REFERENCE)
        return [
            Step(
                "🔄 Status",
                lambda: inese.press(t("lv", "🔄 Status"), message=self.card(run)),
                lambda: self.card(run).button(in_review) is not None,
            ),
            Step(
                "In review",
                lambda: inese.press(in_review, message=self.card(run)),
                lambda: (
                    in_review in (self.card(run).content or "")
                    and self.card(run).button(t("lv", "🔄 Status")) is not None
                ),
            ),
            Step(
                "the answer, as a reply to the card",
                lambda: inese.reply_to(self.card(run), ANSWER),
                lambda: any(sent in text for text in texts(run.h.staff_chat)),
            ),
        ]

    async def check(self, run: Run) -> None:
        store, anna = run.h.store, run.people["anna"]
        [proposal] = await store.proposals.proposals_of(anna.id, offset=0, limit=50)
        history = await store.proposals.status_history_of(proposal.id)
        assert [(h.status, h.changed_by) for h in history] == [
            ("received", anna.id),
            ("in_review", ADMIN_ID),
        ]
        assert proposal.status == "in_review"
        [entry] = await store.proposals.thread_of(proposal.id)
        assert (entry.author, entry.author_id, entry.text) == ("staff", ADMIN_ID, ANSWER)
        cards = [m for m in run.h.staff_chat.messages if TEXT in (m.content or "")]
        assert len(cards) == 1, run.transcripts()

        status_key = f"status:{proposal.id}:{proposal.version}"
        notice = f"Your proposal {REFERENCE} now has the status “In review”."
        await delivered_once(
            run, anna.id, status_key, sum(notice in text for text in texts(anna)), "status notice"
        )
        await delivered_once(
            run,
            anna.id,
            f"answer:{entry.id}",
            sum(ANSWER in text for text in texts(anna)),
            "the answer",
        )
        await assert_outbox_settled(
            run,
            {
                anna.id: {f"proposal:{proposal.id}:registered", status_key, f"answer:{entry.id}"},
                STAFF_CHAT_ID: {f"proposal:{proposal.id}:post"},
            },
        )


class AnswerThroughThePrompt(Submitted):
    """A specialist presses 💬 Answer on the card and replies to the prompt they see (the first
    one, if a crash made the bot send it again): the resident gets the answer."""

    name = "answer_prompt"

    def steps(self, run: Run) -> list[Step]:
        inese, staff = run.people["inese"], run.h.staff_chat
        sent = t("lv", "✅ Answer to {reference} sent to the resident.").format(reference=REFERENCE)

        def prompts() -> list[FakeMessage]:
            return [m for m in staff.messages if (m.content or "").startswith("✍️")]

        return [
            Step(
                "💬 Answer",
                lambda: inese.press(t("lv", "💬 Answer"), message=self.card(run)),
                lambda: any(REFERENCE in (m.content or "") for m in prompts()),
            ),
            Step(
                "the answer, as a reply to the prompt",
                lambda: inese.reply_to(prompts()[0], ANSWER),
                lambda: any(sent in text for text in texts(staff)),
            ),
        ]

    async def check(self, run: Run) -> None:
        store, anna = run.h.store, run.people["anna"]
        [proposal] = await store.proposals.proposals_of(anna.id, offset=0, limit=50)
        [entry] = await store.proposals.thread_of(proposal.id)
        assert (entry.author, entry.author_id, entry.text) == ("staff", ADMIN_ID, ANSWER)
        answers = sum(ANSWER in text for text in texts(anna))
        await delivered_once(run, anna.id, f"answer:{entry.id}", answers, "the answer")
        await assert_outbox_settled(
            run,
            {
                anna.id: {f"proposal:{proposal.id}:registered", f"answer:{entry.id}"},
                STAFF_CHAT_ID: {f"proposal:{proposal.id}:post"},
            },
        )


class FollowUp(Scenario):
    """A resident: /mine → the proposal → 💬 Add a message → the text; it reaches the staff chat
    as a reply to the card."""

    name = "follow_up"

    async def setup(self, run: Run) -> None:
        anna = run.people["anna"] = await run.h.onboarded("Anna", language="English")
        await submit_without_attachments(anna)

    def steps(self, run: Run) -> list[Step]:
        anna = run.people["anna"]
        entry = f"{REFERENCE} · Environment"
        return [
            Step("/mine", lambda: anna.send("/mine"), lambda: last_has(anna, entry)),
            Step("the proposal", press(anna, entry), lambda: last_has(anna, "💬 Add a message")),
            Step(
                "💬 Add a message",
                press(anna, "💬 Add a message"),
                lambda: last_says(anna, f"Write your message about {REFERENCE}"),
            ),
            Step(
                "the follow-up",
                lambda: anna.send(FOLLOW_UP),
                lambda: last_says(anna, f"Added to {REFERENCE}"),
            ),
        ]

    async def check(self, run: Run) -> None:
        store, anna, staff = run.h.store, run.people["anna"], run.h.staff_chat
        [proposal] = await store.proposals.proposals_of(anna.id, offset=0, limit=50)
        [entry] = await store.proposals.thread_of(proposal.id)
        assert (entry.author, entry.author_id, entry.text) == ("resident", anna.id, FOLLOW_UP)
        assert not await store.conversations.conversation_states("follow_up")
        posts = [m for m in staff.messages if FOLLOW_UP in (m.content or "")]
        key = f"thread:{entry.id}:post"
        if await delivered_once(run, STAFF_CHAT_ID, key, len(posts), "the follow-up") == "sent":
            assert posts[0].reply_to_message_id == proposal.staff_message_id
        await assert_outbox_settled(
            run,
            {
                anna.id: {f"proposal:{proposal.id}:registered"},
                STAFF_CHAT_ID: {f"proposal:{proposal.id}:post", key},
            },
        )


SCENARIOS: dict[str, Scenario] = {
    s.name: s for s in (ProposalFlow(), StaffTriage(), AnswerThroughThePrompt(), FollowUp())
}


async def play(scenario: Scenario, tmp_path: Path, process: Process) -> Run:
    """Sets the scenario up, drives it (the process dies where it is told to, and a new one
    takes over), and checks what everyone ended up with."""
    run = await new_run(tmp_path, process)
    try:
        await scenario.setup(run)
        process.armed = True
        await run.drive(scenario.steps(run))
        process.armed = False
        await scenario.check(run)
    finally:
        if process.dead and run.crashes == 0:
            await run.h.app.store.close()  # died and never restarted: nothing to shut down
        else:
            await run.h.app.shutdown()
    return run


# -- counting the await points of a clean run, at collection ----------------------------------


def _count(scenario: Scenario) -> Process:
    async def clean_run() -> Process:
        process = Process()
        with tempfile.TemporaryDirectory() as directory:
            await play(scenario, Path(directory), process)
        return process

    return asyncio.run(clean_run())


_CLEAN_RUNS: dict[str, Process] = {}


def clean_run(name: str) -> Process:
    if name not in _CLEAN_RUNS:
        _CLEAN_RUNS[name] = _count(SCENARIOS[name])
    return _CLEAN_RUNS[name]


def crash_points() -> Iterator[Any]:
    for name in SCENARIOS:
        counts = clean_run(name).counts
        for n in range(1, counts["store"] + 1):
            yield pytest.param((name, "store", n, "before"), id=f"{name}-store-{n}")
        for when in ("before", "after"):
            for n in range(1, counts["transport"] + 1):
                yield pytest.param((name, "transport", n, when), id=f"{name}-{when}-request-{n}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "crash_point" in metafunc.fixturenames:
        metafunc.parametrize("crash_point", list(crash_points()))


# -- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_a_clean_run_passes_the_checks(name: str, tmp_path: Path) -> None:
    process = Process()
    await play(SCENARIOS[name], tmp_path, process)
    assert process.counts == clean_run(name).counts  # the points counted are the same each run
    assert process.counts["store"] > 0 and process.counts["transport"] > 0


async def test_crash_at_every_await_point(
    crash_point: tuple[str, str, int, str], tmp_path: Path
) -> None:
    name, kind, n, when = crash_point
    process = Process(kind, n, when)
    run = await play(SCENARIOS[name], tmp_path, process)
    assert process.dead, f"{kind} call {n} was never reached"
    assert run.crashes == 1


async def test_a_reply_to_a_prompt_a_crash_left_unrecorded_still_reaches_it(tg: Harness) -> None:
    """The bot dies after showing a follow-up prompt, before recording it; the press is handled
    again at the restart (a second prompt, recorded). Anna moves on to something else, then
    replies to the first prompt, the one she saw: it still reaches her follow-up."""
    anna = await tg.onboarded("Anna", language="English")
    await submit_without_attachments(anna)
    await anna.send("/mine")
    await anna.press(f"{REFERENCE} · Environment")

    async def die() -> None:
        raise Killed

    tg.app.update_persistence = die  # type: ignore[method-assign]  # the state write: dead
    with pytest.raises(Killed):
        await anna.press("💬 Add a message")
    seen = anna.last
    assert f"Write your message about {REFERENCE}" in (seen.content or "")
    await tg.crash_and_restart()
    await anna.press("📝 Submit a proposal")  # another flow ends the follow-up
    await anna.reply_to(seen, FOLLOW_UP)
    assert f"Added to {REFERENCE}" in (anna.last_text or "")
    [entry] = await tg.store.proposals.thread_of(1)
    assert (entry.author, entry.text) == ("resident", FOLLOW_UP)
