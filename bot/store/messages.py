"""The message log: every update in and every message out."""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import to_text as _iso
from bot.store.subject import Subject

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoggedMessage:
    at: datetime
    direction: str
    chat_id: int | None
    user_id: int | None
    message_id: int | None
    kind: str
    text: str | None
    details: dict[str, Any]


Parameters = tuple[Any, ...]


class Messages(Subject):
    """The message log."""

    # -- message log -------------------------------------------------------------------------

    async def log_message(
        self,
        *,
        direction: str,
        kind: str,
        chat_id: int | None,
        user_id: int | None = None,
        message_id: int | None = None,
        update_id: int | None = None,
        text: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Logs a message in or out; written with the COMMIT of the open unit of work (nothing
        reads the log back before), or at once outside one."""
        await self._write_later(
            _LOG_MESSAGE,
            self._log_row(direction, kind, chat_id, user_id, message_id, update_id, text, details),
        )

    def log_message_in(
        self,
        connection: sqlite3.Connection,
        *,
        direction: str,
        kind: str,
        chat_id: int | None,
        user_id: int | None = None,
        message_id: int | None = None,
        update_id: int | None = None,
        text: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """`log_message` on the connection's thread, at once (inside a `transaction` `first`)."""
        connection.execute(
            _LOG_MESSAGE,
            self._log_row(direction, kind, chat_id, user_id, message_id, update_id, text, details),
        )

    def _log_row(
        self,
        direction: str,
        kind: str,
        chat_id: int | None,
        user_id: int | None,
        message_id: int | None,
        update_id: int | None,
        text: str | None,
        details: dict[str, Any] | None,
    ) -> Parameters:
        return (
            _iso(self.clock()),
            direction,
            chat_id,
            user_id,
            message_id,
            update_id,
            kind,
            text,
            json.dumps(details, ensure_ascii=False) if details else None,
        )

    async def conversation_with(
        self, chat_id: int, *, limit: int | None = None
    ) -> list[LoggedMessage]:
        """The logged messages of one chat, oldest first (the newest `limit` if given)."""
        rows = await self._fetch(
            "SELECT * FROM (SELECT at, direction, chat_id, user_id, message_id, kind, text,"
            " details, id FROM message_log WHERE chat_id = ? ORDER BY id DESC LIMIT ?)"
            " ORDER BY id",
            (chat_id, -1 if limit is None else limit),
        )
        return [
            LoggedMessage(
                at=datetime.fromisoformat(row["at"]),
                direction=row["direction"],
                chat_id=row["chat_id"],
                user_id=row["user_id"],
                message_id=row["message_id"],
                kind=row["kind"],
                text=row["text"],
                details=json.loads(row["details"]) if row["details"] else {},
            )
            for row in rows
        ]


_LOG_MESSAGE = (
    "INSERT INTO message_log (at, direction, chat_id, user_id, message_id, update_id, kind, text,"
    " details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# Table name -> owner column. Only these names ever reach an f-string above.
