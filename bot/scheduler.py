"""The scheduler: runs the stored schedule's jobs when they come due.

Jobs are rows (bot/store/schedule.py); a job kind is a coroutine registered by name. Each job
runs in one transaction with its own completion, so what it enqueues in the outbox and its being
done commit together: a crash mid-job runs it again, whole, on the next start. Time comes from
the injected clock and sleep; tests move the clock and call `run_due()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.store import Store
from bot.store.schedule import Job

if TYPE_CHECKING:
    from bot.app import BotApplication

log = logging.getLogger(__name__)

JobRunner = Callable[["BotApplication", Job], Awaitable[None]]
MAX_ATTEMPTS = 5
# The longest the scheduler waits without looking at the stored schedule: jobs planned by
# another process (`liepaja-bot meetings import`) wake nothing here.
MAX_WAIT = 60.0


class Scheduler:
    def __init__(self, app: BotApplication, store: Store, clock: Clock) -> None:
        self.app = app
        self.store = store
        self.clock = clock
        self.kinds: dict[str, JobRunner] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.max_wait = MAX_WAIT

    def register(self, kind: str, runner: JobRunner) -> None:
        if kind in self.kinds:
            raise ValueError(f"job kind {kind!r} registered twice")
        self.kinds[kind] = runner

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.run_due()
                next_due = await self.store.schedule.next_due_at()
                wait = self.max_wait
                if next_due is not None:
                    wait = min((next_due - self.clock()).total_seconds(), wait)
            except Exception:
                log.exception("the scheduler failed; trying again shortly")
                wait = 5.0
            if self._stopping:
                break
            await self._wait_for_work(wait)

    async def _wait_for_work(self, seconds: float) -> None:
        """Until a commit of this process wakes the scheduler, or `seconds` have passed."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=max(seconds, 0.0))
        except TimeoutError:
            # Not woken by a commit of this process: what another one planned meanwhile is
            # unknown to the schedule's cached next due time.
            self.store.schedule.look_again()

    async def run_due(self) -> int:
        """Runs every job due by now, oldest first; returns how many ran."""
        ran = 0
        while jobs := await self.store.schedule.due(self.clock()):
            for job in jobs:
                await self._run_one(job)
                ran += 1
        if ran:
            self.app.after_commit()
        return ran

    async def _run_one(self, job: Job) -> None:
        runner = self.kinds.get(job.kind)
        try:
            async with self.store.unit_of_work():
                if runner is None:
                    raise LookupError(f"no runner for job kind {job.kind!r}")
                await runner(self.app, job)
                await self.store.schedule.finish(job)
        except Exception as error:
            log.exception("job %s failed", job.key)
            retry = job.attempts + 1 < MAX_ATTEMPTS and runner is not None
            retry_at = self.clock() + timedelta(minutes=2**job.attempts) if retry else None
            async with self.store.unit_of_work():
                await self.store.schedule.fail(job, repr(error), retry_at=retry_at)
