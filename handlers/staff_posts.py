"""What the bot posts in the staff chat about a proposal: its card (with the buttons that
handlers/triage.py answers), the card's further parts and attachments, follow-ups, withdrawals
and refreshes. Everything here is queued in the outbox, in the transaction of the change that
causes it, except `refresh_card`, the direct answer to a specialist's press.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.app import BotContext
from bot.callbacks import Buttons
from bot.i18n import STAFF_LANGUAGE, Translator, translator
from bot.proposal_texts import attachments_summary, resident_label, status_name, theme_name
from bot.staff_chat import post_to_staff
from bot.store.proposals import Attachment, Proposal, ThreadMessage
from bot.text import split_for_telegram

PREFIX = "sp:"
BUTTONS = Buttons(PREFIX, audience="staff")


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
        resident=resident_label(tr, proposal.resident_id),
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
                InlineKeyboardButton(_("💬 Answer"), callback_data=BUTTONS.data("answer", pid)),
                InlineKeyboardButton(_("🔄 Status"), callback_data=BUTTONS.data("status", pid)),
            ],
            [InlineKeyboardButton(_("🚫 Spam / ban"), callback_data=BUTTONS.data("spam", pid))],
        ]
    )


def post_key(proposal: Proposal) -> str:
    """The outbox key of a proposal's card in the staff chat (replies and edits refer to it)."""
    return f"proposal:{proposal.id}:post"


def _card_target(proposal: Proposal, chat_id: int) -> int | dict[str, str]:
    """The card's message id where it is known, else the outbox row that will post it."""
    if proposal.staff_chat_id == chat_id and proposal.staff_message_id is not None:
        return proposal.staff_message_id
    return {"$message_of": post_key(proposal)}


async def post_new_proposal(context: BotContext, proposal: Proposal) -> None:
    """Queues a new proposal's card for the staff chat (its theme's topic): the further parts of
    a long one and the attachments follow as replies to it."""
    chat_id = context.settings.staff_chat_id
    if chat_id is None:
        return
    tr = staff_translator(context)
    attachments = await context.store.proposals.attachments_of(proposal.id)
    parts = split_for_telegram(
        "🆕 " + proposal_card(context, tr, proposal, attachments_summary(tr, attachments))
    )
    topic = context.settings.staff_topics.get(proposal.theme)
    key = post_key(proposal)
    await post_to_staff(
        context,
        key,
        parts[0],
        buttons=card_buttons(tr, proposal),
        topic_id=topic,
        purpose={"kind": "proposal_post", "proposal_id": proposal.id},
    )
    part_of = {"kind": "staff_part", "proposal_id": proposal.id}
    for index, part in enumerate(parts[1:], start=1):
        await post_to_staff(
            context, f"{key}:part{index}", part, topic_id=topic, reply_to_key=key, purpose=part_of
        )
    for index, attachment in enumerate(attachments):
        method, payload = _attachment_message(attachment)
        if topic is not None:
            payload["message_thread_id"] = topic
        payload["reply_to_message_id"] = {"$message_of": key}
        await context.store.outbox.enqueue(
            f"{key}:attachment{index}", chat_id, method, payload, purpose=part_of
        )


def _attachment_message(attachment: Attachment) -> tuple[str, dict[str, Any]]:
    """The Bot method and arguments that show one attachment again (by Telegram's file id)."""
    if attachment.kind == "location":
        return "send_location", {
            "latitude": attachment.latitude or 0.0,
            "longitude": attachment.longitude or 0.0,
        }
    field = {"photo": "photo", "document": "document", "voice": "voice"}[attachment.kind]
    return f"send_{field}", {field: attachment.file_id or ""}


async def post_follow_up(context: BotContext, proposal: Proposal, message: ThreadMessage) -> None:
    """Queues a resident's follow-up, as a reply to the proposal's card (replies answer it)."""
    chat_id = context.settings.staff_chat_id
    if chat_id is None:
        return
    tr = staff_translator(context)
    text = tr.gettext("💬 Follow-up from the resident on {reference}:\n\n{text}").format(
        reference=proposal.reference, text=message.text
    )
    topic = context.settings.staff_topics.get(proposal.theme)
    key = f"thread:{message.id}:post"
    for index, part in enumerate(split_for_telegram(text)):
        payload: dict[str, Any] = {"text": part}
        if topic is not None:
            payload["message_thread_id"] = topic
        if index == 0:
            payload["reply_to_message_id"] = _card_target(proposal, chat_id)
        purpose: dict[str, Any] = (
            {"kind": "thread_post", "proposal_id": proposal.id, "thread_message_id": message.id}
            if index == 0
            else {"kind": "staff_part", "proposal_id": proposal.id}
        )
        await context.store.outbox.enqueue(
            key if index == 0 else f"{key}:part{index}",
            chat_id,
            "send_message",
            payload,
            purpose=purpose,
        )


async def post_withdrawal(context: BotContext, proposal: Proposal) -> None:
    """Tells the staff chat, and takes the buttons off the proposal's card there."""
    chat_id = context.settings.staff_chat_id
    if chat_id is None:
        return
    tr = staff_translator(context)
    topic = context.settings.staff_topics.get(proposal.theme)
    await post_to_staff(
        context,
        f"proposal:{proposal.id}:withdrawn",
        tr.gettext("↩️ The resident withdrew {reference}.").format(reference=proposal.reference),
        topic_id=topic,
    )
    attachments = await context.store.proposals.attachments_of(proposal.id)
    text = proposal_card(context, tr, proposal, attachments_summary(tr, attachments))
    # Editing without reply_markup takes the buttons away.
    await context.store.outbox.enqueue(
        f"proposal:{proposal.id}:withdrawn:card",
        chat_id,
        "edit_message_text",
        {
            "text": split_for_telegram("🆕 " + text)[0],
            "message_id": _card_target(proposal, chat_id),
        },
    )


async def queue_card_refresh(context: BotContext, proposal: Proposal) -> None:
    """Shows a change made by a reply (not on the card itself) on the card in the staff chat:
    its status, and no buttons once it is closed."""
    chat_id = context.settings.staff_chat_id
    if chat_id is None:
        return
    tr = staff_translator(context)
    attachments = await context.store.proposals.attachments_of(proposal.id)
    payload: dict[str, Any] = {
        "text": split_for_telegram(
            "🆕 " + proposal_card(context, tr, proposal, attachments_summary(tr, attachments))
        )[0],
        "message_id": _card_target(proposal, chat_id),
    }
    if not proposal.is_closed:
        payload["reply_markup"] = card_buttons(tr, proposal).to_dict()
    await context.store.outbox.enqueue(
        f"proposal:{proposal.id}:v{proposal.version}:card", chat_id, "edit_message_text", payload
    )


async def refresh_card(context: BotContext, message: Message | None, proposal: Proposal) -> None:
    """Shows the proposal's current state on the post (or list entry) a specialist acted on."""
    if message is None:
        return
    tr = context.tr
    attachments = await context.store.proposals.attachments_of(proposal.id)
    text = split_for_telegram(
        proposal_card(context, tr, proposal, attachments_summary(tr, attachments))
    )[0]
    await context.bot.edit_message_text(
        text,
        chat_id=message.chat_id,
        message_id=message.message_id,
        reply_markup=card_buttons(tr, proposal) if not proposal.is_closed else None,
    )
