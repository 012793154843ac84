"""Staff work on one proposal: its post in the staff chat, answers, statuses, spam and bans.

Every action goes through `staff_only` (bot/auth.py) when it happens. Callback data only says
*which* proposal and *which* version the specialist saw: the version makes two specialists
acting at once see each other's change instead of overwriting it.
In the staff chat everything is in the staff language (Latvian); in a private chat a specialist
reads their own language; what reaches a resident is always in the resident's.
"""

from __future__ import annotations

import logging
import re

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, MessageHandler, filters

from bot.app import BotContext
from bot.auth import staff_only
from bot.i18n import N_, STAFF_LANGUAGE, Translator, translator
from bot.keyboards import button_router
from bot.proposals import attachments_summary, notify_resident, status_name, theme_name
from bot.staff_chat import post_to_staff
from bot.store_proposals import STATUSES, Proposal, ThreadMessage
from bot.text import send_long, split_for_telegram

log = logging.getLogger(__name__)

PREFIX = "sp:"
ANSWER_MAX = 3800  # leaves room for the notice around it within Telegram's 4096
# Prompts the bot sends staff start with this mark, so a reply to one is recognisable anywhere.
PROMPT_MARK = "✍️"
PROMPTS = "staff_prompts"  # chat_data key: prompt message id -> what a reply to it means


def staff_translator(context: BotContext) -> Translator:
    return translator(STAFF_LANGUAGE, context.settings.timezone)


# -- the post in the staff chat -------------------------------------------------------------------


def proposal_card(context: BotContext, tr: Translator, proposal: Proposal, attachments: str) -> str:
    """The proposal as staff see it: reference, theme, status, who, contact if agreed, text."""
    _ = tr.gettext
    contact = ""
    if proposal.wants_contact:
        details = ", ".join(filter(None, [proposal.phone, proposal.email]))
        contact = "\n" + _("Contact (agreed to be contacted): {contact}").format(contact=details)
    return _(
        "{reference} · {theme}\n"
        "Status: {status}\n"
        "Resident: {resident} · language: {language} · {date}\n"
        "Attachments: {attachments}{contact}\n\n"
        "{text}"
    ).format(
        reference=proposal.reference,
        theme=theme_name(context, proposal.theme, tr.language),
        status=status_name(tr, proposal.status),
        resident=proposal.resident_id,
        language=proposal.language,
        date=tr.datetime(proposal.created_at),
        attachments=attachments,
        contact=contact,
        text=proposal.text,
    )


def card_buttons(tr: Translator, proposal: Proposal) -> InlineKeyboardMarkup:
    _ = tr.gettext
    pid = proposal.id
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("💬 Answer"), callback_data=f"{PREFIX}answer:{pid}"),
                InlineKeyboardButton(_("🔄 Status"), callback_data=f"{PREFIX}status:{pid}"),
            ],
            [InlineKeyboardButton(_("🚫 Spam / ban"), callback_data=f"{PREFIX}spam:{pid}")],
        ]
    )


async def post_new_proposal(context: BotContext, proposal: Proposal) -> None:
    """Posts a new proposal to the staff chat (its theme's topic), attachments as replies."""
    tr = staff_translator(context)
    attachments = await context.store.attachments_of(proposal.id)
    parts = split_for_telegram(
        "🆕 " + proposal_card(context, tr, proposal, attachments_summary(tr, attachments))
    )
    topic = context.settings.staff_topics.get(proposal.theme)
    post = await post_to_staff(
        context, parts[0], buttons=card_buttons(tr, proposal), topic_id=topic
    )
    if post is None:
        return
    await context.store.record_staff_post(
        proposal.id, post.chat_id, post.message_id, thread_message_id=None
    )
    for part in parts[1:]:
        await _reply_quietly(post, part)
    for attachment in attachments:
        try:
            if attachment.kind == "photo":
                await post.reply_photo(attachment.file_id or "")
            elif attachment.kind == "document":
                await post.reply_document(attachment.file_id or "")
            elif attachment.kind == "voice":
                await post.reply_voice(attachment.file_id or "")
            elif attachment.kind == "location" and attachment.latitude is not None:
                await post.reply_location(attachment.latitude, attachment.longitude or 0.0)
        except TelegramError as error:
            log.warning("could not show an attachment of proposal %s: %s", proposal.id, error)


async def post_follow_up(context: BotContext, proposal: Proposal, message: ThreadMessage) -> None:
    """A resident's follow-up, posted as a reply to the proposal's post (replies answer it)."""
    tr = staff_translator(context)
    text = tr.gettext("💬 Follow-up from the resident on {reference}:\n\n{text}").format(
        reference=proposal.reference, text=message.text
    )
    topic = context.settings.staff_topics.get(proposal.theme)
    chat_id = context.settings.staff_chat_id
    if chat_id is None:
        return
    try:
        post = await send_long(
            context.bot,
            chat_id,
            text,
            message_thread_id=topic,
            reply_to_message_id=proposal.staff_message_id
            if proposal.staff_chat_id == chat_id
            else None,
        )
    except TelegramError as error:
        log.warning("could not post a follow-up of proposal %s: %s", proposal.id, error)
        return
    await context.store.record_staff_post(
        proposal.id, post.chat_id, post.message_id, thread_message_id=message.id
    )


async def post_withdrawal(context: BotContext, proposal: Proposal) -> None:
    """Tells the staff chat, and takes the buttons off the proposal's post there."""
    tr = staff_translator(context)
    await post_to_staff(
        context,
        tr.gettext("↩️ The resident withdrew {reference}.").format(reference=proposal.reference),
        topic_id=context.settings.staff_topics.get(proposal.theme),
    )
    if proposal.staff_chat_id is not None and proposal.staff_message_id is not None:
        attachments = await context.store.attachments_of(proposal.id)
        text = proposal_card(context, tr, proposal, attachments_summary(tr, attachments))
        try:
            await context.bot.edit_message_text(
                split_for_telegram("🆕 " + text)[0],
                chat_id=proposal.staff_chat_id,
                message_id=proposal.staff_message_id,
            )
        except TelegramError as error:
            log.warning("could not update the post of proposal %s: %s", proposal.id, error)


async def refresh_card(context: BotContext, message: Message | None, proposal: Proposal) -> None:
    """Shows the proposal's current state on the post (or list entry) a specialist acted on."""
    if message is None:
        return
    tr = context.tr
    attachments = await context.store.attachments_of(proposal.id)
    text = split_for_telegram(
        proposal_card(context, tr, proposal, attachments_summary(tr, attachments))
    )[0]
    try:
        await context.bot.edit_message_text(
            text,
            chat_id=message.chat_id,
            message_id=message.message_id,
            reply_markup=card_buttons(tr, proposal) if not proposal.is_closed else None,
        )
    except BadRequest as error:
        if "not modified" not in str(error):
            raise


async def _reply_quietly(message: Message, text: str) -> None:
    try:
        await message.reply_text(text)
    except TelegramError as error:
        log.warning("could not reply in the staff chat: %s", error)


# -- buttons on the post --------------------------------------------------------------------------


def callback_parts(data: str | None) -> list[str]:
    return (data or "").removeprefix(PREFIX).split(":")


async def proposal_from_button(
    update: Update, context: BotContext, index: int = 1
) -> Proposal | None:
    query = update.callback_query
    assert query is not None
    parts = callback_parts(query.data)
    proposal = None
    if len(parts) > index and parts[index].isdigit():
        proposal = await context.store.proposal(int(parts[index]))
    if proposal is None:
        await query.answer(context.gettext("This proposal no longer exists."), show_alert=True)
    return proposal


@staff_only
async def ask_answer(update: Update, context: BotContext) -> None:
    """Asks for the answer as a reply to a prompt; saved templates are offered as buttons."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None and query.message is not None
    proposal = await proposal_from_button(update, context)
    if proposal is None:
        return
    await query.answer()
    templates = await context.store.answer_templates()
    prompt = await context.bot.send_message(
        query.message.chat.id,
        f"{PROMPT_MARK} "
        + _(
            "Answer to {reference}: reply to this message with the text the resident will get."
        ).format(reference=proposal.reference),
        reply_markup=ForceReply(selective=True),
        message_thread_id=getattr(query.message, "message_thread_id", None),
    )
    remember_prompt(context, prompt, "answer", proposal, version=proposal.version)
    if templates:
        await context.bot.send_message(
            query.message.chat.id,
            _("Or send a saved answer:"),
            message_thread_id=getattr(query.message, "message_thread_id", None),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.title[:60], callback_data=f"{PREFIX}tpl:{proposal.id}:{t.id}"
                        )
                    ]
                    for t in templates[:20]
                ]
            ),
        )


def remember_prompt(
    context: BotContext, prompt: Message, kind: str, proposal: Proposal, *, version: int
) -> None:
    """Notes what a reply to `prompt` will mean: an answer, or the reason for a status set on
    the `version` the specialist saw. Kept in chat_data, so it survives a restart."""
    prompts = context.chat_data.setdefault(PROMPTS, {})
    prompts[str(prompt.message_id)] = {"kind": kind, "proposal": proposal.id, "version": version}
    # Keep the newest 200: old prompts are answered or forgotten.
    for key in list(prompts)[:-200]:
        del prompts[key]


@staff_only
async def send_template(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    parts = callback_parts(query.data)
    proposal = await proposal_from_button(update, context)
    if proposal is None:
        return
    template = await context.store.answer_template(int(parts[2])) if parts[2].isdigit() else None
    if template is None:
        await query.answer(context.gettext("This saved answer no longer exists."), show_alert=True)
        return
    await query.answer()
    await deliver_answer(update, context, proposal, template.text)


@staff_only
async def show_status_choices(update: Update, context: BotContext) -> None:
    """Replaces the post's buttons by the statuses (with the version the specialist saw)."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None
    proposal = await proposal_from_button(update, context)
    if proposal is None:
        return
    await query.answer()
    rows = [
        [
            InlineKeyboardButton(
                ("• " if status == proposal.status else "") + status_name(context.tr, status),
                callback_data=f"{PREFIX}set:{proposal.id}:{status}:{proposal.version}",
            )
        ]
        for status in STATUSES
    ]
    rows.append([InlineKeyboardButton(_("◀️ Back"), callback_data=f"{PREFIX}back:{proposal.id}")])
    await query.edit_message_reply_markup(InlineKeyboardMarkup(rows))


@staff_only
async def back_to_card(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    proposal = await proposal_from_button(update, context)
    if proposal is None:
        return
    await query.answer()
    await refresh_card(context, query.message, proposal)  # type: ignore[arg-type]


@staff_only
async def set_status(update: Update, context: BotContext) -> None:
    """Sets a status, unless someone changed the proposal since this specialist looked."""
    _ = context.gettext
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parts = callback_parts(query.data)
    proposal = await proposal_from_button(update, context)
    if proposal is None or len(parts) != 4 or parts[2] not in STATUSES or not parts[3].isdigit():
        return
    status, seen = parts[2], int(parts[3])
    if proposal.status in ("withdrawn", "spam"):
        await query.answer(
            _("{reference} is closed: “{status}”.").format(
                reference=proposal.reference, status=status_name(context.tr, proposal.status)
            ),
            show_alert=True,
        )
        await refresh_card(context, query.message, proposal)  # type: ignore[arg-type]
        return
    if status == "not_included":
        # The resident is owed a reason: ask for it first, apply the status with it.
        await query.answer()
        prompt = await context.bot.send_message(
            query.message.chat.id,  # type: ignore[union-attr]
            f"{PROMPT_MARK} "
            + _(
                "Why is {reference} not included? Reply to this message with the reason; "
                "the resident will see it."
            ).format(reference=proposal.reference),
            reply_markup=ForceReply(selective=True),
            message_thread_id=getattr(query.message, "message_thread_id", None),
        )
        remember_prompt(context, prompt, "reason", proposal, version=seen)
        return
    await apply_status(update, context, proposal, status, seen, reason=None)


async def apply_status(
    update: Update,
    context: BotContext,
    proposal: Proposal,
    status: str,
    seen: int,
    *,
    reason: str | None,
) -> None:
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    changed = await context.store.change_status(
        proposal.id, status, by=user.id, seen_version=seen, reason=reason
    )
    query = update.callback_query
    if changed is None:
        current = await context.store.proposal(proposal.id)
        text = _(
            "Someone else changed {reference} meanwhile; it is now “{status}”. "
            "Please look again before you change it."
        ).format(
            reference=proposal.reference,
            status=status_name(context.tr, current.status if current else proposal.status),
        )
        if query:
            await query.answer(text, show_alert=True)
            if current:
                await refresh_card(context, query.message, current)  # type: ignore[arg-type]
        elif update.effective_message:
            await update.effective_message.reply_text(text)
        return
    if query:
        await query.answer(_("Status: {status}").format(status=status_name(context.tr, status)))
        await refresh_card(context, query.message, changed)  # type: ignore[arg-type]
    elif update.effective_message:
        await update.effective_message.reply_text(
            _("{reference}: status “{status}”, the resident has been notified.").format(
                reference=changed.reference, status=status_name(context.tr, status)
            )
        )
    if reason:
        await notify_resident(
            context,
            changed,
            N_("Your proposal {reference} now has the status “{status}”.\n\nReason: {reason}"),
            status=status,
            reason=reason,
        )
    else:
        await notify_resident(
            context,
            changed,
            N_("Your proposal {reference} now has the status “{status}”."),
            status=status,
        )


@staff_only
async def ask_spam(update: Update, context: BotContext) -> None:
    _ = context.gettext
    query = update.callback_query
    assert query is not None
    proposal = await proposal_from_button(update, context)
    if proposal is None:
        return
    await query.answer()
    await query.edit_message_reply_markup(
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("🚫 Yes: spam, and ban the sender"),
                        callback_data=f"{PREFIX}spamyes:{proposal.id}:{proposal.version}",
                    )
                ],
                [InlineKeyboardButton(_("◀️ Back"), callback_data=f"{PREFIX}back:{proposal.id}")],
            ]
        )
    )


@staff_only
async def confirm_spam(update: Update, context: BotContext) -> None:
    """Marks the proposal as spam and bans its sender from submitting more."""
    _ = context.gettext
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parts = callback_parts(query.data)
    proposal = await proposal_from_button(update, context)
    if proposal is None or len(parts) != 3 or not parts[2].isdigit():
        return
    changed = await context.store.change_status(
        proposal.id, "spam", by=user.id, seen_version=int(parts[2])
    )
    if changed is None:
        await query.answer(
            _("Someone else changed {reference} meanwhile. Please look again.").format(
                reference=proposal.reference
            ),
            show_alert=True,
        )
        current = await context.store.proposal(proposal.id)
        if current:
            await refresh_card(context, query.message, current)  # type: ignore[arg-type]
        return
    await context.store.ban_resident(proposal.resident_id, by=user.id)
    await query.answer(_("Marked as spam; the sender can no longer submit proposals."))
    await refresh_card(context, query.message, changed)  # type: ignore[arg-type]


# -- replies: answers and reasons ----------------------------------------------------------------

REFERENCE = re.compile(r"\b[A-Z]{2,8}-\d{4}-\d{4,}\b")


class _ReplyToStaffWork(filters.MessageFilter):
    """A text reply to one of the bot's own staff prompts, or (outside private chats) to a post
    naming a proposal. Residents' private replies to their own notices are not staff work."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or not replied.from_user.is_bot:
            return False
        text = replied.text or replied.caption or ""
        if text.startswith(PROMPT_MARK):
            return True
        return message.chat.type != "private" and bool(REFERENCE.search(text))


REPLY_TO_STAFF_WORK = _ReplyToStaffWork()


@staff_only
async def staff_reply(update: Update, context: BotContext) -> None:
    """A specialist's reply to a prompt or post: an answer to the resident, or a reason."""
    _ = context.gettext
    message = update.effective_message
    assert message is not None and message.reply_to_message is not None
    replied = message.reply_to_message
    prompt = context.chat_data.get(PROMPTS, {}).get(str(replied.message_id))
    proposal: Proposal | None = None
    if prompt:
        proposal = await context.store.proposal(prompt["proposal"])
    if proposal is None:
        proposal = await context.store.proposal_by_staff_post(message.chat_id, replied.message_id)
    if proposal is None and (found := REFERENCE.search(replied.text or replied.caption or "")):
        # Any bot message naming a proposal ("✅ Answer to LIEP-… sent") can be replied to.
        proposal = await context.store.proposal_by_reference(found.group())
    if proposal is None:
        await message.reply_text(_("I could not tell which proposal this reply is about."))
        return
    text = (message.text or "").strip()
    if prompt and prompt["kind"] == "reason":
        if not text or len(text) > ANSWER_MAX:
            await message.reply_text(
                _("A reason must be 1 to {max} characters; this one has {n}.").format(
                    max=ANSWER_MAX, n=len(text)
                )
            )
            return
        await apply_status(
            update, context, proposal, "not_included", prompt["version"], reason=text
        )
        context.chat_data.get(PROMPTS, {}).pop(str(replied.message_id), None)
        return
    await deliver_answer(update, context, proposal, text)


async def deliver_answer(
    update: Update, context: BotContext, proposal: Proposal, text: str
) -> None:
    """Stores the answer, sends it to the resident as written, and tells staff how it went."""
    _ = context.gettext
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    if not text or len(text) > ANSWER_MAX:
        await context.bot.send_message(
            chat.id,
            _("An answer must be 1 to {max} characters; this one has {n}.").format(
                max=ANSWER_MAX, n=len(text)
            ),
        )
        return
    await context.store.add_to_thread(proposal.id, author="staff", author_id=user.id, text=text)
    delivered = await notify_resident(
        context,
        proposal,
        N_("💬 The Development Office answered your proposal {reference}:\n\n{answer}"),
        answer=text,
    )
    await context.bot.send_message(
        chat.id,
        _("✅ Answer to {reference} sent to the resident.").format(reference=proposal.reference)
        if delivered
        else _(
            "⚠️ The answer to {reference} is saved and shows in the resident's “My "
            "submissions”, but Telegram did not deliver it (the resident may have blocked the bot)."
        ).format(reference=proposal.reference),
    )


def handlers() -> list[BaseHandler]:
    on = button_router(PREFIX)

    return [
        on(r"answer:\d+", ask_answer),
        on(r"tpl:\d+:\d+", send_template),
        on(r"status:\d+", show_status_choices),
        on(r"back:\d+", back_to_card),
        on(r"set:\d+:\w+:\d+", set_status),
        on(r"spam:\d+", ask_spam),
        on(r"spamyes:\d+:\d+", confirm_spam),
        MessageHandler(filters.TEXT & ~filters.COMMAND & REPLY_TO_STAFF_WORK, staff_reply),
    ]
