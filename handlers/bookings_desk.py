"""The office's side of reception bookings: Confirm or Decline on a booking's card in the staff
chat (a decline needs a reason: a common one by button, or typed as a reply to a prompt),
`/closedate` to close a date, `/bookings`, the coming reception's agenda, where attendance is
marked and each day's waitlist is counted, and `/waitlist`, who waits for which date, in order.

Every action goes through `staff_only` when it happens. A button carries the booking's version
its specialist saw, so a second specialist pressing after the first is told what the first did.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import reception
from bot.app import BotContext
from bot.auth import is_staff, staff_only
from bot.callbacks import button_args, button_id
from bot.i18n import N_
from bot.keyboards import inline_keyboard, page_count, paging_row
from bot.proposal_texts import resident_label
from bot.store.bookings import Booking
from bot.text import send_long
from handlers.booking_notices import (
    BUTTONS,
    card_buttons,
    confirm_effects,
    queue_card_update,
    staff_card,
    status_name,
    tell_closed,
    tell_declined,
    theme_label,
)
from handlers.waitlist import offer_freed

PROMPT_MARK = "✍️"
REASON_MAX = 500
# Common reasons for declining, by the word their buttons carry; the resident reads them in
# their own language.
REASONS = {
    "busy": N_("The specialists are not available at that time."),
    "writing": N_("Your question is better answered in writing: please send it as a proposal."),
    "remit": N_("This question is not within the Development Office's remit."),
}
AGENDA_DAYS = 7
WAITLIST_PAGE = 10


async def booking_from_button(update: Update, context: BotContext) -> Booking | None:
    query = update.callback_query
    assert query is not None
    booking = await context.store.bookings.booking(button_id(context))
    if booking is None:
        await query.answer(context.gettext("This booking no longer exists."), show_alert=True)
    return booking


async def show_card(context: BotContext, message: Message | None, booking: Booking) -> None:
    """The booking as it is now, on the message a specialist pressed."""
    if message is None:
        return
    await context.bot.edit_message_text(
        "🆕 " + staff_card(context.app, context.tr, booking),
        chat_id=message.chat_id,
        message_id=message.message_id,
        reply_markup=card_buttons(context.tr, booking),
    )


async def already_decided(update: Update, context: BotContext, booking: Booking) -> None:
    """A second specialist, or a stale button: what happened to the booking instead."""
    query = update.callback_query
    assert query is not None
    current = await context.store.bookings.booking(booking.id) or booking
    text = context.gettext("Booking #{id} is already “{status}”{by}.").format(
        id=current.id,
        status=status_name(context.tr, current.status),
        by=f" ({current.decided_by_name})" if current.decided_by_name else "",
    )
    await query.answer(text, show_alert=True)
    await show_card(context, query.message, current)  # type: ignore[arg-type]


@staff_only
async def confirm(update: Update, context: BotContext) -> None:
    """Confirms a request: the resident gets the confirmation, the map and the calendar file."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    booking = await booking_from_button(update, context)
    if booking is None:
        return
    confirmed = await context.store.bookings.change(
        booking.id,
        "confirmed",
        allowed_from=("requested",),
        seen_version=button_id(context, 1),
        by=user.id,
        by_name=user.full_name,
    )
    if confirmed is None:
        await already_decided(update, context, booking)
        return
    await query.answer(context.gettext("Confirmed; the resident has been told."))
    await show_card(context, query.message, confirmed)  # type: ignore[arg-type]
    await confirm_effects(context.app, confirmed)


@staff_only
async def ask_reason(update: Update, context: BotContext) -> None:
    """Replaces the card's buttons by common reasons, a typed one, and Back."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None
    booking = await booking_from_button(update, context)
    if booking is None:
        return
    if booking.status != "requested" or booking.version != button_id(context, 1):
        await already_decided(update, context, booking)
        return
    await query.answer()
    data = f"{booking.id}:{booking.version}"
    rows = [
        [InlineKeyboardButton(_(text), callback_data=BUTTONS.data("why", data, word))]
        for word, text in REASONS.items()
    ]
    rows.append(
        [InlineKeyboardButton(_("✍️ Another reason"), callback_data=BUTTONS.data("typed", data))]
    )
    rows.append([InlineKeyboardButton(_("◀️ Back"), callback_data=BUTTONS.data("back", data))])
    await query.edit_message_reply_markup(InlineKeyboardMarkup(rows))


@staff_only
async def back(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    booking = await booking_from_button(update, context)
    if booking is None:
        return
    await query.answer()
    await show_card(context, query.message, booking)  # type: ignore[arg-type]


@staff_only
async def decline_with_reason(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    booking = await booking_from_button(update, context)
    if booking is None:
        return
    _id, seen, word = button_args(context)
    if word not in REASONS:
        await query.answer(context.gettext("This button is no longer active."), show_alert=True)
        return
    declined = await decline(update, context, booking, int(seen), REASONS[word])
    if declined is not None:
        await query.answer(context.gettext("Declined; the resident has been told."))
        await show_card(context, query.message, declined)  # type: ignore[arg-type]


async def decline(
    update: Update, context: BotContext, booking: Booking, seen: int, reason: str
) -> Booking | None:
    user = update.effective_user
    assert user is not None
    declined = await context.store.bookings.change(
        booking.id,
        "declined",
        allowed_from=("requested",),
        seen_version=seen,
        by=user.id,
        by_name=user.full_name,
        reason=reason,
    )
    if declined is None:
        if update.callback_query:
            await already_decided(update, context, booking)
        elif update.effective_message:
            current = await context.store.bookings.booking(booking.id) or booking
            await update.effective_message.reply_text(
                context.gettext("Booking #{id} is already “{status}”.").format(
                    id=current.id, status=status_name(context.tr, current.status)
                )
            )
        return None
    await tell_declined(context.app, declined)
    await offer_freed(context.app, declined.starts_at)
    return declined


@staff_only
async def ask_typed_reason(update: Update, context: BotContext) -> None:
    """Asks for the reason as a reply to a prompt, recorded in the store with the version."""
    query = update.callback_query
    assert query is not None and query.message is not None
    booking = await booking_from_button(update, context)
    if booking is None:
        return
    seen = button_id(context, 1)
    if booking.status != "requested" or booking.version != seen:
        await already_decided(update, context, booking)
        return
    await query.answer()
    prompt = await context.bot.send_message(
        query.message.chat.id,
        f"{PROMPT_MARK} "
        + context.gettext(
            "Why is booking #{id} declined? Reply to this message with the reason; the resident "
            "will see it."
        ).format(id=booking.id),
        reply_markup=ForceReply(selective=True),
        message_thread_id=getattr(query.message, "message_thread_id", None),
    )
    await context.store.bookings.record_prompt(
        prompt.chat_id, prompt.message_id, booking.id, version=seen
    )


async def reason_replied(update: Update, context: BotContext) -> None:
    """A reply to a decline prompt declines that booking; any other reply goes on to the other
    flows (this runs before them, in its own group)."""
    message = update.effective_message
    if message is None or message.reply_to_message is None:
        return
    replied = message.reply_to_message
    prompt = await context.store.bookings.prompt_at(message.chat_id, replied.message_id)
    if prompt is None:
        return
    user = update.effective_user
    if user is None or not await is_staff(context, user.id):
        raise ApplicationHandlerStop
    text = (message.text or "").strip()
    booking = await context.store.bookings.booking(prompt.booking_id)
    if not text or len(text) > REASON_MAX:
        await message.reply_text(
            context.gettext("A reason must be 1 to {max} characters; this one has {n}.").format(
                max=REASON_MAX, n=len(text)
            )
        )
    elif booking is not None:
        declined = await decline(update, context, booking, prompt.version, text)
        if declined is not None:
            await context.store.bookings.forget_prompt(message.chat_id, replied.message_id)
            await queue_card_update(context.app, declined)
            await message.reply_text(
                context.gettext("Booking #{id} declined; the resident has been told.").format(
                    id=declined.id
                )
            )
    raise ApplicationHandlerStop


# -- /closedate ------------------------------------------------------------------------------------


@staff_only
async def close_date(update: Update, context: BotContext) -> None:
    """/closedate YYYY-MM-DD reason: closes the reception that day; its bookings are cancelled
    and every affected resident is told, in their language."""
    _ = context.gettext
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    args = context.args or []
    day: date | None = None
    if args:
        try:
            day = date.fromisoformat(args[0])
        except ValueError:
            day = None
    reason = " ".join(args[1:]).strip()
    today = context.now().astimezone(context.settings.timezone).date()
    if day is None or not reason or len(reason) > REASON_MAX:
        await message.reply_text(
            _("Usage: /closedate YYYY-MM-DD reason — e.g. /closedate 2027-03-17 staff training")
        )
        return
    if day < today:
        await message.reply_text(
            _("{date} is in the past.").format(date=context.tr.date(day, "yMMMMEd"))
        )
        return
    if not await context.store.bookings.close_date(day, reason, by=user.id):
        await message.reply_text(
            _("{date} is closed already.").format(date=context.tr.date(day, "yMMMMEd"))
        )
        return
    zone = context.settings.timezone
    since = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    affected = await context.store.bookings.active_between(since, since + timedelta(days=1))
    for booking in affected:
        cancelled = await context.store.bookings.change(
            booking.id,
            "cancelled",
            allowed_from=("requested", "confirmed"),
            by=user.id,
            by_name=user.full_name,
            reason=reason,
        )
        if cancelled is not None:
            await tell_closed(context.app, cancelled)
            await queue_card_update(context.app, cancelled)
    await message.reply_text(
        context.ngettext(
            "The reception on {date} is closed. {n} booking was cancelled; the resident has been "
            "told.",
            "The reception on {date} is closed. {n} bookings were cancelled; the residents have "
            "been told.",
            len(affected),
        ).format(date=context.tr.date(day, "yMMMMEd"), n=len(affected))
    )


# -- /bookings: the agenda -------------------------------------------------------------------------


@staff_only
async def agenda(update: Update, context: BotContext) -> None:
    """The coming reception days' bookings, a day a page, by slot, with attendance buttons."""
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    page = 0
    if update.callback_query:
        await update.callback_query.answer()
        page = button_id(context)
    zone = context.settings.timezone
    now = context.now()
    today = datetime.combine(now.astimezone(zone).date(), datetime.min.time(), tzinfo=zone)
    bookings = await context.store.bookings.agenda(today, today + timedelta(days=AGENDA_DAYS))
    days = sorted({b.starts_at.astimezone(zone).date() for b in bookings})
    if not days:
        await context.bot.send_message(
            chat.id, _("No bookings for the coming {n} days.").format(n=AGENDA_DAYS)
        )
        return
    page = min(page, len(days) - 1)
    day = days[page]
    lines = [_("Reception on {date}").format(date=context.tr.date(day, "yMMMMEd")), ""]
    rows: list[list[InlineKeyboardButton]] = []
    for booking in (b for b in bookings if b.starts_at.astimezone(zone).date() == day):
        time_text = reception_time(context, booking.starts_at)
        lines.append(
            f"{time_text} · #{booking.id} · {resident_label(context.tr, booking.resident_id)} · "
            f"{theme_label(context.app, context.tr, booking.theme)} · "
            f"{status_name(context.tr, booking.status)}"
            + (f"\n    {booking.note}" if booking.note else "")
        )
        if booking.status == "confirmed":
            data = f"{booking.id}:{booking.version}"
            rows.append(
                [
                    InlineKeyboardButton(
                        _("✔️ {time} #{id} came").format(time=time_text, id=booking.id),
                        callback_data=BUTTONS.data("came", data),
                    ),
                    InlineKeyboardButton(
                        _("✖️ {time} #{id} did not come").format(time=time_text, id=booking.id),
                        callback_data=BUTTONS.data("noshow", data),
                    ),
                ]
            )
    waiting = await context.store.waitlist.length(day)
    if waiting:
        lines += ["", waitlist_count(context, waiting)]
        rows.append([waitlist_button(context, day, waiting)])
    navigation = []
    if page > 0:
        navigation.append(InlineKeyboardButton("◀️", callback_data=BUTTONS.data("agenda", page - 1)))
    if page + 1 < len(days):
        navigation.append(InlineKeyboardButton("▶️", callback_data=BUTTONS.data("agenda", page + 1)))
    rows.append(navigation)
    await send_long(context.bot, chat.id, "\n".join(lines), reply_markup=inline_keyboard(rows))


def reception_time(context: BotContext, moment: datetime) -> str:
    from babel.dates import format_time

    return format_time(moment, "short", tzinfo=context.settings.timezone, locale=context.tr.locale)


@staff_only
async def mark_attended(update: Update, context: BotContext) -> None:
    await mark_attendance(update, context, "attended")


@staff_only
async def mark_no_show(update: Update, context: BotContext) -> None:
    await mark_attendance(update, context, "no_show")


async def mark_attendance(update: Update, context: BotContext, status: str) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    booking = await booking_from_button(update, context)
    if booking is None:
        return
    marked = await context.store.bookings.change(
        booking.id,
        status,
        allowed_from=("confirmed",),
        seen_version=button_id(context, 1),
        by=user.id,
        by_name=user.full_name,
    )
    if marked is None:
        await already_decided(update, context, booking)
        return
    await query.answer(
        context.gettext("#{id}: {status}").format(
            id=marked.id, status=status_name(context.tr, marked.status)
        )
    )
    await query.edit_message_reply_markup(None)


# -- /waitlist: who waits for a place -------------------------------------------------------------


def waitlist_count(context: BotContext, n: int) -> str:
    return context.ngettext(
        "📝 Waitlist: {n} resident waiting", "📝 Waitlist: {n} residents waiting", n
    ).format(n=n)


def waitlist_button(context: BotContext, day: date, n: int) -> InlineKeyboardButton:
    """Opens `day`'s line (as a new message, beside the agenda or the overview)."""
    return InlineKeyboardButton(
        context.gettext("📝 {date}: waitlist ({n})").format(
            date=context.tr.date(day, "MMMMEd"), n=n
        ),
        callback_data=BUTTONS.data("wl", reception.day_code(day), "0"),
    )


@staff_only
async def waitlists(update: Update, context: BotContext) -> None:
    """/waitlist: the coming dates residents wait for, each with how many and its button."""
    message = update.effective_message
    assert message is not None
    today = context.now().astimezone(context.settings.timezone).date()
    lengths = await context.store.waitlist.lengths(today)
    if not lengths:
        await message.reply_text(context.gettext("Nobody is waiting for a reception date."))
        return
    await message.reply_text(
        context.gettext("Waitlists of the coming reception dates, first come first offered:"),
        reply_markup=inline_keyboard(
            [[waitlist_button(context, day, n)] for day, n in lengths.items()]
        ),
    )


@staff_only
async def open_waitlist(update: Update, context: BotContext) -> None:
    await waitlist_page(update, context, turning_page=False)


@staff_only
async def turn_waitlist_page(update: Update, context: BotContext) -> None:
    await waitlist_page(update, context, turning_page=True)


async def waitlist_page(update: Update, context: BotContext, *, turning_page: bool) -> None:
    """One page of a date's line, in the order its places are offered: who (as the agenda names
    residents), in which language, since when, and an open offer's slot and deadline. Opening it
    sends the list; paging edits it."""
    _ = context.gettext
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    day = reception.day_of_code(button_id(context))
    if day is None:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    await query.answer()
    total = await context.store.waitlist.length(day)
    page = min(button_id(context, 1), page_count(total, WAITLIST_PAGE) - 1)
    entries = await context.store.waitlist.line(
        day, offset=page * WAITLIST_PAGE, limit=WAITLIST_PAGE
    )
    heading = _("Waitlist for {date}").format(date=context.tr.date(day, "yMMMMEd"))
    lines = [heading, waitlist_count(context, total)]
    if total > WAITLIST_PAGE:
        lines.append(
            _("Page {page} of {pages}").format(
                page=page + 1, pages=page_count(total, WAITLIST_PAGE)
            )
        )
    lines.append("")
    if not entries:
        lines.append(_("Nobody is waiting for this date any more."))
    for number, entry in enumerate(entries, start=page * WAITLIST_PAGE + 1):
        line = _("{number}. {resident} · {language} · since {since}").format(
            number=number,
            resident=resident_label(context.tr, entry.resident_id),
            language=entry.language,
            since=context.tr.datetime(entry.created_at, "MMMd"),
        )
        if entry.status == "offered" and entry.offered_start and entry.offered_until:
            line += "\n    " + _("offered {time}, to answer by {until}").format(
                time=reception_time(context, entry.offered_start),
                until=context.tr.datetime(entry.offered_until, "MMMd"),
            )
        lines.append(line)
    code = reception.day_code(day)
    navigation = paging_row(
        page=page,
        total=total,
        page_size=WAITLIST_PAGE,
        previous_label=_("◀️ Previous"),
        next_label=_("Next ▶️"),
        data_for=lambda n: BUTTONS.data("wlp", code, n),
    )
    markup = inline_keyboard([navigation])
    if turning_page and query.message is not None:
        await show_text(context, query.message, "\n".join(lines), markup)  # type: ignore[arg-type]
    else:
        await send_long(context.bot, chat.id, "\n".join(lines), reply_markup=markup)


async def show_text(
    context: BotContext, message: Message, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    await context.bot.edit_message_text(
        text, chat_id=message.chat_id, message_id=message.message_id, reply_markup=markup
    )


def prompt_reply_handlers() -> list[BaseHandler]:
    """Before everything else that takes replies (see handlers/__init__.py)."""
    return [MessageHandler(filters.TEXT & ~filters.COMMAND & filters.REPLY, reason_replied)]


def handlers() -> list[BaseHandler]:
    on = BUTTONS.on
    return [
        on("ok:{id}:{id}", confirm),
        on("no:{id}:{id}", ask_reason),
        on("back:{id}:{id}", back),
        on("why:{id}:{id}:{word}", decline_with_reason),
        on("typed:{id}:{id}", ask_typed_reason),
        on("agenda:{id}", agenda),
        on("came:{id}:{id}", mark_attended),
        on("noshow:{id}:{id}", mark_no_show),
        on("wl:{id}:{id}", open_waitlist),
        on("wlp:{id}:{id}", turn_waitlist_page),
        CommandHandler("bookings", agenda),
        CommandHandler("waitlist", waitlists),
        CommandHandler("closedate", close_date),
    ]
