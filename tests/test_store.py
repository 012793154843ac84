"""The store: migrations, persistence round trips, the message log."""

from __future__ import annotations

import re
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.persistence import SQLitePersistence
from bot.store import MIGRATIONS_DIR, MigrationError, Store

NOW = datetime(2027, 1, 12, 15, 30, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path):
    store = Store(tmp_path / "bot.sqlite3", clock=lambda: NOW)
    await store.open()
    yield store
    await store.close()


async def test_migrations_apply_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3", clock=lambda: NOW)
    await store.open()
    try:
        first = await store.applied_migrations()
        assert first == sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql"))
        # A second run finds nothing to do and changes nothing.
        assert await store.migrate() == []
        assert await store.applied_migrations() == first
    finally:
        await store.close()


async def test_an_older_database_is_upgraded_with_its_data(tmp_path: Path) -> None:
    old_set = tmp_path / "old-migrations"
    old_set.mkdir()
    first = sorted(MIGRATIONS_DIR.glob("*.sql"))[0]
    shutil.copy(first, old_set / first.name)
    path = tmp_path / "db.sqlite3"

    old = Store(path, clock=lambda: NOW)
    await old.open(migrations_dir=old_set)
    await old.residents.set_language(42, "ru")
    assert await old.applied_migrations() == [first.name]
    await old.close()

    new = Store(path, clock=lambda: NOW)
    await new.open()
    try:
        assert len(await new.applied_migrations()) == len(list(MIGRATIONS_DIR.glob("*.sql")))
        resident = await new.residents.resident(42)
        assert resident is not None and resident.language == "ru"
        # Tables of the later migrations exist and work.
        await new.messages.log_message(
            direction="in", kind="text", chat_id=42, user_id=42, text="Sveiki"
        )
        assert [m.text for m in await new.messages.conversation_with(42)] == ["Sveiki"]
    finally:
        await new.close()


async def test_a_failing_migration_leaves_nothing_half_applied(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_good.sql").write_text("CREATE TABLE a (x INTEGER);")
    (migrations / "0002_bad.sql").write_text("CREATE TABLE b (x INTEGER);\nNOT SQL AT ALL;")
    store = Store(tmp_path / "db.sqlite3", clock=lambda: NOW)
    with pytest.raises(MigrationError, match=r"0002_bad\.sql"):
        await store.open(migrations_dir=migrations)
    try:
        assert await store.applied_migrations() == ["0001_good.sql"]
        tables = await store.db.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'b'"
        )
        assert tables == []  # the first statement of the failed migration was rolled back too
    finally:
        await store.close()


async def test_badly_named_migration_is_refused(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "add_things.sql").write_text("SELECT 1;")
    store = Store(tmp_path / "db.sqlite3")
    with pytest.raises(MigrationError, match=r"0001_what_it_does\.sql"):
        await store.open(migrations_dir=migrations)
    await store.close()


async def test_sqlite_is_configured_for_a_bot(store: Store) -> None:
    (mode,) = (await store.db.execute_fetchall("PRAGMA journal_mode"))[0]
    (keys,) = (await store.db.execute_fetchall("PRAGMA foreign_keys"))[0]
    (timeout,) = (await store.db.execute_fetchall("PRAGMA busy_timeout"))[0]
    assert (mode, keys, timeout) == ("wal", 1, 5000)
    (synchronous,) = (await store.db.execute_fetchall("PRAGMA synchronous"))[0]
    assert synchronous == 2  # FULL unless NORMAL is asked for


async def test_synchronous_normal_on_request(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3", synchronous="NORMAL")
    await store.open()
    try:
        (synchronous,) = (await store.db.execute_fetchall("PRAGMA synchronous"))[0]
        assert synchronous == 1
    finally:
        await store.close()
    with pytest.raises(ValueError, match="synchronous"):
        Store(tmp_path / "db.sqlite3", synchronous="OFF")


async def test_persistence_round_trip(store: Store) -> None:
    persistence = SQLitePersistence(store)
    await persistence.update_conversation("proposal", (7, 7), "text")
    await persistence.update_user_data(7, {"draft": "Vairāk soliņu 🌳 <b>", "n": 1})
    assert await persistence.get_conversations("proposal") == {(7, 7): "text"}
    # user_data is not loaded at start-up (memory), only on the user's next update.
    assert await persistence.get_user_data() == {}
    loaded: dict = {}
    await persistence.refresh_user_data(7, loaded)
    assert loaded == {"draft": "Vairāk soliņu 🌳 <b>", "n": 1}
    await persistence.update_conversation("proposal", (7, 7), None)
    assert await persistence.get_conversations("proposal") == {}
    await persistence.update_user_data(7, {})
    assert await store.conversations.data_of("user_data", 7) is None  # no row kept for empty data


class Trips:
    """Counts the store's trips to its connection's thread and the statements SQLite runs."""

    def __init__(self, store: Store) -> None:
        self.count = 0
        self.statements: list[str] = []
        inner = store.db._execute

        async def counted(fn, *args, **kwargs):
            self.count += 1
            return await inner(fn, *args, **kwargs)

        store.db._execute = counted

    async def trace(self, store: Store) -> None:
        await store.db.set_trace_callback(self.statements.append)

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()


async def test_empty_user_data_is_neither_read_nor_deleted_again(store: Store) -> None:
    trips = Trips(store)
    await trips.trace(store)
    assert await store.conversations.data_of("user_data", 7) is None
    trips.reset()
    # Known to have no row: no trip for it, and an empty dict needs no DELETE.
    assert await store.conversations.data_of("user_data", 7) is None
    await store.conversations.save_data("user_data", 7, {})
    assert trips.count == 0
    # Written data is found again, and deleting it makes it unknown until that commits.
    await store.conversations.save_data("user_data", 7, {"page": 2})
    assert await store.conversations.data_of("user_data", 7) == {"page": 2}
    await store.conversations.save_data("user_data", 7, {})
    assert await store.conversations.data_of("user_data", 7) is None
    trips.reset()
    assert await store.conversations.data_of("user_data", 7) is None
    assert trips.count == 0


async def test_what_a_rolled_back_unit_read_or_deleted_is_not_remembered(store: Store) -> None:
    class Boom(Exception):
        pass

    await store.conversations.save_data("chat_data", 9, {"x": 1})
    with pytest.raises(Boom):
        async with store.unit_of_work():
            await store.conversations.drop_data("chat_data", 9)
            raise Boom
    # The delete was undone, so the row is still there — and still read.
    assert await store.conversations.data_of("chat_data", 9) == {"x": 1}
    # Found missing, then written, in one unit: the write wins.
    async with store.unit_of_work():
        assert await store.conversations.data_of("chat_data", 10) is None
        await store.conversations.save_data("chat_data", 10, {"y": 2})
    assert await store.conversations.data_of("chat_data", 10) == {"y": 2}


async def test_a_unit_that_only_writes_later_is_one_trip(store: Store) -> None:
    trips = Trips(store)
    async with store.unit_of_work():
        await store.messages.log_message(direction="in", kind="text", chat_id=1, text="a")
        await store.conversations.save_conversation_state("proposal", (1, 1), "text")
    assert trips.count == 1
    trips.reset()
    async with store.unit_of_work():  # nothing at all: no trip
        pass
    assert trips.count == 0
    assert [m.text for m in await store.messages.conversation_with(1)] == ["a"]
    assert await store.conversations.conversation_states("proposal") == {(1, 1): "text"}


async def test_specialists(store: Store) -> None:
    assert await store.staff.add_specialist(5, added_by=1) is True
    assert await store.staff.add_specialist(5, added_by=1) is False
    assert await store.staff.is_specialist(5)
    assert [s.user_id for s in await store.staff.specialists()] == [5]
    assert await store.staff.remove_specialist(5) is True
    assert not await store.staff.is_specialist(5)


async def test_unit_of_work_commits_together_or_not_at_all(store: Store) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with store.unit_of_work():
            await store.residents.set_language(1, "lv")
            await store.messages.log_message(direction="in", kind="text", chat_id=1, text="a")
            raise Boom
    assert await store.residents.resident(1) is None
    assert await store.messages.conversation_with(1) == []

    async with store.unit_of_work():
        await store.residents.set_language(1, "lv")
        await store.messages.log_message(direction="in", kind="text", chat_id=1, text="a")
    assert (await store.residents.resident(1)).language == "lv"
    assert len(await store.messages.conversation_with(1)) == 1


async def arrive(store: Store, update_id: int) -> str:
    """Journals an update as a suspect is journaled: in a commit of its own, before the
    transaction that handles it (here: none)."""
    statuses: list[str] = []

    def journal(connection: sqlite3.Connection) -> bool:
        statuses.append(store.journal.arrive_in(connection, update_id, "{}"))
        return False

    async with store.transaction(lambda connection: None, before=journal) as opened:
        assert opened is None
    return statuses[0]


async def test_journal_recognises_handled_updates_by_id_not_by_a_watermark(store: Store) -> None:
    assert await arrive(store, 500) == "new"
    assert await arrive(store, 500) == "pending"  # re-sent, not handled yet
    async with store.unit_of_work():
        await store.journal.finish(500)
    assert await arrive(store, 500) == "done"  # re-sent after
    # After a quiet week Telegram picks the next id at random, often lower: it is a new update.
    assert await arrive(store, 17) == "new"
    assert [u.update_id for u in await store.journal.unfinished()] == [17]


async def test_a_start_knows_whether_the_run_before_stopped_cleanly(store: Store) -> None:
    assert await store.journal.begin_run() is False  # the first run of a new database
    assert await store.journal.begin_run() is True  # never stopped: it crashed
    await store.journal.end_run()
    assert await store.journal.begin_run() is False


async def test_an_update_that_keeps_killing_the_bot_counts_its_attempts(store: Store) -> None:
    await arrive(store, 11)
    assert [await store.journal.count_attempt(11) for _ in range(3)] == [1, 2, 3]
    assert (await store.journal.unfinished())[0].attempts == 3


async def test_handled_update_ids_are_forgotten_after_a_while(store: Store) -> None:
    await arrive(store, 1)
    async with store.unit_of_work():
        await store.journal.finish(1)
    store.clock = lambda: datetime(2030, 1, 1, tzinfo=UTC)
    assert await store.journal.forget_handled_before(datetime(2029, 1, 1, tzinfo=UTC)) == 1
    assert await arrive(store, 1) == "new"


async def test_the_proposals_table_allows_exactly_the_statuses_the_code_knows(
    store: Store,
) -> None:
    from bot import statuses

    (sql,) = (
        await store.db.execute_fetchall("SELECT sql FROM sqlite_master WHERE name = 'proposals'")
    )[0]
    allowed = re.search(r"status\s+TEXT[^(]*CHECK \(status IN \(([^)]*)\)\)", sql, re.S)
    assert allowed is not None
    assert set(re.findall(r"'(\w+)'", allowed.group(1))) == set(statuses.ALL)


async def test_rolling_back_to_a_savepoint_drops_the_writes_made_later_since(
    store: Store,
) -> None:
    def begin(connection):
        store.messages.log_message_in(connection, direction="in", kind="text", chat_id=3, text="in")
        store.savepoint_in(connection, "handling")

    async with store.transaction(begin):
        await store.messages.log_message(direction="out", kind="text", chat_id=3, text="before")
        await store.release("handling")  # (not what the app does; only to have a later write)
    assert [m.text for m in await store.messages.conversation_with(3)] == ["in", "before"]

    async with store.transaction(begin):
        await store.messages.log_message(direction="out", kind="text", chat_id=4, text="undone")
        await store.residents.record_privacy_shown(4)
        await store.rollback_to("handling")  # a handler failed
        await store.messages.log_message(direction="out", kind="text", chat_id=4, text="apology")
        await store.release("handling")
    assert [m.text for m in await store.messages.conversation_with(4)] == ["apology"]
    assert [m.text for m in await store.messages.conversation_with(3)] == ["in", "before", "in"]


async def test_retention_removes_a_finished_booking_its_waitlist_entry_points_at(
    store: Store,
) -> None:
    # A waitlist entry that was booked refers to its booking: the entry goes first, or the
    # foreign key would stop the daily retention job.
    await store.residents.record_resident_seen(5, "lv")
    old = "2025-01-08T12:00:00.000000+00:00"
    async with store._write() as db:  # the rows as the bot leaves them, set up directly
        await db.execute(
            "INSERT INTO bookings (id, resident_id, language, starts_at, ends_at, status,"
            " created_at) VALUES (1, 5, 'lv', ?, ?, 'attended', ?)",
            (old, old, old),
        )
        await db.execute(
            "INSERT INTO waitlist (resident_id, day, language, status, booking_id,"
            " created_at) VALUES (5, '2025-01-08', 'lv', 'booked', 1, ?)",
            (old,),
        )
    cutoff = datetime(2026, 1, 1, tzinfo=UTC)
    retained = await store.privacy.apply_retention(
        silent_since=cutoff, drafts_since=cutoff, bookings_ended_before=cutoff
    )
    assert retained.bookings == 1
    assert await store._fetch("SELECT * FROM waitlist") == []


async def test_a_broadcast_under_way_survives_the_pause_migration(tmp_path: Path) -> None:
    """0013 rebuilds `outbox` (its CHECK learns 'held') and adds the pause to `broadcasts`: a
    broadcast confirmed on the older schema keeps its ledger, and can be paused after it. (The
    older rows are written in SQL: today's code reads columns the older schema lacks.)"""
    old_set = tmp_path / "old-migrations"
    old_set.mkdir()
    for migration in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if migration.name < "0013":
            shutil.copy(migration, old_set / migration.name)
    path = tmp_path / "db.sqlite3"
    old = Store(path, clock=lambda: NOW)
    await old.open(migrations_dir=old_set)
    now = NOW.isoformat()
    await old.db.execute(
        "INSERT INTO meetings (id, theme, starts_at, ends_at, description_lv, created_at,"
        " updated_at) VALUES (1, 'culture', ?, ?, 'Kultūra', ?, ?)",
        (now, now, now, now),
    )
    await old.db.execute(
        "INSERT INTO broadcasts (id, meeting_id, kind, meeting_version, status, recipients,"
        " created_by, created_at, confirmed_at) VALUES (7, 1, 'published', 1, 'sending', 3, 1,"
        " ?, ?)",
        (now, now),
    )
    for resident, status in ((41, "sent"), (42, "pending"), (43, "pending")):
        await old.db.execute(
            "INSERT INTO outbox (key, chat_id, method, payload, status, not_before, created_at,"
            " lane, broadcast_id) VALUES (?, ?, 'send_message', '{}', ?, ?, ?, 1, 7)",
            (f"broadcast:7:{resident}", resident, status, now, now),
        )
    await old.db.commit()
    await old.close()

    new = Store(path, clock=lambda: NOW)
    await new.open()
    try:
        assert (await new.broadcasts.progress(7)).left == 2
        assert await new.outbox.deliveries_to(42) == [("broadcast:7:42", "pending")]
        assert await new.broadcasts.pause_broadcast(7) == 2
        broadcast = await new.broadcasts.broadcast(7)
        assert broadcast is not None and broadcast.paused and broadcast.status == "sending"
        assert await new.outbox.due(NOW) == []
        assert await new.broadcasts.resume_broadcast(7) == 2
        assert len(await new.outbox.due(NOW)) == 2
    finally:
        await new.close()


async def confirmed_broadcast(store: Store, residents: list[int]):
    """A culture meeting's broadcast to these residents, confirmed: its ledger written."""
    for resident in residents:
        await store.residents.set_language(resident, "lv")
        await store.meetings.subscribe(resident, "culture")
    meeting = await store.meetings.create(
        theme="culture",
        starts_at=datetime(2027, 2, 3, 15, 30, tzinfo=UTC),
        ends_at=datetime(2027, 2, 3, 17, 0, tzinfo=UTC),
        place=None,
        descriptions={"lv": "Kultūra"},
        by=1,
    )
    draft = await store.broadcasts.offer_broadcast(meeting, "published", by=1)
    payload = {"text": "Sanāksme"}
    payloads = {"lv": payload, "ru": payload, "en": payload}
    assert await store.broadcasts.confirm_broadcast(draft.id, by=1, payloads=payloads) is not None
    return draft


async def test_a_copy_in_flight_at_a_pause_or_a_stop_is_not_sent_after_it(store: Store) -> None:
    """A copy being sent when staff pause (or stop) may meet a 429 or a network error: it then
    goes where the rest of its broadcast went — held, or not sent — not back to pending."""
    first = await confirmed_broadcast(store, [41])
    [in_flight] = await store.outbox.due(NOW)
    await store.outbox.claim([in_flight.id])
    assert await store.broadcasts.pause_broadcast(first.id) == 0  # nothing pending but this one
    await store.outbox.retry_later(in_flight.id, NOW, "429: retry after 3 s")
    assert await store.outbox.deliveries_to(41) == [(in_flight.key, "held")]
    assert await store.broadcasts.resume_broadcast(first.id) == 1
    [again] = await store.outbox.due(NOW)
    assert again.id == in_flight.id

    await store.outbox.claim([again.id])
    await store.broadcasts.stop_broadcast(first.id)
    await store.outbox.retry_later(again.id, NOW, "network error")
    assert await store.outbox.deliveries_to(41) == [(again.key, "failed")]
    assert (await store.broadcasts.report(first.id)).stopped == 1
    assert await store.outbox.due(NOW) == []


async def synchronous_level(store: Store) -> int:
    [(level,)] = await store.db.execute_fetchall("PRAGMA synchronous")
    return int(level)


async def test_how_a_send_ended_is_recorded_without_an_fsync(store: Store) -> None:
    """A power cut that undid the record would leave the row "sending", as a crash between
    the send and its record does: marked uncertain at the next start, never sent twice."""
    await store.outbox.enqueue(
        "post", -5, "sendMessage", {"chat_id": -5, "text": "b"}, purpose={"kind": "thread_post"}
    )
    [post] = await store.outbox.due(NOW)
    await store.outbox.claim([post.id])
    statements: list[str] = []
    await store.db.set_trace_callback(statements.append)
    try:
        await store.outbox.settle(post, "sent", message_id=11)
    finally:
        await store.db.set_trace_callback(None)
    assert statements[0] == "PRAGMA synchronous = NORMAL"
    assert statements[-2:] == ["COMMIT", "PRAGMA synchronous = FULL"]
    assert await synchronous_level(store) == 2  # FULL again for everything else
    assert await store.outbox.counts() == {"sent": 1}


async def test_an_unsynced_commit_that_fails_leaves_the_connection_synced(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with store._atomic(durable=False):
            await store._write_later("INSERT INTO residents (user_id) VALUES (NULL)", ())
    assert not store.db.in_transaction
    assert await synchronous_level(store) == 2
