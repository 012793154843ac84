"""Announcements: the office's own text to meeting subscribers, sent as a broadcast. Here: the
store keeps the meeting broadcasts of a database made before announcements existed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store import MIGRATIONS_DIR, Store
from tests.conftest import FakeClock


async def test_an_older_database_keeps_its_meeting_broadcasts(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Migration 0012 rebuilds broadcasts (meeting_id may be NULL now): a database with a meeting
    broadcast and its ledger keeps them, its index and its foreign key."""
    older = tmp_path / "older"
    older.mkdir()
    for file in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if file.name < "0012":
            (older / file.name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "bot.sqlite3"
    store = Store(path, clock=clock)
    await store.open(older)
    async with store._write() as db:
        await db.execute(
            "INSERT INTO meetings (id, theme, starts_at, ends_at, description_lv, created_at,"
            " updated_at) VALUES (7, 'culture', 'a', 'b', 'Apraksts', 'c', 'c')"
        )
        await db.execute(
            "INSERT INTO broadcasts (id, meeting_id, kind, meeting_version, status, recipients,"
            " created_by, created_at) VALUES (3, 7, 'published', 1, 'sending', 1, 1, 'c')"
        )
        await db.execute(
            "INSERT INTO outbox (key, chat_id, method, payload, created_at, not_before, lane,"
            " broadcast_id) VALUES ('broadcast:3:5', 5, 'send_message', '{}', 'c', 'c', 1, 3)"
        )
    await store.close()

    store = Store(path, clock=clock)
    await store.open()
    try:
        broadcast = await store.meetings.broadcast(3)
        assert broadcast is not None
        assert (broadcast.meeting_id, broadcast.kind, broadcast.status) == (
            7,
            "published",
            "sending",
        )
        assert (await store.meetings.progress(3)).left == 1
        indexes = await store._fetch("SELECT name FROM sqlite_master WHERE tbl_name = 'broadcasts'")
        assert {row[0] for row in indexes} >= {"broadcasts", "broadcasts_by_status"}
        assert await store._fetch("PRAGMA foreign_key_check") == []
        # The next broadcast takes the next id; a meeting that does not exist is still refused,
        # and so is an announcement without its text.
        created = await store.meetings.offer_announcement("culture", {"lv": "Teksts"}, by=1)
        assert created.id == 4 and created.meeting_id is None
        for sql in (
            "INSERT INTO broadcasts (meeting_id, kind, meeting_version, created_by, created_at)"
            " VALUES (99, 'published', 1, 1, 'c')",
            "INSERT INTO broadcasts (kind, audience, created_by, created_at)"
            " VALUES ('announcement', '*', 1, 'c')",
        ):
            with pytest.raises(sqlite3.IntegrityError):
                async with store._write() as db:
                    await db.execute(sql)
    finally:
        await store.close()
