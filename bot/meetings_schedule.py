"""A working groups' schedule read from a file, whatever its format: what a parser gives back
(meetings, or the problems that stop the import) and what the formats share (how a theme is
named, how long a meeting lasts unless said). No store, no Telegram.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.content import LANGUAGES, Theme
from bot.i18n import N_

DEFAULT_LENGTH = timedelta(minutes=90)
HORIZON = timedelta(days=366)  # meetings further ahead than this are left for a later import
DESCRIPTION_MAX = 2000


@dataclass(frozen=True)
class ImportedMeeting:
    key: str  # the UID, and for an occurrence of a series its RECURRENCE-ID (UTC)
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
