"""The specialists' desk: open proposals by theme and status, one proposal in full, saved
answers, exports. The work on a single proposal (answers, statuses, spam) is in
triage.py; like it, every handler here goes through the rights check when it runs.
"""

from __future__ import annotations

import io

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import BaseHandler, CommandHandler

from bot import statuses
from bot.app import BotContext
from bot.auth import staff_only
from bot.callbacks import Buttons, button_args
from bot.export import KINDS, export_kind, export_workbook
from bot.keyboards import inline_keyboard, page_count, paging_row
from bot.proposal_texts import attachments_summary, status_name, theme_name
from bot.text import send_long, split_for_telegram
from handlers.staff_admin import send_transcript
from handlers.staff_posts import card_buttons, proposal_card
from handlers.triage import ANSWER_MAX, proposal_from_button

PREFIX = "sd:"
BUTTONS = Buttons(PREFIX, audience="staff")
PAGE_SIZE = 8


# -- /proposals: open work by theme and status ---------------------------------------------------


@staff_only
async def list_themes(update: Update, context: BotContext) -> None:
    """/proposals: open proposals per theme and per status, as buttons that open lists."""
    _ = context.gettext
    counts = await context.store.proposals.open_proposal_counts()
    total = sum(counts.values())
    per_theme: dict[str, int] = {}
    per_status: dict[str, int] = {}
    for (theme, status), n in counts.items():
        per_theme[theme] = per_theme.get(theme, 0) + n
        per_status[status] = per_status.get(status, 0) + n

    def button(label: str, theme: str, status: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=BUTTONS.data("list", theme, status, "0"))

    rows = [[button(_("All open ({n})").format(n=total), "all", "any")]] if total else []
    rows += [
        [button(f"{status_name(context.tr, status)} ({per_status[status]})", "all", status)]
        for status in statuses.OPEN
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
        reply_markup=inline_keyboard(rows),
    )


@staff_only
async def list_page(update: Update, context: BotContext) -> None:
    """One page of open proposals of a theme and/or status, oldest first, with paging."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None
    theme_key, status_key, page_text = button_args(context)
    theme = None if theme_key == "all" else theme_key
    status = status_key if status_key in statuses.OPEN else None
    page = int(page_text)
    proposals, total = await context.store.proposals.open_proposals(
        theme=theme, status=status, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    await query.answer()
    rows = [
        [
            InlineKeyboardButton(
                f"{p.reference} · {status_name(context.tr, p.status)}",
                callback_data=BUTTONS.data("open", p.id),
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
        data_for=lambda n: BUTTONS.data("list", theme_key, status_key, n),
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
        reply_markup=inline_keyboard(rows),
    )


@staff_only
async def open_proposal(update: Update, context: BotContext) -> None:
    """A proposal in full for staff: the card, its thread, its status history."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None and query.message is not None
    proposal = await proposal_from_button(update, context)
    if proposal is None:
        return
    await query.answer()
    tr = context.tr
    attachments = await context.store.proposals.attachments_of(proposal.id)
    lines = [proposal_card(context, tr, proposal, attachments_summary(tr, attachments))]
    thread = await context.store.proposals.thread_of(proposal.id)
    if thread:
        lines.append("")
        for entry in thread:
            who = _("Office") if entry.author == "staff" else _("Resident")
            lines.append(f"— {tr.datetime(entry.created_at)} · {who}: {entry.text}")
    history = await context.store.proposals.status_history_of(proposal.id)
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
                _("📜 Whole conversation"), callback_data=BUTTONS.data("conv", proposal.id)
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
    query = update.callback_query
    assert query is not None and query.message is not None
    proposal = await proposal_from_button(update, context)
    if proposal is None:
        return
    await query.answer()
    await send_transcript(context, query.message.chat.id, proposal.resident_id)


# -- templates and export --------------------------------------------------------------------------


@staff_only
async def list_templates(update: Update, context: BotContext) -> None:
    """/templates: the saved answers."""
    _ = context.gettext
    templates = await context.store.staff.answer_templates()
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
    number = await context.store.staff.add_answer_template(title.strip(), text.strip(), by=user.id)
    await message.reply_text(_("Saved answer {id} added.").format(id=number))


@staff_only
async def delete_template(update: Update, context: BotContext) -> None:
    _ = context.gettext
    message = update.effective_message
    assert message is not None
    arg = context.args[0] if context.args else ""
    if arg.isdigit() and await context.store.staff.delete_answer_template(int(arg)):
        await message.reply_text(_("Saved answer {id} deleted.").format(id=arg))
    else:
        await message.reply_text(_("Send it as /deltemplate <number> (see /templates)."))


@staff_only
async def export(update: Update, context: BotContext) -> None:
    """/export: one XLSX workbook with a sheet per kind (proposals, bookings, meetings,
    subscriptions: one file to keep and open, the kinds side by side) and the proposals as CSV;
    `/export bookings` (or meetings, subscriptions, proposals): that kind alone, XLSX and CSV."""
    _ = context.gettext
    message = update.effective_message
    assert message is not None
    kind = context.args[0].lower() if context.args else None
    if kind is not None and kind not in KINDS:
        await message.reply_text(
            _("Send /export, or /export with one of: {kinds}.").format(kinds=", ".join(KINDS))
        )
        return
    stamp = context.now().astimezone(context.settings.timezone).strftime("%Y-%m-%d")
    store, settings, language = context.store, context.settings, context.language
    if kind is None:
        workbook = await export_workbook(store, settings, language=language)
        await message.reply_document(
            InputFile(io.BytesIO(workbook), filename=f"liepaja-bot-{stamp}.xlsx"),
            caption=_("Proposals, bookings, meetings and subscriptions, a sheet each (XLSX)."),
        )
        kind = "proposals"
        formats: tuple[str, ...] = ("csv",)
    else:
        formats = ("xlsx", "csv")
    for fmt in formats:
        data = await export_kind(store, settings, kind, fmt, language=language)
        await message.reply_document(InputFile(io.BytesIO(data), filename=f"{kind}-{stamp}.{fmt}"))


def handlers() -> list[BaseHandler]:
    on = BUTTONS.on

    return [
        CommandHandler("proposals", list_themes),
        CommandHandler("templates", list_templates),
        CommandHandler("addtemplate", add_template),
        CommandHandler("deltemplate", delete_template),
        CommandHandler("export", export),
        on("list:{word}:{word}:{id}", list_page),
        on("open:{id}", open_proposal),
        on("conv:{id}", whole_conversation),
    ]
