"""A real `kill -9` loop: `python -m bot run` polls the fake Telegram over HTTP while residents
submit proposals and a specialist triages them, and is killed with SIGKILL again and again.

Each round kills at a different kind of moment (round number modulo the kinds below), chosen
at the next step where that kind can happen, and starts the bot again on the same file. The
people carry on from what they see: whatever they did when the bot died, they wait for its
answer. At the end every submission must be registered and posted to staff once, every notice
delivered once (a row the store marked 'uncertain' at most once), no effect applied twice, and
every resident must have finished.

Kills that must strike between Telegram acting on a request and the bot reading its answer (or
just before Telegram acts on it) are made by the fake itself: it sends SIGKILL from inside the
request, and the bot never sees the reply.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.store import Store
from fake_telegram import FakeMessage, FakeTelegram, FakeUser, serve
from tests.conftest import ADMIN_ID, STAFF_CHAT_ID, t
from tests.test_kill9 import start_bot

MIN_ROUNDS = 20
MAX_ROUNDS = 32  # four times each kind; the rest of the script runs without kills
# (English, Latvian) names of the themes the residents write on, one each.
THEMES = [
    ("Education", "Izglītība"),
    ("Culture", "Kultūra"),
    ("Sport", "Sports"),
    ("Mobility", "Mobilitāte"),
    ("Safety", "Drošība"),
    ("Economy", "Ekonomika"),
    ("Environment", "Vide"),
    ("Health care", "Veselības aprūpe"),
    ("Youth policy", "Jaunatnes politika"),
    ("Social protection", "Sociālā aizsardzība"),
    ("Territorial cooperation", "Teritoriālā sadarbība"),
]
RESIDENTS = len(THEMES)
START_EVERY = 7  # a new resident starts every this many steps, so submissions spread out
GAP = 2  # steps done normally after each kill before the next one

# The kinds of moment a round kills at.
REPLY_SEEN = "right after the person saw the answer"
STAFF_POST_SENT = "when the staff chat got a post, before the bot saw Telegram's answer"
PRESSED = "right after a press or message, before its answer"
NOTICE_LOST = "as a notice to a resident reached Telegram, before Telegram took it"
REPLY_SENT = "when Telegram took the first reply to an action, before the bot saw the answer"
CARD_LOST = "as a proposal's card reached Telegram, before Telegram took it"
FETCHED = "after the bot fetched an update, before it confirmed it to Telegram"
PROMPT_SENT = "when Telegram took a prompt to reply to, before the bot saw the answer"
KINDS = [
    REPLY_SEEN,
    STAFF_POST_SENT,
    PRESSED,
    NOTICE_LOST,
    REPLY_SENT,
    CARD_LOST,
    FETCHED,
    PROMPT_SENT,
]

# Outbox messages, as opposed to direct replies (by their text).
NOTICE_WORDS = ("registered as", "now has the status", "answered your proposal")
DIRECT_METHODS = {"sendmessage", "editmessagetext", "editmessagereplymarkup", "answercallbackquery"}


def is_outbox_text(text: str) -> bool:
    return any(words in text for words in NOTICE_WORDS) or text.startswith(("🆕", "💬", "⚠️"))


@dataclass
class Resident:
    index: int
    user: FakeUser
    theme: tuple[str, str]
    text: str
    answer: str
    follow_up: str
    photo: bool
    proposal_id: int | None = None
    reference: str | None = None
    finished: bool = False


@dataclass
class Step:
    """What a person does in a chat, how they tell it was answered (from the bot messages that
    appeared in that chat since), and which kinds of kill can strike at it."""

    name: str
    chat: Any  # FakeUser or FakeGroup: where the answer appears
    act: Callable[[], Awaitable[Any]]
    seen: Callable[[list[FakeMessage]], bool]
    resident: Resident
    staff_post: str | None = None  # text of the staff-chat post this step causes
    notice: bool = False  # it causes an outbox notice to the resident
    submit: bool = False
    prompt: str | None = None  # how the prompt it gets in answer begins


@dataclass
class Trap:
    """A kill the fake makes from inside the request that `matches`."""

    matches: Callable[[str, dict[str, Any]], bool]
    after: bool  # Telegram acts on the request first (else it never does)
    fired: asyncio.Event = field(default_factory=asyncio.Event)


def any_says(words: str) -> Callable[[list[FakeMessage]], bool]:
    return lambda new: any(words in (m.content or "") for m in new)


def any_has(label: str) -> Callable[[list[FakeMessage]], bool]:
    return lambda new: any(m.button(label) for m in new)


def answer_sent(r: Resident) -> str:
    """What the staff see once the answer is on its way to the resident."""
    return t("lv", "✅ Answer to {reference} sent to the resident.").format(reference=r.reference)


def newest_with(chat: Any, label: str) -> FakeMessage:
    found = next((m for m in reversed(chat.messages) if m.button(label)), None)
    assert found is not None, f"no button {label!r}\n{chat.transcript()}"
    return found


class World:
    def __init__(self, tmp_path: Path, fake: FakeTelegram, server: Any, log: Any) -> None:
        self.tmp_path, self.fake, self.server, self.log = tmp_path, fake, server, log
        self.database = tmp_path / "bot.sqlite3"
        self.bot: asyncio.subprocess.Process | None = None
        self.trap: Trap | None = None
        self.rounds: list[str] = []
        self.staff_chat = fake.group("Attīstības pārvalde", chat_id=STAFF_CHAT_ID)
        inese = fake.user("Inese", user_id=ADMIN_ID, language_code="lv")
        self.inese, self.inese_in_staff_chat = inese, inese.in_chat(self.staff_chat)
        self.residents = [
            Resident(
                index=i,
                user=fake.user(f"Resident{i}", language_code="en"),
                theme=theme,
                text=f"Proposal {i}: {theme[0]} needs more benches, trees and light.",
                answer=f"Atbilde {i}: paldies, priekšlikums nodots darba grupai.",
                follow_up=f"Follow-up {i}: the corner by the school matters most.",
                photo=i % 2 == 0,
            )
            for i, theme in enumerate(THEMES)
        ]
        original = fake.call

        async def call(method: str, params: dict[str, Any], files: Any = None) -> Any:
            trap = self.trap
            if trap is None or not trap.matches(method.lower(), params):
                answer = await original(method, params, files)
                # Waits re-check on every request too: some wait for what the bot records in
                # the store, e.g. a new process marking what was being sent as uncertain.
                await fake._notify_activity()
                return answer
            self.trap = None
            answer = await original(method, params, files) if trap.after else None
            assert self.bot is not None
            self.bot.kill()  # SIGKILL, before this request is answered
            trap.fired.set()
            return answer or (503, {"ok": False, "error_code": 503, "description": "killed"})

        fake.call = call  # type: ignore[method-assign]

    # -- the process ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.bot = await start_bot(self.server, self.fake, self.tmp_path, self.log)

    async def dead(self) -> None:
        assert self.bot is not None
        code = await asyncio.wait_for(self.bot.wait(), 15)
        assert code == -9, f"the bot ended with {code}, not by SIGKILL"

    # -- the store, read beside the running bot (WAL) -----------------------------------------

    def query(self, sql: str, *params: Any) -> list[Any]:
        with sqlite3.connect(self.database, timeout=10) as db:
            return db.execute(sql, params).fetchall()

    def outbox_status(self, key: str) -> str | None:
        rows = self.query("SELECT status FROM outbox WHERE key = ?", key)
        return rows[0][0] if rows else None

    # -- steps ---------------------------------------------------------------------------------

    async def perform(self, step: Step) -> None:
        before = len(step.chat.messages)
        await step.act()
        await self.until_seen(step, before, 15)

    async def until_seen(self, step: Step, before: int, within: float) -> None:
        try:
            await self.fake.wait_until(lambda: step.seen(step.chat.messages[before:]), within)
        except AssertionError:
            raise AssertionError(
                f"{step.resident.user.first_name}: no answer to «{step.name}» in {within} s\n"
                f"{step.chat.transcript()}\n\nthe kills so far:\n" + "\n".join(self.rounds)
            ) from None

    def applies(self, kind: str, step: Step) -> bool:
        if kind == STAFF_POST_SENT:
            return step.staff_post is not None
        if kind == NOTICE_LOST:
            return step.notice
        if kind == CARD_LOST:
            return step.submit
        if kind == PROMPT_SENT:
            return step.prompt is not None
        return True

    def trap_for(self, kind: str, step: Step) -> Trap | None:
        chat_id = str(step.chat.chat_id)
        resident_id = str(step.resident.user.id)

        def text(params: dict[str, Any]) -> str:
            return str(params.get("text") or "")

        def to(params: dict[str, Any], chat: str) -> bool:
            return str(params.get("chat_id")) == chat

        staff = str(STAFF_CHAT_ID)
        if kind == STAFF_POST_SENT:
            post = step.staff_post or ""
            return Trap(
                lambda m, p: m == "sendmessage" and to(p, staff) and post in text(p), after=True
            )
        if kind == NOTICE_LOST:
            return Trap(
                lambda m, p: (
                    m == "sendmessage"
                    and to(p, resident_id)
                    and any(words in text(p) for words in NOTICE_WORDS)
                ),
                after=False,
            )
        if kind == CARD_LOST:
            card = step.resident.text
            return Trap(
                lambda m, p: m == "sendmessage" and to(p, staff) and card in text(p), after=False
            )
        if kind == PROMPT_SENT:
            prompt = step.prompt or ""
            return Trap(
                lambda m, p: m == "sendmessage" and to(p, chat_id) and text(p).startswith(prompt),
                after=True,
            )
        if kind == REPLY_SENT:
            return Trap(
                lambda m, p: (
                    m in DIRECT_METHODS
                    and (m == "answercallbackquery" or to(p, chat_id))
                    and not is_outbox_text(text(p))
                ),
                after=True,
            )
        return None

    async def perform_with_kill(self, kind: str, step: Step) -> None:
        before = len(step.chat.messages)
        self.trap = self.trap_for(kind, step)
        await step.act()
        if kind == FETCHED:
            # Set before the bot can fetch it: nothing awaited since the update was queued.
            update_id = self.fake.pending_updates[-1]["update_id"]
            self.trap = Trap(
                lambda m, p: m == "getupdates" and int(p.get("offset") or 0) > update_id,
                after=False,
            )
        if kind == REPLY_SEEN:
            await self.until_seen(step, before, 15)
        if self.trap is None:
            assert self.bot is not None
            self.bot.kill()
        else:
            trap = self.trap
            try:
                await asyncio.wait_for(trap.fired.wait(), 15)
            except TimeoutError:
                raise AssertionError(f"«{step.name}»: the moment to kill never came") from None
        await self.dead()
        self.rounds.append(f"{kind}: «{step.name}» (for {step.resident.user.first_name})")
        await self.start()
        # Nobody repeats anything: Telegram re-sends what the bot did not confirm, the journal
        # finishes what it had not committed, and the answer comes (once more, perhaps).
        await self.until_seen(step, before, 30)

    # -- what the people do --------------------------------------------------------------------

    async def resident_program(self, r: Resident) -> AsyncIterator[Step]:
        u = r.user
        en = r.theme[0]

        def step(name: str, act: Callable[[], Awaitable[Any]], seen: Any, **kw: Any) -> Step:
            return Step(name, u, act, seen, r, **kw)

        yield step("/start", lambda: u.send("/start"), any_has("✅ English"))
        yield step("✅ English", lambda: u.press("✅ English"), any_has("📝 Submit a proposal"))
        yield step("📝 Submit a proposal", lambda: u.press("📝 Submit a proposal"), any_has(en))
        yield step(en, lambda: u.press(en), any_says("Now write your proposal"))
        yield step("the text", lambda: u.send(r.text), any_says("Saved."))
        if r.photo:
            yield step("a photo", u.send_photo, any_says("1 attachment so far"))
        yield step(
            "➡️ Continue",
            lambda: u.press("➡️ Continue"),
            lambda new: u.reply_keyboard() == [["📱 Share my phone number"], ["Skip"]],
        )
        yield step("Skip", lambda: u.tap("Skip"), any_has("✅ Submit"))
        preview = newest_with(u, "✅ Submit")
        yield step(
            "✅ Submit",
            lambda: u.press("✅ Submit", message=preview),
            lambda new: not preview.buttons,
            staff_post=r.text,
            notice=True,
            submit=True,
        )

        # The specialist works on it: on the card in the staff chat, or — if the card never
        # reached Telegram — from the list of open proposals in a private chat.
        post_key = await self.wait_for_card(r)
        card = self.card_of(r)
        async for staff_step in (
            self.triage_on_card(r, card, post_key) if card else self.triage_at_desk(r)
        ):
            yield staff_step

        entry = f"{r.reference} · {en}"
        yield step("/mine", lambda: u.send("/mine"), any_has(entry))
        yield step("the proposal", lambda: u.press(entry), any_has("💬 Add a message"))
        asked = f"Write your message about {r.reference}"
        before = len(u.messages)
        yield step(
            "💬 Add a message", lambda: u.press("💬 Add a message"), any_says(asked), prompt=asked
        )
        # Some answer the prompt they saw first (a crash may have sent it twice), some just
        # write.
        prompt = next(m for m in u.messages[before:] if asked in (m.content or ""))
        yield step(
            "the follow-up",
            (lambda: u.reply_to(prompt, r.follow_up))
            if r.index % 2
            else (lambda: u.send(r.follow_up)),
            any_says(f"Added to {r.reference}"),
            staff_post=r.follow_up,
        )
        r.finished = True

    def card_of(self, r: Resident) -> FakeMessage | None:
        return next((m for m in self.staff_chat.messages if r.text in (m.content or "")), None)

    async def wait_for_card(self, r: Resident) -> str:
        """Until the proposal is committed and its card is in the staff chat — or is known
        never to come (its outbox row is uncertain: a crash struck while it was on its way)."""

        def ready() -> bool:
            rows = self.query(
                "SELECT id, reference FROM proposals WHERE resident_id = ?", r.user.id
            )
            if not rows:
                return False
            r.proposal_id, r.reference = rows[0]
            key = f"proposal:{r.proposal_id}:post"
            return self.card_of(r) is not None or self.outbox_status(key) == "uncertain"

        await self.fake.wait_until(ready, 20, message=f"no card for {r.user.first_name}")
        return f"proposal:{r.proposal_id}:post"

    async def triage_on_card(
        self, r: Resident, card: FakeMessage, post_key: str
    ) -> AsyncIterator[Step]:
        inese, staff = self.inese_in_staff_chat, self.staff_chat
        in_review, status = t("lv", "In review"), t("lv", "🔄 Status")
        sent = answer_sent(r)
        unknown = t("lv", "I could not tell which proposal this reply is about.")

        def step(name: str, act: Callable[[], Awaitable[Any]], seen: Any, **kw: Any) -> Step:
            return Step(name, staff, act, seen, r, **kw)

        yield step(
            "🔄 Status",
            lambda: inese.press(status, message=card),
            lambda new: card.button(in_review) is not None,
        )
        yield step(
            in_review,
            lambda: inese.press(in_review, message=card),
            lambda new: in_review in (card.content or "") and card.button(status) is not None,
            notice=True,
        )
        if r.index % 2 == 0:
            # Answer by replying to the card. If the card's post is uncertain, the bot never
            # learned its message id and says so: the specialist then uses the Answer button.
            before = len(staff.messages)
            yield step(
                "the answer, as a reply to the card",
                lambda: inese.reply_to(card, r.answer),
                lambda new: any_says(sent)(new) or any_says(unknown)(new),
                notice=self.outbox_status(post_key) == "sent",
            )
            if any(sent in (m.content or "") for m in staff.messages[before:]):
                return
        async for answer_step in self.answer_through_the_prompt(r, inese, staff, card):
            yield answer_step

    async def triage_at_desk(self, r: Resident) -> AsyncIterator[Step]:
        inese, lv = self.inese, r.theme[1]
        in_review, status = t("lv", "In review"), t("lv", "🔄 Status")
        entry = f"{r.reference} · {t('lv', 'Received')}"

        def step(name: str, act: Callable[[], Awaitable[Any]], seen: Any, **kw: Any) -> Step:
            return Step(name, inese, act, seen, r, **kw)

        def theme_button(message: FakeMessage) -> str | None:
            labels = [label for row in message.buttons for label in row]
            return next((label for label in labels if label.startswith(f"{lv} (")), None)

        before = len(inese.messages)
        yield step(
            "/proposals", lambda: inese.send("/proposals"), lambda new: any(map(theme_button, new))
        )
        listing = next(m for m in inese.messages[before:] if theme_button(m))
        label = theme_button(listing)
        assert label is not None
        yield step(
            label,
            lambda: inese.press(label, message=listing),
            lambda new: listing.button(entry) is not None,
        )
        before = len(inese.messages)
        yield step(entry, lambda: inese.press(entry, message=listing), any_has(status))
        opened = next(m for m in inese.messages[before:] if m.button(status))
        yield step(
            "🔄 Status",
            lambda: inese.press(status, message=opened),
            lambda new: opened.button(in_review) is not None,
        )
        yield step(
            in_review,
            lambda: inese.press(in_review, message=opened),
            lambda new: in_review in (opened.content or "") and opened.button(status) is not None,
            notice=True,
        )
        async for answer_step in self.answer_through_the_prompt(r, inese, inese, opened):
            yield answer_step

    async def answer_through_the_prompt(
        self, r: Resident, inese: FakeUser, chat: Any, message: FakeMessage
    ) -> AsyncIterator[Step]:
        """💬 Answer on `message`, then a reply to the prompt: the first one shown, should a crash
        have made the bot send it twice. The bot must take it."""
        sent = answer_sent(r)
        unknown = t("lv", "I could not tell which proposal this reply is about.")

        def is_prompt(m: FakeMessage) -> bool:
            return (m.content or "").startswith("✍️") and str(r.reference) in (m.content or "")

        before = len(chat.messages)
        yield Step(
            "💬 Answer",
            chat,
            lambda: inese.press(t("lv", "💬 Answer"), message=message),
            lambda new: any(map(is_prompt, new)),
            r,
            prompt="✍️",
        )
        prompt = next(filter(is_prompt, chat.messages[before:]))
        before = len(chat.messages)
        yield Step(
            "the answer, as a reply to the prompt",
            chat,
            lambda: inese.reply_to(prompt, r.answer),
            lambda new: any_says(sent)(new) or any_says(unknown)(new),
            r,
            notice=True,
        )
        assert any_says(sent)(chat.messages[before:]), (
            f"the bot disowned the prompt the specialist saw\n{chat.transcript()}"
        )

    # -- the loop ------------------------------------------------------------------------------

    async def play(self) -> None:
        programs: list[AsyncIterator[Step]] = []
        waiting = list(self.residents)
        done = since_kill = 0
        while programs or waiting:
            if waiting and (not programs or done >= START_EVERY * (RESIDENTS - len(waiting))):
                programs.append(self.resident_program(waiting.pop(0)))
            program = programs.pop(0)
            try:
                step = await anext(program)
            except StopAsyncIteration:
                continue
            programs.append(program)  # round robin: the others go on meanwhile
            kind = KINDS[len(self.rounds) % len(KINDS)]
            if since_kill >= GAP and len(self.rounds) < MAX_ROUNDS and self.applies(kind, step):
                await self.perform_with_kill(kind, step)
                since_kill = 0
            else:
                await self.perform(step)
                since_kill += 1
            done += 1


async def test_kill_9_again_and_again_loses_and_repeats_nothing(tmp_path: Path) -> None:
    fake = FakeTelegram(bot_username="liepaja_test_bot")
    server = await serve(fake)
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log:
        world = World(tmp_path, fake, server, log)
        try:
            await world.start()
            await world.play()
            await settled(world)
        finally:
            if world.bot is not None and world.bot.returncode is None:
                world.bot.terminate()
                await asyncio.wait_for(world.bot.wait(), 30)
            await server.close()
    assert world.bot is not None and world.bot.returncode == 0  # the last one stopped cleanly
    assert all(r.finished for r in world.residents)
    store = Store(world.database)
    await store.open()
    try:
        await check_effects(world, store)
        await check_notices(world, store)
    finally:
        await store.close()
    assert len(world.rounds) >= MIN_ROUNDS, "\n".join(world.rounds)
    assert {kind for kind in KINDS if any(r.startswith(kind) for r in world.rounds)} == set(KINDS)
    logs = log_path.read_text(encoding="utf-8", errors="replace")
    assert " ERROR " not in logs and " CRITICAL " not in logs, "the bot logged an error"


async def settled(world: World) -> None:
    """Until every update is committed (the journal is empty) and every notice the store holds
    is shown — all but the uncertain ones, which may never be: the outbox is done."""

    def done() -> bool:
        if world.query("SELECT COUNT(*) FROM update_journal")[0][0]:
            return False
        rows = world.query("SELECT key, chat_id, status FROM outbox")
        return all(status == "uncertain" or shown(world, key, chat) for key, chat, status in rows)

    await world.fake.wait_until(done, 30, message="updates or notices still outstanding")


def shown(world: World, key: str, chat_id: int) -> int:
    """How many times the message of outbox row `key` appears in its chat."""
    by_proposal = {r.proposal_id: r for r in world.residents}
    by_entry = {
        entry_id: (author, text)
        for entry_id, author, text in world.query("SELECT id, author, text FROM proposal_messages")
    }
    chat: Any = world.staff_chat
    if chat_id != STAFF_CHAT_ID:
        chat = next(r.user for r in world.residents if r.user.id == chat_id)
    texts = [m.content or "" for m in chat.messages]
    parts = key.split(":")
    if parts[0] == "proposal" and parts[2:] == ["registered"]:
        r = by_proposal[int(parts[1])]
        return sum(f"registered as {r.reference}" in text for text in texts)
    if parts[0] == "proposal" and parts[2:] == ["post"]:
        r = by_proposal[int(parts[1])]
        return sum(r.text in text for text in texts)
    if parts[0] == "proposal" and parts[2:] == ["post", "attachment0"]:
        r = by_proposal[int(parts[1])]
        [sent] = [m.photo for m in r.user.all_messages if not m.from_bot and m.photo]
        return sum(m.photo is sent for m in chat.messages)
    if parts[0] == "status":
        r = by_proposal[int(parts[1])]
        return sum(f"{r.reference} now has the status" in text for text in texts)
    if parts[0] == "answer":  # (not /mine, which shows the answers too)
        answer = by_entry[int(parts[1])][1]
        return sum("answered your proposal" in text and answer in text for text in texts)
    if parts[0] == "thread" and parts[2:] == ["post"]:
        return sum(by_entry[int(parts[1])][1] in text for text in texts)
    raise AssertionError(f"an outbox row nobody expected: {key}")


async def check_effects(world: World, store: Store) -> None:
    for r in world.residents:
        [proposal] = await store.proposals.proposals_of(r.user.id, offset=0, limit=50)
        assert (proposal.id, proposal.text) == (r.proposal_id, r.text)
        kinds = [a.kind for a in await store.proposals.attachments_of(proposal.id)]
        assert kinds == (["photo"] if r.photo else [])
        history = await store.proposals.status_history_of(proposal.id)
        assert [(h.status, h.changed_by) for h in history] == [
            ("received", r.user.id),
            ("in_review", ADMIN_ID),
        ]
        thread = await store.proposals.thread_of(proposal.id)
        assert [(m.author, m.text) for m in thread] == [
            ("staff", r.answer),
            ("resident", r.follow_up),
        ]
        assert await store.drafts.draft_of(r.user.id) is None
    assert not await store.conversations.conversation_states("proposal")
    assert not await store.conversations.conversation_states("follow_up")


async def check_notices(world: World, store: Store) -> None:
    counts = await store.outbox.counts()
    assert set(counts) <= {"sent", "uncertain"}, counts
    expected: set[str] = set()
    for r in world.residents:
        proposal = await store.proposals.proposal(r.proposal_id or 0)
        assert proposal is not None
        pid = proposal.id
        [answer, follow_up] = await store.proposals.thread_of(pid)
        expected |= {
            f"proposal:{pid}:registered",
            f"proposal:{pid}:post",
            f"status:{pid}:{proposal.version}",
            f"answer:{answer.id}",
            f"thread:{follow_up.id}:post",
        }
        if r.photo:
            expected.add(f"proposal:{pid}:post:attachment0")
    rows = {}
    for chat_id in (STAFF_CHAT_ID, *(r.user.id for r in world.residents)):
        for key, status in await store.outbox.deliveries_to(chat_id):
            assert key not in rows, f"{key} twice in the outbox"
            rows[key] = (chat_id, status)
    assert set(rows) == expected
    for key, (chat_id, status) in rows.items():
        times = shown(world, key, chat_id)
        if status == "uncertain":
            assert times <= 1, f"{key}: uncertain, yet shown {times} times"
        else:
            assert times == 1, f"{key}: shown {times} times"
