"""`liepaja-bot meetings import FILE`: the schedule from an .ics or .csv file, all of it or — with a
bad event or row — none, and what became of each meeting; run in its own process, as from a
shell."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.store import Store
from bot.store.meetings import Meeting
from bot.store.schedule import Job
from handlers import meeting_reminders
from handlers.meeting_reminders import DAY_BEFORE
from tests.test_cli import cli, one_line

RESIDENT = 100_000_777
RIGA = ZoneInfo("Europe/Riga")


def schedule(extra: str = "", sport_summary: str = "Sporta darba grupa") -> bytes:
    """A weekly culture series (3 meetings) and one sport meeting, a month from now."""
    day = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y%m%d")
    return f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:culture-weekly@liepaja.lv
DTSTART;TZID=Europe/Riga:{day}T170000
DTEND;TZID=Europe/Riga:{day}T183000
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Kultūras darba grupa
CATEGORIES:culture
END:VEVENT
BEGIN:VEVENT
UID:sport-once@liepaja.lv
DTSTART:{day}T150000Z
SUMMARY:{sport_summary}
CATEGORIES:Sports
END:VEVENT
{extra}END:VCALENDAR
""".replace("\n", "\r\n").encode()


BAD = """BEGIN:VEVENT
UID:no-theme@liepaja.lv
DTSTART;TZID=Europe/Riga:20301010T170000
SUMMARY:Something else
END:VEVENT
"""


def test_import_all_or_nothing_then_again_and_changed(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    ics = tmp_path / "grafiks.ics"

    ics.write_bytes(schedule(BAD))
    result = cli(tmp_path, "meetings", "import", str(ics), DATABASE=str(database))
    assert result.returncode == 1, result.stderr
    assert "nothing imported" in result.stdout
    assert "no-theme@liepaja.lv: no theme" in result.stdout
    assert "culture-weekly" not in result.stdout  # only the bad events are named
    assert not database.exists()  # nothing was even opened

    ics.write_bytes(schedule())
    result = cli(tmp_path, "meetings", "import", str(ics), DATABASE=str(database))
    assert result.returncode == 0, result.stderr
    assert "4 added, 0 updated, 0 unchanged, 0 cancelled" in result.stdout

    result = cli(tmp_path, "meetings", "import", str(ics), DATABASE=str(database))
    assert "0 added, 0 updated, 4 unchanged, 0 cancelled" in result.stdout

    cancelled = schedule(sport_summary="Sporta darba grupa\nSTATUS:CANCELLED")
    ics.write_bytes(cancelled.replace(b"Kult\xc5\xabras darba grupa", b"Kult\xc5\xabra (telpa 2)"))
    result = cli(tmp_path, "meetings", "import", str(ics), DATABASE=str(database))
    assert "0 added, 3 updated, 0 unchanged, 1 cancelled" in result.stdout


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    result = cli(tmp_path, "meetings", "import", str(tmp_path / "missing.ics"))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("liepaja-bot: cannot read")
    assert "Traceback" not in result.stderr


def csv_schedule(theme: str = "Sports", culture_day: int = 30) -> bytes:
    """Two culture meetings (one with an id) and a sport one, a month or so from now."""
    day = (datetime.now(UTC) + timedelta(days=30)).date()
    moved = day + timedelta(days=culture_day - 30)
    return (
        "id,theme,date,start,end,description_lv\n"
        f"k1,culture,{moved},17:00,18:30,Kultūras stratēģija\n"
        f",{theme},{day},17:00,,Sporta darba grupa\n"
        f",Kultūra,{day + timedelta(days=7)},17:00,,Kultūras darba grupa\n"
    ).encode()


def test_import_csv_all_or_nothing_then_again_and_changed(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    path = tmp_path / "grafiks.csv"

    path.write_bytes(csv_schedule(theme="Futbols"))
    result = cli(tmp_path, "meetings", "import", str(path), DATABASE=str(database))
    assert result.returncode == 1, result.stderr
    assert f"{path}: nothing imported; correct these lines and import it again:" in result.stdout
    assert "line 3: unknown theme 'Futbols'" in result.stdout
    assert not database.exists()

    path.write_bytes(csv_schedule())
    result = cli(tmp_path, "meetings", "import", str(path), DATABASE=str(database))
    assert result.returncode == 0, result.stderr
    assert "3 added, 0 updated, 0 unchanged, 0 cancelled" in result.stdout
    result = cli(tmp_path, "meetings", "import", str(path), DATABASE=str(database))
    assert "0 added, 0 updated, 3 unchanged, 0 cancelled" in result.stdout

    path.write_bytes(csv_schedule(culture_day=31))  # the meeting with an id moves a day
    result = cli(tmp_path, "meetings", "import", str(path), DATABASE=str(database))
    assert "0 added, 1 updated, 2 unchanged, 0 cancelled" in result.stdout


def test_only_ics_and_csv_files(tmp_path: Path) -> None:
    path = tmp_path / "grafiks.xlsx"
    path.write_bytes(b"PK")
    result = cli(tmp_path, "meetings", "import", str(path))
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        f"liepaja-bot: cannot tell the format from the file name {path}: "
        "name it .ics (iCalendar) or .csv"
    )


def test_a_meeting_moved_by_the_command_moves_its_reminders(tmp_path: Path) -> None:
    """The import runs beside the bot, in a process of its own: the reminders residents asked
    for follow the meeting in the stored schedule, which the running bot reads."""
    database = tmp_path / "bot.sqlite3"
    path = tmp_path / "grafiks.csv"
    path.write_bytes(csv_schedule())
    assert cli(tmp_path, "meetings", "import", str(path), DATABASE=str(database)).returncode == 0

    async def ask_for_reminder() -> tuple[int, datetime]:
        """What ⏰ by the first culture meeting (the one with id k1) stores."""
        store = Store(database)
        await store.open()
        try:
            meetings, _total = await store.meetings.upcoming(datetime.now(UTC), theme="culture")
            meeting = meetings[0]
            await store.residents.record_resident_seen(RESIDENT, "lv")
            await store.meetings.add_reminder(meeting.id, RESIDENT, DAY_BEFORE)
            due = meeting.starts_at - DAY_BEFORE
            await meeting_reminders.plan(store, meeting.id, RESIDENT, due)
            return meeting.id, due
        finally:
            await store.close()

    meeting_id, first_due = asyncio.run(ask_for_reminder())

    path.write_bytes(csv_schedule(culture_day=31))  # that meeting moves a day later
    result = cli(tmp_path, "meetings", "import", str(path), DATABASE=str(database))
    assert "0 added, 1 updated, 2 unchanged, 0 cancelled; reminders planned again: 1." in (
        result.stdout
    )
    [job], moved = asyncio.run(pending_reminders(database, meeting_id))
    # A day later in Riga (23 or 25 hours across a clock change), and as long before.
    assert moved.starts_at.astimezone(RIGA).date() == (
        (first_due + DAY_BEFORE).astimezone(RIGA).date() + timedelta(days=1)
    )
    assert job.due_at == moved.starts_at - DAY_BEFORE
    assert job.payload == {"meeting_id": meeting_id, "resident_id": RESIDENT}


async def pending_reminders(database: Path, meeting_id: int) -> tuple[list[Job], Meeting]:
    """The pending reminder jobs, and the meeting as the import left it."""
    store = Store(database)
    await store.open()
    try:
        meeting = await store.meetings.meeting(meeting_id)
        assert meeting is not None
        return await store.schedule.pending(meeting_reminders.KIND), meeting
    finally:
        await store.close()
