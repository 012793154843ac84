"""Reminders of working-group meetings, which a resident asks for with ⏰ by a meeting (in the
list, under a meeting's broadcast, under the weekly digest; handlers/meetings.py answers the
press): when it will come, the stored-schedule job that sends it, and how it follows the meeting.

When: 24 hours before the start; asked for less than 24 hours ahead, 1 hour before; less than
2 hours ahead, none — the meeting starts soon, and the answer to the press gives its time. That
lead is kept with the reminder, so a meeting moved keeps being reminded of as long before.

The job reads the meeting when it runs, so it never reminds of an old time: a meeting moved
later is planned again for its new time, one moved so close that its time has passed is reminded
of at once, one already begun is not. A changed or cancelled meeting plans its reminders again at
once (`follow`: the staff desk and imports in the bot call it). A cancelled meeting gets no
reminder: a resident whom the office's broadcast of the cancellation did not reach (not a
subscriber, or staff sent none) is told instead, once — a subscriber at the reminder's time, when
a broadcast would have come by then. Residents who blocked the bot get nothing.

The reminder is one outbox row keyed by the meeting, the resident and the time it reminds of, so
a replay or a second job sends nothing twice, while a meeting moved to another time is reminded
of again. A job's key carries its due time: a job planned again is a new row, and the pending one
of a resident and a meeting is found by the key's prefix.

These take the application rather than a handler's context: the scheduler runs them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import BotApplication
from bot.clock import to_text
from bot.i18n import Translator, negotiate, translator
from bot.store import Store
from bot.store.meetings import ALL_THEMES, REMINDER_JOBS, Meeting, MeetingReminder
from bot.store.schedule import Job
from handlers.booking_notices import when
from handlers.meeting_notices import meeting_buttons, meeting_text, theme_name

KIND = REMINDER_JOBS
DAY_BEFORE = timedelta(hours=24)
HOUR_BEFORE = timedelta(hours=1)
SOON = timedelta(hours=2)  # closer than this, the meeting starts soon: no reminder


def lead_for(starts_at: datetime, now: datetime) -> timedelta | None:
    """How long before the start a reminder asked for `now` comes; None if the meeting starts
    too soon for one."""
    ahead = starts_at - now
    if ahead > DAY_BEFORE:
        return DAY_BEFORE
    if ahead > SOON:
        return HOUR_BEFORE
    return None


def job_prefix(meeting_id: int, resident_id: int) -> str:
    return f"meeting-reminder:{meeting_id}:{resident_id}@"


def message_key(meeting: Meeting, reminder: MeetingReminder) -> str:
    """The reminder's outbox key: one per meeting, resident and the time it reminds of."""
    minutes = int(reminder.lead.total_seconds() // 60)
    start = meeting.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    return f"meeting-reminder:{meeting.id}:{reminder.resident_id}:{start}:{minutes}m"


def cancelled_key(meeting_id: int, resident_id: int) -> str:
    return f"meeting-reminder:{meeting_id}:{resident_id}:cancelled"


async def plan(store: Store, meeting_id: int, resident_id: int, due: datetime) -> None:
    """The one pending job of this reminder, due at `due` (any other planned is called off)."""
    prefix = job_prefix(meeting_id, resident_id)
    await store.schedule.cancel_under(prefix)
    await store.schedule.replan(
        prefix + to_text(due),
        KIND,
        due,
        {"meeting_id": meeting_id, "resident_id": resident_id},
    )


async def turn_on(
    app: BotApplication, meeting: Meeting, resident_id: int, lead: timedelta
) -> datetime:
    """Records the reminder and plans it; returns when it comes."""
    await app.store.meetings.add_reminder(meeting.id, resident_id, lead)
    due = meeting.starts_at - lead
    await plan(app.store, meeting.id, resident_id, due)
    return due


async def turn_off(app: BotApplication, meeting_id: int, resident_id: int) -> None:
    await app.store.meetings.remove_reminder(meeting_id, resident_id)
    await app.store.schedule.cancel_under(job_prefix(meeting_id, resident_id))


async def follow(store: Store, meeting: Meeting, now: datetime) -> int:
    """A meeting changed or was cancelled: its reminders are planned again — for its new time,
    or now (a cancellation, or a time already too close), for the job to decide. Takes the store
    rather than the application: `liepaja-bot meetings import` calls it too, from its own
    process (the running bot's scheduler looks at the stored schedule at least once a minute).
    Returns how many reminders were planned again."""
    reminders = await store.meetings.reminders_of_meeting(meeting.id)
    for reminder in reminders:
        due = now if meeting.is_cancelled else max(now, meeting.starts_at - reminder.lead)
        await plan(store, meeting.id, reminder.resident_id, due)
    return len(reminders)


async def follow_import(store: Store, changed_ids: Iterable[int], now: datetime) -> int:
    """`follow` for each meeting an imported schedule changed (in the bot, and from
    `liepaja-bot meetings import`); returns how many reminders were planned again."""
    replanned = 0
    for meeting_id in changed_ids:
        if (meeting := await store.meetings.meeting(meeting_id)) is not None:
            replanned += await follow(store, meeting, now)
    return replanned


# -- what it says --------------------------------------------------------------------------------


def reminder_text(app: BotApplication, tr: Translator, meeting: Meeting) -> str:
    return "\n\n".join(
        [
            meeting_text(app, tr, meeting, "reminder"),
            tr.gettext("You asked for this reminder with ⏰."),
        ]
    )


def cancelled_text(app: BotApplication, tr: Translator, meeting: Meeting) -> str:
    return tr.gettext(
        "❌ The working-group meeting you asked to be reminded of is cancelled: {theme}, {when}."
    ).format(
        theme=theme_name(app, tr.language, meeting.theme),
        when=when(tr, meeting.starts_at, meeting.ends_at),
    )


# -- the job -------------------------------------------------------------------------------------


async def run_reminder(app: BotApplication, job: Job) -> None:
    """Reminds the resident of the meeting as it is now; see the module's docstring for a
    meeting moved or cancelled."""
    store = app.store
    meeting_id, resident_id = int(job.payload["meeting_id"]), int(job.payload["resident_id"])
    reminder = await store.meetings.reminder(meeting_id, resident_id)
    meeting = await store.meetings.meeting(meeting_id)
    if reminder is None or meeting is None:
        return  # turned off, or forgotten
    resident = await store.residents.resident(resident_id)
    if resident is None or not await store.residents.is_reachable(resident_id):
        return
    tr = translator(
        resident.language or negotiate(resident.telegram_language), app.settings.timezone
    )
    now = app.clock()
    due = meeting.starts_at - reminder.lead
    if meeting.is_cancelled:
        await on_cancelled(app, tr, meeting, reminder, due)
        return
    if due > now:
        await plan(store, meeting_id, resident_id, due)  # moved later since it was planned
        return
    if meeting.starts_at <= now:
        return  # the bot was down until after the start: too late to remind
    payload: dict[str, Any] = {"text": reminder_text(app, tr, meeting)}
    if (buttons := meeting_buttons(tr, meeting, remind=False)) is not None:
        payload["reply_markup"] = buttons.to_dict()
    await store.outbox.enqueue(
        message_key(meeting, reminder),
        resident_id,
        "send_message",
        payload,
        purpose={"kind": "meeting_reminder", "meeting_id": meeting_id},
    )


async def on_cancelled(
    app: BotApplication, tr: Translator, meeting: Meeting, reminder: MeetingReminder, due: datetime
) -> None:
    """No reminder. The office's broadcast of the cancellation tells its subscribers, if staff
    send it; whomever it did not reach is told here, once, and the reminder is done with."""
    store = app.store
    resident_id = reminder.resident_id
    if not await store.meetings.told_of_cancellation(meeting.id, resident_id):
        themes = await store.meetings.subscriptions_of(resident_id)
        if (meeting.theme in themes or ALL_THEMES in themes) and due > app.clock():
            await plan(store, meeting.id, resident_id, due)  # a broadcast may yet come: look then
            return
        await store.outbox.enqueue(
            cancelled_key(meeting.id, resident_id),
            resident_id,
            "send_message",
            {"text": cancelled_text(app, tr, meeting)},
            purpose={"kind": "meeting_reminder", "meeting_id": meeting.id},
        )
    await store.meetings.remove_reminder(meeting.id, resident_id)


def register_jobs(app: BotApplication) -> None:
    app.scheduler.register(KIND, run_reminder)
