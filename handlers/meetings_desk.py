"""The office's side of working-group meetings: `/newmeeting` (theme → date and time → the
description in Latvian → Russian and English, each optional → the summary → Publish), editing
and cancelling from `/meetings` — and, after each, the offer to broadcast it to the theme's
subscribers (handlers/broadcast_desk.py). Importing a schedule: handlers/meetings_import.py.

The meeting's venue is the municipality's meetings venue (an imported event may name another).
Rights are checked on every step when it happens (`staff_only`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.app import BotContext
from bot.auth import staff_only
from bot.callbacks import button_args, button_id
from bot.i18n import N_
from bot.meetings_ics import parse_when
from bot.meetings_schedule import DESCRIPTION_MAX
from bot.store.meetings import Meeting
from handlers import meeting_reminders
from handlers.booking_notices import when
from handlers.broadcast_desk import offer_broadcast
from handlers.flows import end_flows
from handlers.meeting_notices import STAFF_BUTTONS, keyboard, meeting_text, say, theme_name

NAME = "meeting_desk"
BUTTONS = STAFF_BUTTONS
THEME, WHEN, LV, RU, EN, SUMMARY = "theme", "when", "lv", "ru", "en", "summary"
END = ConversationHandler.END
State = str | int
DRAFT = "meeting_draft"  # user_data: {"id", "version", "theme", "start", "end", "lv", "ru", "en"}


def _draft(context: BotContext) -> dict[str, Any]:
    draft = context.user_data.get(DRAFT)
    return draft if isinstance(draft, dict) else {}


def _keep_or_cancel(context: BotContext, *, skip: bool = False) -> InlineKeyboardMarkup:
    _ = context.gettext
    row = []
    if _draft(context).get("id"):
        row.append((_("Keep as it is"), BUTTONS.data("keep")))
    elif skip:
        row.append((_("Skip"), BUTTONS.data("keep")))
    return keyboard(row, [(_("✖️ Cancel"), BUTTONS.data("quit"))])


# -- creating and editing ------------------------------------------------------------------------


@staff_only
async def new_meeting(update: Update, context: BotContext) -> State:
    """/newmeeting: asks for the theme."""
    end_flows(update, context.application, keep=NAME)
    context.user_data[DRAFT] = {}
    rows = [
        [(theme.name(context.language), BUTTONS.data("theme", theme.slug))]
        for theme in context.municipality.themes
    ]
    rows.append([(context.gettext("✖️ Cancel"), BUTTONS.data("quit"))])
    await say(
        update, context, context.gettext("New working-group meeting: which theme?"), keyboard(*rows)
    )
    return THEME


@staff_only
async def edit_meeting(update: Update, context: BotContext) -> State:
    """✏️ on /meetings: the same steps, each with “Keep as it is”."""
    meeting = await context.store.meetings.meeting(button_id(context))
    if meeting is None or meeting.is_cancelled:
        await say(update, context, context.gettext("This meeting can no longer be changed."))
        return END
    end_flows(update, context.application, keep=NAME)
    context.user_data[DRAFT] = {
        "id": meeting.id,
        "version": meeting.version,
        "theme": meeting.theme,
        "start": meeting.starts_at.isoformat(),
        "end": meeting.ends_at.isoformat(),
        "place": meeting.place,
        "lv": meeting.description_lv,
        "ru": meeting.description_ru,
        "en": meeting.description_en,
    }
    return await ask_when(update, context)


async def theme_chosen(update: Update, context: BotContext) -> State:
    slug = button_args(context)[0]
    if context.municipality.theme(slug) is None:
        return THEME
    context.user_data[DRAFT] = {**_draft(context), "theme": slug}
    return await ask_when(update, context)


async def ask_when(update: Update, context: BotContext) -> State:
    await say(
        update,
        context,
        context.gettext(
            "When? Write the date and time in Riga's time, e.g. 2027-02-03 17:30 (90 minutes), "
            "or with the end: 2027-02-03 17:30-19:00."
        ),
        _keep_or_cancel(context),
    )
    return WHEN


async def when_received(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None
    parsed = parse_when(message.text or "", context.settings.timezone)
    if parsed is None or parsed[0] <= context.now():
        await message.reply_text(
            context.gettext("Please write a future date and time like 2027-02-03 17:30.")
        )
        return WHEN
    start, end = parsed
    context.user_data[DRAFT] = {
        **_draft(context),
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    return await ask_text(update, context, LV)


PROMPTS = {
    LV: N_("The description in Latvian (required: what the meeting is about, who is welcome):"),
    RU: N_("The description in Russian (optional; without it residents read the Latvian one):"),
    EN: N_("The description in English (optional; without it residents read the Latvian one):"),
}
NEXT = {LV: RU, RU: EN, EN: SUMMARY}


async def ask_text(update: Update, context: BotContext, step: str) -> State:
    await say(
        update, context, context.gettext(PROMPTS[step]), _keep_or_cancel(context, skip=step != LV)
    )
    return step


def _text_step(step: str) -> Any:
    async def received(update: Update, context: BotContext) -> State:
        message = update.effective_message
        assert message is not None
        text = (message.text or "").strip()
        if not text or len(text) > DESCRIPTION_MAX:
            await message.reply_text(
                context.gettext("A description must be 1 to {max} characters.").format(
                    max=DESCRIPTION_MAX
                )
            )
            return step
        context.user_data[DRAFT] = {**_draft(context), step: text}
        return await _next(update, context, step)

    async def kept(update: Update, context: BotContext) -> State:
        if step == LV and not _draft(context).get(LV):
            return await ask_text(update, context, LV)
        return await _next(update, context, step)

    return received, kept


async def _next(update: Update, context: BotContext, step: str) -> State:
    following = NEXT[step]
    if following == SUMMARY:
        return await show_summary(update, context)
    return await ask_text(update, context, following)


async def when_kept(update: Update, context: BotContext) -> State:
    if not _draft(context).get("start"):
        return await ask_when(update, context)
    return await ask_text(update, context, LV)


def _draft_meeting(context: BotContext) -> Meeting | None:
    """The draft as a meeting (to show it as residents will read it)."""
    draft = _draft(context)
    if not all(draft.get(key) for key in ("theme", "start", "end", "lv")):
        return None
    now = context.now()
    return Meeting(
        id=int(draft.get("id") or 0),
        theme=draft["theme"],
        starts_at=datetime.fromisoformat(draft["start"]),
        ends_at=datetime.fromisoformat(draft["end"]),
        place=draft.get("place"),
        description_lv=draft["lv"],
        description_ru=draft.get("ru"),
        description_en=draft.get("en"),
        status="scheduled",
        source_key=None,
        version=int(draft.get("version") or 1),
        created_at=now,
    )


async def show_summary(update: Update, context: BotContext) -> State:
    _ = context.gettext
    meeting = _draft_meeting(context)
    if meeting is None:
        return await ask_when(update, context)
    action = _("✅ Save the changes") if meeting.id else _("✅ Publish")
    await say(
        update,
        context,
        _("Please check the meeting:")
        + "\n\n"
        + meeting_text(context.app, context.tr, meeting, "published"),
        keyboard([(action, BUTTONS.data("save"))], [(_("✖️ Cancel"), BUTTONS.data("quit"))]),
    )
    return SUMMARY


async def save(update: Update, context: BotContext) -> State:
    """Publishes the meeting (or saves the changes) and offers to broadcast it."""
    user = update.effective_user
    assert user is not None
    draft, meeting = _draft(context), _draft_meeting(context)
    if meeting is None:
        return await ask_when(update, context)
    descriptions = {
        "lv": meeting.description_lv,
        "ru": meeting.description_ru,
        "en": meeting.description_en,
    }
    saved: Meeting | None
    if draft.get("id"):
        saved = await context.store.meetings.change(
            meeting.id,
            seen_version=meeting.version,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            place=meeting.place,
            descriptions=descriptions,
        )
        kind = "changed"
    else:
        saved = await context.store.meetings.create(
            theme=meeting.theme,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            place=None,
            descriptions=descriptions,
            by=user.id,
        )
        kind = "published"
    context.user_data.pop(DRAFT, None)
    if saved is None:
        await say(
            update,
            context,
            context.gettext(
                "Someone changed or cancelled this meeting meanwhile; nothing was saved."
            ),
        )
        return END
    if kind == "changed":
        await meeting_reminders.follow(context.store, saved, context.now())
    if update.callback_query and update.callback_query.message:
        await update.callback_query.edit_message_reply_markup(None)
    await offer_broadcast(update, context, saved, kind)
    return END


async def quit_draft(update: Update, context: BotContext) -> State:
    context.user_data.pop(DRAFT, None)
    await say(update, context, context.gettext("Cancelled. Nothing was saved."))
    return END


async def expected(update: Update, context: BotContext) -> None:
    """A wrong kind of answer in any step: say what is wanted, stay in the step."""
    if update.effective_message:
        await update.effective_message.reply_text(
            context.gettext("Please answer the question above, or press Cancel.")
        )


# -- /meetings: the coming meetings, to edit or cancel ---------------------------------------------


@staff_only
async def agenda(update: Update, context: BotContext) -> None:
    _ = context.gettext
    meetings, total = await context.store.meetings.upcoming(context.now(), limit=20)
    if not meetings:
        await say(
            update,
            context,
            _(
                "No meetings are planned. /newmeeting adds one; an .ics or .csv file sent here "
                "imports a schedule."
            ),
        )
        return
    lines = [_("Coming working-group meetings ({n}):").format(n=total)]
    rows = []
    for meeting in meetings:
        lines.append(
            f"#{meeting.id} · {when(context.tr, meeting.starts_at)} · "
            f"{theme_name(context.app, context.language, meeting.theme)}"
        )
        rows.append(
            [
                (f"✏️ #{meeting.id}", BUTTONS.data("edit", meeting.id)),
                (f"❌ #{meeting.id}", BUTTONS.data("cancel", meeting.id, meeting.version)),
            ]
        )
    await say(update, context, "\n".join(lines), keyboard(*rows))


@staff_only
async def ask_cancel(update: Update, context: BotContext) -> None:
    meeting = await context.store.meetings.meeting(button_id(context))
    if meeting is None or meeting.is_cancelled:
        await say(update, context, context.gettext("This meeting can no longer be changed."))
        return
    await say(
        update,
        context,
        context.gettext("Cancel this meeting?")
        + "\n\n"
        + meeting_text(context.app, context.tr, meeting, "published"),
        keyboard(
            [
                (
                    context.gettext("❌ Yes, cancel the meeting"),
                    BUTTONS.data("cancelok", meeting.id, button_id(context, 1)),
                )
            ]
        ),
    )


@staff_only
async def cancel_meeting(update: Update, context: BotContext) -> None:
    cancelled = await context.store.meetings.cancel(
        button_id(context), seen_version=button_id(context, 1)
    )
    if cancelled is None:
        await say(
            update,
            context,
            context.gettext(
                "Someone changed or cancelled this meeting meanwhile; nothing was saved."
            ),
        )
        return
    await meeting_reminders.follow(context.store, cancelled, context.now())
    await offer_broadcast(update, context, cancelled, "cancelled")


def handlers() -> list[BaseHandler]:
    on = BUTTONS.on
    text = filters.TEXT & ~filters.COMMAND
    anything = ~filters.COMMAND & ~filters.StatusUpdate.ALL
    # Every step checks rights when it runs (a specialist removed mid-draft cannot save it);
    # only quitting the draft is left open to anyone, so nobody is stuck in it.
    guarded = staff_only
    steps: dict[object, list[BaseHandler]] = {}
    for step in (LV, RU, EN):
        received, kept = _text_step(step)
        steps[step] = [
            MessageHandler(text, guarded(received)),
            on("keep", guarded(kept)),
            MessageHandler(anything, guarded(expected)),
        ]
    return [
        ConversationHandler(
            name=NAME,
            persistent=True,
            allow_reentry=True,
            entry_points=[CommandHandler("newmeeting", new_meeting), on("edit:{id}", edit_meeting)],
            states={
                THEME: [
                    on("theme:{word}", guarded(theme_chosen)),
                    MessageHandler(anything, guarded(expected)),
                ],
                WHEN: [
                    MessageHandler(text, guarded(when_received)),
                    on("keep", guarded(when_kept)),
                    MessageHandler(anything, guarded(expected)),
                ],
                **steps,
                SUMMARY: [on("save", guarded(save)), MessageHandler(anything, guarded(expected))],
            },
            fallbacks=[on("quit", quit_draft), CommandHandler("cancel", quit_draft)],
        ),
        CommandHandler("meetings", agenda),
        on("cancel:{id}:{id}", ask_cancel),
        on("cancelok:{id}:{id}", cancel_meeting),
    ]
