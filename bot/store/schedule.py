"""The stored schedule's SQL: jobs due at a time. The scheduler (bot/scheduler.py) runs what is
due; this table is the truth, so a restart re-arms everything and a job that came due while the
bot was down runs once when it starts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.clock import from_text, to_text

if TYPE_CHECKING:
    from bot.store import Store


@dataclass(frozen=True)
class Job:
    id: int
    key: str
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


class Schedule:
    def __init__(self, store: Store) -> None:
        self.store = store
        # The earliest due time of a pending job (None: none), while `_exact`: the scheduler
        # looks after every commit, and most commits plan nothing. Every write to the schedule
        # makes it inexact (a rolled-back one too), and so does `look_again`: another process
        # (`liepaja-bot meetings import`) may plan jobs too.
        self._next_due: datetime | None = None
        self._exact = False

    async def plan(
        self, key: str, kind: str, due_at: datetime, payload: dict[str, Any] | None = None
    ) -> bool:
        """Schedules a job; False if one with this key exists already (a replay)."""
        self._exact = False
        async with self.store._write() as db:
            cursor = await db.execute(
                "INSERT INTO scheduled_jobs (key, kind, due_at, payload) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO NOTHING",
                (key, kind, to_text(due_at), json.dumps(payload or {})),
            )
            return cursor.rowcount > 0

    async def replan(
        self, key: str, kind: str, due_at: datetime, payload: dict[str, Any] | None = None
    ) -> None:
        """Schedules a job anew under a key that may have been used (a booking moved to another
        time: its reminders and lapsing), pending again at the new time."""
        self._exact = False
        async with self.store._write() as db:
            await db.execute(
                "INSERT INTO scheduled_jobs (key, kind, due_at, payload) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, due_at = excluded.due_at,"
                " payload = excluded.payload, status = 'pending', attempts = 0,"
                " finished_at = NULL, error = NULL",
                (key, kind, to_text(due_at), json.dumps(payload or {})),
            )

    async def cancel(self, key: str) -> bool:
        """Cancels a pending job (a reminder for a booking that was cancelled)."""
        self._exact = False
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE scheduled_jobs SET status = 'cancelled' WHERE key = ?"
                " AND status = 'pending'",
                (key,),
            )
            return cursor.rowcount > 0

    async def cancel_under(self, prefix: str) -> int:
        """Cancels every pending job whose key starts with `prefix` (a resident's reminder of a
        meeting, whatever time it was planned for). Keys are ASCII: the range is the prefix's."""
        self._exact = False
        after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE scheduled_jobs SET status = 'cancelled' WHERE key >= ? AND key < ?"
                " AND status = 'pending'",
                (prefix, after),
            )
            return cursor.rowcount

    def look_again(self) -> None:
        """The next `due` reads the stored schedule, whatever this process last learned of it."""
        self._exact = False

    async def due(self, now: datetime, limit: int = 50) -> list[Job]:
        if self._exact and (self._next_due is None or self._next_due > now):
            return []
        rows = await self.store._fetch(
            "SELECT id, key, kind, due_at, payload, attempts FROM scheduled_jobs"
            " WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            (to_text(now), limit),
        )
        if not rows:
            await self.next_due_at()  # nothing due now: learn when, to skip the next looks
        return [
            Job(row[0], row[1], row[2], from_text(row[3]), json.loads(row[4]), row[5])
            for row in rows
        ]

    async def next_due_at(self) -> datetime | None:
        if self._exact:
            return self._next_due
        rows = await self.store._fetch(
            "SELECT MIN(due_at) FROM scheduled_jobs WHERE status = 'pending'"
        )
        self._next_due = from_text(rows[0][0]) if rows and rows[0][0] else None
        self._exact = not self.store.in_unit_of_work  # a transaction's view may yet roll back
        return self._next_due

    async def finish(self, job: Job) -> None:
        """Marks a job done: part of the transaction that commits what it did."""
        self._exact = False
        async with self.store._write() as db:
            await db.execute(
                "UPDATE scheduled_jobs SET status = 'done', finished_at = ?, attempts ="
                " attempts + 1 WHERE id = ?",
                (to_text(self.store.clock()), job.id),
            )

    async def fail(self, job: Job, error: str, *, retry_at: datetime | None) -> None:
        """A job that raised: tried again at `retry_at`, or given up."""
        self._exact = False
        async with self.store._write() as db:
            if retry_at is None:
                await db.execute(
                    "UPDATE scheduled_jobs SET status = 'failed', attempts = attempts + 1,"
                    " error = ?, finished_at = ? WHERE id = ?",
                    (error, to_text(self.store.clock()), job.id),
                )
            else:
                await db.execute(
                    "UPDATE scheduled_jobs SET attempts = attempts + 1, error = ?, due_at = ?"
                    " WHERE id = ?",
                    (error, to_text(retry_at), job.id),
                )

    async def forget_finished(self, *, before: datetime, kind: str | None = None) -> int:
        """Removes jobs (of `kind`, or of every kind) that are no longer pending (done, failed
        or cancelled) and were due before `before`. A finished job's key keeps it from being
        planned again, so `before` must lie past any moment that key could be planned anew."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "DELETE FROM scheduled_jobs WHERE (? IS NULL OR kind = ?) AND status != 'pending'"
                " AND due_at < ?",
                (kind, kind, to_text(before)),
            )
            return cursor.rowcount

    async def pending(self, kind: str | None = None) -> list[Job]:
        rows = await self.store._fetch(
            "SELECT id, key, kind, due_at, payload, attempts FROM scheduled_jobs"
            " WHERE status = 'pending' AND (? IS NULL OR kind = ?) ORDER BY due_at, id",
            (kind, kind),
        )
        return [
            Job(row[0], row[1], row[2], from_text(row[3]), json.loads(row[4]), row[5])
            for row in rows
        ]
