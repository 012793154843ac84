"""PTB persistence on the bot's SQLite store: conversation states, user_data and chat_data as JSON.

Two differences from PTB's own persistences, both on purpose:
- user_data and chat_data are loaded lazily, per update, through `refresh_*_data` instead of all at
  start-up, so a bot that has met 50,000 residents does not hold them all in memory.
- The application writes after every update (see `BotApplication.process_update`), not once a
  minute, so a reply the resident has seen is never followed by a lost state.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from bot.store import Store

# PTB's own aliases live in a private module; these say the same.
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]


class SQLitePersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    def __init__(self, store: Store) -> None:
        # callback_data stays off: our buttons carry short ASCII ids, never Python objects.
        super().__init__(
            # bot_data stays off too: nothing uses it, and PTB would rewrite it after every update.
            store_data=PersistenceInput(
                bot_data=False, chat_data=True, user_data=True, callback_data=False
            ),
            # Only the final write at shutdown uses this; every update is written right away.
            update_interval=60,
        )
        self.store = store
        # Writes that raised since the application last looked (PTB swallows them; see
        # BotApplication._write_state).
        self.failures: list[BaseException] = []
        # Conversations untouched this long are not loaded at start-up (and are dropped by the
        # daily maintenance job).
        self.conversation_idle = timedelta(days=30)

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        return {}  # loaded per user in refresh_user_data

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return {}  # loaded per chat in refresh_chat_data

    async def get_bot_data(self) -> dict[str, Any]:
        return await self.store.conversations.bot_data()

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        since = self.store.clock() - self.conversation_idle
        return await self.store.conversations.conversation_states(name, active_since=since)

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        await self._noting_failure(
            self.store.conversations.save_conversation_state(name, key, new_state)
        )

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        await self._noting_failure(self.store.conversations.save_data("user_data", user_id, data))

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        await self._noting_failure(self.store.conversations.save_data("chat_data", chat_id, data))

    async def _noting_failure(self, write: Awaitable[None]) -> None:
        try:
            await write
        except BaseException as error:
            self.failures.append(error)
            raise

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        await self.store.conversations.save_bot_data(data)

    async def update_callback_data(self, data: CDCData) -> None:
        """Not used: callback_data is not persisted (see __init__)."""

    async def drop_user_data(self, user_id: int) -> None:
        await self.store.conversations.drop_data("user_data", user_id)

    async def drop_chat_data(self, chat_id: int) -> None:
        await self.store.conversations.drop_data("chat_data", chat_id)

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        # PTB hands us the in-memory dict; an empty one has not been loaded yet (or is empty in
        # the store too, which a second lookup costs little to confirm).
        if not user_data:
            user_data.update(await self.store.conversations.data_of("user_data", user_id) or {})

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        if not chat_data:
            chat_data.update(await self.store.conversations.data_of("chat_data", chat_id) or {})

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        """bot_data is loaded once at start-up and only this process writes it."""

    async def flush(self) -> None:
        """Everything is written as it happens; the store is closed by the application."""
