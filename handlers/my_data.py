"""The resident's data rights: /mydata sends everything the bot holds about them as a JSON file
(GDPR art. 15); /forget, once confirmed, deletes it (art. 17).

Forgetting keeps the proposals for the development programme as anonymous records (see
bot/store/privacy.py); the staff chat's cards that showed contact details or a booking's note
are edited to show them no more, and an active booking is cancelled. Staff cannot undo it. The
handlers come first in their group, so that they work in the middle of any other flow.
"""

from __future__ import annotations

import io
import json

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.app import BotContext
from bot.callbacks import Buttons
from bot.clock import to_text
from bot.i18n import N_
from bot.store.bookings import Booking
from handlers.booking_notices import (
    call_off_jobs,
    next_calendar_file,
    queue_card_update,
    when,
)
from handlers.flows import end_flows
from handlers.staff_posts import queue_card_refresh
from handlers.waitlist import offer_freed

PREFIX = "forget:"
BUTTONS = Buttons(PREFIX, audience="resident")


async def my_data(update: Update, context: BotContext) -> None:
    """/mydata: everything held about the resident, as a JSON document in the chat."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    data = {
        "controller": context.municipality.name(context.language),
        "contact": context.municipality.email,
        "exported_at": to_text(context.now()),
        "telegram_user_id": user.id,
        **await context.store.privacy.everything_about(user.id),
    }
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await context.bot.send_document(
        chat.id,
        InputFile(io.BytesIO(content), filename="my-data.json"),
        caption=context.gettext(
            "Everything this bot holds about you, as a file. To have it deleted: /forget"
        ),
    )


async def ask_forget(update: Update, context: BotContext) -> None:
    """/forget: says what will be deleted and what stays, and asks to confirm."""
    chat = update.effective_chat
    assert chat is not None
    _ = context.gettext
    await context.bot.send_message(
        chat.id,
        _(
            "This deletes your data: your language, your draft, the contact details and notes "
            "you gave, and the whole history of this chat. Your proposals stay in the "
            "development programme as anonymous records, without anything that points to you. "
            "This cannot be undone. Delete your data?"
        ),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("🗑 Yes, delete my data"), callback_data=BUTTONS.data("yes")
                    )
                ],
                [InlineKeyboardButton(_("No, keep it"), callback_data=BUTTONS.data("no"))],
            ]
        ),
    )


async def forget(update: Update, context: BotContext) -> None:
    """Confirmed: the resident is told first (those messages go with the chat's history), then
    forgotten, and the staff chat's copies of their contact details are edited away. An active
    booking is cancelled and its place offered to the date's waitlist."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    await query.answer()
    await query.edit_message_text(
        context.gettext(
            "Your data has been deleted. If you write to this bot again, it starts afresh."
        )
    )
    await remove_from_calendar(context, await context.store.bookings.active_of(user.id))
    end_flows(update, context.application)
    context.user_data.clear()
    context.chat_data.clear()
    store = context.store
    forgotten = await store.privacy.forget(user.id)
    if forgotten.active_booking_id is not None:
        cancelled = await store.bookings.change(
            forgotten.active_booking_id,
            "cancelled",
            allowed_from=("requested", "confirmed"),
            by=forgotten.placeholder_id,
            reason=N_("Cancelled by the resident."),
        )
        if cancelled is not None:
            await call_off_jobs(context.app, cancelled)
            await queue_card_update(context.app, cancelled)
            await offer_freed(context.app, cancelled.starts_at)
    for booking_id in forgotten.booking_cards_to_redo:
        booking = await store.bookings.booking(booking_id)
        if booking is not None and booking_id != forgotten.active_booking_id:
            await queue_card_update(context.app, booking)
    for proposal_id in forgotten.cards_to_redo:
        proposal = await store.proposals.proposal(proposal_id)
        if proposal is not None:
            await queue_card_refresh(context, proposal)


async def remove_from_calendar(context: BotContext, booking: Booking | None) -> None:
    """A confirmed booking is in the resident's calendar: the file that removes it goes now, as
    a reply, while the bot still knows whom and what for (once forgotten, the booking belongs to
    nobody and the bookings' own cancellation sends nothing)."""
    if booking is None or booking.calendar_sequence is None:
        return
    filename, content, _sequence = next_calendar_file(
        context.app, booking, context.tr, cancelled=True
    )
    await context.bot.send_document(
        booking.resident_id,
        InputFile(io.BytesIO(content), filename=filename),
        caption=context.gettext(
            "Your booking for {when} is cancelled. Opening this file removes it from your calendar."
        ).format(when=when(context.tr, booking.starts_at)),
    )


async def keep(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(context.gettext("Nothing was deleted."))


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("mydata", my_data, filters=private),
        CommandHandler("forget", ask_forget, filters=private),
        BUTTONS.on("yes", forget),
        BUTTONS.on("no", keep),
    ]
