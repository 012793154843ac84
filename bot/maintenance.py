"""The daily maintenance job, from the stored schedule: abandoned conversations end, the
bookkeeping that is only needed for a while (handled update ids, settled outbox rows, the
reminders of meetings that are over and their jobs) goes, and personal data past the privacy
notice's retention period (message logs, contact details, finished bookings) and drafts
abandoned for a month are removed."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.store.privacy import months_before
from bot.store.schedule import Job

if TYPE_CHECKING:
    from bot.app import BotApplication

log = logging.getLogger(__name__)

KIND = "maintenance"
RUN_AT = time(3, 30)  # local time, when nobody is chatting
# Telegram re-sends an unconfirmed update for about a day; a week is plenty.
KEEP_HANDLED_IDS = timedelta(days=7)
KEEP_SETTLED_OUTBOX = timedelta(days=30)
# A proposal draft nobody touched for this long is abandoned.
KEEP_ABANDONED_DRAFTS = timedelta(days=30)


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
    dropped = await store.conversations.forget_idle_conversations(idle_since)
    ids = await store.journal.forget_handled_before(now - KEEP_HANDLED_IDS)
    rows = await store.outbox.forget_settled_before(now - KEEP_SETTLED_OUTBOX)
    log.info("maintenance: %s idle states, %s update ids, %s outbox rows", dropped, ids, rows)
    # A reminder is wanted until its meeting is over. Finished jobs (a reminder's name its
    # resident; a broadcast leaves one progress tick every few seconds) are kept as long as the
    # outbox rows they wrote: no job is planned again under a key that old.
    reminders = await store.meetings.forget_reminders_ended_before(now)
    jobs = await store.schedule.forget_finished(before=now - KEEP_SETTLED_OUTBOX)
    log.info("maintenance: %s reminders of past meetings, %s finished jobs", reminders, jobs)
    # The privacy notice's promise: kept for `retention_months` after the last message.
    retention = months_before(now, app.settings.municipality.retention_months)
    retained = await store.privacy.apply_retention(
        silent_since=retention,
        drafts_since=now - KEEP_ABANDONED_DRAFTS,
        bookings_ended_before=retention,
    )
    log.info(
        "retention: %s logged messages, %s contact details, %s bookings, %s drafts removed",
        retained.message_log,
        retained.contact_details,
        retained.bookings,
        retained.drafts,
    )
    due = next_run(app, now + timedelta(minutes=1))
    await store.schedule.plan(f"{KIND}:{due.date().isoformat()}", KIND, due)
