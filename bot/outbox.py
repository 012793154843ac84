"""The outbox sender: delivers what the store's outbox holds, after commit, under Telegram's limits.

- One chat's messages go in the order they were written (only each chat's oldest pending row is
  sent; the next waits until it is settled).
- Its own budget (about 1 message/s to one chat, 20/min to a group, 30/s overall), so a burst of
  staff-chat posts never holds up a reply to a resident: replies do not go through here at all.
- A 429 waits its `retry_after` (and pauses every send: Telegram's flood control is global),
  network errors are retried with backoff, a 403 marks the resident unreachable and is not
  retried, and a send that timed out is recorded as uncertain: Telegram may have delivered it,
  and the Bot API has no way to ask, so it is never blindly sent twice.
- Time comes from the injected clock and `sleep`, so tests move time instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.clock import Clock
from bot.i18n import STAFF_LANGUAGE, translator
from bot.message_log import Outbound, holding_outbound, record_held
from bot.store import Store
from bot.store.outbox import Delivery

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

# The Bot methods a row may name (its `method`), and nothing else.
METHODS = frozenset(
    {
        "send_message",
        "edit_message_text",
        "edit_message_reply_markup",
        "send_photo",
        "send_document",
        "send_voice",
        "send_location",
        "send_venue",
    }
)
MAX_ATTEMPTS = 6  # network errors: 2, 4, 8, 16, 32 s apart, then given up


TELEGRAM_OVERALL_PER_SECOND = 30  # Telegram's bulk limit (Bot FAQ)
DEFAULT_OVERALL_PER_SECOND = 25  # leaves the direct replies (PTB's own limiter) some room


@dataclass(frozen=True)
class Limits:
    """Telegram's documented limits (Bot FAQ), as the sender keeps them. The overall rate is
    configurable (OUTBOX_RATE), never above Telegram's 30/s: direct replies share that limit."""

    per_chat_interval: float = 1.0  # seconds between two messages to one private chat
    group_per_minute: int = 20
    overall_per_second: int = DEFAULT_OVERALL_PER_SECOND


# Set while the sender calls Telegram: its calls are counted by their reservation, not as direct
# replies.
_SENDING_FROM_OUTBOX: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sending_from_outbox", default=False
)


@dataclass
class Reservation:
    """A send picked by the sender (or a reply about to go) that Telegram has not answered yet:
    it counts in the overall budget meanwhile."""

    chat_id: int
    direct: bool = False  # a handler's reply, not one of the outbox's own sends
    open: bool = True


class RateBudget:
    """When the next message to a chat may go, by the limits above. Direct replies (sent by the
    handlers, not through here) are counted too (`note_direct`): they share Telegram's overall
    limit, so the outbox sends only what they leave of its rate — a broadcast slows down while
    residents are being answered instead of pushing both into 429s.

    Every send holds a reservation from when it is picked until Telegram has answered it, and is
    then stamped with the moment of the answer (`use`). Telegram counts it somewhere in between,
    so a send counted here from its answer on is counted for at least as long as Telegram
    counts it: stamped at the pick instead (the claim's commit may wait behind residents'
    updates) or at the start of the call (the trip there may take a while), it would leave this
    window before Telegram's, the next batch would go while it is still in Telegram's last
    second, and everyone would meet 429s."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._last_private: dict[int, datetime] = {}
        self._group_sends: dict[int, deque[datetime]] = {}
        self._all_sends: deque[datetime] = deque()
        self._direct_sends: deque[datetime] = deque()
        self._reserved = 0
        self.paused_until: datetime | None = None

    def note_direct(self, now: datetime) -> None:
        self._direct_sends.append(now)

    def ready_at(self, chat_id: int, now: datetime) -> datetime:
        ready = now
        if self.paused_until and self.paused_until > ready:
            ready = self.paused_until
        if chat_id < 0:  # groups and channels
            sends = self._prune(self._group_sends.get(chat_id), now, 60.0)
            if sends is not None and len(sends) >= self.limits.group_per_minute:
                ready = max(ready, sends[0] + timedelta(seconds=60))
        elif (last := self._last_private.get(chat_id)) is not None:
            ready = max(ready, last + timedelta(seconds=self.limits.per_chat_interval))
        return max(ready, self._overall_ready_at(now, self.limits.overall_per_second))

    def direct_ready_at(self, now: datetime) -> datetime:
        """When a direct reply may go: everything counted (the outbox's sends too) against
        Telegram's own limit, less one to spare. The outbox keeps to its
        lower rate, so a reply waits only when residents' replies alone come in a burst — a wait
        of a fraction of a second, where a 429 costs every sender a second at least."""
        return self._overall_ready_at(now, TELEGRAM_OVERALL_PER_SECOND - 1)

    def _overall_ready_at(self, now: datetime, limit: int) -> datetime:
        own = self._prune(self._all_sends, now, 1.0) or deque()
        direct = self._prune(self._direct_sends, now, 1.0) or deque()
        if len(own) + len(direct) + self._reserved < limit:
            return now
        # When the oldest send of the last second falls out of it (with reserved sends alone, a
        # second from now at the earliest: they are stamped when answered, from now on).
        oldest = min((sends[0] for sends in (own, direct) if sends), default=now)
        return oldest + timedelta(seconds=1)

    def reserve(self, chat_id: int, *, direct: bool = False) -> Reservation:
        """Holds a place in the overall budget for a send about to be made to `chat_id`. (A
        batch holds one row per chat, so the chat's own limit needs no reservation.)"""
        self._reserved += 1
        return Reservation(chat_id, direct)

    def use(self, reservation: Reservation, now: datetime) -> None:
        """Telegram has answered the reserved send (`now`)."""
        if reservation.open:
            self.cancel(reservation)
            if reservation.direct:
                self.note_direct(now)
            else:
                self.spend(reservation.chat_id, now)

    def cancel(self, reservation: Reservation) -> None:
        """The reserved send was not made (no-op once used)."""
        if reservation.open:
            reservation.open = False
            self._reserved -= 1

    def spend(self, chat_id: int, now: datetime) -> None:
        if chat_id < 0:
            self._group_sends.setdefault(chat_id, deque()).append(now)
        else:
            self._last_private[chat_id] = now
            if len(self._last_private) > 50_000:  # forget the oldest: their second is long past
                self._last_private.pop(next(iter(self._last_private)))
        self._all_sends.append(now)

    @staticmethod
    def _prune(
        sends: deque[datetime] | None, now: datetime, window: float
    ) -> deque[datetime] | None:
        if sends is not None:
            while sends and (now - sends[0]).total_seconds() >= window:
                sends.popleft()
        return sends


class OutboxSender:
    def __init__(
        self,
        store: Store,
        bot: Bot,
        *,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        limits: Limits | None = None,
        staff_chat_id: int | None = None,
        timezone: Any = None,
        concurrency: int = 8,
    ) -> None:
        self.store = store
        self.bot = bot
        self.clock = clock
        self.sleep = sleep
        self.budget = RateBudget(limits or Limits())
        self.staff_chat_id = staff_chat_id
        self.timezone = timezone
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Delivers in the background from now on (what `liepaja-bot run` does)."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self, *, finish_due: bool = True) -> None:
        """Stops the background loop; with `finish_due`, first delivers what is due now."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if finish_due:
            await self.deliver_due()

    @contextlib.asynccontextmanager
    async def sending(self, method: str) -> AsyncIterator[None]:
        """Around the transport's call that sends a message (`method`). One of a handler's
        direct replies (unless it is this sender's own call, counted already) waits while
        Telegram's overall limit is used up, then takes its share of it until answered."""
        if _SENDING_FROM_OUTBOX.get():
            yield
            return
        while (ready := self.budget.direct_ready_at(now := self.clock())) > now:
            await self.sleep((ready - now).total_seconds())
        held = self.budget.reserve(0, direct=True)
        try:
            yield
        finally:
            self.budget.use(held, self.clock())

    def wake(self) -> None:
        """Something was committed to the outbox: look at it now rather than later."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                wait = await self.deliver_due()
            except Exception:
                log.exception("the outbox sender failed; trying again shortly")
                wait = 5.0
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(wait, 60.0))

    # -- delivering ----------------------------------------------------------------------------

    async def deliver_due(self) -> float:
        """Sends every row that is due and allowed by the budget now. Returns the seconds until
        the next row may be sent (60 when nothing is pending)."""
        while True:
            now = self.clock()
            rows = await self.store.outbox.due(now, limit=200)
            batch: list[tuple[Delivery, Reservation]] = []
            for row in rows:  # each send reserved before the next is judged: never over budget
                if self.budget.ready_at(row.chat_id, now) <= now:
                    batch.append((row, self.budget.reserve(row.chat_id)))
                    if len(batch) == self.concurrency:
                        break
            if not batch:
                return await self._seconds_until_next(rows, now)
            try:
                await self.store.outbox.claim([row.id for row, _ in batch])
                await asyncio.gather(*(self._deliver(row, held) for row, held in batch))
            finally:
                for _, held in batch:
                    self.budget.cancel(held)

    async def drain(self, *, max_rounds: int = 10_000) -> None:
        """Delivers everything pending, sleeping (the injected sleep) where the budget or a
        retry says to wait. Tests and the scripted demo use it instead of the background loop."""
        for _ in range(max_rounds):
            wait = await self.deliver_due()
            if await self.store.outbox.next_due_at() is None:
                return
            await self.sleep(max(wait, 0.001))
        raise RuntimeError("the outbox did not drain")

    async def _seconds_until_next(self, rows: list[Delivery], now: datetime) -> float:
        candidates = [
            (self.budget.ready_at(row.chat_id, now) - now).total_seconds() for row in rows
        ]
        next_due = await self.store.outbox.next_due_at()
        if next_due is not None and next_due > now:
            candidates.append((next_due - now).total_seconds())
        return max(0.0, min(candidates)) if candidates else 60.0

    async def _deliver(self, row: Delivery, held: Reservation) -> None:
        """Sends one claimed row and settles it."""
        sent: list[Outbound] = []
        try:
            with holding_outbound(sent):  # logged below, with the settle: one commit
                result = await self._call(row, held)
        except RetryAfter as error:
            seconds = _seconds(error.retry_after)
            pause = self.clock() + timedelta(seconds=seconds)
            self.budget.paused_until = max(self.budget.paused_until or pause, pause)
            await self.store.outbox.retry_later(row.id, pause, f"429: retry after {seconds} s")
            return
        except Forbidden as error:
            log.info("chat %s does not accept messages (%s); not retried", row.chat_id, error)
            await self.store.outbox.settle(row, "unreachable", error=str(error))
            await self._tell_staff_undelivered(row)
            return
        except TimedOut as error:
            # The request may have reached Telegram: sending again could deliver it twice.
            log.warning("sending %s timed out; recorded as uncertain", row.key)
            await self.store.outbox.settle(row, "uncertain", error=str(error))
            return
        except BadRequest as error:  # an edit that changes nothing is none (LoggedRequest)
            log.warning("Telegram refused %s: %s", row.key, error)
            await self.store.outbox.settle(row, "failed", error=str(error))
            return
        except (NetworkError, TelegramError) as error:
            if row.attempts + 1 >= MAX_ATTEMPTS:
                await self.store.outbox.settle(row, "failed", error=str(error))
                return
            backoff = 2.0 ** (row.attempts + 1)
            await self.store.outbox.retry_later(
                row.id, self.clock() + timedelta(seconds=backoff), str(error)
            )
            return
        except Exception as error:
            # A bug of ours (a malformed row): settle it, so it does not block its chat.
            log.exception("could not send %s", row.key)
            await self.store.outbox.settle(row, "failed", error=repr(error))
            return
        message_id = result.message_id if isinstance(result, Message) else None
        # Unsynced, as every settle (Outbox.settle says why), with the message's log line.
        async with self.store.unit_of_work(durable=False):
            await record_held(self.store, sent)
            await self.store.outbox.settle(row, "sent", message_id=message_id)

    async def _call(self, row: Delivery, held: Reservation) -> Message | bool:
        if row.method not in METHODS:
            raise BadRequest(f"outbox method {row.method!r} is not allowed")
        params = dict(row.payload)
        for name, value in list(params.items()):
            if isinstance(value, dict) and "$message_of" in value:
                # A reply to, or an edit of, a message another row sent (usually just before,
                # in the same chat, so it is settled by now).
                found = await self.store.outbox.message_of(str(value["$message_of"]))
                target = found[1] if found else None
                if target is None and name == "message_id":
                    raise BadRequest("the message to edit was never sent")
                params[name] = target
            elif isinstance(value, dict) and "$bytes" in value:
                params[name] = InputFile(
                    base64.b64decode(value["$bytes"]), filename=value.get("filename")
                )
        if params.get("reply_to_message_id") is None:
            params.pop("reply_to_message_id", None)
        if isinstance(markup := params.get("reply_markup"), dict):
            params["reply_markup"] = InlineKeyboardMarkup.de_json(markup, self.bot)
        method = getattr(self.bot, row.method)
        token = _SENDING_FROM_OUTBOX.set(True)
        try:
            result: Message | bool = await method(chat_id=row.chat_id, **params)
        finally:
            _SENDING_FROM_OUTBOX.reset(token)
            self.budget.use(held, self.clock())  # counted from Telegram's answer on
        return result

    async def _tell_staff_undelivered(self, row: Delivery) -> None:
        """An answer or status notice the resident will not get: the office should know."""
        reference = row.purpose.get("reference")
        if self.staff_chat_id is None or not reference or row.chat_id < 0:
            return
        tr = translator(STAFF_LANGUAGE, self.timezone)
        text = tr.gettext(
            "⚠️ The message about {reference} could not be delivered: the resident has blocked "
            "the bot. It is kept in their “My submissions”."
        ).format(reference=reference)
        async with self.store.unit_of_work():
            await self.store.outbox.enqueue(
                f"undelivered:{row.key}", self.staff_chat_id, "send_message", {"text": text}
            )


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
