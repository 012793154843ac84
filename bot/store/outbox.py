"""The outbox's SQL: notices waiting to be sent, and what became of each.

A row is written by `enqueue` inside the transaction of the change that causes it; the sender
(bot/outbox.py) reads committed rows only, claims one before calling Telegram and settles it
after, so a crash between the two leaves it "uncertain" rather than sent twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.clock import from_text, to_text

if TYPE_CHECKING:
    from bot.store import Store

# Settled rows end in one of these.
FINAL_STATUSES = ("sent", "uncertain", "failed", "unreachable")
# What a sent row can be for that the bot looks up later by its Telegram message id.
STAFF_POSTS = ("proposal_post", "thread_post", "staff_part")
# The error of a broadcast's copy not sent because the broadcast was stopped (meetings.STOPPED).
STOPPED = "broadcast cancelled"


@dataclass(frozen=True)
class Delivery:
    id: int
    key: str
    chat_id: int
    method: str
    payload: dict[str, Any]
    purpose: dict[str, Any]
    attempts: int
    not_before: datetime


class Outbox:
    def __init__(self, store: Store) -> None:
        self.store = store
        # The earliest `not_before` of a pending row (None: no pending row), while `_exact`.
        # The sender looks after every commit; most commits enqueue nothing, and then it need
        # not ask the table. Every write that may change the pending rows makes it inexact (a
        # rolled-back one too: one look too many, never one too few). This process is the
        # outbox's only writer.
        self._next_due: datetime | None = None
        self._exact = False

    def rows_added_elsewhere(self) -> None:
        """Another subject wrote outbox rows itself (a broadcast's thousands, in one statement),
        or changed which are pending (a broadcast paused, resumed or stopped): the next look
        must ask the table."""
        self._exact = False

    async def enqueue(
        self,
        key: str,
        chat_id: int,
        method: str,
        payload: dict[str, Any],
        *,
        purpose: dict[str, Any] | None = None,
        not_before: datetime | None = None,
    ) -> bool:
        """Adds a message to send; False if one with this key exists (a replay)."""
        messages = [(key, chat_id, method, payload)]
        return await self.enqueue_many(messages, purpose=purpose, not_before=not_before) == 1

    async def enqueue_many(
        self,
        messages: list[tuple[str, int, str, dict[str, Any]]],
        *,
        lane: int = 0,
        purpose: dict[str, Any] | None = None,
        not_before: datetime | None = None,
    ) -> int:
        """Adds messages — (key, chat_id, method, payload) each — in one trip, in `lane` (1:
        bulk, after every notice), due from `not_before` (default: now); a key that exists adds
        nothing. Returns how many were added."""
        if not messages:
            return 0
        now = self.store.clock()
        created, due = to_text(now), to_text(not_before or now)
        about = json.dumps(purpose) if purpose else None
        self._exact = False
        async with self.store._write() as db:
            cursor = await db.executemany(
                "INSERT INTO outbox (key, chat_id, method, payload, purpose, not_before,"
                " created_at, lane) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                [
                    (
                        key,
                        chat_id,
                        method,
                        json.dumps(payload, ensure_ascii=False),
                        about,
                        due,
                        created,
                        lane,
                    )
                    for key, chat_id, method, payload in messages
                ],
            )
            return cursor.rowcount  # summed over the rows (a key that exists: 0)

    async def due(self, now: datetime, limit: int = 100) -> list[Delivery]:
        """The oldest pending row of each chat, if it is due: one chat's messages go in order.
        Notices (lane 0) come before bulk rows (lane 1, broadcasts), so an answer or a booking
        confirmation never waits behind a broadcast's thousands of rows to other chats."""
        if self._exact and (self._next_due is None or self._next_due > now):
            return []
        rows = await self.store._fetch(
            "SELECT o.id, o.key, o.chat_id, o.method, o.payload, o.purpose, o.attempts,"
            " o.not_before FROM outbox o JOIN (SELECT MIN(id) AS id FROM outbox"
            " WHERE status = 'pending' GROUP BY chat_id) head ON o.id = head.id"
            " WHERE o.not_before <= ? ORDER BY o.lane, o.not_before, o.id LIMIT ?",
            (to_text(now), limit),
        )
        return [_delivery(row) for row in rows]

    async def next_due_at(self) -> datetime | None:
        if self._exact:
            return self._next_due
        rows = await self.store._fetch(
            "SELECT MIN(not_before) FROM outbox WHERE status = 'pending'"
        )
        self._next_due = from_text(rows[0][0]) if rows and rows[0][0] else None
        self._exact = not self.store.in_unit_of_work  # a transaction's view may yet roll back
        return self._next_due

    async def claim(self, delivery_ids: list[int]) -> None:
        """Marks rows as being sent, committed (together, one trip) before the calls to
        Telegram."""
        self._exact = False
        marks = ", ".join("?" * len(delivery_ids))
        await self.store._write_one(
            f"UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id IN ({marks})",
            tuple(delivery_ids),
        )

    async def settle(
        self,
        delivery: Delivery,
        status: str,
        *,
        message_id: int | None = None,
        error: str | None = None,
    ) -> None:
        """Records how a send ended and, for a sent message, what it was for (the staff post of
        a proposal, a follow-up's post) — in one transaction."""
        if status not in FINAL_STATUSES:
            raise ValueError(status)
        now = to_text(self.store.clock())
        # Not synced to disk (a process crash undoes nothing committed; only a power cut
        # could, until the next synced commit). It would leave the row "sending", as a crash
        # between the send and this record does: the next start marks it uncertain, never sent
        # again. Nothing here is read back: all of it goes in one trip, with the COMMIT.
        async with self.store._atomic(durable=False):
            await self.store._write_later(
                "UPDATE outbox SET status = ?, message_id = ?, error = ?, settled_at = ?"
                " WHERE id = ?",
                (status, message_id, error, now, delivery.id),
            )
            if status == "sent" and message_id is not None:
                await self._record_purpose(delivery, message_id)
            if status == "unreachable":
                await self.store._write_later(
                    "UPDATE residents SET unreachable_at = ? WHERE user_id = ?"
                    " AND unreachable_at IS NULL",
                    (now, delivery.chat_id),
                )

    async def _record_purpose(self, delivery: Delivery, message_id: int) -> None:
        purpose = delivery.purpose
        proposal_id = purpose.get("proposal_id")
        if purpose.get("kind") in STAFF_POSTS and proposal_id:
            await self.store.proposals.record_staff_post(
                int(proposal_id),
                delivery.chat_id,
                message_id,
                role=str(purpose["kind"]),
                thread_message_id=purpose.get("thread_message_id"),
            )

    async def retry_later(self, delivery_id: int, when: datetime, error: str) -> None:
        """Back to pending, due again at `when` (a 429's retry_after, or a backoff). A copy of a
        broadcast that was paused or stopped while it was being sent goes where the rest of it
        went instead: held, or not sent."""
        self._exact = False
        broadcast = (
            "(SELECT CASE WHEN b.status = 'cancelled' THEN 'cancelled' WHEN b.status = 'sending'"
            " AND b.paused_at IS NOT NULL THEN 'paused' END FROM broadcasts b"
            " WHERE b.id = outbox.broadcast_id)"
        )
        async with self.store._write() as db:
            await db.execute(
                f"UPDATE outbox SET status = CASE {broadcast} WHEN 'paused' THEN 'held'"
                " WHEN 'cancelled' THEN 'failed' ELSE 'pending' END,"
                f" settled_at = CASE {broadcast} WHEN 'cancelled' THEN ? ELSE settled_at END,"
                f" error = CASE {broadcast} WHEN 'cancelled' THEN ? ELSE ? END,"
                " not_before = ? WHERE id = ?",
                (to_text(self.store.clock()), STOPPED, error, to_text(when), delivery_id),
            )

    async def uncertain_after_crash(self) -> int:
        """Rows claimed but never settled: the process died during the call to Telegram, which
        may or may not have delivered them. Sending again could repeat them; they are marked
        uncertain (at start-up, before the sender runs)."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE outbox SET status = 'uncertain', settled_at = ?,"
                " error = 'interrupted while sending' WHERE status = 'sending'",
                (to_text(self.store.clock()),),
            )
            return cursor.rowcount

    async def message_of(self, key: str) -> tuple[str, int | None] | None:
        """(status, Telegram message id) of the row with this key, if there is one."""
        rows = await self.store._fetch(
            "SELECT status, message_id FROM outbox WHERE key = ?", (key,)
        )
        return (rows[0][0], rows[0][1]) if rows else None

    async def counts(self) -> dict[str, int]:
        rows = await self.store._fetch("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        return {row[0]: row[1] for row in rows}

    async def deliveries_to(self, chat_id: int) -> list[tuple[str, str]]:
        """(key, status) of every row for one chat, oldest first."""
        rows = await self.store._fetch(
            "SELECT key, status FROM outbox WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
        return [(row[0], row[1]) for row in rows]

    async def forget_settled_before(self, moment: datetime) -> int:
        async with self.store._write() as db:
            cursor = await db.execute(
                "DELETE FROM outbox WHERE status != 'pending' AND status != 'sending'"
                " AND settled_at < ?",
                (to_text(moment),),
            )
            return cursor.rowcount


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row[0],
        key=row[1],
        chat_id=row[2],
        method=row[3],
        payload=json.loads(row[4]),
        purpose=json.loads(row[5]) if row[5] else {},
        attempts=row[6],
        not_before=from_text(row[7]),
    )
