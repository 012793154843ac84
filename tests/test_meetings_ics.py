"""Reading a schedule from an iCalendar file (bot/meetings_ics.py), pure: the themes by
CATEGORIES or SUMMARY, times in the file's own zone, a recurring series with one occurrence
moved, the bad events named by UID — and the times staff type (parse_when)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_settings
from bot.meetings_ics import parse_schedule, parse_when
from bot.meetings_schedule import ParsedSchedule

RIGA = ZoneInfo("Europe/Riga")
NOW = datetime(2027, 1, 12, 12, 0, tzinfo=UTC)
THEMES = load_settings(environ={}, env_file=None).municipality.themes


def parse(*events: str, header: str = "") -> ParsedSchedule:
    text = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n" + header
    text += "".join(events) + "END:VCALENDAR\n"
    return parse_schedule(text.replace("\n", "\r\n").encode(), THEMES, RIGA, NOW)


def event(uid: str, *lines: str, start: str = "DTSTART;TZID=Europe/Riga:20270203T170000") -> str:
    return "\n".join(["BEGIN:VEVENT", f"UID:{uid}", start, *lines, "END:VEVENT"]) + "\n"


def test_parse_when() -> None:
    assert parse_when("2027-02-03 17:30", RIGA) == (
        datetime(2027, 2, 3, 17, 30, tzinfo=RIGA),
        datetime(2027, 2, 3, 19, 0, tzinfo=RIGA),  # 90 minutes unless said
    )
    assert parse_when(" 2027-02-03 9:05 – 10:15 ", RIGA) == (
        datetime(2027, 2, 3, 9, 5, tzinfo=RIGA),
        datetime(2027, 2, 3, 10, 15, tzinfo=RIGA),
    )
    assert parse_when("2027-02-03T17:30-19:00", RIGA) is not None
    for wrong in ("2027-02-03", "3.02.2027 17:30", "2027-02-30 17:30", "2027-02-03 25:00",
                  "2027-02-03 18:00-17:00", "2027-02-03 17:30-17:30", "tomorrow"):  # fmt: skip
        assert parse_when(wrong, RIGA) is None, wrong


@pytest.mark.parametrize(
    ("categories", "theme"),
    [
        ("CATEGORIES:mobility", "mobility"),  # the slug
        ("CATEGORIES:Mobilitāte", "mobility"),  # lv
        ("CATEGORIES:мобильность", "mobility"),  # ru, any case
        ("CATEGORIES:Youth policy", "youth"),  # en
        ("CATEGORIES:Meeting,Sports", "sport"),  # one of several
    ],
)
def test_the_theme_by_categories_in_each_language(categories: str, theme: str) -> None:
    parsed = parse(event("a@x", "SUMMARY:Darba grupa", categories))
    assert parsed.problems == []
    [meeting] = parsed.meetings
    assert meeting.theme == theme


def test_the_theme_from_the_summary_and_descriptions_by_language() -> None:
    parsed = parse(
        event(
            "a@x",
            "SUMMARY:Mobilitātes darba grupa",
            "DESCRIPTION;LANGUAGE=ru:Обсудим велодорожки.",
            "DESCRIPTION;LANGUAGE=en:Cycle lanes.",
            "LOCATION:Rožu laukums 5/6",
        )
    )
    [meeting] = parsed.meetings
    assert meeting.theme == "mobility"
    assert meeting.descriptions == {
        "lv": "Mobilitātes darba grupa",  # no Latvian DESCRIPTION: the SUMMARY
        "ru": "Обсудим велодорожки.",
        "en": "Cycle lanes.",
    }
    assert meeting.place == "Rožu laukums 5/6"
    assert meeting.ends_at - meeting.starts_at == (
        datetime(2027, 1, 1, 1, 30) - datetime(2027, 1, 1)
    )  # no DTEND: 90 minutes


def test_times_in_the_files_own_zone() -> None:
    # 15:00 UTC is 17:00 in Riga in winter; a floating time is in X-WR-TIMEZONE's zone.
    utc = parse(event("u@x", "SUMMARY:Sports", start="DTSTART:20270210T150000Z"))
    [meeting] = utc.meetings
    assert meeting.starts_at.astimezone(RIGA) == datetime(2027, 2, 10, 17, 0, tzinfo=RIGA)
    floating = parse(
        event("f@x", "SUMMARY:Sports", start="DTSTART:20270210T170000"),
        header="X-WR-TIMEZONE:Europe/London\n",
    )
    [meeting] = floating.meetings
    assert meeting.starts_at.astimezone(RIGA) == datetime(2027, 2, 10, 19, 0, tzinfo=RIGA)
    assert parse(event("f@x", "SUMMARY:Sports"), header="X-WR-TIMEZONE:Mars/Olympus\n").problems


def test_a_recurring_series_with_one_occurrence_moved_and_one_cancelled() -> None:
    series = event(
        "weekly@x",
        "DTEND;TZID=Europe/Riga:20270203T183000",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "SUMMARY:Kultūras darba grupa",
    )
    moved = event(  # the second occurrence an hour later, with no theme of its own
        "weekly@x",
        "RECURRENCE-ID;TZID=Europe/Riga:20270210T170000",
        "DTEND;TZID=Europe/Riga:20270210T193000",
        "SUMMARY:Darba grupa (vēlāk)",
        start="DTSTART;TZID=Europe/Riga:20270210T180000",
    )
    cancelled = event(
        "weekly@x",
        "RECURRENCE-ID;TZID=Europe/Riga:20270217T170000",
        "SUMMARY:Kultūras darba grupa",
        "STATUS:CANCELLED",
        start="DTSTART;TZID=Europe/Riga:20270217T170000",
    )
    parsed = parse(series, moved, cancelled)
    assert parsed.problems == []
    starts = [m.starts_at.astimezone(RIGA).strftime("%m-%d %H:%M") for m in parsed.meetings]
    assert starts == ["02-03 17:00", "02-10 18:00", "02-17 17:00", "02-24 17:00"]
    assert {m.theme for m in parsed.meetings} == {"culture"}  # the series' theme
    assert [m.cancelled for m in parsed.meetings] == [False, False, True, False]
    assert parsed.meetings[1].descriptions["lv"] == "Darba grupa (vēlāk)"
    # Each occurrence keyed by its original time (UTC), so importing again finds it again.
    assert parsed.meetings[1].key == "weekly@x/20270210T150000Z"
    assert len({m.key for m in parsed.meetings}) == 4


def test_a_bad_event_is_named_by_its_uid_and_nothing_is_taken() -> None:
    parsed = parse(
        event("good@x", "SUMMARY:Sports"),
        event("no-theme@x", "SUMMARY:Something else"),
        event("all-day@x", "SUMMARY:Sports", start="DTSTART;VALUE=DATE:20270203"),
        event("backwards@x", "SUMMARY:Sports", "DTEND;TZID=Europe/Riga:20270203T160000"),
    )
    assert parsed.meetings == []
    reasons = {problem.uid: problem.reason for problem in parsed.problems}
    assert set(reasons) == {"no-theme@x", "all-day@x", "backwards@x"}
    assert reasons["no-theme@x"].startswith("no theme")
    assert "all-day" in reasons["all-day@x"]
    assert "DTEND" in reasons["backwards@x"]
    assert parse_schedule(b"not a calendar", THEMES, RIGA, NOW).problems
