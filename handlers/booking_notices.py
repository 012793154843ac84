"""What the bot sends on its own about a reception booking — to the resident (the decision, the
confirmation with the map and a calendar file, the file again when the booking is moved or
cancelled, reminders, a lapsed request, a closed date) and to the staff chat (the booking's card
and its updates) — and the scheduled jobs behind the reminders and the lapsing. Everything is
queued in the outbox, in the transaction of the change that causes it, keyed by that change, so a
replay or a crash repeats none of it.

These take the application rather than a handler's context: the scheduler's jobs send them too.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from babel.dates import format_time
from icalendar import Calendar, Event, vCalAddress
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import reception, statuses
from bot.app import BotApplication
from bot.callbacks import Buttons
from bot.i18n import STAFF_LANGUAGE, Translator, translator
from bot.proposal_texts import resident_label
from bot.store.bookings import Booking
from bot.store.schedule import Job

PREFIX = "bd:"
BUTTONS = Buttons(PREFIX, audience="staff")
REMIND = "booking_reminder"
EXPIRE = "booking_expiry"

STATUS_NAMES = statuses.BOOKING_NAMES


# -- words ---------------------------------------------------------------------------------------


def when(tr: Translator, start: datetime, end: datetime | None = None) -> str:
    """'trešdiena, 20. janvāris, 14:00–14:30' in the reader's language, in Riga's time."""
    day = tr.date(start, "MMMMEd")
    first = format_time(start, "short", tzinfo=tr.timezone, locale=tr.locale)
    if end is None:
        return f"{day}, {first}"
    last = format_time(end, "short", tzinfo=tr.timezone, locale=tr.locale)
    return f"{day}, {first}–{last}"


def place(app: BotApplication, language: str) -> str:
    venue = app.settings.municipality.reception_venue
    return f"{venue.name(language)}, {venue.address}"


def theme_label(app: BotApplication, tr: Translator, slug: str | None) -> str:
    theme = app.settings.municipality.theme(slug or "")
    return theme.name(tr.language) if theme else tr.gettext("No particular theme")


def status_name(tr: Translator, status: str) -> str:
    return tr.gettext(STATUS_NAMES.get(status, status))


async def resident_translator(app: BotApplication, booking: Booking) -> Translator:
    """The resident's language now (they may have changed it since they booked)."""
    resident = await app.store.residents.resident(booking.resident_id)
    language = resident.language if resident and resident.language else booking.language
    return translator(language, app.settings.timezone)


def staff_translator(app: BotApplication) -> Translator:
    return translator(STAFF_LANGUAGE, app.settings.timezone)


# -- to the resident -----------------------------------------------------------------------------


async def tell_resident(app: BotApplication, booking: Booking, key: str, text: str) -> None:
    await app.store.outbox.enqueue(
        key,
        booking.resident_id,
        "send_message",
        {"text": text},
        purpose={"kind": "booking_notice", "booking_id": booking.id},
    )


async def confirm_effects(app: BotApplication, booking: Booking) -> None:
    """A confirmed booking: a message that says it all by itself, the venue on a map, a
    calendar file; the reminders planned and the lapsing called off."""
    tr = await resident_translator(app, booking)
    _ = tr.gettext
    rec = app.settings.municipality.reception
    text = _(
        "✅ Your meeting with the Development Office is confirmed.\n\n"
        "When: {when}\nWhere: {place}\n\n"
        "If you cannot come, please cancel it under “My submissions and bookings” by {deadline}."
    ).format(
        when=when(tr, booking.starts_at, booking.ends_at),
        place=place(app, tr.language),
        deadline=tr.datetime(reception.cancel_until(rec, booking.starts_at), "MMMMd"),
    )
    await tell_resident(app, booking, f"booking:{booking.id}:confirmed", text)
    venue = app.settings.municipality.reception_venue
    await app.store.outbox.enqueue(
        f"booking:{booking.id}:venue",
        booking.resident_id,
        "send_venue",
        {
            "latitude": venue.latitude,
            "longitude": venue.longitude,
            "title": venue.name(tr.language),
            "address": venue.address,
        },
    )
    await send_calendar_file(
        app, booking, tr, f"booking:{booking.id}:ics", _("Add the meeting to your calendar.")
    )
    now = app.clock()
    for offset in reception.reminders_due(rec, booking.starts_at, now):
        hours = int(offset.total_seconds() // 3600)
        await app.store.schedule.plan(
            reminder_key(booking, offset),
            REMIND,
            booking.starts_at - offset,
            {"booking_id": booking.id, "hours": hours},
        )
    await app.store.schedule.cancel(f"booking:{booking.id}:expire")


def reminder_key(booking: Booking, offset: timedelta) -> str:
    return f"booking:{booking.id}:remind:{int(offset.total_seconds() // 3600)}h"


async def call_off_jobs(app: BotApplication, booking: Booking) -> None:
    """A booking that ended (declined, cancelled, lapsed): none of its jobs may run."""
    await app.store.schedule.cancel(f"booking:{booking.id}:expire")
    for offset in app.settings.municipality.reception.reminders:
        await app.store.schedule.cancel(reminder_key(booking, offset))


def calendar_file(
    app: BotApplication,
    booking: Booking,
    tr: Translator,
    *,
    sequence: int = 0,
    cancelled: bool = False,
) -> bytes:
    """The booking as an iCalendar event, published by the office (RFC 5546's PUBLISH, or
    CANCEL once cancelled): the same UID in every file about the booking and a higher SEQUENCE
    in each, so a calendar app updates or removes the event it has rather than adding another;
    the times in the municipality's zone."""
    municipality = app.settings.municipality
    zone = app.settings.timezone
    calendar = Calendar()
    calendar.add("prodid", "-//liepaja-bot//reception//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    host = urlparse(municipality.website).hostname or "liepaja-bot"
    event.add("uid", f"booking-{booking.id}@{host}")
    event.add("sequence", sequence)
    event.add("dtstamp", app.clock())
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{municipality.email}")
    organizer.params["cn"] = municipality.office(tr.language)
    event.add("organizer", organizer)
    event.add("dtstart", booking.starts_at.astimezone(zone))
    event.add("dtend", booking.ends_at.astimezone(zone))
    event.add("summary", tr.gettext("Meeting with the Development Office"))
    event.add("location", place(app, tr.language))
    event.add("description", theme_label(app, tr, booking.theme))
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def next_calendar_file(
    app: BotApplication, booking: Booking, tr: Translator, *, cancelled: bool = False
) -> tuple[str, bytes, int]:
    """The booking's calendar file after the last one sent (its name, content and SEQUENCE)."""
    sequence = 0 if booking.calendar_sequence is None else booking.calendar_sequence + 1
    content = calendar_file(app, booking, tr, sequence=sequence, cancelled=cancelled)
    return f"reception-{booking.id}.ics", content, sequence


async def send_calendar_file(
    app: BotApplication,
    booking: Booking,
    tr: Translator,
    key: str,
    caption: str,
    *,
    cancelled: bool = False,
) -> None:
    """Queues the booking's calendar file with the SEQUENCE after the last one sent, and records
    it — only if queued: a replayed change (its key queued already) changes nothing."""
    filename, content, sequence = next_calendar_file(app, booking, tr, cancelled=cancelled)
    queued = await app.store.outbox.enqueue(
        key,
        booking.resident_id,
        "send_document",
        {
            "document": {"$bytes": base64.b64encode(content).decode(), "filename": filename},
            "caption": caption,
        },
        purpose={"kind": "booking_notice", "booking_id": booking.id},
    )
    if queued:
        await app.store.bookings.record_calendar_sequence(booking.id, sequence)


async def send_calendar_update(app: BotApplication, booking: Booking) -> None:
    """A booking moved after its calendar file was sent: the event again, at the new time."""
    if booking.calendar_sequence is None:
        return  # never confirmed: nothing in the resident's calendar to change
    tr = await resident_translator(app, booking)
    caption = tr.gettext(
        "The new time for your calendar: opening this file moves the meeting you added before."
    )
    await send_calendar_file(
        app, booking, tr, f"booking:{booking.id}:v{booking.version}:ics", caption
    )


async def send_calendar_cancellation(app: BotApplication, booking: Booking) -> None:
    """A booking ended after its calendar file was sent: a cancellation of the same event."""
    if booking.calendar_sequence is None or booking.resident_id < 0:
        return  # never confirmed, or the resident was forgotten (the id is a placeholder)
    tr = await resident_translator(app, booking)
    caption = tr.gettext(
        "For your calendar: opening this file removes the cancelled meeting from it."
    )
    await send_calendar_file(
        app, booking, tr, f"booking:{booking.id}:v{booking.version}:ics", caption, cancelled=True
    )


async def tell_declined(app: BotApplication, booking: Booking) -> None:
    tr = await resident_translator(app, booking)
    _ = tr.gettext
    text = _(
        "We are sorry: the Development Office cannot meet you on {when}.\n\nReason: {reason}\n\n"
        "You are welcome to book another time or to write to {email}."
    ).format(
        when=when(tr, booking.starts_at),
        reason=_(booking.reason or ""),
        email=app.settings.municipality.email,
    )
    await tell_resident(app, booking, f"booking:{booking.id}:declined", text)
    await send_calendar_cancellation(app, booking)
    await call_off_jobs(app, booking)


async def tell_closed(app: BotApplication, booking: Booking) -> None:
    """The office closed the booking's date: the resident hears why, in their language."""
    tr = await resident_translator(app, booking)
    text = tr.gettext(
        "We are sorry: the reception on {date} is closed ({reason}), so your booking at {time} "
        "is cancelled. You are welcome to book another date."
    ).format(
        date=tr.date(booking.starts_at, "MMMMEd"),
        reason=booking.reason or "",
        time=format_time(booking.starts_at, "short", tzinfo=tr.timezone, locale=tr.locale),
    )
    await tell_resident(app, booking, f"booking:{booking.id}:closed", text)
    await send_calendar_cancellation(app, booking)
    await call_off_jobs(app, booking)


# -- the staff chat ------------------------------------------------------------------------------


def post_key(booking: Booking) -> str:
    return f"booking:{booking.id}:post"


def staff_card(app: BotApplication, tr: Translator, booking: Booking) -> str:
    """The booking as staff see it; once decided, who decided."""
    _ = tr.gettext
    text = _(
        "📅 Reception booking #{id}\n{when}\nResident: {resident} · language: {language}\n"
        "Theme: {theme}\nNote: {note}\nStatus: {status}"
    ).format(
        id=booking.id,
        when=when(tr, booking.starts_at, booking.ends_at),
        resident=resident_label(tr, booking.resident_id),
        language=booking.language,
        theme=theme_label(app, tr, booking.theme),
        note=booking.note or "—",
        status=status_name(tr, booking.status),
    )
    if booking.decided_by_name and booking.status in ("confirmed", "declined"):
        text += "\n" + _("Decided by {name}.").format(name=booking.decided_by_name)
    if booking.reason and booking.status in ("declined", "cancelled"):
        text += "\n" + _("Reason: {reason}").format(reason=_(booking.reason))
    return text


def card_buttons(tr: Translator, booking: Booking) -> InlineKeyboardMarkup | None:
    """Confirm and Decline while the booking waits for a decision; none after."""
    if booking.status != "requested":
        return None
    _ = tr.gettext
    data = f"{booking.id}:{booking.version}"
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("✅ Confirm"), callback_data=BUTTONS.data("ok", data)),
                InlineKeyboardButton(_("❌ Decline"), callback_data=BUTTONS.data("no", data)),
            ]
        ]
    )


async def post_new_booking(app: BotApplication, booking: Booking) -> None:
    chat_id = app.settings.staff_chat_id
    if chat_id is None:
        return
    tr = staff_translator(app)
    payload: dict[str, Any] = {"text": "🆕 " + staff_card(app, tr, booking)}
    if (buttons := card_buttons(tr, booking)) is not None:
        payload["reply_markup"] = buttons.to_dict()
    await app.store.outbox.enqueue(
        post_key(booking),
        chat_id,
        "send_message",
        payload,
        purpose={"kind": "booking_post", "booking_id": booking.id},
    )


async def queue_card_update(app: BotApplication, booking: Booking) -> None:
    """Shows a change not made on the card itself (a lapse, a cancellation, a closed date, a
    typed reason) on the card in the staff chat; without buttons once decided."""
    chat_id = app.settings.staff_chat_id
    if chat_id is None:
        return
    tr = staff_translator(app)
    payload: dict[str, Any] = {
        "text": "🆕 " + staff_card(app, tr, booking),
        "message_id": {"$message_of": post_key(booking)},
    }
    if (buttons := card_buttons(tr, booking)) is not None:
        payload["reply_markup"] = buttons.to_dict()
    await app.store.outbox.enqueue(
        f"booking:{booking.id}:v{booking.version}:card", chat_id, "edit_message_text", payload
    )


# -- jobs ----------------------------------------------------------------------------------------


async def plan_expiry(app: BotApplication, booking: Booking) -> None:
    rec = app.settings.municipality.reception
    await app.store.schedule.plan(
        f"booking:{booking.id}:expire",
        EXPIRE,
        reception.expires_at(rec, booking.starts_at),
        {"booking_id": booking.id},
    )


async def run_reminder(app: BotApplication, job: Job) -> None:
    """Reminds the resident of a confirmed booking; a booking no longer confirmed gets none."""
    booking = await app.store.bookings.booking(int(job.payload["booking_id"]))
    if booking is None or booking.status != "confirmed":
        return
    tr = await resident_translator(app, booking)
    text = tr.gettext(
        "⏰ Reminder: your meeting with the Development Office is on {when}, at {place}."
    ).format(when=when(tr, booking.starts_at, booking.ends_at), place=place(app, tr.language))
    await tell_resident(app, booking, job.key, text)


async def run_expiry(app: BotApplication, job: Job) -> None:
    """A request still unconfirmed this close to its slot lapses: the resident is told, and the
    staff card says so (and loses its buttons)."""
    booking = await app.store.bookings.change(
        int(job.payload["booking_id"]), "expired", allowed_from=("requested",)
    )
    if booking is None:
        return  # decided or cancelled meanwhile
    tr = await resident_translator(app, booking)
    text = tr.gettext(
        "We are sorry: the Development Office could not confirm your meeting on {when} in time, "
        "so the request has lapsed. You are welcome to book another time or to write to {email}."
    ).format(when=when(tr, booking.starts_at), email=app.settings.municipality.email)
    await tell_resident(app, booking, f"booking:{booking.id}:expired", text)
    await queue_card_update(app, booking)
    from handlers.waitlist import offer_freed  # (waitlist.py builds on this module)

    await offer_freed(app, booking.starts_at)


def register_jobs(app: BotApplication) -> None:
    app.scheduler.register(REMIND, run_reminder)
    app.scheduler.register(EXPIRE, run_expiry)
