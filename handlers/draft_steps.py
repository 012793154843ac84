"""The steps that fill in a proposal draft: text → attachments → contact → consent → preview,
and editing the text from the preview. Entering the flow, submitting and cancelling are in
handlers/submitting.py, which wires these steps into its conversation.

Every step writes the draft to the store before the bot answers, in the update's transaction
(see BotApplication.process_update), so a crash at any point loses nothing the resident typed.
Each state has its handler and, beside it, the handler for wrong input in that state.
"""

from __future__ import annotations

from datetime import timedelta

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
from telegram.ext import ConversationHandler

from bot.app import BotContext
from bot.callbacks import Buttons, button_args
from bot.proposal_texts import TEXT_MAX, TEXT_MIN, attachments_summary, theme_name
from bot.store.drafts import Draft
from bot.store.proposals import MAX_ATTACHMENTS, Attachment
from bot.text import escape, send_long

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
BUTTONS = Buttons(PREFIX, audience="resident")
END = ConversationHandler.END
State = str | int  # a state name, or END


def cancel_button(context: BotContext) -> InlineKeyboardButton:
    return InlineKeyboardButton(context.gettext("✖️ Cancel"), callback_data=BUTTONS.data("cancel"))


# -- text ---------------------------------------------------------------------------------------


async def text_received(update: Update, context: BotContext) -> State:
    """Saves the text (even when its length is wrong, so nothing is lost) and moves on if valid."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    text = (message.text or message.caption or "").strip()
    await context.store.drafts.save_draft(user.id, text=text)
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
            [
                InlineKeyboardButton(
                    context.gettext("➡️ Continue"), callback_data=BUTTONS.data("next")
                )
            ],
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
    return await context.store.drafts.add_draft_attachment(user_id, attachment)


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
    await context.store.drafts.save_draft(user.id, phone=message.contact.phone_number)
    return await ask_consent(update, context)


async def contact_typed(update: Update, context: BotContext) -> State:
    """A typed e-mail address (checked), or the Skip button's text."""
    _ = context.gettext
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    text = message.text.strip()
    if text == _("Skip"):
        await context.store.drafts.save_draft(user.id, phone=None, email=None, wants_contact=0)
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
    await context.store.drafts.save_draft(user.id, email=email)
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
                    InlineKeyboardButton(
                        _("Yes, contact me"), callback_data=BUTTONS.data("consent", "1")
                    ),
                    InlineKeyboardButton(_("No"), callback_data=BUTTONS.data("consent", "0")),
                ]
            ]
        ),
    )
    return CONSENT


async def consent_given(update: Update, context: BotContext) -> State:
    """Stores whether the resident wants to be contacted; without consent the details go."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    await query.answer()
    if button_args(context) == ("1",):
        await context.store.drafts.save_draft(user.id, wants_contact=1)
    else:
        # Contact details kept without consent would be data we may not use: drop them.
        await context.store.drafts.save_draft(user.id, wants_contact=0, phone=None, email=None)
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
    draft = await context.store.drafts.draft_of(user.id)
    if draft is None:
        return END
    if remove_keyboard:
        await context.bot.send_message(chat.id, _("Skipped."), reply_markup=ReplyKeyboardRemove())
    buttons = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("✅ Submit"), callback_data=BUTTONS.data("submit"))],
            [InlineKeyboardButton(_("✏️ Edit the text"), callback_data=BUTTONS.data("edit"))],
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
    await context.store.drafts.save_draft(user.id, text=text)
    if not await text_length_ok(context, message, text):
        return EDIT_TEXT
    return await show_preview(update, context)
