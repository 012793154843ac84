"""Moving one's booking to another time, from "My submissions and bookings", until the cancel
deadline: a date with free places → a free time → moved. The new place is taken in one
transaction with the move (as in booking), the old one is released and offered to its date's
waitlist, the lapsing or the reminders are planned anew, the staff chat's card shows the new
time, and a confirmed booking's resident gets its calendar file again, at the new time (the same
event, updated). A declined, cancelled or lapsed booking cannot be moved: the resident is told so.

Every button carries the booking's id and is checked again when pressed.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from bot import reception
from bot.app import BotApplication, BotContext
from bot.callbacks import Buttons, button_id
from bot.store.bookings import Booking
from handlers.booking_notices import (
    EXPIRE,
    REMIND,
    queue_card_update,
    reminder_key,
    send_calendar_update,
    status_name,
    when,
)
from handlers.booking_slots import clock_time, free_days, free_slots, unavailable
from handlers.menu import main_menu
from handlers.waitlist import offer_freed

PREFIX = "mv:"
BUTTONS = Buttons(PREFIX, audience="resident")


def move_button(context: BotContext, booking: Booking) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        context.gettext("🔁 Change the time"), callback_data=BUTTONS.data("start", booking.id)
    )


async def movable(update: Update, context: BotContext) -> Booking | None:
    """The pressed booking if it is the resident's, active, and before the cancel deadline;
    else says why it cannot be moved."""
    _ = context.gettext
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    booking = await context.store.bookings.booking(button_id(context))
    if booking is None or booking.resident_id != user.id:
        await query.answer(_("This booking is no longer active."), show_alert=True)
        return None
    if not booking.is_active:
        await query.answer(
            _(
                "This booking is “{status}”, so its time cannot be changed. You are welcome to "
                "book a new time."
            ).format(status=status_name(context.tr, booking.status)),
            show_alert=True,
        )
        return None
    if context.now() > reception.cancel_until(context.municipality.reception, booking.starts_at):
        await query.answer(
            _(
                "Your meeting is too soon to change it here. Please write to {email} — thank you "
                "for letting the office know."
            ).format(email=context.municipality.email),
            show_alert=True,
        )
        return None
    return booking


async def start(update: Update, context: BotContext) -> None:
    booking = await movable(update, context)
    if booking is None:
        return
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    await query.answer()
    _ = context.gettext
    days = await free_days(context)
    if not days:
        await context.bot.send_message(
            chat.id,
            _("There are no free times at the reception in the coming weeks; your booking stays."),
        )
        return
    rows = [
        [
            InlineKeyboardButton(
                context.tr.date(day, "MMMMEd"),
                callback_data=BUTTONS.data("day", booking.id, reception.day_code(day)),
            )
        ]
        for day in days
    ]
    rows.append(
        [InlineKeyboardButton(_("Keep the current time"), callback_data=BUTTONS.data("keep"))]
    )
    await context.bot.send_message(
        chat.id,
        _("Your booking is on {when}. Which date would you like instead?").format(
            when=when(context.tr, booking.starts_at)
        ),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def day_chosen(update: Update, context: BotContext, notice: str | None = None) -> None:
    booking = await movable(update, context)
    if booking is None:
        return
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    _ = context.gettext
    day = reception.day_of_code(button_id(context, 1))
    slots = [s for s in await free_slots(context, day) if s != booking.starts_at] if day else []
    await query.answer()
    if day is None or not slots:
        await context.bot.send_message(chat.id, _("There are no free times left on that date."))
        return
    code = reception.day_code(day)
    buttons = [
        InlineKeyboardButton(
            clock_time(context, slot),
            callback_data=BUTTONS.data("slot", booking.id, code, slot.hour * 100 + slot.minute),
        )
        for slot in slots
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append(
        [InlineKeyboardButton(_("Keep the current time"), callback_data=BUTTONS.data("keep"))]
    )
    text = _("Free times on {date}:").format(date=context.tr.date(day, "MMMMEd"))
    await context.bot.send_message(
        chat.id, f"{notice}\n\n{text}" if notice else text, reply_markup=InlineKeyboardMarkup(rows)
    )


async def slot_chosen(update: Update, context: BotContext) -> None:
    """Moves the booking to the chosen time if it is still free."""
    booking = await movable(update, context)
    if booking is None:
        return
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    rec, zone = context.municipality.reception, context.settings.timezone
    day = reception.day_of_code(button_id(context, 1))
    slot = reception.slot_of_code(rec, day, button_id(context, 2), zone) if day else None
    if day is None or slot is None:
        await query.answer(context.gettext("This button is no longer active."), show_alert=True)
        return
    moved = None
    if slot in await free_slots(context, day):
        moved = await context.store.bookings.move(
            booking.id, starts_at=slot, ends_at=slot + rec.slot, places=rec.places_per_slot
        )
    if moved is None:
        await day_chosen(update, context, notice=unavailable(context, day, slot))
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    await replan_jobs(context.app, moved)
    await send_calendar_update(context.app, moved)
    await queue_card_update(context.app, moved)
    await offer_freed(context.app, booking.starts_at)
    _ = context.gettext
    text = _("Your booking is moved to {when}.").format(
        when=when(context.tr, moved.starts_at, moved.ends_at)
    )
    if moved.status == "requested":
        text += " " + _("It is waiting for the Development Office's confirmation.")
    await context.bot.send_message(chat.id, text, reply_markup=main_menu(context))


async def replan_jobs(app: BotApplication, booking: Booking) -> None:
    """The lapsing of a request, or the reminders of a confirmed booking, at the new time."""
    rec = app.settings.municipality.reception
    if booking.status == "requested":
        await app.store.schedule.replan(
            f"booking:{booking.id}:expire",
            EXPIRE,
            reception.expires_at(rec, booking.starts_at),
            {"booking_id": booking.id},
        )
        return
    due = reception.reminders_due(rec, booking.starts_at, app.clock())
    for offset in rec.reminders:
        key = reminder_key(booking, offset)
        if offset in due:
            hours = int(offset.total_seconds() // 3600)
            payload = {"booking_id": booking.id, "hours": hours}
            await app.store.schedule.replan(key, REMIND, booking.starts_at - offset, payload)
        else:
            await app.store.schedule.cancel(key)


async def keep(update: Update, context: BotContext) -> None:
    """ "Keep" (the time, or the booking): nothing changes; the question's buttons go."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)


def handlers() -> list[BaseHandler]:
    on = BUTTONS.on
    return [
        on("start:{id}", start),
        on("day:{id}:{id}", day_chosen),
        on("slot:{id}:{id}:{id}", slot_chosen),
        on("keep", keep),
    ]
