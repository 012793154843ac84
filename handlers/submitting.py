"""Submitting a proposal: the flow's entry (a theme, or an unfinished draft offered back),
submitting and cancelling, and the conversation that wires in the draft's steps
(handlers/draft_steps.py: text → attachments → contact → consent → preview).
"""

from __future__ import annotations

import re
from datetime import datetime, time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.app import BotContext, resident_of_this_update
from bot.callbacks import button_args
from bot.i18n import N_
from bot.proposal_texts import TEXT_MAX, TEXT_MIN, theme_name
from bot.store.drafts import Draft
from bot.text import shorten
from handlers import onboarding
from handlers.draft_steps import (
    ATTACHMENTS,
    BUTTONS,
    CONSENT,
    CONTACT,
    DRAFT_FOUND,
    EDIT_TEXT,
    END,
    NAME,
    PREVIEW,
    TEXT,
    THEME,
    State,
    ask_contact,
    attachment_expected,
    attachment_received,
    cancel_button,
    consent_expected,
    consent_given,
    contact_expected,
    contact_shared,
    contact_typed,
    edit_text,
    edited_text_received,
    preview_expected,
    show_preview,
    text_expected,
    text_received,
)
from handlers.flows import end_flows
from handlers.menu import MenuEntry, main_menu
from handlers.staff_posts import post_new_proposal

MENU_ENTRY = MenuEntry(N_("📝 Submit a proposal"), "propose")


# -- entry ------------------------------------------------------------------------------------


async def may_submit(update: Update, context: BotContext) -> bool:
    """Banned residents and those over the daily cap are told so, politely."""
    _ = context.gettext
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return False
    # The resident row this update met (in this very transaction) says whether they are banned.
    resident = resident_of_this_update()
    if (
        resident.banned
        if resident is not None
        else await context.store.residents.is_banned(user.id)
    ):
        await context.bot.send_message(
            chat.id,
            _(
                "Sorry, you can no longer submit proposals through this bot. If you think this "
                "is a mistake, write to {email}."
            ).format(email=context.municipality.email),
        )
        return False
    midnight = datetime.combine(
        context.now().astimezone(context.settings.timezone).date(),
        time(0),
        tzinfo=context.settings.timezone,
    )
    cap = context.settings.proposals_per_day
    if await context.store.proposals.count_proposals_since(user.id, midnight) >= cap:
        await context.bot.send_message(
            chat.id,
            context.ngettext(
                "You have sent {n} proposal today, the most one person can send in a day. "
                "Please come back tomorrow.",
                "You have sent {n} proposals today, the most one person can send in a day. "
                "Please come back tomorrow.",
                cap,
            ).format(n=cap),
            reply_markup=main_menu(context),
        )
        return False
    return True


def theme_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            theme.name(context.language), callback_data=BUTTONS.data("theme", theme.slug)
        )
        for theme in context.municipality.themes
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([cancel_button(context)])
    return InlineKeyboardMarkup(rows)


async def ask_theme(update: Update, context: BotContext) -> State:
    """Starts a proposal (ending any other flow): offers to continue an unfinished draft, or
    shows the 12 themes with their working-group leaders."""
    if update.callback_query:
        await update.callback_query.answer()
    end_flows(update, context.application, keep=NAME)
    if not await may_submit(update, context):
        return END
    _ = context.gettext
    user = update.effective_user
    draft = await context.store.drafts.draft_of(user.id) if user else None
    if draft is not None and draft.text:
        return await offer_draft(update, context, draft)
    return await show_themes(update, context)


async def offer_draft(update: Update, context: BotContext, draft: Draft) -> State:
    """An unfinished proposal is never overwritten unasked: continue it, or start anew."""
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id,
        _(
            "You have an unfinished proposal on “{theme}”:\n\n{text}\n\n"
            "Continue with it, or start a new one (the unfinished one is then deleted)?"
        ).format(theme=theme_name(context, draft.theme or ""), text=shorten(draft.text or "", 200)),
        reply_markup=InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(_("Continue it"), callback_data=BUTTONS.data("resume"))],
                [InlineKeyboardButton(_("Start a new one"), callback_data=BUTTONS.data("anew"))],
                [cancel_button(context)],
            ]
        ),
    )
    return DRAFT_FOUND


async def resume_draft(update: Update, context: BotContext) -> State:
    """Back to the unfinished draft: its preview (or the text step, if its text is not valid)."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    user = update.effective_user
    draft = await context.store.drafts.draft_of(user.id) if user else None
    if draft is None:
        return await show_themes(update, context)
    if not draft.text or not (TEXT_MIN <= len(draft.text) <= TEXT_MAX):
        return await begin_draft(update, context, draft.theme or "", keep_text=True)
    return await show_preview(update, context)


async def start_anew(update: Update, context: BotContext) -> State:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    await query.answer()
    await context.store.drafts.discard_draft(user.id)
    return await show_themes(update, context)


async def show_themes(update: Update, context: BotContext) -> State:
    _ = context.gettext
    lang = context.language
    lines = [_("Which theme is your proposal about?"), ""]
    lines += [
        f"• {theme.name(lang)} — {theme.leader}, {theme.leader_role(lang)}"
        for theme in context.municipality.themes
    ]
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, "\n".join(lines), reply_markup=theme_keyboard(context))
    return THEME


async def start_on_theme_link(update: Update, context: BotContext) -> State:
    """`/start <theme>` from a poster's QR code: straight to writing on that theme."""
    slug = context.args[0] if context.args else ""
    user = update.effective_user
    resident = (
        (resident_of_this_update() or await context.store.residents.resident(user.id))
        if user
        else None
    )
    if context.municipality.theme(slug) is None or resident is None or resident.language is None:
        # A first contact chooses the language first; the theme is offered right after.
        await onboarding.start(update, context)
        return END
    if not await may_submit(update, context):
        return END
    end_flows(update, context.application, keep=NAME)
    draft = await context.store.drafts.draft_of(resident.user_id)
    if draft is not None and draft.text:
        return await offer_draft(update, context, draft)
    return await begin_draft(update, context, slug)


async def theme_pressed_outside_flow(update: Update, context: BotContext) -> State:
    """A theme button from an older message (after a restart, or after the flow ended): starts
    a draft — unless there is an unfinished one, which a stale button must never overwrite."""
    user = update.effective_user
    draft = await context.store.drafts.draft_of(user.id) if user else None
    if draft is not None and draft.text:
        query = update.callback_query
        assert query is not None
        await query.answer(context.gettext("This button is no longer active."))
        end_flows(update, context.application, keep=NAME)
        return await offer_draft(update, context, draft)
    end_flows(update, context.application, keep=NAME)
    return await theme_chosen(update, context)


async def theme_chosen(update: Update, context: BotContext) -> State:
    """Stores the chosen theme in a new draft and asks for the text."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    (slug,) = button_args(context)
    if context.municipality.theme(slug) is None:
        return THEME
    if not await may_submit(update, context):
        return END
    return await begin_draft(update, context, slug)


async def begin_draft(
    update: Update, context: BotContext, slug: str, *, keep_text: bool = False
) -> State:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    if not keep_text:
        await context.store.drafts.start_draft(user.id, slug)
    _ = context.gettext
    theme = context.municipality.theme(slug)
    assert theme is not None
    await context.bot.send_message(
        chat.id,
        _(
            "Theme: {theme} (working group led by {leader}).\n\n"
            "Now write your proposal, opinion or comment in one message — "
            "{min} to {max} characters."
        ).format(
            theme=theme.name(context.language), leader=theme.leader, min=TEXT_MIN, max=TEXT_MAX
        ),
        reply_markup=InlineKeyboardMarkup([[cancel_button(context)]]),
    )
    return TEXT


async def draft_choice_expected(update: Update, context: BotContext) -> State:
    _ = context.gettext
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("Please choose with the buttons above: continue the unfinished proposal, or start anew.")
    )
    return DRAFT_FOUND


async def theme_expected(update: Update, context: BotContext) -> State:
    _ = context.gettext
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("Please choose a theme with one of the buttons."), reply_markup=theme_keyboard(context)
    )
    return THEME


async def submit(update: Update, context: BotContext) -> State:
    """Commits the proposal, then gives the resident its reference and what happens next."""
    _ = context.gettext
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    await query.answer()
    draft = await context.store.drafts.draft_of(user.id)
    if draft is None or not draft.text or not (TEXT_MIN <= len(draft.text) <= TEXT_MAX):
        await context.bot.send_message(chat.id, _("This draft is no longer there."))
        return END
    if not await may_submit(update, context):
        return END
    year = context.now().astimezone(context.settings.timezone).year
    proposal = await context.store.drafts.submit_draft(
        user.id,
        language=context.language,
        year=year,
        prefix=context.municipality.reference_prefix,
    )
    if proposal is None:
        return END
    await query.edit_message_reply_markup(None)
    # The reference goes through the outbox, committed with the proposal: the resident sees it
    # only once the proposal exists, and a crash right after the commit still delivers it.
    await context.store.outbox.enqueue(
        f"proposal:{proposal.id}:registered",
        chat.id,
        "send_message",
        {
            "text": _(
                "Thank you! Your proposal is registered as {reference}.\n\n"
                "What happens next: the Development Office reads every proposal and passes it to "
                "the {theme} working group. You will get a message here when its status changes or "
                "the office answers. You can follow it under “My submissions” (/mine)."
            ).format(reference=proposal.reference, theme=theme_name(context, proposal.theme)),
            "reply_markup": main_menu(context).to_dict(),
        },
    )
    await post_new_proposal(context, proposal)
    return END


async def cancel(update: Update, context: BotContext) -> State:
    """Throws the draft away (/cancel or the Cancel button, in any state) and ends any other
    flow too: /cancel ends whatever is active."""
    _ = context.gettext
    user, chat = update.effective_user, update.effective_chat
    if update.callback_query:
        await update.callback_query.answer()
    end_flows(update, context.application, keep=NAME)
    if user is not None:
        await context.store.drafts.discard_draft(user.id)
    if chat is not None:
        await context.bot.send_message(
            chat.id, _("Cancelled. Nothing was sent."), reply_markup=ReplyKeyboardRemove()
        )
        await context.bot.send_message(
            chat.id, _("What would you like to do?"), reply_markup=main_menu(context)
        )
    return END


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    media = filters.PHOTO | filters.Document.ALL | filters.VOICE | filters.LOCATION
    anything = private & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    theme_link = filters.Regex(re.compile(r"^/start [a-z][a-z0-9_]*$"))

    on = BUTTONS.on

    return [
        ConversationHandler(
            name=NAME,
            persistent=True,
            allow_reentry=True,
            entry_points=[
                CommandHandler("propose", ask_theme, filters=private),
                CallbackQueryHandler(ask_theme, pattern=MENU_ENTRY.pattern),
                CommandHandler("start", start_on_theme_link, filters=private & theme_link),
                on("theme:{word}", theme_pressed_outside_flow),
            ],
            states={
                DRAFT_FOUND: [
                    on("resume", resume_draft),
                    on("anew", start_anew),
                    MessageHandler(anything, draft_choice_expected),
                ],
                THEME: [on("theme:{word}", theme_chosen), MessageHandler(anything, theme_expected)],
                TEXT: [
                    MessageHandler(
                        private & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND, text_received
                    ),
                    MessageHandler(anything, text_expected),
                ],
                ATTACHMENTS: [
                    MessageHandler(private & media, attachment_received),
                    on("next", ask_contact),
                    MessageHandler(anything, attachment_expected),
                ],
                CONTACT: [
                    MessageHandler(private & filters.CONTACT, contact_shared),
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, contact_typed),
                    MessageHandler(anything, contact_expected),
                ],
                CONSENT: [
                    on("consent:([01])", consent_given),
                    MessageHandler(anything, consent_expected),
                ],
                PREVIEW: [
                    on("submit", submit),
                    on("edit", edit_text),
                    MessageHandler(anything, preview_expected),
                ],
                EDIT_TEXT: [
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, edited_text_received),
                    MessageHandler(anything, text_expected),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", cancel),
                on("cancel", cancel),
            ],
        )
    ]
