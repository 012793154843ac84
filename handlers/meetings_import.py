"""Importing a working groups' schedule from a file a specialist sends the bot as a document —
iCalendar (.ics) or CSV (.csv), the same as `liepaja-bot meetings import FILE`: all of it, or —
with a bad event or row — none, and what is wrong named by the event's UID or the row's line.
Importing the same file again adds nothing. /schedulecsv sends a CSV file to fill in.
"""

from __future__ import annotations

import io

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.app import BotContext
from bot.auth import staff_only
from bot.i18n import N_
from bot.meetings_csv import template
from bot.meetings_schedule import EXTENSIONS, format_of, parser_for
from handlers import meeting_reminders

IMPORT_MAX_BYTES = 1_000_000
# An iCalendar file's problems are named by its events, a CSV file's by its lines.
NOTHING_IMPORTED = {
    "ics": N_("Nothing was imported. Please correct these events and send the file again:"),
    "csv": N_("Nothing was imported. Please correct these lines and send the file again:"),
}


@staff_only
async def import_file(update: Update, context: BotContext) -> None:
    """An .ics or .csv document from staff: the schedule, all of it or (with a problem) none."""
    message = update.effective_message
    assert message is not None and message.document is not None
    _ = context.gettext
    if (message.document.file_size or 0) > IMPORT_MAX_BYTES:
        await message.reply_text(_("The file is too large for a schedule."))
        return
    name = message.document.file_name or ""
    kind, parse = format_of(name), parser_for(name)
    assert kind is not None and parse is not None  # the filter below lets no other file in
    file = await context.bot.get_file(message.document.file_id)
    data = bytes(await file.download_as_bytearray())
    parsed = parse(data, context.municipality.themes, context.settings.timezone, context.now())
    if parsed.problems:
        await message.reply_text(
            _(NOTHING_IMPORTED[kind])
            + "\n"
            + "\n".join(f"• {problem.text(_)}" for problem in parsed.problems[:30])
        )
        return
    counts = await context.store.meetings.import_schedule(parsed.meetings)
    # Moved or cancelled: the reminders follow.
    await meeting_reminders.follow_import(context.store, counts.changed_ids, context.now())
    await message.reply_text(
        _(
            "Imported: {added} new, {updated} changed, {cancelled} cancelled, {same} unchanged. "
            "/meetings shows them; ✏️ and ❌ there offer a broadcast."
        ).format(
            added=counts.added,
            updated=counts.updated,
            cancelled=counts.cancelled,
            same=counts.unchanged,
        )
    )


@staff_only
async def send_template(update: Update, context: BotContext) -> None:
    """/schedulecsv: a CSV file to fill in with meetings and send back, and what its columns
    take."""
    chat = update.effective_chat
    assert chat is not None
    venue = context.municipality.meeting_venue
    content = template(context.municipality.themes, context.now().date(), context.language)
    await context.bot.send_document(
        chat.id,
        InputFile(io.BytesIO(content), filename="meetings.csv"),
        caption=context.gettext(
            "A schedule to fill in, one meeting a row; send the file back here. id: your own "
            "name for the meeting (keep it to move or cancel the meeting later). theme: as in "
            "the bot. date: 03.02.2027. start and end: 17:30 (without an end, 90 minutes). "
            "place: empty for {venue}. description_lv is needed; description_ru and "
            "description_en are not. cancelled: “jā” cancels the meeting. In Excel, save it as "
            "“CSV UTF-8”. The two rows are examples, dated last week: replace them."
        ).format(venue=f"{venue.name(context.language)}, {venue.address}"),
    )


def handlers() -> list[BaseHandler]:
    schedules: filters.BaseFilter = filters.Document.FileExtension(EXTENSIONS[0])
    for extension in EXTENSIONS[1:]:
        schedules |= filters.Document.FileExtension(extension)
    return [
        MessageHandler(schedules, import_file),
        CommandHandler("schedulecsv", send_template),
    ]
