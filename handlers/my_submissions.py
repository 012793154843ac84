"""My submissions: a resident's proposals, paged; one opened with its answers; follow-up; withdraw.

Callback data names a proposal by id, and every handler checks that the proposal belongs to the
person pressing — a forged or forwarded button opens nothing of anyone else's.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import statuses
from bot.app import BotContext
from bot.callbacks import Buttons, button_args, button_id
from bot.i18n import N_
from bot.keyboards import page_count, paging_row
from bot.proposal_texts import TEXT_MAX, attachments_summary, status_name, theme_name
from bot.store.proposals import Proposal
from bot.text import escape, send_long, shorten
from handlers.flows import end_flows
from handlers.menu import MenuEntry, main_menu
from handlers.my_bookings import show_active_booking
from handlers.staff_posts import post_follow_up, post_withdrawal

PREFIX = "mine:"
BUTTONS = Buttons(PREFIX, audience="resident")
MENU_ENTRY = MenuEntry(N_("📂 My submissions and bookings"), "mine")
PAGE_SIZE = 5
NAME = "follow_up"
WRITING = "writing"
FOLLOW_UP = "follow_up_of"  # user_data key: the proposal a follow-up is being written for
END = ConversationHandler.END


async def show_list(update: Update, context: BotContext) -> None:
    """/mine or the menu: the resident's proposals, newest first, a page at a time."""
    _ = context.gettext
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    page = 0
    query = update.callback_query
    if query is not None:
        await query.answer()
        # The menu entry's data has no page number; the paging buttons' data has one.
        page = button_id(context) if button_args(context) else 0
    if page == 0:
        await show_active_booking(update, context)
    total = await context.store.proposals.count_proposals_of(user.id)
    if total == 0:
        await context.bot.send_message(
            chat.id,
            _("You have not submitted any proposals yet."),
            reply_markup=main_menu(context),
        )
        return
    proposals = await context.store.proposals.proposals_of(
        user.id, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    rows = [
        [
            InlineKeyboardButton(
                f"{p.reference} · {theme_name(context, p.theme)}",
                callback_data=BUTTONS.data("open", p.id),
            )
        ]
        for p in proposals
    ]
    navigation = paging_row(
        page=page,
        total=total,
        page_size=PAGE_SIZE,
        previous_label=_("◀️ Newer"),
        next_label=_("Older ▶️"),
        data_for=lambda n: BUTTONS.data("page", n),
    )
    if navigation:
        rows.append(navigation)
    lines = [
        context.ngettext(
            "Your proposals ({n}), page {page} of {pages}:",
            "Your proposals ({n}), page {page} of {pages}:",
            total,
        ).format(n=total, page=page + 1, pages=page_count(total, PAGE_SIZE)),
        "",
    ]
    lines += [
        f"{p.reference} · {context.tr.date(p.created_at, 'yMMMd')} · "
        f"{status_name(context.tr, p.status)}\n{shorten(p.text, 80)}"
        for p in proposals
    ]
    await context.bot.send_message(
        chat.id, "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows)
    )


async def own_proposal(update: Update, context: BotContext) -> Proposal | None:
    """The proposal a button names, if it is the presser's own; else says it is not there."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    proposal = await context.store.proposals.proposal(button_id(context))
    if proposal is None or proposal.resident_id != user.id:
        await query.answer(context.gettext("This proposal is not available."), show_alert=True)
        return None
    return proposal


async def open_one(update: Update, context: BotContext) -> None:
    """One proposal: theme, date, status, the text, and the thread with the office's answers."""
    _ = context.gettext
    proposal = await own_proposal(update, context)
    if proposal is None:
        return
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    await query.answer()
    tr = context.tr
    attachments = await context.store.proposals.attachments_of(proposal.id)
    history = await context.store.proposals.status_history_of(proposal.id)
    reason = next((h.reason for h in reversed(history) if h.reason), None)
    lines = [
        _("<b>{reference}</b> · {theme}").format(
            reference=proposal.reference, theme=escape(theme_name(context, proposal.theme))
        ),
        _("Submitted: {date}").format(date=tr.datetime(proposal.created_at)),
        _("Status: {status}").format(status=status_name(tr, proposal.status)),
    ]
    if reason and proposal.status == statuses.NEEDS_REASON:
        lines.append(_("Reason: {reason}").format(reason=escape(reason)))
    if attachments:
        lines.append(
            _("Attachments: {attachments}").format(attachments=attachments_summary(tr, attachments))
        )
    lines += ["", escape(proposal.text)]
    thread = await context.store.proposals.thread_of(proposal.id)
    for entry in thread:
        who = _("Development Office") if entry.author == "staff" else _("You")
        lines += ["", f"<b>{who}</b>, {tr.datetime(entry.created_at)}:", escape(entry.text)]
    if not thread:
        lines += ["", _("No answer yet. You will get a message here when there is one.")]
    rows = []
    if not proposal.is_closed:
        rows.append(
            [
                InlineKeyboardButton(
                    _("💬 Add a message"), callback_data=BUTTONS.data("follow", proposal.id)
                ),
                InlineKeyboardButton(
                    _("↩️ Withdraw"), callback_data=BUTTONS.data("withdraw", proposal.id)
                ),
            ]
        )
    rows.append(
        [InlineKeyboardButton(_("◀️ My submissions"), callback_data=BUTTONS.data("page", "0"))]
    )
    await send_long(
        context.bot,
        chat.id,
        "\n".join(lines),
        parse_mode="HTML",
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def ask_withdraw(update: Update, context: BotContext) -> None:
    _ = context.gettext
    proposal = await own_proposal(update, context)
    if proposal is None:
        return
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("Yes, withdraw {reference}").format(reference=proposal.reference),
                        callback_data=BUTTONS.data("withdrawyes", proposal.id),
                    )
                ],
                [
                    InlineKeyboardButton(
                        _("No, keep it"), callback_data=BUTTONS.data("open", proposal.id)
                    )
                ],
            ]
        )
    )


async def withdraw(update: Update, context: BotContext) -> None:
    """Withdraws the resident's own open proposal and tells the office."""
    _ = context.gettext
    proposal = await own_proposal(update, context)
    if proposal is None:
        return
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    withdrawn = await context.store.proposals.withdraw_proposal(proposal.id, user.id)
    await query.answer()
    if withdrawn is None:
        await context.bot.send_message(
            chat.id,
            _("{reference} can no longer be withdrawn: its status is “{status}”.").format(
                reference=proposal.reference, status=status_name(context.tr, proposal.status)
            ),
        )
        return
    await query.edit_message_reply_markup(None)
    await context.bot.send_message(
        chat.id,
        _("{reference} is withdrawn. The Development Office has been notified.").format(
            reference=proposal.reference
        ),
        reply_markup=main_menu(context),
    )
    await post_withdrawal(context, withdrawn)


async def ask_follow_up(update: Update, context: BotContext) -> str | int:
    """Starts a follow-up message to the office on one of the resident's open proposals (any
    other flow ends: an unfinished proposal stays as a draft)."""
    _ = context.gettext
    proposal = await own_proposal(update, context)
    if proposal is None:
        return END
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    if proposal.is_closed:
        await query.answer(
            _("{reference} is closed: “{status}”. Messages can no longer be added.").format(
                reference=proposal.reference, status=status_name(context.tr, proposal.status)
            ),
            show_alert=True,
        )
        return END
    await query.answer()
    end_flows(update, context.application, keep=NAME)
    context.user_data[FOLLOW_UP] = proposal.id
    prompt = await context.bot.send_message(
        chat.id,
        _("Write your message about {reference}. It will be added to the proposal.").format(
            reference=proposal.reference
        ),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(_("✖️ Cancel"), callback_data=BUTTONS.data("cancel"))]]
        ),
    )
    # A reply to this prompt reaches the follow-up even if another flow started meanwhile.
    await context.store.proposals.record_prompt(
        chat.id, prompt.message_id, "follow_up", proposal.id, version=None
    )
    return WRITING


async def follow_up_received(update: Update, context: BotContext) -> str | int:
    """Adds the follow-up to the proposal's thread and posts it to the staff chat."""
    _ = context.gettext
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    text = (message.text or "").strip()
    if not text or len(text) > TEXT_MAX:
        await message.reply_text(
            _("A message must be 1 to {max} characters; yours has {n}.").format(
                max=TEXT_MAX, n=len(text)
            )
        )
        return WRITING
    proposal_id = context.user_data.get(FOLLOW_UP)
    proposal = (
        await context.store.proposals.proposal(proposal_id)
        if isinstance(proposal_id, int)
        else None
    )
    return await add_follow_up(update, context, proposal, text)


async def add_follow_up(
    update: Update, context: BotContext, proposal: Proposal | None, text: str
) -> str | int:
    """Adds the follow-up to the thread and queues its staff-chat post, in one transaction."""
    _ = context.gettext
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    if proposal is None or proposal.resident_id != user.id or proposal.is_closed:
        context.user_data.pop(FOLLOW_UP, None)
        await message.reply_text(_("This proposal is not available."))
        return END
    entry = await context.store.proposals.add_to_thread(
        proposal.id, author="resident", author_id=user.id, text=text
    )
    context.user_data.pop(FOLLOW_UP, None)
    await message.reply_text(
        _("Added to {reference}. The Development Office has been notified.").format(
            reference=proposal.reference
        ),
        reply_markup=main_menu(context),
    )
    await post_follow_up(context, proposal, entry)
    return END


async def follow_up_expected(update: Update, context: BotContext) -> str:
    _ = context.gettext
    assert update.effective_message is not None
    await update.effective_message.reply_text(_("Please write your message as text."))
    return WRITING


async def reply_to_prompt(update: Update, context: BotContext) -> None:
    """A resident's reply to a follow-up prompt ("Write your message about LIEP-…") always
    reaches that follow-up, whatever flow they are in now: the prompt, recorded when it was
    sent, names the proposal."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or message.reply_to_message is None:
        return
    replied = message.reply_to_message
    from_bot = replied.from_user is not None and replied.from_user.is_bot
    prompt = await context.store.proposals.prompt_at(
        chat.id, replied.message_id, sent_text=replied.text if from_bot else None
    )
    if prompt is None or prompt.kind != "follow_up":
        return  # not a reply to a prompt: the flows below take it as usual
    _ = context.gettext
    end_flows(update, context.application)
    text = (message.text or "").strip()
    if not text or len(text) > TEXT_MAX:
        await message.reply_text(
            _("A message must be 1 to {max} characters; yours has {n}.").format(
                max=TEXT_MAX, n=len(text)
            )
        )
    else:
        await add_follow_up(
            update, context, await context.store.proposals.proposal(prompt.proposal_id), text
        )
    raise ApplicationHandlerStop


async def cancel_follow_up(update: Update, context: BotContext) -> int:
    _ = context.gettext
    context.user_data.pop(FOLLOW_UP, None)
    end_flows(update, context.application, keep=NAME)
    if update.callback_query:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(
            chat.id, _("Cancelled. Nothing was sent."), reply_markup=main_menu(context)
        )
    return END


def prompt_reply_handlers() -> list[BaseHandler]:
    """Before the flows (see handlers/__init__.py): replies to the bot's prompts."""
    return [
        MessageHandler(
            filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & filters.REPLY,
            reply_to_prompt,
        )
    ]


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE

    on = BUTTONS.on

    return [
        ConversationHandler(
            name=NAME,
            persistent=True,
            allow_reentry=True,
            entry_points=[on("follow:{id}", ask_follow_up)],
            states={
                WRITING: [
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, follow_up_received),
                    MessageHandler(private & ~filters.COMMAND, follow_up_expected),
                ]
            },
            fallbacks=[CommandHandler("cancel", cancel_follow_up), on("cancel", cancel_follow_up)],
        ),
        CommandHandler("mine", show_list, filters=private),
        CallbackQueryHandler(show_list, pattern=MENU_ENTRY.pattern),
        on("page:{id}", show_list),
        on("open:{id}", open_one),
        on("withdraw:{id}", ask_withdraw),
        on("withdrawyes:{id}", withdraw),
    ]
