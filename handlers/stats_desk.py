"""/stats in the staff chat: a chart of proposals, bookings and subscribers, and its numbers."""

from __future__ import annotations

import asyncio
import io

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CommandHandler

from bot.app import BotContext
from bot.auth import staff_only
from bot.stats import chart_png, gather, summary
from bot.text import send_long


@staff_only
async def stats(update: Update, context: BotContext) -> None:
    """The chart as a photo, then the same numbers as text (readable, and copyable)."""
    _ = context.gettext
    message = update.effective_message
    assert message is not None
    figures = await gather(context.store, context.settings, context.now())
    # Drawing takes a moment of CPU: off the event loop, so other chats are not held up.
    png = await asyncio.to_thread(chart_png, figures, context.settings, context.tr)
    stamp = context.now().astimezone(context.settings.timezone).strftime("%Y-%m-%d")
    await message.reply_photo(
        InputFile(io.BytesIO(png), filename=f"stats-{stamp}.png"),
        caption=_("Statistics on {date}").format(date=stamp),
    )
    await send_long(
        context.bot,
        message.chat_id,
        summary(figures, context.settings, context.tr),
        message_thread_id=message.message_thread_id if message.is_topic_message else None,
    )


def handlers() -> list[BaseHandler]:
    return [CommandHandler("stats", stats)]
