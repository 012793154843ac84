"""A working groups' schedule read from a file, whatever its format: what a parser gives back
(meetings, or the problems that stop the import), what the formats share (how a theme is named,
how long a meeting lasts unless said) and which parser reads a file. No store, no Telegram.

The parsers are bot/meetings_ics.py (iCalendar) and bot/meetings_csv.py (CSV); the bot and the
command line both pick one with `parser_for`, by the file's extension.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePath
from zoneinfo import ZoneInfo

from bot.content import LANGUAGES, Theme
from bot.i18n import N_

DEFAULT_LENGTH = timedelta(minutes=90)
HORIZON = timedelta(days=366)  # meetings further ahead than this are left for a later import
DESCRIPTION_MAX = 2000
EXTENSIONS = ("ics", "csv")  # the files a schedule is imported from; see parser_for


@dataclass(frozen=True)
class ImportedMeeting:
    # Its identity across imports: an iCalendar event's UID (with an occurrence's RECURRENCE-ID),
    # or "csv:…" for a CSV row, so the two formats never name the same meeting.
    key: str
    theme: str
    starts_at: datetime
    ends_at: datetime
    place: str | None
    descriptions: dict[str, str | None]  # "lv" always
    cancelled: bool = False


LINE = N_("line {number}")
TOO_LONG = N_("the description is longer than {max} characters")


@dataclass(frozen=True)
class Problem:
    """Why a file cannot be imported, and where: an event by its UID (iCalendar), a row by its
    first line (CSV), or — neither — the file as a whole. `reason` is English, marked with N_
    and translated where it is shown, its {placeholders} filled from `values`."""

    reason: str
    values: Mapping[str, object] = field(default_factory=dict, hash=False)
    uid: str | None = None
    line: int | None = None

    def text(self, gettext: Callable[[str], str] = str) -> str:
        """The problem as people read it ("line 4: unknown theme 'x'"), in the language of
        `gettext` (English without one)."""
        where = self.uid or "—"
        if self.line is not None:
            where = gettext(LINE).format(number=self.line)
        return f"{where}: {gettext(self.reason).format(**self.values)}"


@dataclass(frozen=True)
class ParsedSchedule:
    meetings: list[ImportedMeeting] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def theme_names(themes: Sequence[Theme]) -> dict[str, str]:
    """Every way a file may name a theme — its slug, its name in lv, ru and en — casefolded, to
    the theme's slug."""
    return {
        name.casefold(): theme.slug
        for theme in themes
        for name in (theme.slug, *(theme.name(language) for language in LANGUAGES))
    }


Parser = Callable[[bytes, Sequence[Theme], ZoneInfo, datetime], ParsedSchedule]


def format_of(filename: str) -> str | None:
    """A schedule file's format by its extension, in any case ("ics", "csv"), or None.
    As Telegram's file-extension filter reads it: whatever follows the name's last dot."""
    name = PurePath(filename).name
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else None
    return extension if extension in EXTENSIONS else None


def parser_for(filename: str) -> Parser | None:
    """The parser of a schedule file by its extension, or None for any other file."""
    from bot import meetings_csv, meetings_ics  # here: they import this module's types

    parsers: dict[str | None, Parser] = {
        "ics": meetings_ics.parse_schedule,
        "csv": meetings_csv.parse_schedule,
    }
    return parsers.get(format_of(filename))
