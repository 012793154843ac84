"""The first handler groups: record every update, resolve the person's language, keep the bot
out of chats it does not serve, and answer edits. They run before any flow sees the update."""

from __future__ import annotations

import logging

from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    ChatMemberHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.app import BotContext, resident_of_this_update
from bot.callbacks import audience_of
from bot.flood import FloodGuard
from bot.i18n import N_, STAFF_LANGUAGE, negotiate
from bot.staff_chat import post_to_staff, staff_text

log = logging.getLogger(__name__)

FLOOD_GUARD = "flood_guard"  # bot_data key (bot_data is not persisted: a restart forgives)


async def resolve_language(update: Update, context: BotContext) -> None:
    """Sets the language once per update: stored choice → Telegram's hint → Latvian.
    (BotApplication.process_update has already logged the update and met the resident.)"""
    user, chat = update.effective_user, update.effective_chat
    if chat is not None and chat.id == context.settings.staff_chat_id:
        # The staff chat is shared: everything there stays in one language, whoever acts.
        context.use_language(STAFF_LANGUAGE)
        return
    if user is None or user.is_bot:
        return
    # The update's bookkeeping has just met the resident; read the row again only if not.
    resident = resident_of_this_update() or await context.store.residents.resident(user.id)
    language = resident.language if resident else None
    context.use_language(language or negotiate(user.language_code))


def _served(update: Update, context: BotContext) -> bool:
    chat = update.effective_chat
    return (
        chat is None or chat.type == ChatType.PRIVATE or chat.id == context.settings.staff_chat_id
    )


async def keep_to_served_chats(update: Update, context: BotContext) -> None:
    """Residents are served in private chats and staff in the staff chat; anywhere else the bot
    says so once, leaves, and ignores what it still receives. In the staff chat only staff
    buttons work: a member forging a resident's button there gets nothing posted."""
    query = update.callback_query
    chat = update.effective_chat
    in_group = chat is not None and chat.type != ChatType.PRIVATE
    if query is not None and in_group and audience_of(query.data) != "staff":
        await query.answer(context.gettext("This button is no longer active."))
        raise ApplicationHandlerStop
    if _served(update, context):
        return
    member: ChatMemberUpdated | None = update.my_chat_member
    added = member is not None and member.new_chat_member.status in (
        ChatMemberStatus.MEMBER,
        ChatMemberStatus.ADMINISTRATOR,
    )
    if chat is not None and added:
        _ = context.gettext
        user = update.effective_user
        try:
            if user is not None and user.id in context.settings.admin_ids:
                # An admin setting up the staff chat needs its id; the bot stays until then.
                await context.bot.send_message(
                    chat.id,
                    _(
                        "This group's id is {id}. To make it the staff chat, set "
                        "STAFF_CHAT_ID={id} and restart the bot."
                    ).format(id=chat.id),
                )
            else:
                log.info("added to unserved chat %s; leaving", chat.id)
                await context.bot.send_message(
                    chat.id,
                    _(
                        "I serve residents in private chats only. Write to me directly: @{bot}"
                    ).format(bot=context.bot.username),
                )
                await context.bot.leave_chat(chat.id)
        except TelegramError as error:
            log.warning("could not answer in chat %s: %s", chat.id, error)
    raise ApplicationHandlerStop


async def answer_edit(update: Update, context: BotContext) -> None:
    """Edits are not picked up: say so, so nobody believes a correction reached the office."""
    message = update.edited_message
    if message is not None and message.chat.type == ChatType.PRIVATE:
        _ = context.gettext
        await message.reply_text(
            _(
                "I only read new messages, so this edit has not changed anything. "
                "If you want to correct something, please send it again."
            )
        )
    raise ApplicationHandlerStop


async def note_block_status(update: Update, context: BotContext) -> None:
    """A resident blocked or unblocked the bot in their private chat: nothing is sent to them
    while they are unreachable (notices would only fail)."""
    member = update.my_chat_member
    if member is not None and member.chat.type == ChatType.PRIVATE:
        blocked = member.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
        await context.store.residents.set_reachable(member.chat.id, not blocked)
    raise ApplicationHandlerStop


async def slow_down_floods(update: Update, context: BotContext) -> None:
    """A resident sending more than MESSAGES_PER_MINUTE is asked to slow down (once), staff are
    told once, and their further messages that minute are logged but not acted on."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE or update.message is None:
        return  # messages are counted; button presses answer what the bot asked
    now = context.now()
    guard = _flood_guard(context)
    if guard.admit(user.id, now):
        return
    if guard.first_refusal(user.id, now):
        _ = context.gettext
        await context.bot.send_message(
            chat.id,
            _(
                "You are sending messages faster than I can read them. Please wait a minute, "
                "then send again whatever I have not answered."
            ),
        )
        if context.settings.staff_chat_id is not None:
            await post_to_staff(
                context,
                f"flood:{user.id}:u{update.update_id}",
                staff_text(
                    context,
                    N_("⚠️ Resident {id} sent more than {n} messages in a minute; slowed down."),
                ).format(id=user.id, n=guard.per_minute),
            )
    raise ApplicationHandlerStop


def _flood_guard(context: BotContext) -> FloodGuard:
    guard = context.bot_data.get(FLOOD_GUARD)
    if not isinstance(guard, FloodGuard):
        guard = context.bot_data[FLOOD_GUARD] = FloodGuard(context.settings.messages_per_minute)
    return guard


def handlers() -> dict[int, list[BaseHandler]]:
    return {
        -100: [TypeHandler(Update, resolve_language)],
        -90: [TypeHandler(Update, keep_to_served_chats)],
        -85: [TypeHandler(Update, slow_down_floods)],
        -80: [
            MessageHandler(filters.UpdateType.EDITED, answer_edit),
            ChatMemberHandler(note_block_status, ChatMemberHandler.MY_CHAT_MEMBER),
        ],
    }
