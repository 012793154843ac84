"""Booking a meeting at the weekly reception: a date with free places → a free time → a theme
(or none) → an optional note → the summary → Confirm, which takes the place; then the office
confirms or declines (handlers/bookings_desk.py). Cancelling is offered from "My submissions and
bookings" until the cancel deadline.

The choices made so far are kept in user_data (written with the conversation state, in the
update's transaction); the place itself is taken only at Confirm, in one transaction with the
booking, so a slot never holds more people than it has places. Every step re-checks the slot
against the clock, the closed dates and the places left: a button from an older message can
never book a past, closed or full slot. Each state has its handler and its wrong-input handler.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import reception
from bot.app import BotContext
from bot.callbacks import Buttons, button_args, button_id
from bot.i18n import N_
from bot.store.bookings import Refusal
from handlers import waitlist
from handlers.booking_notices import (
    place,
    plan_expiry,
    post_new_booking,
    status_name,
    theme_label,
    when,
)
from handlers.booking_slots import (
    clock_time,
    closed_dates,
    free_slots,
    reception_days,
    unavailable,
)
from handlers.flows import end_flows
from handlers.menu import MenuEntry, main_menu

NAME = "booking"
PREFIX = "bk:"
BUTTONS = Buttons(PREFIX, audience="resident")
MENU_ENTRY = MenuEntry(N_("📅 Book a meeting"), "book")
DATE, TIME, THEME, NOTE, SUMMARY = "date", "time", "theme", "note", "summary"
END = ConversationHandler.END
State = str | int
CHOICE = "booking"  # user_data key: {"start": ISO, "theme": slug | None, "note": str | None}
NOTE_MAX = 300


def cancel_button(context: BotContext) -> InlineKeyboardButton:
    return InlineKeyboardButton(context.gettext("✖️ Cancel"), callback_data=BUTTONS.data("cancel"))


# -- entry and dates -----------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> State:
    """Starts a booking (ending any other flow); one active booking per resident."""
    if update.callback_query:
        await update.callback_query.answer()
    end_flows(update, context.application, keep=NAME)
    context.user_data.pop(CHOICE, None)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    active = await context.store.bookings.active_of(user.id)
    if active is not None:
        await context.bot.send_message(
            chat.id,
            context.gettext(
                "You already have a booking: {when} ({status}). One booking at a time — you "
                "can cancel it under “My submissions and bookings”."
            ).format(
                when=when(context.tr, active.starts_at),
                status=status_name(context.tr, active.status),
            ),
            reply_markup=main_menu(context),
        )
        return END
    return await show_days(update, context)


async def show_days(update: Update, context: BotContext, notice: str | None = None) -> State:
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    days = await reception_days(context)
    lines = [notice] if notice else []
    if not days:
        lines.append(
            _(
                "There are no free places at the reception in the coming weeks. Please look "
                "again later, or write to {email}."
            ).format(email=context.municipality.email)
        )
        await context.bot.send_message(chat.id, "\n\n".join(lines), reply_markup=main_menu(context))
        return END
    lines.append(
        _(
            "Meet the Development Office's specialists in person at {place}. Which date suits you?"
        ).format(place=place(context.app, context.language))
    )
    rows = [
        [
            InlineKeyboardButton(
                context.tr.date(day, "MMMMEd"),
                callback_data=BUTTONS.data("day", reception.day_code(day)),
            )
            if free
            else waitlist.full_day_button(context, day)
        ]
        for day, free in days
    ]
    rows.append([cancel_button(context)])
    await context.bot.send_message(
        chat.id, "\n\n".join(lines), reply_markup=InlineKeyboardMarkup(rows)
    )
    return DATE


async def day_chosen(update: Update, context: BotContext) -> State:
    """Shows the free times of the chosen date (or says why there are none)."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    day = reception.day_of_code(button_id(context))
    if day is None:
        return await show_days(update, context)
    return await show_times(update, context, day)


async def show_times(
    update: Update, context: BotContext, day: date, notice: str | None = None
) -> State:
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    slots = await free_slots(context, day)
    if not slots:
        reason = reception.closed_reason(day, await closed_dates(context))
        text = (
            _("The reception is closed on {date}.").format(date=context.tr.date(day, "MMMMEd"))
            if reason
            else _("There are no free times left on {date}.").format(
                date=context.tr.date(day, "MMMMEd")
            )
        )
        return await show_days(update, context, notice=text)
    buttons = [
        InlineKeyboardButton(
            clock_time(context, slot),
            callback_data=BUTTONS.data(
                "slot", reception.day_code(day), slot.hour * 100 + slot.minute
            ),
        )
        for slot in slots
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append([InlineKeyboardButton(_("◀️ Other dates"), callback_data=BUTTONS.data("days"))])
    rows.append([cancel_button(context)])
    text = _("Free times on {date}:").format(date=context.tr.date(day, "MMMMEd"))
    await context.bot.send_message(
        chat.id, f"{notice}\n\n{text}" if notice else text, reply_markup=InlineKeyboardMarkup(rows)
    )
    return TIME


async def full_day_chosen(update: Update, context: BotContext) -> State:
    """A full date: its waitlist is offered (handlers/waitlist.py)."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    day = reception.day_of_code(button_id(context))
    if day is None:
        return await show_days(update, context)
    if await free_slots(context, day):
        return await show_times(update, context, day)
    await waitlist.offer_to_join(update, context, day)
    return DATE


async def back_to_days(update: Update, context: BotContext) -> State:
    if update.callback_query:
        await update.callback_query.answer()
    return await show_days(update, context)


async def day_expected(update: Update, context: BotContext) -> State:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.gettext("Please choose a date with the buttons above.")
    )
    return DATE


# -- times ---------------------------------------------------------------------------------------


async def slot_chosen(update: Update, context: BotContext) -> State:
    """Keeps the chosen time if it is still free, and asks for the theme."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None
    day = reception.day_of_code(button_id(context))
    rec, zone = context.municipality.reception, context.settings.timezone
    slot = reception.slot_of_code(rec, day, button_id(context, 1), zone) if day else None
    if day is None or slot is None:
        await query.answer(_("This button is no longer active."))
        return await show_days(update, context)
    if slot not in await free_slots(context, day):
        await query.answer()
        return await show_times(update, context, day, notice=unavailable(context, day, slot))
    await query.answer()
    context.user_data[CHOICE] = {"start": slot.isoformat(), "theme": None, "note": None}
    return await show_themes(update, context)


async def time_expected(update: Update, context: BotContext) -> State:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.gettext("Please choose a time with the buttons above.")
    )
    return TIME


# -- theme and note -------------------------------------------------------------------------------


async def show_themes(update: Update, context: BotContext) -> State:
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    buttons = [
        InlineKeyboardButton(
            theme.name(context.language), callback_data=BUTTONS.data("theme", theme.slug)
        )
        for theme in context.municipality.themes
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [InlineKeyboardButton(_("No particular theme"), callback_data=BUTTONS.data("notheme"))]
    )
    rows.append([cancel_button(context)])
    await context.bot.send_message(
        chat.id,
        _("Which theme would you like to talk about? (This helps the right specialist come.)"),
        reply_markup=InlineKeyboardMarkup(rows),
    )
    return THEME


async def theme_chosen(update: Update, context: BotContext) -> State:
    """Keeps the theme (or none) and asks for an optional note."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    choice = context.user_data.get(CHOICE)
    if not isinstance(choice, dict):
        return await show_days(update, context)
    args = button_args(context)
    slug = args[0] if args else None
    if slug is not None and context.municipality.theme(slug) is None:
        return THEME
    context.user_data[CHOICE] = {**choice, "theme": slug}
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id,
        context.gettext(
            "If you like, write in a few words what you would like to discuss (up to {max} "
            "characters), or press Skip."
        ).format(max=NOTE_MAX),
        reply_markup=InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(context.gettext("Skip"), callback_data=BUTTONS.data("skip"))],
                [cancel_button(context)],
            ]
        ),
    )
    return NOTE


async def theme_expected(update: Update, context: BotContext) -> State:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.gettext("Please choose a theme with the buttons above, or “No particular theme”.")
    )
    return THEME


async def note_received(update: Update, context: BotContext) -> State:
    """Keeps the note (a too long one is kept too, and the resident asked to shorten it)."""
    message = update.effective_message
    assert message is not None
    text = (message.text or "").strip()
    choice = context.user_data.get(CHOICE)
    if not isinstance(choice, dict):
        return await show_days(update, context)
    if len(text) > NOTE_MAX:
        await message.reply_text(
            context.gettext(
                "The note has {n} characters; the limit is {max}. Please shorten it and send it "
                "again."
            ).format(n=len(text), max=NOTE_MAX)
        )
        return NOTE
    context.user_data[CHOICE] = {**choice, "note": text or None}
    return await show_summary(update, context)


async def note_skipped(update: Update, context: BotContext) -> State:
    if update.callback_query:
        await update.callback_query.answer()
    return await show_summary(update, context)


async def note_expected(update: Update, context: BotContext) -> State:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.gettext("Please write the note as text, or press Skip.")
    )
    return NOTE


# -- summary and confirm --------------------------------------------------------------------------


def chosen(context: BotContext) -> tuple[datetime, str | None, str | None] | None:
    choice: Any = context.user_data.get(CHOICE)
    if not isinstance(choice, dict) or "start" not in choice:
        return None
    return datetime.fromisoformat(choice["start"]), choice.get("theme"), choice.get("note")


async def show_summary(update: Update, context: BotContext) -> State:
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    picked = chosen(context)
    if picked is None:
        return await show_days(update, context)
    start_at, theme, note = picked
    rec = context.municipality.reception
    lines = [
        _("Please check your booking:"),
        "",
        _("When: {when}").format(when=when(context.tr, start_at, start_at + rec.slot)),
        _("Where: {place}").format(place=place(context.app, context.language)),
        _("Theme: {theme}").format(theme=theme_label(context.app, context.tr, theme)),
    ]
    if note:
        lines.append(_("Note: {note}").format(note=note))
    await context.bot.send_message(
        chat.id,
        "\n".join(lines),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("✅ Confirm the booking"), callback_data=BUTTONS.data("confirm")
                    )
                ],
                [cancel_button(context)],
            ]
        ),
    )
    return SUMMARY


async def confirm(update: Update, context: BotContext) -> State:
    """Takes the place (if it is still free) in this update's transaction, posts the request to
    the staff chat, plans its lapsing, and says what happens next."""
    _ = context.gettext
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    await query.answer()
    picked = chosen(context)
    if picked is None:
        return await show_days(update, context)
    start_at, theme, note = picked
    day = start_at.astimezone(context.settings.timezone).date()
    if start_at not in await free_slots(context, day):
        return await show_times(update, context, day, notice=unavailable(context, day, start_at))
    rec = context.municipality.reception
    result = await context.store.bookings.request(
        user.id,
        language=context.language,
        starts_at=start_at,
        ends_at=start_at + rec.slot,
        places=rec.places_per_slot,
        theme=theme,
        note=note,
    )
    if isinstance(result, Refusal):
        if result.why == "full":
            return await show_times(
                update, context, day, notice=unavailable(context, day, start_at)
            )
        context.user_data.pop(CHOICE, None)
        await context.bot.send_message(
            chat.id,
            _("You already have a booking: {when}.").format(
                when=when(context.tr, result.existing.starts_at) if result.existing else ""
            ),
            reply_markup=main_menu(context),
        )
        return END
    context.user_data.pop(CHOICE, None)
    await query.edit_message_reply_markup(None)
    await context.store.outbox.enqueue(
        f"booking:{result.id}:requested",
        chat.id,
        "send_message",
        {
            "text": _(
                "Thank you! Your request for {when} is registered and is waiting for the "
                "Development Office's confirmation.\n\nWhat happens next: a specialist confirms "
                "it, and you get a message here with the time, the place on a map and a calendar "
                "file; then reminders before the meeting. If it is not confirmed by {expiry}, the "
                "request lapses and you will be told. You can cancel it under “My submissions and "
                "bookings” (/mine)."
            ).format(
                when=when(context.tr, result.starts_at, result.ends_at),
                expiry=context.tr.datetime(reception.expires_at(rec, result.starts_at), "MMMMd"),
            ),
            "reply_markup": main_menu(context).to_dict(),
        },
    )
    await post_new_booking(context.app, result)
    await plan_expiry(context.app, result)
    return END


async def summary_expected(update: Update, context: BotContext) -> State:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.gettext("Please confirm the booking with the button above, or cancel it.")
    )
    return SUMMARY


async def cancel(update: Update, context: BotContext) -> State:
    """Ends the booking flow (nothing was booked) and any other flow: /cancel ends whatever."""
    if update.callback_query:
        await update.callback_query.answer()
    end_flows(update, context.application, keep=NAME)
    context.user_data.pop(CHOICE, None)
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(
            chat.id,
            context.gettext("Cancelled. Nothing was booked."),
            reply_markup=main_menu(context),
        )
    return END


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    anything = private & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    on = BUTTONS.on
    return [
        ConversationHandler(
            name=NAME,
            persistent=True,
            allow_reentry=True,
            entry_points=[
                CommandHandler("book", start, filters=private),
                CallbackQueryHandler(start, pattern=MENU_ENTRY.pattern),
            ],
            states={
                DATE: [
                    on("day:{id}", day_chosen),
                    on("full:{id}", full_day_chosen),
                    on("days", back_to_days),
                    MessageHandler(anything, day_expected),
                ],
                TIME: [
                    on("slot:{id}:{id}", slot_chosen),
                    on("days", back_to_days),
                    MessageHandler(anything, time_expected),
                ],
                THEME: [
                    on("theme:{word}", theme_chosen),
                    on("notheme", theme_chosen),
                    MessageHandler(anything, theme_expected),
                ],
                NOTE: [
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, note_received),
                    on("skip", note_skipped),
                    MessageHandler(anything, note_expected),
                ],
                SUMMARY: [on("confirm", confirm), MessageHandler(anything, summary_expected)],
            },
            fallbacks=[CommandHandler("cancel", cancel), on("cancel", cancel)],
        ),
    ]
