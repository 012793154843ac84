"""The resident's booking in "My submissions and bookings": shown above their proposals, with a
Cancel button until the cancel deadline (after it, whom to write). Cancelling calls off the
reminders, sends a confirmed booking's resident a cancellation for their calendar, and shows the
change on the booking's card in the staff chat.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from bot import reception
from bot.app import BotContext
from bot.callbacks import Buttons, button_id
from bot.i18n import N_
from bot.store.bookings import Booking
from handlers.booking_notices import (
    call_off_jobs,
    place,
    queue_card_update,
    send_calendar_cancellation,
    status_name,
    when,
)
from handlers.menu import main_menu
from handlers.rescheduling import keep, move_button
from handlers.waitlist import offer_freed

PREFIX = "mybk:"
BUTTONS = Buttons(PREFIX, audience="resident")


async def show_active_booking(update: Update, context: BotContext) -> None:
    """The resident's active booking, with a Cancel button (shown above their proposals)."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    booking = await context.store.bookings.active_of(user.id)
    if booking is None:
        return
    _ = context.gettext
    await context.bot.send_message(
        chat.id,
        _("Your booking: {when}, {place}. Status: {status}.").format(
            when=when(context.tr, booking.starts_at, booking.ends_at),
            place=place(context.app, context.language),
            status=status_name(context.tr, booking.status),
        ),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("✖️ Cancel the booking"), callback_data=BUTTONS.data("drop", booking.id)
                    )
                ],
                [move_button(context, booking)],
            ]
        ),
    )


async def own_active_booking(update: Update, context: BotContext) -> Booking | None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    booking = await context.store.bookings.booking(button_id(context))
    if booking is None or booking.resident_id != user.id or not booking.is_active:
        await query.answer(context.gettext("This booking is no longer active."), show_alert=True)
        return None
    if context.now() > reception.cancel_until(context.municipality.reception, booking.starts_at):
        await query.answer(
            context.gettext(
                "Your meeting is too soon to cancel it here. Please write to {email} — thank you "
                "for letting the office know."
            ).format(email=context.municipality.email),
            show_alert=True,
        )
        return None
    return booking


async def ask_drop(update: Update, context: BotContext) -> None:
    booking = await own_active_booking(update, context)
    if booking is None:
        return
    query = update.callback_query
    assert query is not None
    await query.answer()
    _ = context.gettext
    await query.edit_message_reply_markup(
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("Yes, cancel the booking"),
                        callback_data=BUTTONS.data("dropyes", booking.id),
                    )
                ],
                [InlineKeyboardButton(_("No, keep it"), callback_data=BUTTONS.data("keep"))],
            ]
        )
    )


async def drop(update: Update, context: BotContext) -> None:
    """Cancels the resident's own booking: its reminders are called off, the office is told."""
    booking = await own_active_booking(update, context)
    if booking is None:
        return
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    cancelled = await context.store.bookings.change(
        booking.id,
        "cancelled",
        allowed_from=("requested", "confirmed"),
        by=user.id,
        reason=N_("Cancelled by the resident."),
    )
    await query.answer()
    if cancelled is None:
        return
    await query.edit_message_reply_markup(None)
    await call_off_jobs(context.app, cancelled)
    await send_calendar_cancellation(context.app, cancelled)
    await queue_card_update(context.app, cancelled)
    await offer_freed(context.app, cancelled.starts_at)
    await context.bot.send_message(
        chat.id,
        context.gettext("Your booking for {when} is cancelled. The office has been told.").format(
            when=when(context.tr, cancelled.starts_at)
        ),
        reply_markup=main_menu(context),
    )


def handlers() -> list[BaseHandler]:
    on = BUTTONS.on
    return [
        on("drop:{id}", ask_drop),
        on("dropyes:{id}", drop),
        on("keep", keep),
    ]
