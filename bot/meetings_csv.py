"""Reading a working groups' schedule from a CSV file, pure: bytes in, meetings (or the lines that
are wrong) out. No store, no Telegram.

The first row names the columns, in any order and any case; a row is one meeting:

  id              optional: the meeting's own key in this schedule. Without it a row is known
                  by its theme and start, so importing the file again finds the same meeting —
                  but then a row whose time changes is a new meeting: give ids to move meetings.
  theme           a theme's slug (culture) or its name in lv, ru or en (Kultūra, Культура)
  date            2027-02-03 (or 03.02.2027, as Excel in Latvia shows dates)
  start           17:30 — in the municipality's time zone (Europe/Riga)
  end             optional: 19:00; without it the meeting lasts 90 minutes
  place           optional: without it, the municipality's meetings venue
  description_lv  the description in Latvian
  description_ru  optional, as description_en: residents reading a language without one read
                  the Latvian one
  cancelled       optional: yes (jā, да, 1, x) cancels the meeting; empty or no keeps it

- UTF-8, with or without a BOM (Excel's "CSV UTF-8"); values separated by commas or by
  semicolons (Excel in Latvia saves with semicolons) — whichever the first row uses — and quoted
  as Excel quotes them (a description may then span lines).
- As in the iCalendar import, meetings that have begun (before `now`) or lie more than a year
  ahead are left out, so a schedule imported again later still imports.
- Keys begin with "csv:", so a row never takes over a meeting imported from an iCalendar file.
- All or nothing: a file with a bad row gives every problem found, by line, and no meetings.

`template` writes a file to fill in: these columns and two example rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.content import LANGUAGES, Theme
from bot.i18n import N_
from bot.meetings_schedule import (
    DEFAULT_LENGTH,
    DESCRIPTION_MAX,
    HORIZON,
    TOO_LONG,
    ImportedMeeting,
    ParsedSchedule,
    Problem,
    theme_names,
)

if TYPE_CHECKING:
    from _csv import Reader

COLUMNS = (
    "id",
    "theme",
    "date",
    "start",
    "end",
    "place",
    "description_lv",
    "description_ru",
    "description_en",
    "cancelled",
)
REQUIRED = ("theme", "date", "start", "description_lv")
YES = {"yes", "jā", "ja", "да", "1", "x", "true"}
NO = {"", "no", "nē", "ne", "нет", "0", "false"}
KEY_PREFIX = "csv:"

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})|(\d{1,2})\.(\d{1,2})\.(\d{4})\.?")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::00)?")

NOT_A_TIME = N_("{column}: '{value}' is not a time like 17:30")
UNKNOWN_THEME = N_(
    "unknown theme '{theme}': give a theme's slug or its name in Latvian, Russian or English"
)


def parse_schedule(
    data: bytes, themes: Sequence[Theme], zone: ZoneInfo, now: datetime
) -> ParsedSchedule:
    """The meetings of the file from `now` to a year ahead, or its problems (then no meetings)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        reason = N_("not UTF-8 text: in Excel, save it as “CSV UTF-8”")
        return ParsedSchedule(problems=[Problem(reason, line=line)])
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Strict: a quote never closed is refused, not left to swallow the rows after it.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first), strict=True)
    try:
        return _parse_rows(_numbered(reader), themes, zone, now)
    except _Unreadable as unreadable:  # a NUL byte, a stray quote, a field over csv's limit
        reason = N_("not a CSV file ({error})")
        return ParsedSchedule(
            problems=[Problem(reason, {"error": unreadable.error}, line=unreadable.line)]
        )


def _delimiter(header: str) -> str:
    """Commas, or semicolons if the header row has more of them (as Excel in Latvia saves)."""
    return ";" if header.count(";") > header.count(",") else ","


class _Unreadable(Exception):
    def __init__(self, line: int, error: csv.Error) -> None:
        self.line, self.error = line, error


def _numbered(reader: Reader) -> Iterator[tuple[int, list[str]]]:
    """The rows with the line each begins on (a quoted value may span lines), blank ones left
    out (an empty line, or a row of empty cells as spreadsheets leave them)."""
    line = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield line, row
            line = reader.line_num + 1
    except csv.Error as error:
        raise _Unreadable(line, error) from error


def _parse_rows(
    rows: Iterator[tuple[int, list[str]]], themes: Sequence[Theme], zone: ZoneInfo, now: datetime
) -> ParsedSchedule:
    header_line, header = next(rows, (0, []))
    if not header:
        return ParsedSchedule(problems=[Problem(N_("the file is empty"))])
    columns = [re.sub(r"[\s-]+", "_", cell.strip().casefold()) for cell in header]
    problems = _header_problems(columns, header_line)
    if problems:
        return ParsedSchedule(problems=problems)
    names = theme_names(themes)
    seen: dict[str, int] = {}  # key → the line it was first on
    meetings: list[ImportedMeeting] = []
    count = 0
    for line, row in rows:
        count += 1
        values, row_problems = _values(row, columns, line)
        meeting = _meeting(values, names, zone, line, row_problems)
        if meeting is None:
            problems.extend(row_problems)
            continue
        if meeting.key in seen:
            other = seen[meeting.key]
            reason = (
                N_("the id '{id}' is on line {other} too")
                if values["id"]
                else N_("the same theme and start as line {other}")
            )
            problems.append(Problem(reason, {"id": values["id"], "other": other}, line=line))
            continue
        seen[meeting.key] = line
        if now <= meeting.starts_at < now + HORIZON:
            meetings.append(meeting)
    if not count and not problems:
        problems.append(Problem(N_("the file has no meetings: only the row of column names")))
    if problems:
        return ParsedSchedule(problems=problems)
    return ParsedSchedule(meetings=sorted(meetings, key=lambda m: (m.starts_at, m.key)))


def _header_problems(columns: list[str], line: int) -> list[Problem]:
    known = [name for name in columns if name in COLUMNS]
    every = ", ".join(COLUMNS)
    if not known:
        reason = N_("the first row must name the columns: {columns}")
        return [Problem(reason, {"columns": every}, line=line)]
    problems = []
    for name in dict.fromkeys(columns):
        if name and name not in COLUMNS:
            reason = N_("unknown column '{name}' (the columns are: {columns})")
            problems.append(Problem(reason, {"name": name, "columns": every}, line=line))
        elif name and columns.count(name) > 1:
            reason = N_("the column '{name}' is there twice")
            problems.append(Problem(reason, {"name": name}, line=line))
    for name in REQUIRED:
        if name not in columns:
            problems.append(Problem(N_("no column '{name}'"), {"name": name}, line=line))
    return problems


def _values(row: list[str], columns: list[str], line: int) -> tuple[dict[str, str], list[Problem]]:
    """The row's values by column name (a missing one empty), or a value under no column."""
    values = dict.fromkeys(COLUMNS, "")
    for number, cell in enumerate(row):
        name = columns[number] if number < len(columns) else ""
        if name:
            values[name] = cell.strip().replace("\r\n", "\n")
        elif cell.strip():
            return values, [Problem(N_("a value outside the named columns"), line=line)]
    return values, []


def _meeting(
    values: dict[str, str],
    names: dict[str, str],
    zone: ZoneInfo,
    line: int,
    problems: list[Problem],
) -> ImportedMeeting | None:
    """The row's meeting, or None with what is wrong with it added to `problems`."""

    def wrong(reason: str, **details: object) -> None:
        problems.append(Problem(reason, details, line=line))

    for name in REQUIRED:
        if not values[name]:
            wrong(N_("{column} is empty"), column=name)
    theme = names.get(values["theme"].casefold())
    if values["theme"] and theme is None:
        wrong(UNKNOWN_THEME, theme=values["theme"])
    day = _date(values["date"])
    if values["date"] and day is None:
        wrong(N_("date: '{value}' is not a date like 2027-02-03"), value=values["date"])
    start = _time(values["start"])
    if values["start"] and start is None:
        wrong(NOT_A_TIME, column="start", value=values["start"])
    end = _time(values["end"])
    if values["end"] and end is None:
        wrong(NOT_A_TIME, column="end", value=values["end"])
    if start is not None and end is not None and end <= start:
        wrong(N_("end is not after start"))
    descriptions = [values[f"description_{language}"] for language in LANGUAGES]
    if any(len(text) > DESCRIPTION_MAX for text in descriptions):
        wrong(TOO_LONG, max=DESCRIPTION_MAX)
    cancelled = values["cancelled"].casefold()
    if cancelled not in YES | NO:
        wrong(N_("cancelled: '{value}' is neither yes nor no"), value=values["cancelled"])
    if problems or theme is None or day is None or start is None:
        return None
    starts_at = datetime.combine(day, start, tzinfo=zone)
    ends_at = starts_at + DEFAULT_LENGTH
    if end is not None:
        ends_at = datetime.combine(day, end, tzinfo=zone)
    key = values["id"] or f"{theme}/{starts_at.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%SZ}"
    return ImportedMeeting(
        key=KEY_PREFIX + key,
        theme=theme,
        starts_at=starts_at,
        ends_at=ends_at,
        place=values["place"] or None,
        descriptions={
            "lv": values["description_lv"],
            "ru": values["description_ru"] or None,
            "en": values["description_en"] or None,
        },
        cancelled=cancelled in YES,
    )


def _date(text: str) -> date | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day = (
        (match[1], match[2], match[3]) if match[1] else (match[6], match[5], match[4])
    )
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _time(text: str) -> time | None:
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    try:
        return time(int(match[1]), int(match[2]))
    except ValueError:
        return None


# The template's example meetings, in the languages their columns name (content, not interface:
# description_lv is Latvian whoever reads the file). Dated last week, so a template sent back
# unchanged imports nothing: meetings that have begun are left out.
EXAMPLES = (
    (
        "piemers-1",
        "17:00",
        "18:30",
        "Piemērs: darba grupas sanāksme — aizstājiet šo rindu ar savu.",
        "Пример: заседание рабочей группы — замените эту строку своей.",
    ),
    (
        "piemers-2",
        "17:30",
        "",
        "Piemērs: bez beigu laika sanāksme ilgst 90 minūtes.",
        "",
    ),
)


def template(themes: Sequence[Theme], today: date, language: str) -> bytes:
    """A schedule to fill in: the column names and two example rows (themes named in
    `language`), as Excel in Latvia opens and saves a CSV file — semicolons, a BOM, dates as
    03.02.2027."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for number, (key, start, end, lv, ru) in enumerate(EXAMPLES):
        day = today - timedelta(days=7 - number)
        theme = themes[number % len(themes)].name(language)
        writer.writerow([key, theme, f"{day:%d.%m.%Y}", start, end, "", lv, ru, "", ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
