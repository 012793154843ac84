"""Staff rights: the one check every staff action goes through, at the moment it happens.

Rights come from ADMIN_IDS (admins) and the specialists table (added by an admin), read anew on
every call — never from callback data, a cached flag or the chat the button sits in — so a
specialist removed a minute ago cannot press an old button.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from telegram import Update

from bot.app import BotContext

R = TypeVar("R")
Handler = Callable[[Update, BotContext], Coroutine[Any, Any, R]]


def is_admin(context: BotContext, user_id: int) -> bool:
    return user_id in context.settings.admin_ids


async def is_staff(context: BotContext, user_id: int) -> bool:
    return is_admin(context, user_id) or await context.store.staff.is_specialist(user_id)


def staff_only(handler: Handler[R]) -> Handler[R | None]:
    """Runs `handler` only for staff; anyone else is told politely and nothing happens."""
    return _guarded(handler, is_staff)


def admin_only(handler: Handler[R]) -> Handler[R | None]:
    async def check(context: BotContext, user_id: int) -> bool:
        return is_admin(context, user_id)

    return _guarded(handler, check)


def _guarded(
    handler: Handler[R], allowed: Callable[[BotContext, int], Awaitable[bool]]
) -> Handler[R | None]:
    @functools.wraps(handler)
    async def wrapper(update: Update, context: BotContext) -> R | None:
        user = update.effective_user
        if user is not None and await allowed(context, user.id):
            return await handler(update, context)
        await refuse(update, context)
        return None

    wrapper.checks_rights = True  # type: ignore[attr-defined]  # see tests/test_staff_admin.py
    return wrapper


async def refuse(update: Update, context: BotContext) -> None:
    _ = context.gettext
    text = _("This is for the Development Office staff only.")
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(text)


def user_id_argument(args: list[str] | None) -> int | None:
    """The Telegram user id given after a command, if it is one."""
    if not args or len(args) != 1:
        return None
    try:
        value: Any = int(args[0])
    except ValueError:
        return None
    return value if value > 0 else None
