"""A working groups' schedule read from a file, whatever its format: what a parser gives back
(meetings, or the problems that stop the import) and what the formats share (how a theme is
named, how long a meeting lasts unless said). No store, no Telegram.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.content import LANGUAGES, Theme

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


@dataclass(frozen=True)
class Problem:
    uid: str
    reason: str


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
