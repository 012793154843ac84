"""The base of the store's subjects: a plain class over the core (bot/store/core.py) that runs
one subject's SQL on the core's single connection, inside its transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import aiosqlite

    from bot.clock import Clock
    from bot.store.core import Store

T = TypeVar("T")


class Subject:
    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def clock(self) -> Clock:
        return self.store.clock

    async def _fetch(self, sql: str, parameters: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        return await self.store._fetch(sql, parameters)

    def _write(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        return self.store._write()

    def _atomic(self) -> AbstractAsyncContextManager[None]:
        return self.store._atomic()

    async def _write_one(self, sql: str, parameters: tuple[Any, ...] = ()) -> int:
        return await self.store._write_one(sql, parameters)

    async def _write_later(self, sql: str, parameters: tuple[Any, ...]) -> None:
        await self.store._write_later(sql, parameters)

    async def _in_thread(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self.store._in_thread(work)
