"""The daily maintenance job, from the stored schedule: abandoned conversations end, and the
bookkeeping that is only needed for a while (handled update ids, settled outbox rows) goes."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.store_schedule import Job

if TYPE_CHECKING:
    from bot.app import BotApplication

log = logging.getLogger(__name__)

KIND = "maintenance"
RUN_AT = time(3, 30)  # local time, when nobody is chatting
# Telegram re-sends an unconfirmed update for about a day; a week is plenty.
KEEP_HANDLED_IDS = timedelta(days=7)
KEEP_SETTLED_OUTBOX = timedelta(days=30)


def register_core_jobs(app: BotApplication) -> None:
    app.scheduler.register(KIND, run_maintenance)


def next_run(app: BotApplication, after: datetime) -> datetime:
    local = after.astimezone(app.settings.timezone)
    run = datetime.combine(local.date(), RUN_AT, tzinfo=app.settings.timezone)
    return run if run > local else run + timedelta(days=1)


async def plan_maintenance(app: BotApplication) -> None:
    """Makes sure the next run is in the schedule (at start-up; each run plans the next)."""
    if not await app.store.schedule.pending(KIND):
        due = next_run(app, app.clock())
        await app.store.schedule.plan(f"{KIND}:{due.date().isoformat()}", KIND, due)


async def run_maintenance(app: BotApplication, job: Job) -> None:
    now = app.clock()
    store = app.store
    idle_since = now - timedelta(days=app.settings.conversation_idle_days)
    dropped = await store.forget_idle_conversations(idle_since)
    ids = await store.journal.forget_handled_before(now - KEEP_HANDLED_IDS)
    rows = await store.outbox.forget_settled_before(now - KEEP_SETTLED_OUTBOX)
    log.info("maintenance: %s idle states, %s update ids, %s outbox rows", dropped, ids, rows)
    due = next_run(app, now + timedelta(minutes=1))
    await store.schedule.plan(f"{KIND}:{due.date().isoformat()}", KIND, due)
