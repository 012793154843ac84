"""Reading a schedule from a CSV file (bot/meetings_csv.py), pure: columns by the header row,
commas or Excel's semicolons, UTF-8 with or without a BOM, themes named in any language, the bad
rows named by line and nothing taken from such a file — and, through the store, that importing
the same file again adds nothing and a row changed under the same id updates its meeting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_settings
from bot.meetings_csv import parse_schedule
from bot.meetings_ics import parse_schedule as parse_ics
from bot.meetings_schedule import EXTENSIONS, ParsedSchedule, parser_for
from bot.store import Store

RIGA = ZoneInfo("Europe/Riga")
NOW = datetime(2027, 1, 12, 12, 0, tzinfo=UTC)
THEMES = load_settings(environ={}, env_file=None).municipality.themes

SCHEDULE = """\
id,theme,date,start,end,place,description_lv,description_ru,description_en,cancelled
kult-1,Kultūra,2027-02-03,17:00,18:30,,Kultūras stratēģija,Стратегия культуры,,
,sport,2027-02-10,17:00,,"Olimpiskais centrs, Brīvības iela 39",Sporta darba grupa,,Sport,
,Мобильность,2027-02-17,9:05,10:00,,Velojoslas,,,
old,culture,2027-01-05,17:00,,,Jau bijusi,,,
"""


def parse(text: str) -> ParsedSchedule:
    return parse_schedule(text.encode(), THEMES, RIGA, NOW)


def reasons(parsed: ParsedSchedule) -> list[str]:
    """The problems as the command line prints them."""
    assert parsed.meetings == []  # a file with a problem gives no meetings at all
    return [problem.text() for problem in parsed.problems]


def test_a_schedule_with_themes_in_each_language() -> None:
    parsed = parse(SCHEDULE)
    assert parsed.problems == []
    culture, sport, mobility = parsed.meetings  # by start; the past row is left out
    assert (culture.theme, sport.theme, mobility.theme) == ("culture", "sport", "mobility")
    assert culture.starts_at == datetime(2027, 2, 3, 17, 0, tzinfo=RIGA)
    assert culture.ends_at == datetime(2027, 2, 3, 18, 30, tzinfo=RIGA)
    assert sport.ends_at - sport.starts_at == timedelta(minutes=90)  # no end: 90 minutes
    assert mobility.starts_at == datetime(2027, 2, 17, 9, 5, tzinfo=RIGA)
    assert culture.place is None  # the municipality's meetings venue
    assert sport.place == "Olimpiskais centrs, Brīvības iela 39"
    assert culture.descriptions == {
        "lv": "Kultūras stratēģija",
        "ru": "Стратегия культуры",
        "en": None,
    }
    assert sport.descriptions["en"] == "Sport"
    assert not any(m.cancelled for m in parsed.meetings)
    # Keys never collide with iCalendar UIDs; a row without an id is known by theme and start.
    assert culture.key == "csv:kult-1"
    assert sport.key == "csv:sport/20270210T150000Z"


def test_excel_in_latvia_semicolons_a_bom_crlf_and_its_dates() -> None:
    excel = (
        # The columns in an order of the office's own: they are found by name.
        "\ufeffDescription_RU;Start;Theme;Description_LV;Date\r\n"
        'Стратегия;17:00;culture;"Kultūras stratēģija;\r\notrā rinda";03.02.2027\r\n'
        ";;;;\r\n"  # the empty rows Excel leaves
        ";17:00:00;Sports;Sporta darba grupa;10.02.2027.\r\n"
    )
    parsed = parse_schedule(excel.encode(), THEMES, RIGA, NOW)
    assert parsed.problems == []
    culture, sport = parsed.meetings
    assert culture.starts_at == datetime(2027, 2, 3, 17, 0, tzinfo=RIGA)
    assert culture.descriptions["lv"] == "Kultūras stratēģija;\notrā rinda"  # quoted: one value
    assert culture.descriptions["ru"] == "Стратегия"
    assert sport.theme == "sport" and sport.starts_at == datetime(2027, 2, 10, 17, tzinfo=RIGA)


def test_bad_rows_are_named_by_line_and_nothing_is_taken() -> None:
    text = (
        "theme,date,start,end,description_lv,cancelled\n"
        "culture,2027-02-03,17:00,,Labi,\n"  # line 2: good
        'culture,2027-02-04,17:00,,"Divas\nrindas",\n'  # lines 3-4: good, spanning two
        "x,2027-02-05,17:00,,Teksts,\n"  # line 5
        "culture,2027-02-30,17:00,,Teksts,\n"  # line 6
        "culture,2027-02-06,25:00,,Teksts,\n"  # line 7
        "culture,2027-02-06,17:00,16:00,Teksts,\n"  # line 8
        "culture,2027-02-06,18:00,,,\n"  # line 9
        "culture,2027-02-06,19:00,,Teksts,maybe\n"  # line 10
        "culture,2027-02-03,17:00,,Vēlreiz,\n"  # line 11: the same as line 2
        "culture,2027-02-07,17:00,,Teksts,,extra\n"  # line 12
    )
    assert reasons(parse(text)) == [
        "line 5: unknown theme 'x': give a theme's slug or its name in Latvian, Russian or English",
        "line 6: date: '2027-02-30' is not a date like 2027-02-03",
        "line 7: start: '25:00' is not a time like 17:30",
        "line 8: end is not after start",
        "line 9: description_lv is empty",
        "line 10: cancelled: 'maybe' is neither yes nor no",
        "line 11: the same theme and start as line 2",
        "line 12: a value outside the named columns",
    ]


def test_one_row_with_several_problems_and_repeated_ids() -> None:
    text = (
        "id,theme,date,start,description_lv\n"
        "a,,tomorrow,17:00,Teksts\n"
        "b,culture,2027-02-03,17:00,Teksts\n"
        "b,sport,2027-02-04,17:00,Teksts\n"
        f"c,sport,2027-02-05,17:00,{'x' * 2001}\n"
    )
    assert reasons(parse(text)) == [
        "line 2: theme is empty",
        "line 2: date: 'tomorrow' is not a date like 2027-02-03",
        "line 4: the id 'b' is on line 3 too",
        "line 5: the description is longer than 2000 characters",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["—: the file is empty"]),
        ("\n\n", ["—: the file is empty"]),
        (
            "theme,date,start,description_lv\n",
            ["—: the file has no meetings: only the row of column names"],
        ),
        (
            "culture,2027-02-03,17:00,Teksts\n",
            [
                "line 1: the first row must name the columns: id, theme, date, start, end, "
                "place, description_lv, description_ru, description_en, cancelled"
            ],
        ),
        (
            "theme,date,time,description_lv,date\nculture,2027-02-03,17:00,Teksts,\n",
            [
                "line 1: the column 'date' is there twice",
                "line 1: unknown column 'time' (the columns are: id, theme, date, start, end, "
                "place, description_lv, description_ru, description_en, cancelled)",
                "line 1: no column 'start'",
            ],
        ),
        ('theme,date,start,description_lv\nculture,"2027-02-03,17:00,Teksts\n', None),
    ],
)
def test_a_file_that_is_not_a_schedule(text: str, expected: list[str] | None) -> None:
    found = reasons(parse(text))
    if expected is None:  # a quote never closed: the csv module's own words
        [problem] = found
        assert problem.startswith("line 2: not a CSV file (")
    else:
        assert found == expected


def test_not_utf8_names_the_line() -> None:
    # Excel's plain "CSV" in Latvia is Windows-1257: refused, not read as the wrong letters.
    text = "theme,date,start,description_lv\nculture,2027-02-03,17:00,Kultūra\n"
    assert reasons(parse_schedule(text.encode("cp1257"), THEMES, RIGA, NOW)) == [
        "line 2: not UTF-8 text: in Excel, save it as “CSV UTF-8”"
    ]


def test_only_from_now_to_a_year_ahead_as_the_icalendar_import() -> None:
    text = (
        "theme,date,start,description_lv\n"
        "culture,2027-01-12,13:30,Sākās pirms pusstundas\n"  # 11:30 UTC: begun
        "culture,2027-01-12,14:00,Sākas tagad\n"
        "culture,2028-01-12,13:00,Pēc gada\n"
        "culture,2028-01-14,13:00,Vēlāk par gadu\n"
    )
    parsed = parse(text)
    assert [m.descriptions["lv"] for m in parsed.meetings] == ["Sākas tagad", "Pēc gada"]


def test_the_parser_is_chosen_by_the_extension() -> None:
    assert parser_for("grafiks.CSV") is parse_schedule
    assert parser_for("/tmp/grafiks.ics") is parse_ics
    assert parser_for(".csv") is parse_schedule  # as Telegram's filter lets it through
    assert parser_for("grafiks.xlsx") is None and parser_for("csv") is None
    assert all(parser_for(f"x.{extension}") for extension in EXTENSIONS)


async def test_imported_twice_adds_nothing_and_a_changed_row_updates(tmp_path: Path) -> None:
    store = Store(tmp_path / "bot.sqlite3", clock=lambda: NOW)
    await store.open()
    try:
        first = await store.meetings.import_schedule(parse(SCHEDULE).meetings)
        assert (first.added, first.updated, first.unchanged) == (3, 0, 0)
        again = await store.meetings.import_schedule(parse(SCHEDULE).meetings)
        assert (again.added, again.updated, again.unchanged) == (0, 0, 3)

        # The row with an id moves to another day and place: its meeting follows.
        moved = SCHEDULE.replace(
            "kult-1,Kultūra,2027-02-03,17:00,18:30,,",
            "kult-1,culture,2027-02-04,16:00,17:30,Zāle 2,",
        )
        changed = await store.meetings.import_schedule(parse(moved).meetings)
        assert (changed.added, changed.updated, changed.unchanged) == (0, 1, 2)
        [meeting] = await store.meetings.by_source_keys(["csv:kult-1"])
        assert meeting.starts_at == datetime(2027, 2, 4, 16, 0, tzinfo=RIGA)
        assert meeting.place == "Zāle 2"

        cancelled = moved.replace("Стратегия культуры,,", "Стратегия культуры,,jā")
        counts = await store.meetings.import_schedule(parse(cancelled).meetings)
        assert (counts.cancelled, counts.unchanged) == (1, 2)
        [meeting] = await store.meetings.by_source_keys(["csv:kult-1"])
        assert meeting.is_cancelled

        # An iCalendar event whose UID is the same word is another meeting.
        ics = (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:kult-1\r\n"
            "DTSTART;TZID=Europe/Riga:20270204T160000\r\nSUMMARY:Kultūra\r\nEND:VEVENT\r\n"
            "END:VCALENDAR\r\n"
        )
        from_ics = await store.meetings.import_schedule(
            parse_ics(ics.encode(), THEMES, RIGA, NOW).meetings
        )
        assert from_ics.added == 1
    finally:
        await store.close()
