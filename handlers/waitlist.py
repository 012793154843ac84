"""The reception's waitlists: a resident who finds a date full joins its line (one entry per
resident and date); a place that frees on it — a cancellation, a decline, a lapsed request, a
booking moved away, but not a date the office closed — is offered to the first in line, through
the outbox, with "Take it" and "No, thanks". The offer holds the place for `[reception]
offer_minutes`; then the stored schedule passes it on to the next. An entry is offered once, so
nobody is offered a place twice. Taking it books the slot with the same one-transaction
place-taking as the booking flow, and the request goes to the office like any other.
"""

from __future__ import annotations

from datetime import date, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from bot import reception
from bot.app import BotApplication, BotContext
from bot.callbacks import Buttons, button_id
from bot.i18n import Translator, translator
from bot.store.bookings import Refusal
from bot.store.schedule import Job
from bot.store.waitlist import Entry
from handlers.booking_notices import place, plan_expiry, post_new_booking, when
from handlers.booking_slots import free_slots
from handlers.flows import end_flows
from handlers.menu import main_menu

PREFIX = "wl:"
BUTTONS = Buttons(PREFIX, audience="resident")
OFFER_EXPIRY = "waitlist_offer_expiry"


def expiry_key(entry: Entry) -> str:
    return f"waitlist:{entry.id}:expire"


async def entry_translator(app: BotApplication, entry: Entry) -> Translator:
    resident = await app.store.residents.resident(entry.resident_id)
    language = resident.language if resident and resident.language else entry.language
    return translator(language, app.settings.timezone)


# -- offering a freed place ------------------------------------------------------------------------


async def offer_freed(app: BotApplication, starts_at: datetime) -> None:
    """Offers the free places of the slot at `starts_at` to its date's waitlist, first come
    first served, while the slot can still be booked and its date is open."""
    rec = app.settings.municipality.reception
    now = app.clock()
    day = starts_at.astimezone(app.settings.timezone).date()
    if not reception.bookable(rec, starts_at, now):
        return
    if reception.closed_reason(day, await app.store.bookings.closed_dates(day, day)):
        return
    until = min(now + rec.offer_time, reception.expires_at(rec, starts_at))
    while True:
        taken = await app.store.bookings.taken_places(starts_at, starts_at + rec.slot)
        if taken.get(starts_at, 0) >= rec.places_per_slot:
            return
        entry = await app.store.waitlist.offer_next(day, starts_at, until)
        if entry is None:
            return
        await send_offer(app, entry, starts_at, until)
        await app.store.schedule.plan(
            expiry_key(entry), OFFER_EXPIRY, until, {"entry_id": entry.id}
        )


async def send_offer(
    app: BotApplication, entry: Entry, starts_at: datetime, until: datetime
) -> None:
    tr = await entry_translator(app, entry)
    _ = tr.gettext
    rec = app.settings.municipality.reception
    text = _(
        "A place has freed at the reception: {when}, {place}. You are next on the waitlist for "
        "{date}. Would you like it? It is held for you until {until}."
    ).format(
        when=when(tr, starts_at, starts_at + rec.slot),
        place=place(app, tr.language),
        date=tr.date(entry.day, "MMMMEd"),
        until=tr.datetime(until, "MMMMd"),
    )
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("✅ Take it"), callback_data=BUTTONS.data("take", entry.id)),
                InlineKeyboardButton(_("No, thanks"), callback_data=BUTTONS.data("no", entry.id)),
            ]
        ]
    )
    await app.store.outbox.enqueue(
        f"waitlist:{entry.id}:offer",
        entry.resident_id,
        "send_message",
        {"text": text, "reply_markup": buttons.to_dict()},
    )


async def run_offer_expiry(app: BotApplication, job: Job) -> None:
    """An offer not answered in time lapses: the resident is told, and the place passes on."""
    entry = await app.store.waitlist.settle(int(job.payload["entry_id"]), "expired")
    if entry is None or entry.offered_start is None:
        return  # taken or declined meanwhile
    tr = await entry_translator(app, entry)
    await app.store.outbox.enqueue(
        f"waitlist:{entry.id}:lapsed",
        entry.resident_id,
        "send_message",
        {
            "text": tr.gettext(
                "The place on {when} offered to you was not taken in time, so it has been "
                "offered to the next in line."
            ).format(when=when(tr, entry.offered_start))
        },
    )
    await offer_freed(app, entry.offered_start)


def register_jobs(app: BotApplication) -> None:
    app.scheduler.register(OFFER_EXPIRY, run_offer_expiry)


# -- joining a line ------------------------------------------------------------------------------


def full_day_button(context: BotContext, day: date) -> InlineKeyboardButton:
    """A full date in the booking flow's list: pressing it offers its waitlist."""
    label = context.gettext("{date} · full, waitlist").format(date=context.tr.date(day, "MMMMEd"))
    return InlineKeyboardButton(label, callback_data=f"bk:full:{reception.day_code(day)}")


async def offer_to_join(update: Update, context: BotContext, day: date) -> None:
    """What the booking flow shows for a full date: the waitlist, and back to the dates."""
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id,
        _(
            "All times on {date} are taken. You can join the waitlist: if a place frees, it is "
            "offered to those waiting, in order, here in the chat."
        ).format(date=context.tr.date(day, "MMMMEd")),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("📝 Join the waitlist"),
                        callback_data=BUTTONS.data("join", reception.day_code(day)),
                    )
                ],
                [InlineKeyboardButton(_("◀️ Other dates"), callback_data="bk:days")],
            ]
        ),
    )


async def join(update: Update, context: BotContext) -> None:
    _ = context.gettext
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    day = reception.day_of_code(button_id(context))
    rec, zone = context.municipality.reception, context.settings.timezone
    closed = await context.store.bookings.closed_dates(day, day) if day else {}
    if (
        day is None
        or not reception.within_horizon(rec, day, zone, context.now())
        or not reception.open_slots(rec, day, zone, context.now(), closed)
    ):
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    await query.answer()
    end_flows(update, context.application)
    if await context.store.bookings.active_of(user.id) is not None:
        text = _("You already have a booking; one booking at a time.")
    elif await free_slots(context, day):
        text = _("A time on {date} is free now: you can book it with “📅 Book a meeting”.")
    elif await context.store.waitlist.join(user.id, day, language=context.language):
        text = _(
            "You are on the waitlist for {date}. If a place frees, we will offer it to you here."
        )
    else:
        text = _("You are on the waitlist for {date} already.")
    await query.edit_message_reply_markup(None)
    await context.bot.send_message(
        chat.id,
        text.format(date=context.tr.date(day, "MMMMEd")),
        reply_markup=main_menu(context),
    )


# -- answering an offer --------------------------------------------------------------------------


async def open_offer(update: Update, context: BotContext) -> Entry | None:
    """The pressed offer if it is the resident's and still open; else says why not."""
    _ = context.gettext
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    entry = await context.store.waitlist.entry(button_id(context))
    if entry is None or entry.resident_id != user.id:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return None
    lapsed = entry.offered_until is not None and context.now() >= entry.offered_until
    if entry.status == "offered" and not lapsed:
        return entry
    if entry.status == "booked":
        text = _("You have taken this place already.")
    elif entry.status == "declined":
        text = _("You declined this place; it has been offered to the next in line.")
    else:
        text = _("This offer has lapsed: the place was offered to the next in line.")
    await query.answer(text, show_alert=True)
    await query.edit_message_reply_markup(None)
    return None


async def take(update: Update, context: BotContext) -> None:
    """Books the offered place (the place the offer holds, in one transaction)."""
    _ = context.gettext
    entry = await open_offer(update, context)
    if entry is None or entry.offered_start is None:
        return
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    rec = context.municipality.reception
    start = entry.offered_start
    result = await context.store.bookings.request(
        user.id,
        language=context.language,
        starts_at=start,
        ends_at=start + rec.slot,
        places=rec.places_per_slot,
        theme=None,
        note=None,
        offer_id=entry.id,
    )
    await context.store.schedule.cancel(expiry_key(entry))
    if isinstance(result, Refusal):
        await context.store.waitlist.settle(entry.id, "declined")
        await offer_freed(context.app, start)
        text = (
            _("You already have a booking; one booking at a time.")
            if result.why == "has_booking"
            else _("Sorry, {time} was just taken.").format(time=when(context.tr, start))
        )
        await context.bot.send_message(chat.id, text, reply_markup=main_menu(context))
        return
    await context.bot.send_message(
        chat.id,
        _(
            "The place is yours: {when}. Your request is waiting for the Development Office's "
            "confirmation; you will get a message here when it is confirmed."
        ).format(when=when(context.tr, result.starts_at, result.ends_at)),
        reply_markup=main_menu(context),
    )
    await post_new_booking(context.app, result)
    await plan_expiry(context.app, result)


async def decline(update: Update, context: BotContext) -> None:
    entry = await open_offer(update, context)
    if entry is None or entry.offered_start is None:
        return
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    await query.answer()
    if await context.store.waitlist.settle(entry.id, "declined") is None:
        return
    await query.edit_message_reply_markup(None)
    await context.store.schedule.cancel(expiry_key(entry))
    await offer_freed(context.app, entry.offered_start)
    await context.bot.send_message(
        chat.id,
        context.gettext("Thank you for letting us know: the place goes to the next in line."),
        reply_markup=main_menu(context),
    )


def handlers() -> list[BaseHandler]:
    on = BUTTONS.on
    return [on("join:{id}", join), on("take:{id}", take), on("no:{id}", decline)]
