"""Staff administration: who the specialists are, and reading a resident's whole conversation.

Admins (ADMIN_IDS) add and remove specialists; every specialist may list staff and read
conversations. Each handler is wrapped in the one rights check of bot/auth.py.
"""

from __future__ import annotations

import io

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CommandHandler

from bot.app import BotContext
from bot.auth import admin_only, staff_only, user_id_argument
from bot.i18n import N_
from bot.staff_chat import post_to_staff, staff_text
from bot.store import LoggedMessage
from handlers.commands import staff_command_menu


@staff_only
async def list_staff(update: Update, context: BotContext) -> None:
    """/staff: the admins and specialists."""
    _ = context.gettext
    specialists = await context.store.staff.specialists()
    lines = [
        _("Admins: {ids}").format(
            ids=", ".join(map(str, sorted(context.settings.admin_ids))) or "—"
        )
    ]
    lines.append(
        context.ngettext("{n} specialist:", "{n} specialists:", len(specialists)).format(
            n=len(specialists)
        )
    )
    lines += [
        _("{id} — added {date}").format(id=s.user_id, date=context.tr.datetime(s.added_at))
        for s in specialists
    ]
    lines.append(_("Add: /addstaff <id> · remove: /removestaff <id> (admins only)"))
    if update.effective_message:
        await update.effective_message.reply_text("\n".join(lines))


@admin_only
async def add_staff(update: Update, context: BotContext) -> None:
    """/addstaff <id>: makes a person a specialist."""
    _ = context.gettext
    user_id = user_id_argument(context.args)
    message, admin = update.effective_message, update.effective_user
    if message is None or admin is None:
        return
    if user_id is None:
        await message.reply_text(
            _("Send it as /addstaff 123456789 — the person's Telegram id (they get it with /myid).")
        )
        return
    if await context.store.staff.add_specialist(user_id, added_by=admin.id):
        await message.reply_text(_("{id} is now a specialist.").format(id=user_id))
        await post_to_staff(
            context,
            f"staff-added:{user_id}:u{update.update_id}",
            staff_text(context, N_("{admin} added {id} as a specialist.")).format(
                admin=admin.id, id=user_id
            ),
        )
    else:
        await message.reply_text(_("{id} is already a specialist.").format(id=user_id))


@admin_only
async def remove_staff(update: Update, context: BotContext) -> None:
    """/removestaff <id>: takes a specialist's rights away, effective at once."""
    _ = context.gettext
    user_id = user_id_argument(context.args)
    message, admin = update.effective_message, update.effective_user
    if message is None or admin is None:
        return
    if user_id is None:
        await message.reply_text(_("Send it as /removestaff 123456789."))
        return
    if await context.store.staff.remove_specialist(user_id):
        await message.reply_text(_("{id} is no longer a specialist.").format(id=user_id))
        await post_to_staff(
            context,
            f"staff-removed:{user_id}:u{update.update_id}",
            staff_text(context, N_("{admin} removed specialist {id}.")).format(
                admin=admin.id, id=user_id
            ),
        )
    else:
        await message.reply_text(_("{id} was not a specialist.").format(id=user_id))


@staff_only
async def staff_help(update: Update, context: BotContext) -> None:
    """/staffhelp: how staff work with the bot, and their commands."""
    _ = context.gettext
    commands = "\n".join(f"/{name} — {text}" for name, text in staff_command_menu(context.tr))
    text = _(
        "New proposals and residents' follow-ups arrive in the staff chat. To answer, reply to "
        "the post (or press Answer and reply to the prompt): the resident gets your text as "
        "written. Status changes are sent to the resident too; “Not included” asks for a "
        "reason.\n\nRequests for the weekly reception arrive here with Confirm and Decline. "
        "Meetings of the working groups are created with /newmeeting or imported by sending "
        "an .ics or .csv file here (/schedulecsv sends a CSV file to fill in); publishing "
        "one offers to tell the theme's subscribers. "
        "/announce writes to the subscribers in the office's own words — one theme's or all "
        "of them — and shows it as they will read it before anything is sent.\n\n"
        "{commands}"
    ).format(commands=commands)
    if update.effective_message:
        await update.effective_message.reply_text(text)


@staff_only
async def unban(update: Update, context: BotContext) -> None:
    """/unban <id>: lets a resident banned as a spammer submit proposals again."""
    _ = context.gettext
    user_id = user_id_argument(context.args)
    message = update.effective_message
    if message is None:
        return
    if user_id is None or not await context.store.residents.is_banned(user_id):
        await message.reply_text(_("Send it as /unban 123456789 (a banned resident's id)."))
        return
    await context.store.residents.unban_resident(user_id)
    await message.reply_text(_("{id} may submit proposals again.").format(id=user_id))


@staff_only
async def conversation(update: Update, context: BotContext) -> None:
    """/conversation <id>: the resident's whole chat with the bot, as a text file."""
    _ = context.gettext
    user_id = user_id_argument(context.args)
    message = update.effective_message
    if message is None:
        return
    if user_id is None:
        await message.reply_text(_("Send it as /conversation 123456789 (the resident's id)."))
        return
    await send_transcript(context, message.chat_id, user_id)


async def send_transcript(context: BotContext, chat_id: int, user_id: int) -> None:
    """Sends a resident's whole logged conversation to `chat_id` as a text file."""
    _ = context.gettext
    log = await context.store.messages.conversation_with(user_id)
    if not log:
        await context.bot.send_message(chat_id, _("No messages with {id}.").format(id=user_id))
        return
    transcript = "\n".join(transcript_line(context, entry) for entry in log)
    await context.bot.send_document(
        chat_id,
        InputFile(io.BytesIO(transcript.encode("utf-8")), filename=f"conversation-{user_id}.txt"),
        caption=context.ngettext(
            "Conversation with {id}: {n} message.",
            "Conversation with {id}: {n} messages.",
            len(log),
        ).format(id=user_id, n=len(log)),
    )


def transcript_line(context: BotContext, entry: LoggedMessage) -> str:
    _ = context.gettext
    who = _("resident") if entry.direction == "in" else _("bot")
    body = entry.text or ""
    if entry.kind == "callback":
        body = _("[pressed a button: {data}]").format(data=entry.details.get("data"))
    elif entry.kind not in ("text", "command", "edit") or not body:
        body = f"[{entry.kind}] {body}".strip()
    return f"{context.tr.datetime(entry.at, 'yMd', 'medium')}  {who}: {body}"


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("staff", list_staff),
        CommandHandler("addstaff", add_staff),
        CommandHandler("removestaff", remove_staff),
        CommandHandler("conversation", conversation),
        CommandHandler("staffhelp", staff_help),
        CommandHandler("unban", unban),
    ]
