"""The weekly digest of working-group meetings: once a week — the day and time are the office's
settings (DIGEST_WEEKDAY, DIGEST_TIME, local time) — each resident who turned it on gets the
meetings of the coming 7 days among their subscribed themes, in one message in their language.
Residents with no such meeting that week get nothing.

A job of the stored schedule, planned for the next slot at start-up and by each run for the one
after it. Its run writes, in its one transaction, an outbox row per reader (more where a long
digest is split), in the bulk lane — after every answer and notice — keyed by the week and the
resident: a run again in the same week, or a replay, adds nobody twice. A run that came due
while the bot was down happens once when it starts, however many slots it missed.

These take the application rather than a handler's context: the scheduler runs them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date, format_skeleton, format_time
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import BotApplication
from bot.config import Settings
from bot.i18n import N_, Translator, translator
from bot.store.meetings import BULK_LANE, Meeting, digest_key
from bot.store.schedule import Job
from bot.text import escape, shorten, split_html
from handlers.meeting_notices import (
    RESIDENT_BUTTONS,
    meeting_place,
    numbered_buttons,
    theme_name,
)

log = logging.getLogger(__name__)

KIND = "meeting_digest"
WINDOW = timedelta(days=7)
DESCRIPTION_LENGTH = 240  # the rest is under 👥 Working-group meetings
# Meetings with their own 📅, 🗺 and ⏰ buttons: three each (73 buttons with the last one), within
# Telegram's 100 a message; two meetings a row, six buttons, within its 8 a row.
MEETINGS_WITH_BUTTONS = 24
# What the numbered buttons under a list of meetings do (here and in handlers/meetings.py).
MEETING_BUTTONS_HELP = N_(
    "📅 adds a meeting to your calendar, 🗺 shows the place on a map, ⏰ reminds you of it "
    "(press again to turn the reminder off)."
)

# When the digest comes, by DIGEST_WEEKDAY (0 = Monday).
WHEN = (
    N_("Mondays, {time}"),
    N_("Tuesdays, {time}"),
    N_("Wednesdays, {time}"),
    N_("Thursdays, {time}"),
    N_("Fridays, {time}"),
    N_("Saturdays, {time}"),
    N_("Sundays, {time}"),
)


# -- when it comes -------------------------------------------------------------------------------


def when_it_comes(tr: Translator, settings: Settings) -> str:
    """'Mondays, 9:00 AM' in the reader's language."""
    time = format_time(settings.digest_time, "short", locale=tr.locale)
    return tr.gettext(WHEN[settings.digest_weekday]).format(time=time)


def next_slot(settings: Settings, after: datetime) -> datetime:
    """The first digest time strictly after `after`: the weekday at the time, in local time."""
    zone = settings.timezone
    local = after.astimezone(zone)
    day = local.date() + timedelta(days=(settings.digest_weekday - local.weekday()) % 7)
    slot = datetime.combine(day, settings.digest_time, tzinfo=zone)
    if slot <= local:
        slot = datetime.combine(day + timedelta(days=7), settings.digest_time, tzinfo=zone)
    return slot


def week_of(slot: datetime) -> str:
    """The ISO week a (local) slot is in ('2027-W03'): a resident gets one digest a week."""
    year, week, _ = slot.isocalendar()
    return f"{year}-W{week:02d}"


def job_key(settings: Settings, slot: datetime) -> str:
    return f"{KIND}:{slot.astimezone(settings.timezone):%Y-%m-%dT%H:%M}"


async def plan_next(app: BotApplication, after: datetime) -> None:
    """Plans the first run after `after`. `replan`: its key may name a run planned before and
    called off (the office changed the time, then changed it back)."""
    slot = next_slot(app.settings, after)
    await app.store.schedule.replan(
        job_key(app.settings, slot), KIND, slot, {"week": week_of(slot)}
    )


async def plan_digest(app: BotApplication) -> None:
    """At start-up: the next digest is in the schedule, at the time the settings say now. One
    that came due while the bot was down is left to run (once, now; it plans the next); one
    planned for a time the office has since changed gives way to the new time."""
    now = app.clock()
    pending = await app.store.schedule.pending(KIND)
    if any(job.due_at <= now for job in pending):
        return
    key = job_key(app.settings, next_slot(app.settings, now))
    for job in pending:
        if job.key != key:
            await app.store.schedule.cancel(job.key)
    if not any(job.key == key for job in pending):
        await plan_next(app, now)


# -- what it says --------------------------------------------------------------------------------


def digest_button(tr: Translator, settings: Settings, on: bool) -> InlineKeyboardButton:
    """The toggle: its label says the state (and when the digest comes), pressing it the other
    state. The button carries the state it asks for, so an old one pressed twice does no harm."""
    if on:
        label = tr.gettext("🗓 Weekly digest: on ({when})").format(when=when_it_comes(tr, settings))
        return InlineKeyboardButton(label, callback_data=RESIDENT_BUTTONS.data("dg", "off"))
    return InlineKeyboardButton(
        tr.gettext("🗓 Weekly digest: off"), callback_data=RESIDENT_BUTTONS.data("dg", "on")
    )


def _day(tr: Translator, moment: datetime) -> str:
    """'Pirmdiena, 18. janvāris': a heading for a day's meetings."""
    day = moment.astimezone(tr.timezone).date()
    weekday = format_date(day, "EEEE", locale=tr.locale)
    text = f"{weekday}, {format_skeleton('MMMMd', day, locale=tr.locale)}"
    return text[:1].upper() + text[1:]


def digest_text(app: BotApplication, tr: Translator, meetings: list[Meeting]) -> str:
    """The digest as Telegram HTML: the meetings by day, each with its time, theme, place and
    the start of its description; numbered as the buttons under it are."""
    _ = tr.gettext
    heading = _("🗓 Working-group meetings of your themes in the coming 7 days")
    lines = [f"<b>{escape(heading)}</b>"]
    day = None
    for number, meeting in enumerate(meetings, start=1):
        heading = _day(tr, meeting.starts_at)
        if heading != day:
            lines += ["", f"<b>{escape(heading)}</b>"]
            day = heading
        else:
            lines.append("")
        start = format_time(meeting.starts_at, "short", tzinfo=tr.timezone, locale=tr.locale)
        end = format_time(meeting.ends_at, "short", tzinfo=tr.timezone, locale=tr.locale)
        theme = theme_name(app, tr.language, meeting.theme)
        lines += [
            f"{number}. {start}–{end} · {escape(theme)}",
            f"📍 {escape(meeting_place(app, meeting, tr.language))}",
            escape(shorten(meeting.description(tr.language), DESCRIPTION_LENGTH)),
        ]
    lines += [
        "",
        escape(_(MEETING_BUTTONS_HELP)),
        "<i>"
        + escape(
            _(
                "You get this digest ({when}) because you turned it on; it lists the meetings "
                "of the themes you subscribed to. The button below turns it off."
            ).format(when=when_it_comes(tr, app.settings))
        )
        + "</i>",
    ]
    return "\n".join(lines)


def digest_keyboard(tr: Translator, meetings: list[Meeting]) -> InlineKeyboardMarkup:
    """📅, 🗺 and ⏰ for each meeting (two meetings a row), and the button that turns it off."""
    buttons = [
        button
        for number, meeting in enumerate(meetings[:MEETINGS_WITH_BUTTONS], start=1)
        for button in numbered_buttons(number, meeting)
    ]
    rows = [buttons[i : i + 6] for i in range(0, len(buttons), 6)]
    rows.append(
        [
            InlineKeyboardButton(
                tr.gettext("🔕 Turn off the weekly digest"),
                callback_data=RESIDENT_BUTTONS.data("dg", "off"),
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


def digest_messages(
    app: BotApplication, tr: Translator, meetings: list[Meeting]
) -> list[dict[str, Any]]:
    """The digest as outbox payloads: one message, or parts of one if it is too long for
    Telegram; the buttons under the last."""
    parts = split_html(digest_text(app, tr, meetings))
    payloads: list[dict[str, Any]] = [{"text": part, "parse_mode": "HTML"} for part in parts]
    payloads[-1]["reply_markup"] = digest_keyboard(tr, meetings).to_dict()
    return payloads


# -- the job -------------------------------------------------------------------------------------


async def run_digest(app: BotApplication, job: Job) -> None:
    """Queues this week's digest for every reader with a meeting in the coming 7 days, then
    plans the next run (after now: slots missed while the bot was down are not made up)."""
    now = app.clock()
    week = str(job.payload["week"])
    store = app.store
    readers = await store.meetings.digest_readers(week)
    meetings = await store.meetings.starting_between(now, now + WINDOW) if readers else []
    rows: list[tuple[str, int, str, dict[str, Any]]] = []
    composed: dict[tuple[str, tuple[int, ...]], list[dict[str, Any]]] = {}
    for reader in readers:
        theirs = [meeting for meeting in meetings if reader.follows(meeting.theme)]
        if not theirs:
            continue  # nothing that week: no message
        same = (reader.language, tuple(meeting.id for meeting in theirs))
        if same not in composed:
            tr = translator(reader.language, app.settings.timezone)
            composed[same] = digest_messages(app, tr, theirs)
        first = digest_key(week, reader.resident_id)
        for number, payload in enumerate(composed[same], start=1):
            key = first if number == 1 else f"{first}:{number}"
            rows.append((key, reader.resident_id, "send_message", payload))
    added = await store.outbox.enqueue_many(
        rows, lane=BULK_LANE, purpose={"kind": "digest", "week": week}
    )
    log.info("meeting digest %s: %s message(s) for %s reader(s)", week, added, len(readers))
    await plan_next(app, max(now, job.due_at))


def register_jobs(app: BotApplication) -> None:
    app.scheduler.register(KIND, run_digest)
