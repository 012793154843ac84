"""Updates of different chats handled side by side, each chat's in the order they arrived.

PTB handles one update at a time by default, so a burst from one chat (a resident pasting or
forwarding twenty messages at once) makes everyone else wait behind all of it. With this
processor each chat's updates still wait for each other, but only for each other: another
resident's update waits for at most the one update that holds the store's write lock. The write
lock still serialises the updates' transactions, so this buys fairness, not throughput.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates processed or waiting at once, all chats together. Generous on purpose: a chat's
# waiting updates hold a place too (PTB takes it before this processor sees the update), and a
# flood of them must not take every place. Waiting costs one small task each.
MAX_CONCURRENT_UPDATES = 1024


class PerChatOrder(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        # A lock per chat with updates in hand, and how many updates hold or await it.
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_of(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:  # asyncio locks are fair: the chat's updates go in arrival order
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _chat_of(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None
