"""What is said about a working-group meeting — its text in a reader's language, its calendar
file — and the broadcast engine: a confirmed broadcast's ledger is written by the store (one
outbox row per subscriber, lane 1), the outbox sender delivers it under its budget, and a
scheduled job edits one progress message in the staff chat every few seconds (sent, failed,
left, the time remaining; or that it is paused), then reports what became of every copy. Pause,
Resume and Stop sit on that message (handlers/broadcast_desk.py); every edit of it is that job's,
so the message's edits reach Telegram in the order they were made.

These take the application rather than a handler's context: the scheduler's jobs use them too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from icalendar import Calendar, Event
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.app import BotApplication, BotContext
from bot.callbacks import Buttons
from bot.config import LANGUAGES
from bot.i18n import N_, STAFF_LANGUAGE, Translator, translator
from bot.store.broadcasts import Announcement, Broadcast, BroadcastReport, Progress
from bot.store.meetings import ANNOUNCEMENT, Meeting
from bot.store.schedule import Job
from bot.text import MESSAGE_LIMIT, shorten
from handlers.booking_notices import when

RESIDENT_BUTTONS = Buttons("mt:", audience="resident")
STAFF_BUTTONS = Buttons("md:", audience="staff")
PROGRESS = "broadcast_progress"
PROGRESS_EVERY = timedelta(seconds=6)  # one edit in 6 s: 10 a minute, half a group's budget
# While a pause holds everything, nothing changes: a look a minute (and no edit unless something
# did) keeps the job alive for Resume to bring forward.
PAUSED_EVERY = timedelta(seconds=60)
OBSERVED_AFTER = timedelta(seconds=5)  # a pace measured over less than this says little

HEADINGS = {
    "published": N_("👥 Working-group meeting: {theme}"),
    "changed": N_("✏️ Changed — working-group meeting: {theme}"),
    "cancelled": N_("❌ Cancelled — working-group meeting: {theme}"),
    "reminder": N_("⏰ Reminder — working-group meeting: {theme}"),  # handlers/meeting_reminders.py
}


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def say(update: Update, context: BotContext, text: str, markup: Any = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    if update.callback_query:
        await update.callback_query.answer()
    await context.bot.send_message(chat.id, text, reply_markup=markup)


def theme_name(app: BotApplication, language: str, slug: str) -> str:
    theme = app.settings.municipality.theme(slug)
    return theme.name(language) if theme else slug


def meeting_place(app: BotApplication, meeting: Meeting, language: str) -> str:
    if meeting.place:
        return meeting.place
    venue = app.settings.municipality.meeting_venue
    return f"{venue.name(language)}, {venue.address}"


def meeting_text(app: BotApplication, tr: Translator, meeting: Meeting, kind: str) -> str:
    """The meeting as a message that says it all by itself: theme, date, time, place, what."""
    _ = tr.gettext
    heading = _(HEADINGS[kind]).format(theme=theme_name(app, tr.language, meeting.theme))
    return "\n".join(
        [
            heading,
            "",
            _("When: {when}").format(when=when(tr, meeting.starts_at, meeting.ends_at)),
            _("Where: {place}").format(place=meeting_place(app, meeting, tr.language)),
            "",
            meeting.description(tr.language),
        ]
    )


def meeting_buttons(
    tr: Translator, meeting: Meeting, *, remind: bool = True
) -> InlineKeyboardMarkup | None:
    """Add to calendar and Show on map, for a meeting that will take place; and Remind me
    (`remind`: not under the reminder itself)."""
    if meeting.is_cancelled:
        return None
    rows = [
        [
            InlineKeyboardButton(
                tr.gettext("📅 Add to calendar"),
                callback_data=RESIDENT_BUTTONS.data("ics", meeting.id),
            ),
            InlineKeyboardButton(
                tr.gettext("🗺 Show on map"),
                callback_data=RESIDENT_BUTTONS.data("map", meeting.id),
            ),
        ]
    ]
    if remind:
        rows.append(
            [
                InlineKeyboardButton(
                    tr.gettext("⏰ Remind me"),
                    callback_data=RESIDENT_BUTTONS.data("rm", meeting.id),
                )
            ]
        )
    return InlineKeyboardMarkup(rows)


def numbered_buttons(number: int, meeting: Meeting) -> list[InlineKeyboardButton]:
    """📅, 🗺 and ⏰ of the meeting numbered `number` in a list (the list and the digest), where
    there is no room for words on each."""
    return [
        InlineKeyboardButton(
            f"{icon} {number}", callback_data=RESIDENT_BUTTONS.data(action, meeting.id)
        )
        for icon, action in (("📅", "ics"), ("🗺", "map"), ("⏰", "rm"))
    ]


def calendar_file(app: BotApplication, meeting: Meeting, tr: Translator) -> bytes:
    """The meeting as an iCalendar event: a stable UID, the times in the municipality's zone."""
    zone = app.settings.timezone
    calendar = Calendar()
    calendar.add("prodid", "-//liepaja-bot//meetings//EN")
    calendar.add("version", "2.0")
    event = Event()
    host = urlparse(app.settings.municipality.website).hostname or "liepaja-bot"
    event.add("uid", f"meeting-{meeting.id}@{host}")
    event.add("sequence", meeting.version - 1)
    event.add("dtstamp", meeting.created_at)
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", meeting.ends_at.astimezone(zone))
    event.add(
        "summary",
        tr.gettext(HEADINGS["published"]).format(theme=theme_name(app, tr.language, meeting.theme)),
    )
    event.add("location", meeting_place(app, meeting, tr.language))
    event.add("description", meeting.description(tr.language))
    if meeting.is_cancelled:
        event.add("status", "CANCELLED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def broadcast_payloads(app: BotApplication, meeting: Meeting, kind: str) -> dict[str, Any]:
    """The broadcast's message in each language, as outbox payloads."""
    payloads: dict[str, Any] = {}
    for language in LANGUAGES:
        tr = translator(language, app.settings.timezone)
        payload: dict[str, Any] = {"text": meeting_text(app, tr, meeting, kind)}
        if kind != "cancelled" and (buttons := meeting_buttons(tr, meeting)) is not None:
            payload["reply_markup"] = buttons.to_dict()
        payloads[language] = payload
    return payloads


# -- announcements: the office's own text (handlers/announce_desk.py), through the same engine ----

# Above the text, so residents see at once who writes; below it, why they get it and how to stop.
ANNOUNCEMENT_HEADING = N_("📢 Liepāja Development Office:")
ANNOUNCEMENT_FOOTER = N_(
    "You get this as a subscriber of the working groups' meetings. /stop ends every subscription."
)


def announcement_text(tr: Translator, text: str) -> str:
    """An announcement as residents reading `tr`'s language see it (sent as plain text)."""
    _ = tr.gettext
    return f"{_(ANNOUNCEMENT_HEADING)}\n\n{text}\n\n{_(ANNOUNCEMENT_FOOTER)}"


def telegram_length(text: str) -> int:
    """A text's length as Telegram counts it against its limits: in UTF-16 code units (an emoji
    outside the basic plane counts two), which is never less than Python's count."""
    return len(text.encode("utf-16-le")) // 2


def announcement_room(app: BotApplication) -> int:
    """How long an announcement's text may be so that, with the heading and the footer of any
    language around it, it fits in one message (the Latvian text is read in every language)."""
    zone = app.settings.timezone
    return MESSAGE_LIMIT - max(
        telegram_length(announcement_text(translator(language, zone), "")) for language in LANGUAGES
    )


def announcement_payloads(app: BotApplication, announcement: Announcement) -> dict[str, Any]:
    """The announcement in each language, as outbox payloads: plain text, no parse mode, so
    whatever the office wrote (<, &, *) reaches residents as written."""
    payloads: dict[str, Any] = {}
    for language in LANGUAGES:
        tr = translator(language, app.settings.timezone)
        payloads[language] = {"text": announcement_text(tr, announcement.text(language))}
    return payloads


async def draft_payloads(app: BotApplication, draft: Broadcast) -> dict[str, Any] | None:
    """What a draft broadcast says, by language: its announcement, or its meeting as it is now;
    None if that is gone."""
    if draft.kind == ANNOUNCEMENT:
        announcement = await app.store.broadcasts.announcement(draft.id)
        return announcement_payloads(app, announcement) if announcement else None
    meeting = await app.store.meetings.meeting(draft.meeting_id) if draft.meeting_id else None
    return broadcast_payloads(app, meeting, draft.kind) if meeting else None


# -- the broadcast and its progress ---------------------------------------------------------------


def progress_key(broadcast: Broadcast) -> str:
    return f"broadcast:{broadcast.id}:progress"


async def start_broadcast(
    app: BotApplication, broadcast_id: int, *, by: int, chat_id: int
) -> Broadcast | None:
    """Writes the broadcast's ledger (in the caller's transaction) and the progress message in
    `chat_id`; None if the draft is stale (sent already, or its meeting changed since)."""
    draft = await app.store.broadcasts.broadcast(broadcast_id)
    payloads = await draft_payloads(app, draft) if draft else None
    if draft is None or payloads is None:
        return None
    broadcast = await app.store.broadcasts.confirm_broadcast(broadcast_id, by=by, payloads=payloads)
    if broadcast is None:
        return None
    tr = translator(STAFF_LANGUAGE, app.settings.timezone)
    progress = Progress(sent=0, failed=0, left=broadcast.recipients)
    text = progress_message(tr, broadcast, progress, await time_left(app, broadcast, progress))
    await app.store.outbox.enqueue(
        progress_key(broadcast),
        chat_id,
        "send_message",
        {"text": text, "reply_markup": progress_buttons(tr, broadcast).to_dict()},
    )
    await app.store.schedule.plan(
        f"broadcast:{broadcast.id}:tick:1",
        PROGRESS,
        app.clock() + PROGRESS_EVERY,
        {
            "broadcast_id": broadcast.id,
            "chat_id": chat_id,
            "tick": 1,
            "shown": [text, broadcast.status, broadcast.paused],
        },
    )
    return broadcast


def progress_buttons(tr: Translator, broadcast: Broadcast) -> InlineKeyboardMarkup:
    """Pause (Resume while paused) and Stop, under the progress message."""
    paused = broadcast.paused
    action, label = ("resume", N_("▶️ Resume")) if paused else ("pause", N_("⏸ Pause"))
    pause_or_resume = InlineKeyboardButton(
        tr.gettext(label), callback_data=STAFF_BUTTONS.data(action, broadcast.id)
    )
    stop = InlineKeyboardButton(
        tr.gettext("⏹ Stop the broadcast"), callback_data=STAFF_BUTTONS.data("stop", broadcast.id)
    )
    return InlineKeyboardMarkup([[pause_or_resume, stop]])


def progress_message(
    tr: Translator,
    broadcast: Broadcast,
    progress: Progress,
    left_for: timedelta | None,
) -> str:
    """The counts, then that it is paused, or about how long the rest will take."""
    lines = [
        tr.gettext(
            "📣 Broadcast #{id} to {n} subscribers: sent {sent} · failed {failed} · left {left}"
        ).format(
            id=broadcast.id,
            n=broadcast.recipients,
            sent=progress.sent,
            failed=progress.failed,
            left=progress.left,
        )
    ]
    if progress.left and broadcast.paused:
        lines.append(tr.gettext("⏸ Paused: nothing more goes out until Resume is pressed."))
    elif progress.left and left_for is not None:
        lines.append(tr.gettext("⏳ About {duration} left").format(duration=tr.duration(left_for)))
    return "\n".join(lines)


async def time_left(app: BotApplication, broadcast: Broadcast, progress: Progress) -> timedelta:
    """How long the copies left will take at the pace observed since the broadcast started (or
    was resumed) — answers to residents slow it down — or at OUTBOX_RATE until there is a pace
    to observe; never faster than OUTBOX_RATE."""
    rate = float(app.settings.outbox_rate)
    since = await app.store.broadcasts.running_since(broadcast.id)
    now = app.clock()
    if since is not None and now - since >= OBSERVED_AFTER:
        settled = await app.store.broadcasts.settled_since(broadcast.id, since)
        if settled:
            rate = min(rate, settled / (now - since).total_seconds())
    return timedelta(seconds=max(1.0, progress.left / rate))


def report_text(tr: Translator, broadcast: Broadcast, report: BroadcastReport) -> str:
    """The final report: delivered, then — where there are any — blocked, uncertain, failed with
    their commonest reasons, and not sent because it was stopped."""
    _ = tr.gettext
    heading = (
        _("⏹ Broadcast #{id} stopped: {sent} of {n} delivered.")
        if broadcast.status == "cancelled"
        else _("✅ Broadcast #{id} finished: {sent} of {n} delivered.")
    )
    lines = [heading.format(id=broadcast.id, sent=report.sent, n=broadcast.recipients)]
    if report.unreachable:
        lines.append(_("🚫 Blocked the bot: {n}").format(n=report.unreachable))
    if report.uncertain:
        lines.append(
            _("❓ Uncertain (timed out: may have arrived, not sent again): {n}").format(
                n=report.uncertain
            )
        )
    if report.failed:
        lines.append(_("⚠️ Failed: {n}").format(n=report.failed))
        lines += [f"  • {shorten(reason, 120)} × {count}" for reason, count in report.reasons]
        if others := report.failed - sum(count for _reason, count in report.reasons):
            lines.append("  • " + _("other reasons × {n}").format(n=others))
    if report.stopped:
        lines.append(_("⏹ Not sent, as the broadcast was stopped: {n}").format(n=report.stopped))
    return "\n".join(lines)


async def show_progress_now(app: BotApplication, broadcast_id: int) -> None:
    """Brings the broadcast's progress job forward to now, so its message shows a press's effect
    at once (in the press's transaction; the job runs after its commit)."""
    for job in await app.store.schedule.pending(PROGRESS):
        if int(job.payload.get("broadcast_id", 0)) == broadcast_id:
            await app.store.schedule.replan(job.key, PROGRESS, app.clock(), job.payload)


async def run_progress(app: BotApplication, job: Job) -> None:
    """Edits the progress message — sent / failed / left and the time remaining, or that it is
    paused (with Resume in place of Pause) — when what it would say changed; when nothing is
    left, the final report. Plans itself again while the broadcast runs or is paused: every
    few seconds, or once a minute while a pause holds everything."""
    broadcast = await app.store.broadcasts.broadcast(int(job.payload["broadcast_id"]))
    if broadcast is None or broadcast.status not in ("sending", "cancelled"):
        return
    chat_id, tick = int(job.payload["chat_id"]), int(job.payload["tick"])
    tr = translator(STAFF_LANGUAGE, app.settings.timezone)
    progress = await app.store.broadcasts.progress(broadcast.id)
    # A stop settles what was not sent at once; the copies being sent then finish first.
    stopped = broadcast.status == "cancelled" and not progress.sending
    if progress.finished or stopped:
        await finish_progress(app, tr, broadcast, progress, chat_id, tick)
        return
    running = broadcast.status == "sending" and not broadcast.paused
    left_for = await time_left(app, broadcast, progress) if running else None
    text = progress_message(tr, broadcast, progress, left_for)
    shown = [text, broadcast.status, broadcast.paused]
    if shown != job.payload.get("shown"):
        payload: dict[str, Any] = {
            "text": text,
            "message_id": {"$message_of": progress_key(broadcast)},
        }
        if broadcast.status != "cancelled":
            payload["reply_markup"] = progress_buttons(tr, broadcast).to_dict()
        await app.store.outbox.enqueue(
            f"broadcast:{broadcast.id}:progress:{tick}", chat_id, "edit_message_text", payload
        )
    idle = broadcast.paused and not progress.sending
    await app.store.schedule.plan(
        f"broadcast:{broadcast.id}:tick:{tick + 1}",
        PROGRESS,
        app.clock() + (PAUSED_EVERY if idle else PROGRESS_EVERY),
        {**job.payload, "tick": tick + 1, "shown": shown},
    )


async def finish_progress(
    app: BotApplication,
    tr: Translator,
    broadcast: Broadcast,
    progress: Progress,
    chat_id: int,
    tick: int,
) -> None:
    """The progress message's last counts (no buttons), and the report of every copy."""
    await app.store.outbox.enqueue(
        f"broadcast:{broadcast.id}:progress:{tick}",
        chat_id,
        "edit_message_text",
        {
            "text": progress_message(tr, broadcast, progress, None),
            "message_id": {"$message_of": progress_key(broadcast)},
        },
    )
    await app.store.broadcasts.finish_broadcast(broadcast.id)
    report = await app.store.broadcasts.report(broadcast.id)
    await app.store.outbox.enqueue(
        f"broadcast:{broadcast.id}:report",
        chat_id,
        "send_message",
        {"text": report_text(tr, broadcast, report)},
    )


def register_jobs(app: BotApplication) -> None:
    app.scheduler.register(PROGRESS, run_progress)
