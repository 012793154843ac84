"""Assembly: the PTB Application, its context type, and the resources it owns.

Start-up order matters: PTB loads conversation states from the persistence inside
`Application.initialize()`, before `post_init` runs, so the store is opened at the very start of
`initialize()` and closed at the very end of `shutdown()` — by `BotApplication` itself, so that
tests (`async with app:`), polling and webhooks all get the same life cycle.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from typing import Any, NoReturn, cast

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackContext,
    ContextTypes,
    ExtBot,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.clock import Clock, utc_now
from bot.config import LANGUAGES, Municipality, Settings
from bot.i18n import Translator, translator
from bot.message_log import LoggedRequest, record_outbound, record_update
from bot.persistence import SQLitePersistence
from bot.store import Store

log = logging.getLogger(__name__)

# How many residents' user_data stay in memory between their updates (least recently used first
# out). The store has them all; this only bounds RAM.
USER_DATA_CACHE_SIZE = 2000


def _payload(update: Update) -> str:
    return json.dumps(update.to_dict(), ensure_ascii=False)


class JournalingQueue(asyncio.Queue[object]):
    """PTB's update queue, journaling each update as it arrives (polling or webhook). PTB tells
    Telegram an update was received as soon as it is queued, so without this a crash would
    lose whatever was still waiting in the queue."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and not await self.store.journal_update(
            item.update_id, _payload(item)
        ):
            return  # finished before: Telegram re-sent it after a restart
        await super().put(item)


class BotApplication(Application):
    """PTB's Application plus the store, settings and clock every handler needs."""

    settings: Settings
    store: Store
    clock: Clock
    outbound: LoggedRequest | None

    async def initialize(self) -> None:
        await self.store.open()
        if self.outbound is not None:
            store = self.store
            self.outbound.sink = lambda kind, message: record_outbound(store, kind, message)
        await super().initialize()
        await self._finish_interrupted_updates()

    async def _finish_interrupted_updates(self) -> None:
        # A crash between a reply and the write of the state it led to leaves the update in
        # the journal: handling it again brings the state to where the resident saw it (they
        # may see that reply twice — better than a conversation that forgot a step).
        for payload in await self.store.unfinished_updates():
            update = Update.de_json(json.loads(payload), self.bot)
            log.warning("handling update %s again after a crash", update.update_id)
            await self.process_update(update)

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        finally:
            await self.store.close()

    async def process_update(self, update: object) -> None:
        if not isinstance(update, Update):
            await super().process_update(update)
            return
        # Bookkeeping before any handler runs, in one transaction: the journal entry, the
        # message log's record of what came in, the resident's last contact.
        async with self.store.unit_of_work():
            if not await self.store.begin_update(update.update_id, _payload(update)):
                return  # finished before: Telegram re-sent it after a restart
            await record_update(self.store, update)
            user = update.effective_user
            if user is not None and not user.is_bot:
                await self.store.record_resident_seen(user.id, user.language_code)
        await super().process_update(update)
        # Then this update's conversation state and user_data (PTB's default: once a minute),
        # and striking it from the journal, together: until then a crash means "handle again".
        async with self.store.unit_of_work():
            await self.update_persistence()
            await self.store.finish_update(update.update_id)
        self._forget_idle_user_data(update)

    async def _persistence_updater(self) -> None:
        """Off. PTB's once-a-minute write would only repeat what process_update has written,
        and it would take PTB's persistence lock before the store's write lock — the reverse
        of process_update's order, a deadlock waiting to happen."""

    def _forget_idle_user_data(self, update: object) -> None:
        # PTB keeps every user_data it ever loaded; we keep the most recent few thousand. The
        # persistence reloads an evicted one on that resident's next update.
        users = self._user_data  # PTB's dict behind the read-only `user_data` view
        if isinstance(update, Update) and update.effective_user:
            user_id = update.effective_user.id
            if user_id in users:
                users[user_id] = users.pop(user_id)
        while len(users) > USER_DATA_CACHE_SIZE:
            users.pop(next(iter(users)))


class BotContext(CallbackContext[ExtBot[None], dict[str, Any], dict[str, Any], dict[str, Any]]):
    """The context handlers receive: the store, settings, clock and the person's language."""

    def __init__(
        self,
        application: Application,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self._translator: Translator | None = None

    # Handlers always run for a person in a chat; these save a None check at every use.
    @property
    def user_data(self) -> dict[str, Any]:
        data = super().user_data
        if data is None:
            raise RuntimeError("no user in this update")
        return data

    @user_data.setter
    def user_data(self, _: object) -> NoReturn:
        raise AttributeError("user_data cannot be replaced; change its contents")

    @property
    def chat_data(self) -> dict[str, Any]:
        data = super().chat_data
        if data is None:
            raise RuntimeError("no chat in this update")
        return data

    @chat_data.setter
    def chat_data(self, _: object) -> NoReturn:
        raise AttributeError("chat_data cannot be replaced; change its contents")

    @property
    def app(self) -> BotApplication:
        return cast(BotApplication, self.application)

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def municipality(self) -> Municipality:
        return self.app.settings.municipality

    def now(self) -> datetime:
        return self.app.clock()

    @property
    def tr(self) -> Translator:
        """The person's language, resolved once per update by the middleware (default Latvian)."""
        if self._translator is None:
            self._translator = translator(None, self.settings.timezone)
        return self._translator

    def use_language(self, language: str | None) -> Translator:
        self._translator = translator(language, self.settings.timezone)
        return self._translator

    @property
    def language(self) -> str:
        return self.tr.language

    def gettext(self, message: str) -> str:
        return self.tr.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.tr.ngettext(singular, plural, n)


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    clock: Clock = utc_now,
    token: str | None = None,
    rate_limit: bool = True,
) -> BotApplication:
    """The bot, ready to initialize. `request`s replace the HTTP transport (tests use a fake)."""
    from handlers import register  # handlers import bot.*, so import them late

    outbound = LoggedRequest(request or HTTPXRequest(connection_pool_size=16))
    store = Store(settings.database, clock=clock)
    builder = (
        ApplicationBuilder()
        .application_class(BotApplication)
        .token(token or settings.bot_token or "")
        .base_url(settings.bot_api_url)
        .base_file_url(settings.bot_file_api_url)
        .request(outbound)
        .get_updates_request(get_updates_request or HTTPXRequest(read_timeout=30))
        .persistence(SQLitePersistence(store))
        .update_queue(JournalingQueue(store))
        .context_types(ContextTypes(context=BotContext))
        .post_init(_post_init)
    )
    if rate_limit:
        # Telegram's limits (≈30 msg/s overall, 20/min per group): queue rather than be refused.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))  # type: ignore[arg-type]
    app = cast(BotApplication, builder.build())
    app.settings = settings
    app.store = store
    app.clock = clock
    app.outbound = outbound
    register(app)
    return app


async def _post_init(app: Application) -> None:
    await publish_commands(cast(BotApplication, app))


async def publish_commands(app: BotApplication) -> None:
    """The command menu in each language (Latvian is also the default for everyone else), and
    the staff commands in the staff chat."""
    from handlers.commands import command_menu, staff_command_menu

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
