"""The application, assembled in one place: the core (bot/) with the flows (handlers/).

bot/ never imports handlers/; this package puts the two together for the command line, the
demo, the tests and the benchmarks.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import cast

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest, HTTPXRequest

import handlers
from bot.app import BotApplication, BotContext
from bot.clock import Clock, utc_now
from bot.config import LANGUAGES, Settings
from bot.i18n import translator
from bot.maintenance import plan_maintenance, register_core_jobs
from bot.message_log import LoggedRequest
from bot.ordering import PerChatOrder
from bot.outbox import Limits, OutboxSender, Sleep
from bot.persistence import SQLitePersistence
from bot.scheduler import Scheduler
from bot.store import Store
from bot.updates import ConfirmingRequest, UpdateQueue
from handlers.commands import command_menu, staff_command_menu
from handlers.meeting_digest import plan_digest

log = logging.getLogger(__name__)


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    clock: Clock = utc_now,
    token: str | None = None,
    rate_limit: bool = True,
    background: bool = True,
    sleep: Sleep = asyncio.sleep,
    limits: Limits | None = None,
) -> BotApplication:
    """The bot, ready to initialize. `request`s replace the HTTP transport (tests use a fake).
    Without `background` the outbox and the schedule run only when `settle()` is called."""
    outbound = LoggedRequest(request or HTTPXRequest(connection_pool_size=16))
    store = Store(settings.database, clock=clock, synchronous=settings.sqlite_synchronous)
    persistence = SQLitePersistence(store)
    queue = UpdateQueue()
    persistence.conversation_idle = timedelta(days=settings.conversation_idle_days)
    builder = (
        ApplicationBuilder()
        .application_class(BotApplication)
        .token(token or settings.bot_token or "")
        .base_url(settings.bot_api_url)
        .base_file_url(settings.bot_file_api_url)
        .request(outbound)
        .get_updates_request(
            ConfirmingRequest(get_updates_request or HTTPXRequest(read_timeout=30), queue)
        )
        .persistence(persistence)
        .update_queue(queue)
        .context_types(ContextTypes(context=BotContext))
        .post_init(_post_init)
        # Polling and webhooks: different chats' updates side by side, each chat's in order, so
        # a burst from one chat does not hold up everyone else (tests deliver directly).
        .concurrent_updates(PerChatOrder())
    )
    if rate_limit:
        # Direct replies keep to Telegram's overall limit (≈30 msg/s) and are retried after a
        # 429. The per-group budget is the outbox sender's alone: replies to a specialist in
        # the staff chat must not wait a minute behind a burst of posts there.
        builder = builder.rate_limiter(
            AIORateLimiter(group_max_rate=0, max_retries=3)  # type: ignore[arg-type]
        )
    app = cast(BotApplication, builder.build())
    app.settings = settings
    app.store = store
    app.clock = clock
    app.outbound = outbound
    app.background = background
    # The sender has a Bot of its own, without PTB's rate limiter (it keeps its own budget), on
    # the same transport — so its messages are in the message log too. The application's bot
    # shuts the shared transport down; this one is never shut down itself.
    sender_bot = Bot(
        token or settings.bot_token or "",
        base_url=settings.bot_api_url,
        base_file_url=settings.bot_file_api_url,
        request=outbound,
        get_updates_request=outbound,
    )
    app.outbox = OutboxSender(
        store,
        sender_bot,
        clock=clock,
        sleep=sleep,
        limits=limits or Limits(overall_per_second=settings.outbox_rate),
        staff_chat_id=settings.staff_chat_id,
        timezone=settings.timezone,
    )
    outbound.sending = app.outbox.sending  # direct replies share the rate too
    app.scheduler = Scheduler(app, store, clock)
    handlers.register(app)
    register_core_jobs(app)
    return app


async def _post_init(app: Application) -> None:
    bot_app = cast(BotApplication, app)
    await publish_commands(bot_app)
    await plan_maintenance(bot_app)
    await plan_digest(bot_app)
    if bot_app.background:
        bot_app.scheduler.start()
        bot_app.outbox.start()


async def publish_commands(app: BotApplication) -> None:
    """The command menu in each language (Latvian is also the default for everyone else), and
    the staff commands in the staff chat."""
    for language in LANGUAGES:
        commands = [
            BotCommand(name, description)
            for name, description in command_menu(translator(language, app.settings.timezone))
        ]
        await app.bot.set_my_commands(
            commands, scope=BotCommandScopeDefault(), language_code=language
        )
        if language == "lv":
            await app.bot.set_my_commands(commands, scope=BotCommandScopeDefault())
    if app.settings.staff_chat_id is not None:
        staff_commands = [
            BotCommand(name, description)
            for name, description in staff_command_menu(translator("lv", app.settings.timezone))
        ]
        try:
            await app.bot.set_my_commands(
                staff_commands, scope=BotCommandScopeChat(app.settings.staff_chat_id)
            )
        except TelegramError as error:
            # The bot may not be in the staff chat yet; everything else works without this.
            log.warning("could not set the staff chat's commands: %s", error)
