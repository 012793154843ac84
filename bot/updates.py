"""How updates come in: each is confirmed to Telegram only once it has been handled.

Telegram keeps an update until the bot confirms it — by polling, when the next `getUpdates`
asks from a higher id; by webhook, when the request is answered — and sends it again until then
(for up to a day). So the bot need not write each update down as it arrives (a commit and a
copy of the update, per update) to survive a crash: it confirms an update only after the
transaction that holds its effects has committed, and what a crash interrupts, Telegram still
has. Updates handled before are recognised by their ids (bot/store/journal.py), so one that
comes again takes effect once.

PTB confirms as early as it can — its poller asks for the next batch as soon as it has queued
one, and its webhook answers as soon as the update is queued. `ConfirmingRequest` holds back the
next `getUpdates` until the batch before has been handled, and `UpdateQueue` answers a webhook
request only once its update has been. `BotApplication.process_update` reports each outcome.
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.message_log import ForwardingRequest

log = logging.getLogger(__name__)

# How long the next getUpdates waits for the batch before it to be handled. Past it, or if an
# update's handling failed (the bot is stopping), the call is answered "no updates" without
# asking Telegram, since its offset would confirm what was not handled; the poller asks again.
# It bounds a stop's last call, too.
MAX_CONFIRM_WAIT = 10.0
# Before that answer if only failed updates are left (nothing to wait for): else the poller
# would ask again at once, and again.
PAUSE = 1.0
NOTHING_NEW = (HTTPStatus.OK, b'{"ok":true,"result":[]}')


class UpdateQueue(asyncio.Queue[object]):
    """PTB's update queue, knowing which updates have been handled: a webhook request waits in
    `put` until its update has been (Telegram sends it again if the answer never comes), and
    `ConfirmingRequest` asks it whether polled updates have been."""

    def __init__(self) -> None:
        super().__init__()
        self.queued: set[int] = set()  # in the queue or being handled
        # Fetched by polling and not handled yet: the next getUpdates must not confirm these.
        self.unconfirmed: set[int] = set()
        # Of those, the ones still to be handled (the others failed: the bot is stopping).
        self._in_hand: set[int] = set()
        self._all_handled = asyncio.Event()
        self._all_handled.set()
        # Each webhook update's outcome, which its request (and any copy of it) waits for.
        self._outcomes: dict[int, asyncio.Future[None]] = {}

    def fetched(self, update_ids: list[int]) -> None:
        """A `getUpdates` answer brought these."""
        fresh = [update_id for update_id in update_ids if update_id not in self.queued]
        self.unconfirmed.update(fresh)
        self._in_hand.update(fresh)
        if self._in_hand:
            self._all_handled.clear()

    async def put(self, item: object) -> None:
        if not isinstance(item, Update):
            await super().put(item)
            return
        update_id = item.update_id
        if update_id in self.unconfirmed:
            # Polled: the poller goes on, and its next call waits (ConfirmingRequest).
            if update_id not in self.queued:
                self.queued.add(update_id)
                await super().put(item)
            return
        # A webhook's: answered once handled. A copy Telegram sends while the first waits
        # (its answer was slow) waits for the same outcome instead of being queued again.
        outcome = self._outcomes.get(update_id)
        if outcome is None:
            outcome = self._outcomes[update_id] = asyncio.get_running_loop().create_future()
            self.queued.add(update_id)
            await super().put(item)
        await asyncio.shield(outcome)  # a request given up must not cancel the others' wait

    def finished(self, update_id: int, error: BaseException | None = None) -> None:
        """`process_update` is done with the update: handled (its effects committed, or found
        handled before), or, with `error`, not — then Telegram must keep it."""
        self.queued.discard(update_id)
        self._in_hand.discard(update_id)
        if error is None:
            self.unconfirmed.discard(update_id)
        if not self._in_hand:
            self._all_handled.set()
        outcome = self._outcomes.pop(update_id, None)
        if outcome is not None and not outcome.done():
            if error is None:
                outcome.set_result(None)
            elif isinstance(error, Exception):
                outcome.set_exception(error)  # the request fails: Telegram sends it again
                outcome.exception()  # seen: no "never retrieved" if the request is gone
            else:
                outcome.cancel()

    @property
    def in_hand(self) -> bool:
        """Whether a fetched update is still to be handled."""
        return bool(self._in_hand)

    async def all_handled(self) -> bool:
        """Waits until every update fetched so far has been handled or has failed (at most
        MAX_CONFIRM_WAIT); returns whether all were handled. Called when PTB asks for more,
        which it does once it has queued what it fetched before."""
        if never_queued := self._in_hand - self.queued:
            # PTB could not read them (it logs that), or it stopped before it queued them:
            # nothing will handle them, and waiting for them would stop the bot from ever
            # asking Telegram again. (Stopped, PTB's offset does not confirm them.)
            log.warning("updates %s were fetched but never queued", sorted(never_queued))
            self._in_hand -= never_queued
            self.unconfirmed -= never_queued
            if not self._in_hand:
                self._all_handled.set()
        try:
            async with asyncio.timeout(MAX_CONFIRM_WAIT):
                await self._all_handled.wait()
        except TimeoutError:
            log.warning("updates still being handled after %.0f s", MAX_CONFIRM_WAIT)
        return not self.unconfirmed


class ConfirmingRequest(ForwardingRequest):
    """The transport `getUpdates` goes through. Its `offset` confirms every update below it, so a
    call waits until the updates fetched before have been handled. If one has not been (it is
    taking long, or its handling failed and the bot is stopping), Telegram is not asked."""

    def __init__(self, inner: BaseRequest, queue: UpdateQueue) -> None:
        super().__init__(inner)
        self.queue = queue

    async def forward(
        self, url: str, method: str, request_data: RequestData | None, **timeouts: Any
    ) -> tuple[int, bytes]:
        polling = url.endswith("/getUpdates")
        if polling and not await self.queue.all_handled():
            if not self.queue.in_hand:
                await asyncio.sleep(PAUSE)
            return NOTHING_NEW
        code, body = await super().forward(url, method, request_data, **timeouts)
        if polling and code == HTTPStatus.OK:
            updates = json.loads(body).get("result") or []
            self.queue.fetched([int(update["update_id"]) for update in updates])
        return code, body
