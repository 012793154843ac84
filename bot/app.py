"""Assembly: the PTB Application, its context type, and the resources it owns.

Start-up order matters: PTB loads conversation states from the persistence inside
`Application.initialize()`, before `post_init` runs, so the store is opened at the very start of
`initialize()` and closed at the very end of `shutdown()` — by `BotApplication` itself, so that
tests (`async with app:`), polling and webhooks all get the same life cycle.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from contextvars import ContextVar
from datetime import datetime
from typing import Any, NoReturn, cast

from telegram import Update
from telegram.ext import (
    Application,
    CallbackContext,
    ExtBot,
)

from bot.clock import Clock
from bot.config import Municipality, Settings
from bot.i18n import Translator, translator
from bot.message_log import LoggedRequest, inbound_entry, record_outbound
from bot.outbox import OutboxSender
from bot.persistence import SQLitePersistence
from bot.scheduler import Scheduler
from bot.store import Resident, Store
from bot.updates import UpdateQueue

log = logging.getLogger(__name__)

# How many people's user_data and chat_data stay in memory between their updates (least recently
# used first out). The store has them all; this only bounds RAM.
DATA_CACHE_SIZE = 2000
# How often an update that crashed the bot is tried again at start-up before it is given up.
MAX_ATTEMPTS = 3


def _payload(update: Update) -> str:
    return json.dumps(update.to_dict(), ensure_ascii=False)


# The resident met by this update's bookkeeping, so the language middleware need not read the
# row a second time.
_current_resident: ContextVar[Resident | None] = ContextVar("current_resident", default=None)
# True while this update's handlers run inside the "handling" savepoint.
_handling: ContextVar[bool] = ContextVar("handling", default=False)


def resident_of_this_update() -> Resident | None:
    return _current_resident.get()


class StateNotSaved(Exception):
    """A conversation state or user/chat data write failed: the update's effects are rolled back
    with it, and it is not confirmed to Telegram (which sends it again)."""


class BotApplication(Application):
    """PTB's Application plus the store, settings, clock, outbox sender and scheduler."""

    settings: Settings
    store: Store
    clock: Clock
    outbound: LoggedRequest | None
    outbox: OutboxSender
    scheduler: Scheduler
    # False in tests and the scripted demo: they call settle() instead of running loops.
    background: bool
    # The main menu's entries (handlers.menu.MenuEntry), in order; set by handlers.register.
    menu: list[Any]
    # After a crash, the first update not handled before is written to the journal, in a commit
    # of its own, before it is handled: if it is what kills the bot, the starts that follow
    # count it, and give up on it in the end (MAX_ATTEMPTS) rather than die on it forever.
    _suspect_next = False
    _an_update_failed = False

    async def initialize(self) -> None:
        await self.store.open()
        if self.outbound is not None:
            store = self.store
            self.outbound.sink = lambda kind, message: record_outbound(store, kind, message)
        await super().initialize()
        await self.outbox.bot.initialize()
        if crashed := await self.store.outbox.uncertain_after_crash():
            log.warning("%s message(s) were being sent when the bot stopped: uncertain", crashed)
        crashed_before = await self.store.journal.begin_run()
        if not await self._finish_interrupted_updates():
            self._suspect_next = crashed_before

    async def _finish_interrupted_updates(self) -> bool:
        """Handles what the journal holds: an update that was being handled when a crash (or a
        failed commit) stopped the bot after the one before. Telegram sends it again too, but
        first the attempt is counted. Returns whether there was any."""
        entries = await self.store.journal.unfinished()
        for entry in entries:
            attempts = await self.store.journal.count_attempt(entry.update_id)
            update = Update.de_json(json.loads(entry.payload), self.bot)
            if attempts > MAX_ATTEMPTS:
                log.error("update %s failed %s times; giving up on it", entry.update_id, attempts)
                async with self.store.unit_of_work():
                    await self.store.journal.finish(entry.update_id)
                continue
            log.warning("handling update %s again after a crash", entry.update_id)
            await self.process_update(update)
        return bool(entries)

    async def shutdown(self) -> None:
        try:
            await self.scheduler.stop()
            await self.outbox.stop(finish_due=True)
            await super().shutdown()
            if not self._an_update_failed:  # else the next start treats it as a crash
                await self.store.journal.end_run()
        finally:
            await self.store.close()

    def after_commit(self) -> None:
        """Something may have been added to the outbox or the schedule: look now."""
        self.outbox.wake()
        self.scheduler.wake()

    async def settle(self) -> None:
        """Runs due jobs and delivers the outbox to the end (tests, the scripted demo and
        benchmarks, where no background loop runs)."""
        await self.scheduler.run_due()
        await self.outbox.drain()

    async def process_update(self, update: object) -> None:
        if not isinstance(update, Update):
            await super().process_update(update)
            return
        queue = self.update_queue if isinstance(self.update_queue, UpdateQueue) else None
        suspect = self._suspect_next
        try:
            handled = await self._handle_in_one_transaction(
                update, _payload(update) if suspect else None
            )
        except BaseException as error:
            if queue is not None:
                queue.finished(update.update_id, error)  # not confirmed: Telegram keeps it
            if not isinstance(error, Exception):
                raise
            log.critical(
                "update %s could not be committed; Telegram will send it again",
                update.update_id,
                exc_info=True,
            )
            self._an_update_failed = True
            if self.running:
                # Memory (PTB's conversation states) may now be ahead of the store: stop, and
                # let the next start carry on from what was committed.
                self.stop_running()
            raise
        if queue is not None:
            queue.finished(update.update_id)
        if not handled:
            return  # handled before (Telegram re-sent it, or a replay)
        if suspect:
            self._suspect_next = False
        self.after_commit()

    async def _handle_in_one_transaction(self, update: Update, payload: str | None) -> bool:
        """The update's record in the message log, its effects, its outbox rows, the conversation
        state it led to and the note that it was handled: one commit, all or nothing. With a
        `payload` (a suspect after a crash), the update is journaled first, in a commit of its
        own. Returns False if it had been handled before.

        The bookkeeping takes two trips to the database's thread besides the handlers' own: one
        opens the transaction (was the update handled before, the resident met, the update
        logged, the savepoint); one writes the outbound log, the state and the note with the
        COMMIT."""
        store = self.store
        user = update.effective_user
        person = user if user is not None and not user.is_bot else None

        def arrive(connection: sqlite3.Connection) -> bool:
            if payload is None:
                return True
            return store.journal.arrive_in(connection, update.update_id, payload) != "done"

        inbound = inbound_entry(update)

        def begin(connection: sqlite3.Connection) -> tuple[bool, Resident | None]:
            if store.journal.was_handled_in(connection, update.update_id):
                return False, None
            resident = None
            if person is not None:
                resident = store.residents.resident_seen_in(
                    connection, person.id, person.language_code
                )
            store.messages.log_message_in(connection, **inbound)  # kept if a handler fails
            store.savepoint_in(connection, "handling")
            return True, resident

        async with store.transaction(begin, before=arrive) as opened:
            if opened is None:
                return False
            fresh, resident = opened
            if not fresh:
                return False
            resident_token = _current_resident.set(resident)
            handling_token = _handling.set(True)
            try:
                await super().process_update(update)
            finally:
                _handling.reset(handling_token)
                _current_resident.reset(resident_token)
            await store.release("handling")
            await self._write_state()
            await store.journal.finish(update.update_id)
            # Under the write lock, where no other update is using PTB's data (updates of
            # different chats may be handled concurrently, see bot/ordering.py).
            self._forget_idle_data(update)
        return True

    async def _write_state(self) -> None:
        persistence = cast(SQLitePersistence, self.persistence)
        persistence.failures.clear()
        await self.update_persistence()
        if persistence.failures:
            # PTB gathers these writes with return_exceptions=True: a failure would go unseen.
            raise StateNotSaved(str(persistence.failures[0])) from persistence.failures[0]

    async def process_error(
        self,
        update: object | None,
        error: Exception,
        job: Any = None,
        coroutine: Any = None,
    ) -> bool:
        if _handling.get() and self.store.in_unit_of_work:
            # A handler failed half-way: undo what it wrote. The error handler's apology, the
            # message log and the journal entry's strike still commit (no retry of a bug).
            await self.store.rollback_to("handling")
        return await super().process_error(update, error, job, coroutine)

    async def _persistence_updater(self) -> None:
        """Off. process_update writes the state in the update's own transaction; PTB's
        once-a-minute write would take PTB's persistence lock before the store's write lock —
        the reverse of process_update's order, a deadlock waiting to happen."""

    def _forget_idle_data(self, update: Update) -> None:
        # PTB keeps every user_data and chat_data it ever loaded; we keep the most recent few
        # thousand. The persistence reloads an evicted one on that person's next update.
        for store, key in (
            (self._user_data, update.effective_user.id if update.effective_user else None),
            (self._chat_data, update.effective_chat.id if update.effective_chat else None),
        ):
            if key is not None and key in store:
                store[key] = store.pop(key)
            while len(store) > DATA_CACHE_SIZE:
                store.pop(next(iter(store)))


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
