"""Working-group meetings for residents: the upcoming meetings, all or of one theme, a page at a
time, each with its date, time and place in the text and buttons to add it to a calendar (an
.ics file), show it on a map or be reminded of it (handlers/meeting_reminders.py plans and sends
the reminder); subscriptions to a theme's meetings or to all; the weekly digest
of their themes' meetings, turned on and off with one button (handlers/meeting_digest.py sends
it); /stop ends them all.

Stateless: every button carries what it shows (theme and page), so an old message still works
and no conversation is started or ended.
"""

from __future__ import annotations

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.app import BotContext
from bot.callbacks import button_args, button_id
from bot.i18n import N_
from bot.store.meetings import ALL_THEMES
from handlers import meeting_reminders
from handlers.booking_notices import when
from handlers.meeting_digest import MEETING_BUTTONS_HELP, digest_button, when_it_comes
from handlers.meeting_notices import (
    RESIDENT_BUTTONS,
    calendar_file,
    meeting_place,
    numbered_buttons,
    theme_name,
)
from handlers.menu import MenuEntry, main_menu

BUTTONS = RESIDENT_BUTTONS
MENU_ENTRY = MenuEntry(N_("👥 Working-group meetings"), "meetings")
PAGE = 5
ALL = "all"  # the theme word of "all themes" in buttons
DIGEST = BUTTONS.data("dg", "")  # the digest toggle's data, without the state it asks for


async def start(update: Update, context: BotContext) -> None:
    """The menu entry: the upcoming meetings of every theme, first page."""
    if update.callback_query:
        await update.callback_query.answer()
    await show_list(update, context, None, 0)


async def list_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    word, page = button_args(context)
    theme = None if word == ALL else word
    if theme is not None and context.municipality.theme(theme) is None:
        theme = None
    await show_list(update, context, theme, int(page))


async def show_list(update: Update, context: BotContext, theme: str | None, page: int) -> None:
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    meetings, total = await context.store.meetings.upcoming(
        context.now(), theme=theme, offset=page * PAGE, limit=PAGE
    )
    if not meetings and page > 0:
        page = 0
        meetings, total = await context.store.meetings.upcoming(
            context.now(), theme=theme, limit=PAGE
        )
    scope = theme_name(context.app, context.language, theme) if theme else _("all themes")
    lines = [_("Upcoming working-group meetings ({scope}):").format(scope=scope)]
    rows: list[list[InlineKeyboardButton]] = []
    if not meetings:
        lines.append(_("None are planned yet. Subscribe, and you will hear of new ones here."))
    for number, meeting in enumerate(meetings, start=page * PAGE + 1):
        lines += [
            "",
            f"{number}. {theme_name(context.app, context.language, meeting.theme)}",
            when(context.tr, meeting.starts_at, meeting.ends_at),
            meeting_place(context.app, meeting, context.language),
            meeting.description(context.language),
        ]
        rows.append(numbered_buttons(number, meeting))
    word = theme or ALL
    navigation = []
    if page > 0:
        navigation.append(
            InlineKeyboardButton("◀️", callback_data=BUTTONS.data("list", word, page - 1))
        )
    if (page + 1) * PAGE < total:
        navigation.append(
            InlineKeyboardButton("▶️", callback_data=BUTTONS.data("list", word, page + 1))
        )
    if navigation:
        rows.append(navigation)
    if meetings:
        lines += ["", _(MEETING_BUTTONS_HELP)]
    rows.append(
        [
            InlineKeyboardButton(_("🏷 By theme"), callback_data=BUTTONS.data("themes")),
            InlineKeyboardButton(_("🔔 Subscriptions"), callback_data=BUTTONS.data("subs")),
        ]
    )
    user = update.effective_user
    digest_on = user is not None and await context.store.meetings.digest_on(user.id)
    rows.append([digest_button(context.tr, context.settings, digest_on)])
    await context.bot.send_message(
        chat.id, "\n".join(lines)[:4096], reply_markup=InlineKeyboardMarkup(rows)
    )


async def choose_theme(update: Update, context: BotContext) -> None:
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    await query.answer()
    buttons = [
        InlineKeyboardButton(
            theme.name(context.language), callback_data=BUTTONS.data("list", theme.slug, 0)
        )
        for theme in context.municipality.themes
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [
            InlineKeyboardButton(
                context.gettext("All themes"), callback_data=BUTTONS.data("list", ALL, 0)
            )
        ]
    )
    await context.bot.send_message(
        chat.id,
        context.gettext("Whose meetings would you like to see?"),
        reply_markup=InlineKeyboardMarkup(rows),
    )


# -- subscriptions -------------------------------------------------------------------------------


def subscription_buttons(
    context: BotContext, subscribed: set[str], digest_on: bool
) -> InlineKeyboardMarkup:
    def label(text: str, on: bool) -> str:
        return f"✅ {text}" if on else text

    buttons = [
        InlineKeyboardButton(
            label(theme.name(context.language), theme.slug in subscribed),
            callback_data=BUTTONS.data("sub", theme.slug),
        )
        for theme in context.municipality.themes
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [
            InlineKeyboardButton(
                label(context.gettext("All themes"), ALL_THEMES in subscribed),
                callback_data=BUTTONS.data("sub", ALL),
            )
        ]
    )
    rows.append([digest_button(context.tr, context.settings, digest_on)])
    rows.append(
        [
            InlineKeyboardButton(
                context.gettext("◀️ Meetings"), callback_data=BUTTONS.data("list", ALL, 0)
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


async def subscriptions(update: Update, context: BotContext) -> None:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and chat is not None and user is not None
    await query.answer()
    subscribed = await context.store.meetings.subscriptions_of(user.id)
    digest_on = await context.store.meetings.digest_on(user.id)
    await context.bot.send_message(
        chat.id,
        context.gettext(
            "Press a theme to hear about its meetings here (✅ = subscribed), or “All themes”. "
            "Press again to unsubscribe. The weekly digest brings the coming week's meetings of "
            "these themes in one message, once a week. /stop ends every subscription."
        ),
        reply_markup=subscription_buttons(context, subscribed, digest_on),
    )


async def toggle(update: Update, context: BotContext) -> None:
    """Subscribes to a theme (or all), or unsubscribes if subscribed; ticks the button."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    word = button_args(context)[0]
    theme = ALL_THEMES if word == ALL else word
    if theme != ALL_THEMES and context.municipality.theme(theme) is None:
        await query.answer(context.gettext("This button is no longer active."))
        return
    subscribed = await context.store.meetings.subscriptions_of(user.id)
    name = (
        context.gettext("All themes")
        if theme == ALL_THEMES
        else theme_name(context.app, context.language, theme)
    )
    if theme in subscribed:
        await context.store.meetings.unsubscribe(user.id, theme)
        subscribed.discard(theme)
        await query.answer(context.gettext("Unsubscribed: {theme}").format(theme=name))
    else:
        await context.store.meetings.subscribe(user.id, theme)
        subscribed.add(theme)
        await query.answer(context.gettext("Subscribed: {theme}").format(theme=name))
    digest_on = await context.store.meetings.digest_on(user.id)
    await edit_buttons(query, subscription_buttons(context, subscribed, digest_on))


async def edit_buttons(query: CallbackQuery, markup: InlineKeyboardMarkup) -> None:
    """Shows `markup` under the message whose button was pressed."""
    await query.edit_message_reply_markup(markup)


async def switch_digest(update: Update, context: BotContext) -> None:
    """Turns the weekly digest on or off, as the pressed button asks, says so, and shows the
    button's new state wherever it was pressed (the list, the subscriptions, a digest)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    state = button_args(context)[0]
    if state not in ("on", "off"):
        await query.answer(context.gettext("This button is no longer active."))
        return
    on = state == "on"
    await context.store.meetings.set_digest(user.id, on)
    _ = context.gettext
    if not on:
        await query.answer(_("The weekly digest is off."))
    elif await context.store.meetings.subscriptions_of(user.id):
        await query.answer(
            _("The weekly digest is on: {when}, the coming week's meetings of your themes.").format(
                when=when_it_comes(context.tr, context.settings)
            )
        )
    else:
        await query.answer(
            _(
                "The weekly digest is on ({when}), but you have no subscriptions yet: choose "
                "themes under “🔔 Subscriptions”."
            ).format(when=when_it_comes(context.tr, context.settings)),
            show_alert=True,
        )
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        button = digest_button(context.tr, context.settings, on)
        rows = [
            [button if str(b.callback_data or "").startswith(DIGEST) else b for b in row]
            for row in message.reply_markup.inline_keyboard
        ]
        await edit_buttons(query, InlineKeyboardMarkup(rows))


async def stop(update: Update, context: BotContext) -> None:
    """/stop: no more meeting notices or announcements, and how to come back. The reminders
    the resident asked for one meeting at a time stay (each was an explicit request, and ⏰
    turns it off): the answer says so when there are any."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    await context.store.meetings.unsubscribe_all(user.id)
    text = context.gettext(
        "Done: you will get no more notices of working-group meetings, nor the office's "
        "announcements to their subscribers, nor the weekly digest. To subscribe again, "
        "open “👥 Working-group meetings” in the menu and press “🔔 Subscriptions”."
    )
    if waiting := await context.store.meetings.reminders_waiting(user.id, context.now()):
        text += "\n\n" + context.ngettext(
            "You still get the {n} meeting reminder you asked for with ⏰; pressing ⏰ by the "
            "meeting again turns it off.",
            "You still get the {n} meeting reminders you asked for with ⏰; pressing ⏰ by a "
            "meeting again turns one off.",
            waiting,
        ).format(n=waiting)
    await message.reply_text(text, reply_markup=main_menu(context))


# -- one meeting ---------------------------------------------------------------------------------


async def add_to_calendar(update: Update, context: BotContext) -> None:
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    meeting = await context.store.meetings.meeting(button_id(context))
    if meeting is None or meeting.is_cancelled:
        await query.answer(context.gettext("This meeting has been cancelled."), show_alert=True)
        return
    await query.answer()
    await context.bot.send_document(
        chat.id,
        InputFile(
            calendar_file(context.app, meeting, context.tr), filename=f"meeting-{meeting.id}.ics"
        ),
        caption=when(context.tr, meeting.starts_at, meeting.ends_at),
    )


async def show_on_map(update: Update, context: BotContext) -> None:
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    meeting = await context.store.meetings.meeting(button_id(context))
    if meeting is None:
        await query.answer(context.gettext("This button is no longer active."))
        return
    await query.answer()
    if meeting.place:  # a place of its own: no coordinates to show, only its name
        await context.bot.send_message(chat.id, meeting.place)
        return
    venue = context.municipality.meeting_venue
    await context.bot.send_venue(
        chat.id,
        latitude=venue.latitude,
        longitude=venue.longitude,
        title=venue.name(context.language),
        address=venue.address,
    )


async def remind_me(update: Update, context: BotContext) -> None:
    """⏰ by a meeting: turns its reminder on and says when it will come, or off if it was on;
    for a meeting begun, cancelled or starting soon, says so and stores nothing."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    _ = context.gettext
    meeting = await context.store.meetings.meeting(button_id(context))
    if meeting is None:
        await query.answer(_("This button is no longer active."))
        return
    if meeting.is_cancelled:
        await query.answer(_("This meeting has been cancelled."), show_alert=True)
        return
    now = context.now()
    if meeting.starts_at <= now:
        await query.answer(
            _("This meeting has already begun: there is nothing to remind you of."),
            show_alert=True,
        )
        return
    if await context.store.meetings.reminder(meeting.id, user.id) is not None:
        await meeting_reminders.turn_off(context.app, meeting.id, user.id)
        await query.answer(_("🔕 Reminder off: you will not be reminded of this meeting."))
        return
    lead = meeting_reminders.lead_for(meeting.starts_at, now)
    if lead is None:
        await query.answer(
            _("This meeting starts soon, {when}: no reminder is needed.").format(
                when=when(context.tr, meeting.starts_at, meeting.ends_at)
            ),
            show_alert=True,
        )
        return
    due = await meeting_reminders.turn_on(context.app, meeting, user.id, lead)
    text = (
        _("⏰ Reminder set for {when}, a day before the meeting. Press ⏰ again to turn it off.")
        if lead == meeting_reminders.DAY_BEFORE
        else _(
            "⏰ Reminder set for {when}, an hour before the meeting. Press ⏰ again to turn it off."
        )
    )
    await query.answer(text.format(when=context.tr.datetime(due, "MMMMEd")))


def handlers() -> list[BaseHandler]:
    on = BUTTONS.on
    return [
        CallbackQueryHandler(start, pattern=MENU_ENTRY.pattern),
        on("list:{word}:{id}", list_page),
        on("themes", choose_theme),
        on("subs", subscriptions),
        on("sub:{word}", toggle),
        on("dg:{word}", switch_digest),
        on("ics:{id}", add_to_calendar),
        on("map:{id}", show_on_map),
        on("rm:{id}", remind_me),
        CommandHandler("stop", stop, filters=filters.ChatType.PRIVATE),
    ]
