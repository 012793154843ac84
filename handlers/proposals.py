"""Submitting a proposal: theme → text → attachments → contact → preview → submit.

Every step writes the draft to the store *before* the bot answers (`proposal_drafts`), and the
conversation state is written right after (see BotApplication.process_update), so a crash at any
point loses nothing the resident typed. Each state has its handler and, beside it, the handler
for wrong input in that state.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from email_validator import EmailNotValidError, validate_email
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.app import BotContext, resident_of_this_update
from bot.keyboards import button_router
from bot.proposals import TEXT_MAX, TEXT_MIN, attachments_summary, theme_name
from bot.store_proposals import MAX_ATTACHMENTS, Attachment, Draft
from bot.text import escape, send_long, shorten
from handlers import onboarding
from handlers.flows import end_flows
from handlers.onboarding import main_menu
from handlers.staff_proposals import post_new_proposal

NAME = "proposal"
# States. Strings, not ints: they are stored, and a name survives reordering.
DRAFT_FOUND, THEME, TEXT, ATTACHMENTS, CONTACT, CONSENT, PREVIEW, EDIT_TEXT = (
    "draft_found",
    "theme",
    "text",
    "attachments",
    "contact",
    "consent",
    "preview",
    "edit_text",
)
PREFIX = "prop:"
END = ConversationHandler.END
State = str | int  # a state name, or END


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
    if resident.banned if resident is not None else await context.store.is_banned(user.id):
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
    if await context.store.count_proposals_since(user.id, midnight) >= cap:
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
            theme.name(context.language), callback_data=f"{PREFIX}theme:{theme.slug}"
        )
        for theme in context.municipality.themes
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([cancel_button(context)])
    return InlineKeyboardMarkup(rows)


def cancel_button(context: BotContext) -> InlineKeyboardButton:
    return InlineKeyboardButton(context.gettext("✖️ Cancel"), callback_data=f"{PREFIX}cancel")


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
    draft = await context.store.draft_of(user.id) if user else None
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
                [InlineKeyboardButton(_("Continue it"), callback_data=f"{PREFIX}resume")],
                [InlineKeyboardButton(_("Start a new one"), callback_data=f"{PREFIX}anew")],
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
    draft = await context.store.draft_of(user.id) if user else None
    if draft is None:
        return await show_themes(update, context)
    if not draft.text or not (TEXT_MIN <= len(draft.text) <= TEXT_MAX):
        return await begin_draft(update, context, draft.theme or "", keep_text=True)
    return await show_preview(update, context)


async def start_anew(update: Update, context: BotContext) -> State:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    await query.answer()
    await context.store.discard_draft(user.id)
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
        (resident_of_this_update() or await context.store.resident(user.id)) if user else None
    )
    if context.municipality.theme(slug) is None or resident is None or resident.language is None:
        # A first contact chooses the language first; the theme is offered right after.
        await onboarding.start(update, context)
        return END
    if not await may_submit(update, context):
        return END
    end_flows(update, context.application, keep=NAME)
    draft = await context.store.draft_of(resident.user_id)
    if draft is not None and draft.text:
        return await offer_draft(update, context, draft)
    return await begin_draft(update, context, slug)


async def theme_pressed_outside_flow(update: Update, context: BotContext) -> State:
    """A theme button from an older message (after a restart, or after the flow ended): starts
    a draft — unless there is an unfinished one, which a stale button must never overwrite."""
    user = update.effective_user
    draft = await context.store.draft_of(user.id) if user else None
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
    assert query is not None and query.data is not None
    await query.answer()
    slug = query.data.removeprefix(f"{PREFIX}theme:")
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
        await context.store.start_draft(user.id, slug)
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


# -- text ---------------------------------------------------------------------------------------


async def text_received(update: Update, context: BotContext) -> State:
    """Saves the text (even when its length is wrong, so nothing is lost) and moves on if valid."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    text = (message.text or message.caption or "").strip()
    await context.store.save_draft(user.id, text=text)
    if message.photo or message.document:
        await add_attachment(context, user.id, message)
    if not await text_length_ok(context, message, text):
        return TEXT
    return await ask_attachments(update, context)


async def text_length_ok(context: BotContext, message: Message, text: str) -> bool:
    _ = context.gettext
    if len(text) < TEXT_MIN:
        await message.reply_text(
            context.ngettext(
                "That is {n} character; a proposal needs at least {min}. Please write a little "
                "more.",
                "That is {n} characters; a proposal needs at least {min}. Please write a little "
                "more.",
                len(text),
            ).format(n=len(text), min=TEXT_MIN)
        )
        return False
    if len(text) > TEXT_MAX:
        await message.reply_text(
            _(
                "Your text has {n} characters; the limit is {max}. It is saved, but please "
                "shorten it by {excess} and send it again."
            ).format(n=len(text), max=TEXT_MAX, excess=len(text) - TEXT_MAX)
        )
        return False
    return True


async def text_expected(update: Update, context: BotContext) -> State:
    _ = context.gettext
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("Please write your proposal as a text message first; you can attach files next.")
    )
    return TEXT


# -- attachments --------------------------------------------------------------------------------


def attachments_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(context.gettext("➡️ Continue"), callback_data=f"{PREFIX}next")],
            [cancel_button(context)],
        ]
    )


async def ask_attachments(update: Update, context: BotContext) -> State:
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id,
        _(
            "Saved. You may now attach photos, documents, a voice message or a location "
            "(up to {max}). Press Continue when you are done, or if you have nothing to attach."
        ).format(max=MAX_ATTACHMENTS),
        reply_markup=attachments_keyboard(context),
    )
    return ATTACHMENTS


def attachment_of(message: Message) -> Attachment | None:
    """The file or place in a message, as kept with the proposal (Telegram file ids)."""
    if message.photo:
        photo = message.photo[-1]
        return Attachment("photo", photo.file_id, photo.file_unique_id, file_size=photo.file_size)
    if document := message.document:
        return Attachment(
            "document",
            document.file_id,
            document.file_unique_id,
            file_name=document.file_name,
            mime_type=document.mime_type,
            file_size=document.file_size,
        )
    if voice := message.voice:
        return Attachment(
            "voice",
            voice.file_id,
            voice.file_unique_id,
            mime_type=voice.mime_type,
            file_size=voice.file_size,
            # PTB 22 returns int or timedelta depending on its time-period setting.
            duration=int(d.total_seconds() if isinstance(d := voice.duration, timedelta) else d),
        )
    if location := message.location:
        return Attachment("location", latitude=location.latitude, longitude=location.longitude)
    return None


async def add_attachment(context: BotContext, user_id: int, message: Message) -> int | None:
    attachment = attachment_of(message)
    if attachment is None:
        return None
    return await context.store.add_draft_attachment(user_id, attachment)


async def attachment_received(update: Update, context: BotContext) -> State:
    """Keeps the attachment with the draft and says how many there are."""
    _ = context.gettext
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    count = await add_attachment(context, user.id, message)
    if count is None:
        await message.reply_text(
            _("That is the most attachments one proposal can have ({max}). Press Continue.").format(
                max=MAX_ATTACHMENTS
            ),
            reply_markup=attachments_keyboard(context),
        )
    else:
        await message.reply_text(
            context.ngettext(
                "{n} attachment so far. Send more, or press Continue.",
                "{n} attachments so far. Send more, or press Continue.",
                count,
            ).format(n=count),
            reply_markup=attachments_keyboard(context),
        )
    return ATTACHMENTS


async def attachment_expected(update: Update, context: BotContext) -> State:
    _ = context.gettext
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _(
            "You can attach photos, documents, voice messages and locations. To change the text, "
            "use “Edit the text” in the preview. Press Continue to go on."
        ),
        reply_markup=attachments_keyboard(context),
    )
    return ATTACHMENTS


# -- contact ------------------------------------------------------------------------------------


def contact_keyboard(context: BotContext) -> ReplyKeyboardMarkup:
    _ = context.gettext
    return ReplyKeyboardMarkup(
        [
            [KeyboardButton(_("📱 Share my phone number"), request_contact=True)],
            [KeyboardButton(_("Skip"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def ask_contact(update: Update, context: BotContext) -> State:
    """Offers to leave contact details: Telegram's contact button, or a typed e-mail."""
    _ = context.gettext
    if update.callback_query:
        await update.callback_query.answer()
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id,
        _(
            "Would you like the Development Office to be able to contact you about this "
            "proposal? Share your phone number with the button below, or type your e-mail "
            "address. Or press Skip."
        ),
        reply_markup=contact_keyboard(context),
    )
    return CONTACT


async def contact_shared(update: Update, context: BotContext) -> State:
    """Stores the phone number from Telegram's contact button — the resident's own only."""
    _ = context.gettext
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.contact is not None
    if message.contact.user_id != user.id:
        await message.reply_text(
            _("Please share your own number with the button, or type your e-mail address."),
            reply_markup=contact_keyboard(context),
        )
        return CONTACT
    await context.store.save_draft(user.id, phone=message.contact.phone_number)
    return await ask_consent(update, context)


async def contact_typed(update: Update, context: BotContext) -> State:
    """A typed e-mail address (checked), or the Skip button's text."""
    _ = context.gettext
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    text = message.text.strip()
    if text == _("Skip"):
        await context.store.save_draft(user.id, phone=None, email=None, wants_contact=0)
        return await show_preview(update, context, remove_keyboard=True)
    try:
        email = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        await message.reply_text(
            _(
                "“{text}” does not look like an e-mail address. Please check it, share your "
                "phone number with the button, or press Skip."
            ).format(text=text[:100]),
            reply_markup=contact_keyboard(context),
        )
        return CONTACT
    await context.store.save_draft(user.id, email=email)
    return await ask_consent(update, context)


async def contact_expected(update: Update, context: BotContext) -> State:
    _ = context.gettext
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("Please share your phone number with the button, type your e-mail, or press Skip."),
        reply_markup=contact_keyboard(context),
    )
    return CONTACT


async def ask_consent(update: Update, context: BotContext) -> State:
    _ = context.gettext
    chat = update.effective_chat
    assert chat is not None
    # Remove the contact keyboard first: it would otherwise linger under the chat.
    await context.bot.send_message(chat.id, _("Thank you."), reply_markup=ReplyKeyboardRemove())
    await context.bot.send_message(
        chat.id,
        _("May the Development Office contact you about this proposal?"),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(_("Yes, contact me"), callback_data=f"{PREFIX}consent:1"),
                    InlineKeyboardButton(_("No"), callback_data=f"{PREFIX}consent:0"),
                ]
            ]
        ),
    )
    return CONSENT


async def consent_given(update: Update, context: BotContext) -> State:
    """Stores whether the resident wants to be contacted; without consent the details go."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and user is not None
    await query.answer()
    if query.data.endswith(":1"):
        await context.store.save_draft(user.id, wants_contact=1)
    else:
        # Contact details kept without consent would be data we may not use: drop them.
        await context.store.save_draft(user.id, wants_contact=0, phone=None, email=None)
    return await show_preview(update, context)


async def consent_expected(update: Update, context: BotContext) -> State:
    _ = context.gettext
    assert update.effective_message is not None
    await update.effective_message.reply_text(_("Please answer with one of the buttons above."))
    return CONSENT


# -- preview and submit --------------------------------------------------------------------------


def preview_text(context: BotContext, draft: Draft) -> str:
    _ = context.gettext
    contact = ", ".join(filter(None, [draft.phone, draft.email])) or "—"
    return _(
        "<b>Please check your proposal</b>\n"
        "Theme: {theme}\n"
        "Attachments: {attachments}\n"
        "Contact: {contact}\n"
        "May be contacted: {consent}\n\n"
        "{text}"
    ).format(
        theme=escape(theme_name(context, draft.theme or "")),
        attachments=attachments_summary(context.tr, draft.attachments),
        contact=escape(contact),
        consent=_("yes") if draft.wants_contact else _("no"),
        text=escape(draft.text or ""),
    )


async def show_preview(
    update: Update, context: BotContext, *, remove_keyboard: bool = False
) -> State:
    """The whole draft as it will be sent, with Submit / Edit / Cancel."""
    _ = context.gettext
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    draft = await context.store.draft_of(user.id)
    if draft is None:
        return END
    if remove_keyboard:
        await context.bot.send_message(chat.id, _("Skipped."), reply_markup=ReplyKeyboardRemove())
    buttons = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("✅ Submit"), callback_data=f"{PREFIX}submit")],
            [InlineKeyboardButton(_("✏️ Edit the text"), callback_data=f"{PREFIX}edit")],
            [cancel_button(context)],
        ]
    )
    # A 4000-character proposal plus the header can pass Telegram's 4096: send_long splits it.
    await send_long(
        context.bot, chat.id, preview_text(context, draft), parse_mode="HTML", reply_markup=buttons
    )
    return PREVIEW


async def preview_expected(update: Update, context: BotContext) -> State:
    _ = context.gettext
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("Please use the buttons under the preview: Submit, Edit the text or Cancel.")
    )
    return PREVIEW


async def edit_text(update: Update, context: BotContext) -> State:
    """Back to the text step; the resident's current text is shown to copy from."""
    _ = context.gettext
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and chat is not None and user is not None
    await query.answer()
    await context.bot.send_message(
        chat.id,
        _("Send the new text of your proposal. Attachments and contact details stay as they are."),
        reply_markup=InlineKeyboardMarkup([[cancel_button(context)]]),
    )
    return EDIT_TEXT


async def edited_text_received(update: Update, context: BotContext) -> State:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    text = (message.text or "").strip()
    await context.store.save_draft(user.id, text=text)
    if not await text_length_ok(context, message, text):
        return EDIT_TEXT
    return await show_preview(update, context)


async def submit(update: Update, context: BotContext) -> State:
    """Commits the proposal, then gives the resident its reference and what happens next."""
    _ = context.gettext
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    await query.answer()
    draft = await context.store.draft_of(user.id)
    if draft is None or not draft.text or not (TEXT_MIN <= len(draft.text) <= TEXT_MAX):
        await context.bot.send_message(chat.id, _("This draft is no longer there."))
        return END
    if not await may_submit(update, context):
        return END
    year = context.now().astimezone(context.settings.timezone).year
    proposal = await context.store.submit_draft(
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
        await context.store.discard_draft(user.id)
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

    on = button_router(PREFIX)

    return [
        ConversationHandler(
            name=NAME,
            persistent=True,
            allow_reentry=True,
            entry_points=[
                CommandHandler("propose", ask_theme, filters=private),
                CallbackQueryHandler(ask_theme, pattern="^menu:propose$"),
                CommandHandler("start", start_on_theme_link, filters=private & theme_link),
                on(r"theme:\w+", theme_pressed_outside_flow),
            ],
            states={
                DRAFT_FOUND: [
                    on("resume", resume_draft),
                    on("anew", start_anew),
                    MessageHandler(anything, draft_choice_expected),
                ],
                THEME: [on(r"theme:\w+", theme_chosen), MessageHandler(anything, theme_expected)],
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
                    on(r"consent:[01]", consent_given),
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
