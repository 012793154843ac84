"""Importing a working groups' schedule from an iCalendar file a specialist sends the bot as a
document (the same as `liepaja-bot meetings import FILE`): all of it, or — with a bad event —
none, and the bad events named by their UID. Importing the same file again adds nothing.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, MessageHandler, filters

from bot.app import BotContext
from bot.auth import staff_only
from bot.meetings_ics import parse_schedule

IMPORT_MAX_BYTES = 1_000_000


@staff_only
async def import_file(update: Update, context: BotContext) -> None:
    """An .ics document from staff: the schedule, all of it or (with a bad event) none."""
    message = update.effective_message
    assert message is not None and message.document is not None
    _ = context.gettext
    if (message.document.file_size or 0) > IMPORT_MAX_BYTES:
        await message.reply_text(_("The file is too large for a schedule."))
        return
    file = await context.bot.get_file(message.document.file_id)
    data = bytes(await file.download_as_bytearray())
    parsed = parse_schedule(
        data, context.municipality.themes, context.settings.timezone, context.now()
    )
    if parsed.problems:
        await message.reply_text(
            _("Nothing was imported. Please correct these events and send the file again:")
            + "\n"
            + "\n".join(f"• {problem.text(_)}" for problem in parsed.problems[:30])
        )
        return
    counts = await context.store.meetings.import_schedule(parsed.meetings)
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


def handlers() -> list[BaseHandler]:
    return [MessageHandler(filters.Document.FileExtension("ics"), import_file)]
