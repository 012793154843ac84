"""Broadcasting a meeting to its theme's subscribers, the office's side: after a meeting is
published, changed or cancelled, a preview as residents will read it and who it would reach,
then an explicit "Send" (which writes the delivery ledger: handlers/meeting_notices.py) or
"Don't send"; on the progress message "Pause" holds what is not sent yet, "Resume" sends it
after all, and "Stop" (paused or not) settles it as not sent. Each press is answered with a
toast and shown on the progress message by bringing its job forward; a press on a broadcast
that has finished or was stopped changes nothing and says so.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from bot.app import BotContext
from bot.auth import staff_only
from bot.callbacks import Buttons, button_id
from bot.i18n import STAFF_LANGUAGE, translator
from bot.store.meetings import ANNOUNCEMENT, Meeting
from handlers.meeting_notices import (
    STAFF_BUTTONS,
    keyboard,
    meeting_text,
    say,
    show_progress_now,
    start_broadcast,
)

BUTTONS = STAFF_BUTTONS


async def offer_broadcast(update: Update, context: BotContext, meeting: Meeting, kind: str) -> None:
    """The preview as residents will read it, who it would reach, and an explicit confirm."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    counts = await context.store.broadcasts.recipients_by_language(meeting.theme)
    draft = await context.store.broadcasts.offer_broadcast(meeting, kind, by=user.id)
    tr = translator(STAFF_LANGUAGE, context.settings.timezone)
    text = "\n\n".join(
        [
            _(
                "Saved. Tell the theme's subscribers? They would read (in Latvian here; each "
                "in their own language):"
            ),
            meeting_text(context.app, tr, meeting, kind),
            reach_line(context, counts),
        ]
    )
    await say(update, context, text, confirm_keyboard(context, BUTTONS, draft.id, counts))


def reach_line(context: BotContext, counts: dict[str, int]) -> str:
    """How many a broadcast would reach, by their language."""
    return context.gettext("Subscribers who would get it: {n} (lv {lv}, ru {ru}, en {en}).").format(
        n=sum(counts.values()),
        lv=counts.get("lv", 0),
        ru=counts.get("ru", 0),
        en=counts.get("en", 0),
    )


def confirm_keyboard(
    context: BotContext, buttons: Buttons, draft_id: int, counts: dict[str, int]
) -> InlineKeyboardMarkup:
    """Send to N (when there is anyone to send to) and Don't send, under a broadcast's preview
    (`buttons`: whose handlers take the presses; each routes them to `send` and `drop`)."""
    total = sum(counts.values())
    rows = [[(context.gettext("❎ Don't send"), buttons.data("drop", draft_id))]]
    if total:
        label = context.ngettext(
            "📣 Send to {n} subscriber", "📣 Send to {n} subscribers", total
        ).format(n=total)
        rows.insert(0, [(label, buttons.data("send", draft_id))])
    return keyboard(*rows)


@staff_only
async def send(update: Update, context: BotContext) -> None:
    """Send (a meeting's broadcast or an announcement): writes the ledger and starts the
    progress message — once, however often pressed."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    broadcast = await start_broadcast(context.app, button_id(context), by=user.id, chat_id=chat.id)
    if broadcast is None:
        await query.answer(await no_longer_a_draft(context), show_alert=True)
        return
    await query.answer(context.gettext("Sending."))
    await query.edit_message_reply_markup(None)


@staff_only
async def drop(update: Update, context: BotContext) -> None:
    """Don't send: the draft is dropped; nobody gets anything."""
    query = update.callback_query
    assert query is not None
    if not await context.store.broadcasts.drop_draft(button_id(context)):
        await query.answer(await no_longer_a_draft(context), show_alert=True)
        return
    await query.answer(context.gettext("Not sent."))
    await query.edit_message_reply_markup(None)


async def no_longer_a_draft(context: BotContext) -> str:
    """Why a Send or Don't send pressed now changes nothing."""
    broadcast = await context.store.broadcasts.broadcast(button_id(context))
    if broadcast is not None and broadcast.kind == ANNOUNCEMENT:
        return context.gettext("This announcement was sent already, or dropped.")
    return context.gettext("This broadcast was sent already, or its meeting has changed since.")


@staff_only
async def stop_broadcast(update: Update, context: BotContext) -> None:
    """Settles what a broadcast has not sent (paused or not) as not sent; the report follows."""
    query = update.callback_query
    assert query is not None
    broadcast = await context.store.broadcasts.broadcast(button_id(context))
    if broadcast is None or broadcast.status != "sending":
        await over_already(update, context)
        return
    stopped = await context.store.broadcasts.stop_broadcast(broadcast.id)
    await show_progress_now(context.app, broadcast.id)
    await query.answer(
        context.ngettext(
            "Stopped: {n} message will not be sent.",
            "Stopped: {n} messages will not be sent.",
            stopped,
        ).format(n=stopped),
        show_alert=True,
    )


@staff_only
async def pause(update: Update, context: BotContext) -> None:
    """Holds what a sending broadcast has not sent yet, until Resume (a restart keeps it so)."""
    query = update.callback_query
    assert query is not None
    broadcast = await context.store.broadcasts.broadcast(button_id(context))
    if broadcast is not None and broadcast.paused:
        await query.answer(context.gettext("It is paused already."))
        return
    held = await context.store.broadcasts.pause_broadcast(button_id(context))
    if held is None:
        await over_already(update, context)
        return
    await show_progress_now(context.app, button_id(context))
    await query.answer(context.gettext("Paused. Waiting: {n}").format(n=held))


@staff_only
async def resume(update: Update, context: BotContext) -> None:
    """Sends a paused broadcast's held copies after all."""
    query = update.callback_query
    assert query is not None
    broadcast = await context.store.broadcasts.broadcast(button_id(context))
    if broadcast is not None and broadcast.status == "sending" and not broadcast.paused:
        await query.answer(context.gettext("It is being sent already."))
        return
    waiting = await context.store.broadcasts.resume_broadcast(button_id(context))
    if waiting is None:
        await over_already(update, context)
        return
    await show_progress_now(context.app, button_id(context))
    await query.answer(context.gettext("Resumed. To send: {n}").format(n=waiting))


async def over_already(update: Update, context: BotContext) -> None:
    """A press on a broadcast that has finished or was stopped (a stale message)."""
    query = update.callback_query
    assert query is not None
    await query.answer(
        context.gettext("This broadcast has finished or was stopped: there is nothing to change."),
        show_alert=True,
    )


def handlers() -> list[BaseHandler]:
    on = BUTTONS.on
    return [
        on("send:{id}", send),
        on("drop:{id}", drop),
        on("stop:{id}", stop_broadcast),
        on("pause:{id}", pause),
        on("resume:{id}", resume),
    ]
