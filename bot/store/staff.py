"""Staff: the Development Office's specialists (admins come from ADMIN_IDS)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.clock import to_text as _iso
from bot.store.subject import Subject

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Specialist:
    user_id: int
    added_by: int
    added_at: datetime


@dataclass(frozen=True)
class AnswerTemplate:
    id: int
    title: str
    text: str


class Staff(Subject):
    """Specialists added by an admin."""

    # -- staff -------------------------------------------------------------------------------

    async def is_specialist(self, user_id: int) -> bool:
        rows = await self._fetch("SELECT 1 FROM specialists WHERE user_id = ?", (user_id,))
        return bool(rows)

    async def specialists(self) -> list[Specialist]:
        rows = await self._fetch(
            "SELECT user_id, added_by, added_at FROM specialists ORDER BY added_at"
        )
        return [
            Specialist(row["user_id"], row["added_by"], datetime.fromisoformat(row["added_at"]))
            for row in rows
        ]

    async def add_specialist(self, user_id: int, added_by: int) -> bool:
        """Adds a specialist; False if they already were one."""
        async with self._write() as db:
            cursor = await db.execute(
                "INSERT INTO specialists (user_id, added_by, added_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO NOTHING",
                (user_id, added_by, _iso(self.clock())),
            )
            return cursor.rowcount > 0

    async def remove_specialist(self, user_id: int) -> bool:
        """Removes a specialist; False if they were not one."""
        async with self._write() as db:
            cursor = await db.execute("DELETE FROM specialists WHERE user_id = ?", (user_id,))
            return cursor.rowcount > 0

    # -- saved answers --------------------------------------------------------------------------

    async def answer_templates(self) -> list[AnswerTemplate]:
        rows = await self._fetch("SELECT id, title, text FROM answer_templates ORDER BY title")
        return [AnswerTemplate(row["id"], row["title"], row["text"]) for row in rows]

    async def answer_template(self, template_id: int) -> AnswerTemplate | None:
        rows = await self._fetch(
            "SELECT id, title, text FROM answer_templates WHERE id = ?", (template_id,)
        )
        return AnswerTemplate(rows[0]["id"], rows[0]["title"], rows[0]["text"]) if rows else None

    async def add_answer_template(self, title: str, text: str, *, by: int) -> int:
        async with self._write() as db:
            cursor = await db.execute(
                "INSERT INTO answer_templates (title, text, created_by, created_at)"
                " VALUES (?, ?, ?, ?)",
                (title, text, by, _iso(self.clock())),
            )
            return int(cursor.lastrowid or 0)

    async def delete_answer_template(self, template_id: int) -> bool:
        async with self._write() as db:
            cursor = await db.execute("DELETE FROM answer_templates WHERE id = ?", (template_id,))
            return cursor.rowcount > 0
