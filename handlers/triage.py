"""Staff work on one proposal: the card's buttons (answer, status, spam and ban) and replies to
the bot's posts and prompts. What is posted in the staff chat is in handlers/staff_posts.py.

Every action goes through `staff_only` (bot/auth.py) when it happens. Callback data only says
*which* proposal and *which* version the specialist saw: the version makes two specialists
acting at once see each other's change instead of overwriting it.
In the staff chat everything is in the staff language (Latvian); in a private chat a specialist
reads their own language; what reaches a resident is always in the resident's.
"""

from __future__ import annotations

import logging

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.ext import BaseHandler, MessageHandler, filters

from bot import statuses
from bot.app import BotContext
from bot.auth import staff_only
from bot.callbacks import button_args, button_id
from bot.i18n import N_
from bot.proposal_texts import notify_resident, status_name
from bot.store.proposals import Proposal
from handlers.staff_posts import (
    BUTTONS,
    queue_card_refresh,
    refresh_card,
)

log = logging.getLogger(__name__)

ANSWER_MAX = 3800  # leaves room for the notice around it within Telegram's 4096
# Prompts the bot sends staff start with this mark, so a reply to one is recognisable anywhere.
PROMPT_MARK = "✍️"


# -- buttons on the post --------------------------------------------------------------------------


async def proposal_from_button(
    update: Update, context: BotContext, *, on_card: bool = False
) -> Proposal | None:
    """The proposal a staff button names (its first `{id}`); says so when it is gone.
    `on_card`: the button is one of the card's own (Answer, Status, Spam and their choices)."""
    query = update.callback_query
    assert query is not None
    proposal = await context.store.proposals.proposal(button_id(context))
    if proposal is None:
        await query.answer(context.gettext("This proposal no longer exists."), show_alert=True)
        return None
    card = query.message
    in_staff_chat = card is not None and card.chat.id == context.settings.staff_chat_id
    if on_card and proposal.staff_message_id is None and card is not None and in_staff_chat:
        # The card reached the staff chat but the sender never heard back (its outbox row is
        # "uncertain"): a press on the card's own buttons tells us which message it is, so
        # replies to it and later edits find the proposal.
        await context.store.proposals.record_staff_post(proposal.id, card.chat.id, card.message_id)
    return proposal


@staff_only
async def ask_answer(update: Update, context: BotContext) -> None:
    """Asks for the answer as a reply to a prompt; saved templates are offered as buttons."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None and query.message is not None
    proposal = await proposal_from_button(update, context, on_card=True)
    if proposal is None:
        return
    await query.answer()
    templates = await context.store.staff.answer_templates()
    prompt = await context.bot.send_message(
        query.message.chat.id,
        f"{PROMPT_MARK} "
        + _(
            "Answer to {reference}: reply to this message with the text the resident will get."
        ).format(reference=proposal.reference),
        reply_markup=ForceReply(selective=True),
        message_thread_id=getattr(query.message, "message_thread_id", None),
    )
    await remember_prompt(context, prompt, "answer", proposal, version=proposal.version)
    if templates:
        await context.bot.send_message(
            query.message.chat.id,
            _("Or send a saved answer:"),
            message_thread_id=getattr(query.message, "message_thread_id", None),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t.title[:60], callback_data=BUTTONS.data("tpl", proposal.id, t.id)
                        )
                    ]
                    for t in templates[:20]
                ]
            ),
        )


async def remember_prompt(
    context: BotContext, prompt: Message, kind: str, proposal: Proposal, *, version: int
) -> None:
    """Records what a reply to `prompt` will mean: an answer, or the reason for a status set on
    the `version` the specialist saw. In the store: a reply finds its proposal from there."""
    await context.store.proposals.record_prompt(
        prompt.chat_id, prompt.message_id, kind, proposal.id, version=version
    )


@staff_only
async def send_template(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    proposal = await proposal_from_button(update, context)
    if proposal is None:
        return
    template = await context.store.staff.answer_template(button_id(context, 1))
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
    proposal = await proposal_from_button(update, context, on_card=True)
    if proposal is None:
        return
    await query.answer()
    rows = [
        [
            InlineKeyboardButton(
                ("• " if status == proposal.status else "") + status_name(context.tr, status),
                callback_data=BUTTONS.data("set", proposal.id, status, proposal.version),
            )
        ]
        for status in statuses.TRIAGE
    ]
    rows.append(
        [InlineKeyboardButton(_("◀️ Back"), callback_data=BUTTONS.data("back", proposal.id))]
    )
    await query.edit_message_reply_markup(InlineKeyboardMarkup(rows))


@staff_only
async def back_to_card(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    proposal = await proposal_from_button(update, context, on_card=True)
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
    proposal = await proposal_from_button(update, context, on_card=True)
    if proposal is None:
        return
    _id, status, seen_text = button_args(context)
    seen = int(seen_text)
    if status not in statuses.TRIAGE:
        # Only a forged button names another status ("withdrawn" is the resident's to set).
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    if proposal.status in (statuses.WITHDRAWN, statuses.SPAM):
        await query.answer(
            _("{reference} is closed: “{status}”.").format(
                reference=proposal.reference, status=status_name(context.tr, proposal.status)
            ),
            show_alert=True,
        )
        await refresh_card(context, query.message, proposal)  # type: ignore[arg-type]
        return
    if status == statuses.NEEDS_REASON:
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
        await remember_prompt(context, prompt, "reason", proposal, version=seen)
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
    changed = await context.store.proposals.change_status(
        proposal.id, status, by=user.id, seen_version=seen, reason=reason
    )
    query = update.callback_query
    if changed is None:
        current = await context.store.proposals.proposal(proposal.id)
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
        await queue_card_refresh(context, changed)
    key = f"status:{changed.id}:{changed.version}"
    if reason:
        await notify_resident(
            context,
            changed,
            key,
            N_("Your proposal {reference} now has the status “{status}”.\n\nReason: {reason}"),
            status=status,
            reason=reason,
        )
    else:
        await notify_resident(
            context,
            changed,
            key,
            N_("Your proposal {reference} now has the status “{status}”."),
            status=status,
        )


@staff_only
async def ask_spam(update: Update, context: BotContext) -> None:
    _ = context.gettext
    query = update.callback_query
    assert query is not None
    proposal = await proposal_from_button(update, context, on_card=True)
    if proposal is None:
        return
    await query.answer()
    await query.edit_message_reply_markup(
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("🚫 Yes: spam, and ban the sender"),
                        callback_data=BUTTONS.data("spamyes", proposal.id, proposal.version),
                    )
                ],
                [
                    InlineKeyboardButton(
                        _("◀️ Back"), callback_data=BUTTONS.data("back", proposal.id)
                    )
                ],
            ]
        )
    )


@staff_only
async def confirm_spam(update: Update, context: BotContext) -> None:
    """Marks the proposal as spam and bans its sender from submitting more."""
    _ = context.gettext
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    proposal = await proposal_from_button(update, context, on_card=True)
    if proposal is None:
        return
    changed = await context.store.proposals.change_status(
        proposal.id, "spam", by=user.id, seen_version=button_id(context, 1)
    )
    if changed is None:
        await query.answer(
            _("Someone else changed {reference} meanwhile. Please look again.").format(
                reference=proposal.reference
            ),
            show_alert=True,
        )
        current = await context.store.proposals.proposal(proposal.id)
        if current:
            await refresh_card(context, query.message, current)  # type: ignore[arg-type]
        return
    await context.store.residents.ban_resident(proposal.resident_id, by=user.id)
    await query.answer(_("Marked as spam; the sender can no longer submit proposals."))
    await refresh_card(context, query.message, changed)  # type: ignore[arg-type]


# -- replies: answers and reasons ----------------------------------------------------------------


class _ReplyToStaffWork(filters.MessageFilter):
    """A text reply to one of the bot's own staff prompts, or (outside private chats) to any of
    its messages. Which proposal it is about is looked up in the store by the replied-to
    message — what the bot posted and recorded — never read from that message's text, which
    may quote what a resident wrote."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or not replied.from_user.is_bot:
            return False
        text = replied.text or replied.caption or ""
        return text.startswith(PROMPT_MARK) or message.chat.type != "private"


REPLY_TO_STAFF_WORK = _ReplyToStaffWork()


@staff_only
async def staff_reply(update: Update, context: BotContext) -> None:
    """A specialist's reply to a prompt or post: an answer to the resident, or a reason."""
    _ = context.gettext
    message = update.effective_message
    assert message is not None and message.reply_to_message is not None
    replied = message.reply_to_message
    # A prompt of the bot's (REPLY_TO_STAFF_WORK lets only replies to its own messages
    # through) that a crash left unrecorded stands for its twin: see prompt_at.
    sent_text = replied.text if (replied.text or "").startswith(PROMPT_MARK) else None
    prompt = await context.store.proposals.prompt_at(
        message.chat_id, replied.message_id, sent_text=sent_text
    )
    proposal: Proposal | None = None
    if prompt is not None:
        proposal = await context.store.proposals.proposal(prompt.proposal_id)
    else:
        proposal = await context.store.proposals.proposal_by_staff_post(
            message.chat_id, replied.message_id
        )
    if proposal is None:
        await message.reply_text(_("I could not tell which proposal this reply is about."))
        return
    text = (message.text or "").strip()
    if prompt is not None and prompt.kind == "reason":
        if not text or len(text) > ANSWER_MAX:
            await message.reply_text(
                _("A reason must be 1 to {max} characters; this one has {n}.").format(
                    max=ANSWER_MAX, n=len(text)
                )
            )
            return
        await apply_status(
            update, context, proposal, statuses.NEEDS_REASON, prompt.version or 0, reason=text
        )
        await context.store.proposals.forget_prompt(message.chat_id, replied.message_id)
        return
    await deliver_answer(update, context, proposal, text)


async def deliver_answer(
    update: Update, context: BotContext, proposal: Proposal, text: str
) -> None:
    """Stores the answer and queues it for the resident as written, in one transaction; if the
    resident has blocked the bot, the sender tells the staff chat."""
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
    entry = await context.store.proposals.add_to_thread(
        proposal.id, author="staff", author_id=user.id, text=text
    )
    await notify_resident(
        context,
        proposal,
        f"answer:{entry.id}",
        N_("💬 The Development Office answered your proposal {reference}:\n\n{answer}"),
        answer=text,
    )
    confirmation = await context.bot.send_message(
        chat.id,
        _("✅ Answer to {reference} sent to the resident.").format(reference=proposal.reference),
    )
    # A reply to this confirmation answers the same proposal again.
    await context.store.proposals.record_staff_post(
        proposal.id, confirmation.chat_id, confirmation.message_id, role="staff_part"
    )


def handlers() -> list[BaseHandler]:
    on = BUTTONS.on

    return [
        on("answer:{id}", ask_answer),
        on("tpl:{id}:{id}", send_template),
        on("status:{id}", show_status_choices),
        on("back:{id}", back_to_card),
        on("set:{id}:{word}:{id}", set_status),
        on("spam:{id}", ask_spam),
        on("spamyes:{id}:{id}", confirm_spam),
        MessageHandler(filters.TEXT & ~filters.COMMAND & REPLY_TO_STAFF_WORK, staff_reply),
    ]
