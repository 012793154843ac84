"""Broadcasts' SQL — about a working-group meeting, or an announcement (the office's own text to
one theme's subscribers or to all) — with their delivery ledger.

A broadcast is confirmed in one write transaction that also writes its ledger: one outbox row
per recipient (lane 1, keyed `broadcast:{id}:{resident}`), so the recipients are fixed before the
first send, a confirm pressed twice adds nobody twice, and a restart resumes from the rows still
pending. Progress is counted over those rows. A pause holds the rows not sent yet (outbox status
'held', which the sender never picks) and marks the broadcast paused (`paused_at`; it is still
'sending'), so it outlasts a restart; a resume makes them pending again, a stop settles them as
not sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.clock import from_text, to_text
from bot.store.meetings import _LANGUAGE, ALL_THEMES, ANNOUNCEMENT, BULK_LANE, Meeting
from bot.store.outbox import (  # STOPPED: a copy not sent because its broadcast was stopped
    FINAL_STATUSES,
    STOPPED,
)

if TYPE_CHECKING:
    from bot.store import Store

_BROADCAST_COLUMNS = (
    "id, meeting_id, kind, meeting_version, status, recipients, created_by, confirmed_at,"
    " finished_at, paused_at"
)


@dataclass(frozen=True)
class Broadcast:
    id: int
    meeting_id: int | None  # None for an announcement
    kind: str  # published, changed, cancelled; or announcement
    meeting_version: int | None
    status: str  # draft, sending, done, cancelled, dropped
    recipients: int
    created_by: int
    confirmed_at: datetime | None
    finished_at: datetime | None
    paused_at: datetime | None = None  # set while a sending broadcast is paused

    @property
    def paused(self) -> bool:
        return self.status == "sending" and self.paused_at is not None


@dataclass(frozen=True)
class Announcement:
    """What an announcement says and to whom: a theme's slug, or ALL_THEMES (everyone subscribed
    to any theme)."""

    broadcast_id: int
    audience: str
    text_lv: str
    text_ru: str | None
    text_en: str | None

    def text(self, language: str) -> str:
        """In `language`, or in Latvian where that translation is missing."""
        translated = {"ru": self.text_ru, "en": self.text_en}.get(language)
        return translated or self.text_lv


@dataclass(frozen=True)
class Progress:
    sent: int
    failed: int  # could not be delivered: blocked, refused, or uncertain after a timeout
    left: int  # not settled yet: pending, held by a pause, or being sent
    sending: int = 0  # of `left`: being sent right now (a pause or a stop lets these finish)

    @property
    def finished(self) -> bool:
        return self.left == 0


@dataclass(frozen=True)
class BroadcastReport:
    """What became of a broadcast's copies, for its final report."""

    sent: int
    unreachable: int  # the resident has blocked the bot (403)
    uncertain: int  # timed out or interrupted: may or may not have arrived; never sent again
    failed: int  # refused by Telegram, or given up after network errors
    stopped: int  # not sent because staff stopped the broadcast
    reasons: tuple[tuple[str, int], ...]  # the failed copies' errors, the commonest first


class Broadcasts:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def recipients_by_language(self, theme: str) -> dict[str, int]:
        """Who a broadcast about `theme` would reach now, by language (blocked residents not);
        ALL_THEMES: everyone subscribed to any theme (an announcement to all)."""
        recipient, params = _recipients(theme)
        rows = await self.store._fetch(
            f"SELECT {_LANGUAGE}, COUNT(*) FROM residents r WHERE {recipient} GROUP BY 1", params
        )
        return {row[0]: row[1] for row in rows}

    async def broadcast(self, broadcast_id: int) -> Broadcast | None:
        rows = await self.store._fetch(
            f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE id = ?", (broadcast_id,)
        )
        return _broadcast(rows[0]) if rows else None

    async def offer_broadcast(self, meeting: Meeting, kind: str, *, by: int) -> Broadcast:
        """A draft broadcast about this version of the meeting (staff confirm it or not)."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "INSERT INTO broadcasts (meeting_id, kind, meeting_version, created_by,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (meeting.id, kind, meeting.version, by, to_text(self.store.clock())),
            )
            broadcast_id = int(cursor.lastrowid or 0)
        broadcast = await self.broadcast(broadcast_id)
        assert broadcast is not None
        return broadcast

    async def offer_announcement(
        self, audience: str, texts: dict[str, str | None], *, by: int
    ) -> Broadcast:
        """A draft announcement to `audience` (a theme's slug, or ALL_THEMES) with its texts by
        language (Latvian required); staff confirm it (confirm_broadcast) or not (drop_draft)."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "INSERT INTO broadcasts (kind, audience, text_lv, text_ru, text_en, created_by,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    ANNOUNCEMENT,
                    audience,
                    texts["lv"],
                    texts.get("ru"),
                    texts.get("en"),
                    by,
                    to_text(self.store.clock()),
                ),
            )
            broadcast_id = int(cursor.lastrowid or 0)
        broadcast = await self.broadcast(broadcast_id)
        assert broadcast is not None
        return broadcast

    async def announcement(self, broadcast_id: int) -> Announcement | None:
        """What an announcement says and to whom; None if the broadcast is about a meeting."""
        rows = await self.store._fetch(
            "SELECT id, audience, text_lv, text_ru, text_en FROM broadcasts"
            " WHERE id = ? AND kind = ?",
            (broadcast_id, ANNOUNCEMENT),
        )
        return Announcement(*rows[0]) if rows else None

    async def confirm_broadcast(
        self, broadcast_id: int, *, by: int, payloads: dict[str, dict[str, Any]]
    ) -> Broadcast | None:
        """Starts a draft broadcast: its ledger — an outbox row for every subscriber who can be
        reached, in their language (`payloads` by language) — is written here, in this
        transaction. None if it is no draft any more, or its meeting changed since (an
        announcement has no meeting to change)."""
        now = to_text(self.store.clock())
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE broadcasts SET status = 'sending', confirmed_by = ?, confirmed_at = ?"
                " WHERE id = ? AND status = 'draft' AND (meeting_id IS NULL OR meeting_version ="
                " (SELECT version FROM meetings WHERE id = broadcasts.meeting_id))",
                (by, now, broadcast_id),
            )
            if cursor.rowcount == 0:
                return None
            rows = await self.store._fetch(
                "SELECT COALESCE(b.audience, m.theme) FROM broadcasts b"
                " LEFT JOIN meetings m ON m.id = b.meeting_id WHERE b.id = ?",
                (broadcast_id,),
            )
            recipient, params = _recipients(rows[0][0])
            text = {language: json.dumps(p, ensure_ascii=False) for language, p in payloads.items()}
            self.store.outbox.rows_added_elsewhere()
            cursor = await db.execute(
                "INSERT INTO outbox (key, chat_id, method, payload, purpose, not_before,"
                " created_at, lane, broadcast_id)"
                f" SELECT 'broadcast:' || ? || ':' || r.user_id, r.user_id, 'send_message',"
                f" CASE {_LANGUAGE} WHEN 'ru' THEN ? WHEN 'en' THEN ? ELSE ? END,"
                " ?, ?, ?, ?, ? FROM residents r"
                f" WHERE {recipient} ORDER BY r.user_id ON CONFLICT (key) DO NOTHING",
                (
                    broadcast_id,
                    text["ru"],
                    text["en"],
                    text["lv"],
                    json.dumps({"kind": "broadcast", "broadcast_id": broadcast_id}),
                    now,
                    now,
                    BULK_LANE,
                    broadcast_id,
                    *params,
                ),
            )
            await db.execute(
                "UPDATE broadcasts SET recipients = ? WHERE id = ?",
                (cursor.rowcount, broadcast_id),
            )
        return await self.broadcast(broadcast_id)

    async def progress(self, broadcast_id: int) -> Progress:
        rows = await self.store._fetch(
            "SELECT status, COUNT(*) FROM outbox WHERE broadcast_id = ? GROUP BY status",
            (broadcast_id,),
        )
        counts = {row[0]: row[1] for row in rows}
        sending = counts.get("sending", 0)
        left = counts.get("pending", 0) + counts.get("held", 0) + sending
        sent = counts.get("sent", 0)
        return Progress(
            sent=sent, failed=sum(counts.values()) - left - sent, left=left, sending=sending
        )

    async def report(self, broadcast_id: int, *, reasons: int = 3) -> BroadcastReport:
        """What became of every copy: delivered, blocked, uncertain, failed (with the `reasons`
        commonest errors) and not sent because the broadcast was stopped."""
        rows = await self.store._fetch(
            "SELECT status, error, COUNT(*) FROM outbox WHERE broadcast_id = ?"
            " GROUP BY status, error",
            (broadcast_id,),
        )
        counts: dict[str, int] = {}
        errors: dict[str, int] = {}
        for status, error, count in rows:
            if status == "failed" and error == STOPPED:
                status = "stopped"
            elif status == "failed":
                key = error or "?"
                errors[key] = errors.get(key, 0) + count
            counts[status] = counts.get(status, 0) + count
        commonest = sorted(errors.items(), key=lambda item: (-item[1], item[0]))[:reasons]
        return BroadcastReport(
            sent=counts.get("sent", 0),
            unreachable=counts.get("unreachable", 0),
            uncertain=counts.get("uncertain", 0),
            failed=counts.get("failed", 0),
            stopped=counts.get("stopped", 0),
            reasons=tuple(commonest),
        )

    async def running_since(self, broadcast_id: int) -> datetime | None:
        """Since when it has been sending without a pause: its last resume, or its confirm."""
        rows = await self.store._fetch(
            "SELECT COALESCE(resumed_at, confirmed_at) FROM broadcasts WHERE id = ?",
            (broadcast_id,),
        )
        return from_text(rows[0][0]) if rows and rows[0][0] else None

    async def settled_since(self, broadcast_id: int, moment: datetime) -> int:
        """How many of its copies were settled (sent, or not) at `moment` or later: the pace it
        is actually going at, answers to residents and the budget's other users included."""
        settled = ", ".join("?" * len(FINAL_STATUSES))
        rows = await self.store._fetch(
            f"SELECT COUNT(*) FROM outbox WHERE broadcast_id = ? AND status IN ({settled})"
            " AND settled_at >= ?",
            (broadcast_id, *FINAL_STATUSES, to_text(moment)),
        )
        return int(rows[0][0])

    async def finish_broadcast(self, broadcast_id: int) -> bool:
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ?"
                " AND status = 'sending'",
                (to_text(self.store.clock()), broadcast_id),
            )
            return cursor.rowcount > 0

    async def stop_broadcast(self, broadcast_id: int) -> int:
        """Cancels what a broadcast has not sent yet (paused or not); returns how many rows that
        was. Copies being sent at this moment finish as they will."""
        now = to_text(self.store.clock())
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE broadcasts SET status = 'cancelled', finished_at = ? WHERE id = ?"
                " AND status = 'sending'",
                (now, broadcast_id),
            )
            if cursor.rowcount == 0:
                return 0
            cursor = await db.execute(
                "UPDATE outbox SET status = 'failed', error = ?, settled_at = ?"
                " WHERE broadcast_id = ? AND status IN ('pending', 'held')",
                (STOPPED, now, broadcast_id),
            )
            self.store.outbox.rows_added_elsewhere()
            return cursor.rowcount

    async def pause_broadcast(self, broadcast_id: int) -> int | None:
        """Holds every copy of a sending broadcast not sent yet (the sender never picks a held
        row; copies being sent now finish). Returns how many were held; None if it was not
        sending (paused already, finished, stopped)."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE broadcasts SET paused_at = ? WHERE id = ? AND status = 'sending'"
                " AND paused_at IS NULL",
                (to_text(self.store.clock()), broadcast_id),
            )
            if cursor.rowcount == 0:
                return None
            cursor = await db.execute(
                "UPDATE outbox SET status = 'held' WHERE broadcast_id = ? AND status = 'pending'",
                (broadcast_id,),
            )
            self.store.outbox.rows_added_elsewhere()
            return cursor.rowcount

    async def resume_broadcast(self, broadcast_id: int) -> int | None:
        """Sends a paused broadcast's held copies again, in their order. Returns how many there
        are; None if it was not paused (running already, finished, stopped)."""
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE broadcasts SET paused_at = NULL, resumed_at = ? WHERE id = ?"
                " AND status = 'sending' AND paused_at IS NOT NULL",
                (to_text(self.store.clock()), broadcast_id),
            )
            if cursor.rowcount == 0:
                return None
            cursor = await db.execute(
                "UPDATE outbox SET status = 'pending' WHERE broadcast_id = ? AND status = 'held'",
                (broadcast_id,),
            )
            self.store.outbox.rows_added_elsewhere()
            return cursor.rowcount

    async def drop_draft(self, broadcast_id: int) -> bool:
        async with self.store._write() as db:
            cursor = await db.execute(
                "UPDATE broadcasts SET status = 'dropped' WHERE id = ? AND status = 'draft'",
                (broadcast_id,),
            )
            return cursor.rowcount > 0


# Whether a resident is one of a broadcast's recipients (subscribed to the theme or to all, and
# not known to have blocked the bot). Parameters: theme, ALL_THEMES.
_RECIPIENT = (
    "r.unreachable_at IS NULL AND r.user_id IN"
    " (SELECT resident_id FROM meeting_subscriptions WHERE theme IN (?, ?))"
)
# An announcement to all: subscribed to any theme (or to all), and not known to have blocked it.
_ANY_SUBSCRIBER = (
    "r.unreachable_at IS NULL AND r.user_id IN (SELECT resident_id FROM meeting_subscriptions)"
)


def _recipients(audience: str) -> tuple[str, tuple[str, ...]]:
    """The condition on `residents r` of a broadcast's recipients, and its parameters: a theme's
    subscribers (with those of all themes), or for ALL_THEMES everyone subscribed."""
    if audience == ALL_THEMES:
        return _ANY_SUBSCRIBER, ()
    return _RECIPIENT, (audience, ALL_THEMES)


def _broadcast(row: Any) -> Broadcast:
    return Broadcast(
        id=row[0],
        meeting_id=row[1],
        kind=row[2],
        meeting_version=row[3],
        status=row[4],
        recipients=row[5],
        created_by=row[6],
        confirmed_at=from_text(row[7]) if row[7] else None,
        finished_at=from_text(row[8]) if row[8] else None,
        paused_at=from_text(row[9]) if row[9] else None,
    )
