"""Staff work on proposals: the staff-chat post, answers, statuses, spam, templates, lists, export.

Every action goes through `staff_only` (bot/auth.py) when it happens. Callback data only says
*which* proposal and *which* version the specialist saw: the version makes two specialists
acting at once see each other's change instead of overwriting it.
Staff-facing texts are in the staff member's own language; what reaches a resident is in theirs.
"""

from __future__ import annotations

import io
import logging
import re

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.app import BotContext
from bot.auth import staff_only
from bot.export import export_proposals
from bot.i18n import N_, Translator, translator
from bot.keyboards import page_count, paging_row
from bot.proposals import attachments_summary, notify_resident, status_name, theme_name
from bot.staff_chat import post_to_staff
from bot.store_proposals import OPEN_STATUSES, STATUSES, Proposal, ThreadMessage
from bot.text import send_long, split_for_telegram

log = logging.getLogger(__name__)

PREFIX = "sp:"
PAGE_SIZE = 8
ANSWER_MAX = 3800  # leaves room for the notice around it within Telegram's 4096
# Prompts the bot sends staff start with this mark, so a reply to one is recognisable anywhere.
PROMPT_MARK = "✍️"
PROMPTS = "staff_prompts"  # chat_data key: prompt message id -> what a reply to it means
# Staff posts are written for the office: in Latvian, the state language.
STAFF_LANGUAGE = "lv"


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


def _ids(data: str | None) -> list[str]:
    return (data or "").removeprefix(PREFIX).split(":")


async def _proposal_from_button(
    update: Update, context: BotContext, index: int = 1
) -> Proposal | None:
    query = update.callback_query
    assert query is not None
    parts = _ids(query.data)
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
    proposal = await _proposal_from_button(update, context)
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
    parts = _ids(query.data)
    proposal = await _proposal_from_button(update, context)
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
    proposal = await _proposal_from_button(update, context)
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
    proposal = await _proposal_from_button(update, context)
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
    parts = _ids(query.data)
    proposal = await _proposal_from_button(update, context)
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
    proposal = await _proposal_from_button(update, context)
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
    parts = _ids(query.data)
    proposal = await _proposal_from_button(update, context)
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


# -- /proposals: open work by theme and status ---------------------------------------------------


@staff_only
async def list_themes(update: Update, context: BotContext) -> None:
    """/proposals: open proposals per theme and per status, as buttons that open lists."""
    _ = context.gettext
    counts = await context.store.open_proposal_counts()
    total = sum(counts.values())
    per_theme: dict[str, int] = {}
    per_status: dict[str, int] = {}
    for (theme, status), n in counts.items():
        per_theme[theme] = per_theme.get(theme, 0) + n
        per_status[status] = per_status.get(status, 0) + n

    def button(label: str, theme: str, status: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=f"{PREFIX}list:{theme}:{status}:0")

    rows = [[button(_("All open ({n})").format(n=total), "all", "any")]]
    rows += [
        [button(f"{status_name(context.tr, status)} ({per_status[status]})", "all", status)]
        for status in OPEN_STATUSES
        if per_status.get(status)
    ]
    rows += [
        [button(f"{theme.name(context.language)} ({per_theme[theme.slug]})", theme.slug, "any")]
        for theme in context.municipality.themes
        if per_theme.get(theme.slug)
    ]
    chat = update.effective_chat
    assert chat is not None
    if update.callback_query:
        await update.callback_query.answer()
    await context.bot.send_message(
        chat.id,
        context.ngettext("{n} open proposal.", "{n} open proposals.", total).format(n=total),
        reply_markup=InlineKeyboardMarkup(rows),
    )


@staff_only
async def list_page(update: Update, context: BotContext) -> None:
    """One page of open proposals of a theme and/or status, oldest first, with paging."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None
    parts = _ids(query.data)
    if len(parts) != 4 or not parts[3].isdigit():
        await query.answer()
        return
    theme = None if parts[1] == "all" else parts[1]
    status = parts[2] if parts[2] in OPEN_STATUSES else None
    page = int(parts[3])
    proposals, total = await context.store.open_proposals(
        theme=theme, status=status, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    await query.answer()
    rows = [
        [
            InlineKeyboardButton(
                f"{p.reference} · {status_name(context.tr, p.status)}",
                callback_data=f"{PREFIX}open:{p.id}",
            )
        ]
        for p in proposals
    ]
    navigation = paging_row(
        page=page,
        total=total,
        page_size=PAGE_SIZE,
        previous_label=_("◀️ Previous"),
        next_label=_("Next ▶️"),
        data_for=lambda n: f"{PREFIX}list:{parts[1]}:{parts[2]}:{n}",
    )
    if navigation:
        rows.append(navigation)
    headings = [theme_name(context, theme) if theme else _("All themes")]
    if status:
        headings.append(status_name(context.tr, status))
    await query.edit_message_text(
        _("{heading}: {total} open · page {page} of {pages}").format(
            heading=" · ".join(headings),
            total=total,
            page=page + 1,
            pages=page_count(total, PAGE_SIZE),
        ),
        reply_markup=InlineKeyboardMarkup(rows),
    )


@staff_only
async def open_proposal(update: Update, context: BotContext) -> None:
    """A proposal in full for staff: the card, its thread, its status history."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None and query.message is not None
    proposal = await _proposal_from_button(update, context)
    if proposal is None:
        return
    await query.answer()
    tr = context.tr
    attachments = await context.store.attachments_of(proposal.id)
    lines = [proposal_card(context, tr, proposal, attachments_summary(tr, attachments))]
    thread = await context.store.thread_of(proposal.id)
    if thread:
        lines.append("")
        for entry in thread:
            who = _("Office") if entry.author == "staff" else _("Resident")
            lines.append(f"— {tr.datetime(entry.created_at)} · {who}: {entry.text}")
    history = await context.store.status_history_of(proposal.id)
    lines.append("")
    lines.append(
        _("History: {changes}").format(
            changes="; ".join(
                f"{status_name(tr, h.status)} ({tr.datetime(h.changed_at)}, {h.changed_by})"
                for h in history
            )
        )
    )
    buttons = (
        *card_buttons(tr, proposal).inline_keyboard,
        (
            InlineKeyboardButton(
                _("📜 Whole conversation"), callback_data=f"{PREFIX}conv:{proposal.id}"
            ),
        ),
    )
    await send_long(
        context.bot,
        query.message.chat.id,
        "\n".join(lines),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


@staff_only
async def whole_conversation(update: Update, context: BotContext) -> None:
    from handlers.staff_admin import send_transcript

    query = update.callback_query
    assert query is not None and query.message is not None
    proposal = await _proposal_from_button(update, context)
    if proposal is None:
        return
    await query.answer()
    await send_transcript(context, query.message.chat.id, proposal.resident_id)


# -- templates and export --------------------------------------------------------------------------


@staff_only
async def list_templates(update: Update, context: BotContext) -> None:
    """/templates: the saved answers."""
    _ = context.gettext
    templates = await context.store.answer_templates()
    lines = [f"{t.id}. {t.title}: {t.text}" for t in templates] or [_("No saved answers yet.")]
    lines.append("")
    lines.append(_("Add: /addtemplate Title | Text · delete: /deltemplate <number>"))
    assert update.effective_message is not None
    for part in split_for_telegram("\n".join(lines)):
        await update.effective_message.reply_text(part)


@staff_only
async def add_template(update: Update, context: BotContext) -> None:
    _ = context.gettext
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    raw = (message.text or "").partition(" ")[2]
    title, bar, text = raw.partition("|")
    if not bar or not title.strip() or not text.strip() or len(text.strip()) > ANSWER_MAX:
        await message.reply_text(_("Send it as /addtemplate Title | The text of the answer"))
        return
    number = await context.store.add_answer_template(title.strip(), text.strip(), by=user.id)
    await message.reply_text(_("Saved answer {id} added.").format(id=number))


@staff_only
async def delete_template(update: Update, context: BotContext) -> None:
    _ = context.gettext
    message = update.effective_message
    assert message is not None
    arg = context.args[0] if context.args else ""
    if arg.isdigit() and await context.store.delete_answer_template(int(arg)):
        await message.reply_text(_("Saved answer {id} deleted.").format(id=arg))
    else:
        await message.reply_text(_("Send it as /deltemplate <number> (see /templates)."))


@staff_only
async def export(update: Update, context: BotContext) -> None:
    """/export: every proposal as CSV and XLSX documents."""
    _ = context.gettext
    message = update.effective_message
    assert message is not None
    stamp = context.now().astimezone(context.settings.timezone).strftime("%Y-%m-%d")
    for fmt in ("xlsx", "csv"):
        data = await export_proposals(
            context.store, context.settings, fmt, language=context.language
        )
        await message.reply_document(
            InputFile(io.BytesIO(data), filename=f"proposals-{stamp}.{fmt}"),
            caption=_("All proposals ({format}).").format(format=fmt.upper())
            if fmt == "xlsx"
            else None,
        )


def handlers() -> list[BaseHandler]:
    def on(pattern: str, callback: object) -> CallbackQueryHandler:
        return CallbackQueryHandler(callback, pattern=f"^{PREFIX}{pattern}$")  # type: ignore[arg-type]

    return [
        CommandHandler("proposals", list_themes),
        CommandHandler("templates", list_templates),
        CommandHandler("addtemplate", add_template),
        CommandHandler("deltemplate", delete_template),
        CommandHandler("export", export),
        on(r"answer:\d+", ask_answer),
        on(r"tpl:\d+:\d+", send_template),
        on(r"status:\d+", show_status_choices),
        on(r"back:\d+", back_to_card),
        on(r"set:\d+:\w+:\d+", set_status),
        on(r"spam:\d+", ask_spam),
        on(r"spamyes:\d+:\d+", confirm_spam),
        on(r"list:\w+:\w+:\d+", list_page),
        on(r"open:\d+", open_proposal),
        on(r"conv:\d+", whole_conversation),
        MessageHandler(filters.TEXT & ~filters.COMMAND & REPLY_TO_STAFF_WORK, staff_reply),
    ]
