"""Reading a working groups' schedule from an iCalendar file, pure: bytes in, meetings (or the
events that are wrong, by UID) out. No store, no Telegram.

- The theme comes from CATEGORIES (a theme's slug, or its name in lv, ru or en), else from a
  theme's name in SUMMARY; an override of one occurrence without its own takes its series'.
- Times are in the zone the file states (TZID, or X-WR-TIMEZONE for floating times), else in the
  municipality's; they come out aware, and the store keeps them in UTC.
- Recurring events are expanded (recurring-ical-events: RRULE, RDATE, EXDATE, overrides by
  RECURRENCE-ID) within a window; each occurrence is keyed by UID and its RECURRENCE-ID, so
  importing the same file again finds the same meetings.
- All or nothing: a file with a bad event gives the problems and no meetings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import recurring_ical_events  # type: ignore[import-untyped]
from icalendar import Calendar, Component

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

NO_THEME = N_("no theme: put a theme's name or slug in CATEGORIES or SUMMARY")


def parse_schedule(
    data: bytes, themes: Sequence[Theme], zone: ZoneInfo, now: datetime
) -> ParsedSchedule:
    """The meetings of the file from `now` to a year ahead, or its problems (then no meetings)."""
    try:
        calendar = Calendar.from_ical(data)
    except Exception as error:  # icalendar raises ValueError and friends on malformed files
        return ParsedSchedule(
            problems=[Problem(N_("not an iCalendar file ({error})"), {"error": error})]
        )
    file_zone = _file_zone(calendar, zone)
    if file_zone is None:
        return ParsedSchedule(problems=[Problem(N_("unknown X-WR-TIMEZONE"))])
    events = list(calendar.walk("VEVENT"))
    if not events:
        return ParsedSchedule(problems=[Problem(N_("the file has no events"))])
    problems: list[Problem] = []
    series_theme: dict[str, str] = {}
    for number, event in enumerate(events, start=1):
        uid = str(event.get("UID") or "").strip()
        if not uid:
            problems.append(Problem(N_("the event has no UID"), uid=f"#{number}"))
            continue
        problem = _event_problem(event, uid)
        if problem is None and (theme := theme_of(event, themes)) is not None:
            if "RECURRENCE-ID" not in event:
                series_theme[uid] = theme
        elif problem is None and "RECURRENCE-ID" not in event:
            problem = Problem(NO_THEME, uid=uid)
        if problem:
            problems.append(problem)
    for event in events:  # an override of one occurrence needs a theme: its own or its series'
        uid = str(event.get("UID") or "").strip()
        if "RECURRENCE-ID" in event and uid not in series_theme and not theme_of(event, themes):
            problems.append(Problem(NO_THEME, uid=uid))
    if problems:
        return ParsedSchedule(problems=problems)
    try:
        occurrences = list(recurring_ical_events.of(calendar).between(now, now + HORIZON))
    except Exception as error:  # a malformed RRULE, RDATE or EXDATE
        return ParsedSchedule(
            problems=[Problem(N_("cannot expand the recurrences ({error})"), {"error": error})]
        )
    meetings: dict[str, ImportedMeeting] = {}
    for occurrence in occurrences:
        meeting = _meeting(occurrence, themes, series_theme, file_zone)
        if meeting.starts_at >= now:
            meetings[meeting.key] = meeting
    return ParsedSchedule(meetings=sorted(meetings.values(), key=lambda m: (m.starts_at, m.key)))


def theme_of(event: Component, themes: Sequence[Theme]) -> str | None:
    """The slug of the event's theme: by CATEGORIES first, then a theme's name in SUMMARY."""
    names = theme_names(themes)
    for category in _categories(event):
        if (slug := names.get(category.strip().casefold())) is not None:
            return slug
    summary = str(event.get("SUMMARY") or "").casefold()
    # The longest name first: "Sports" must not be taken for a theme named "Sport".
    for name in sorted(names, key=len, reverse=True):
        if len(name) > 3 and name in summary:
            return names[name]
    return None


def _categories(event: Component) -> list[str]:
    found: list[str] = []
    values = event.get("CATEGORIES")
    for value in values if isinstance(values, list) else [values] if values else []:
        cats = getattr(value, "cats", None)
        found.extend(str(cat) for cat in cats) if cats is not None else found.append(str(value))
    return found


def _dt(event: Component, name: str) -> Any:
    """A date-time property's value (a datetime or a date), or None."""
    return getattr(event.get(name), "dt", None)


def _event_problem(event: Component, uid: str) -> Problem | None:
    start = _dt(event, "DTSTART")
    if start is None:
        return Problem(N_("no DTSTART"), uid=uid)
    if not isinstance(start, datetime):
        return Problem(N_("an all-day event: a meeting needs a time of day"), uid=uid)
    end = _dt(event, "DTEND")
    if end is not None and (
        not isinstance(end, datetime) or _aware(end, None) <= _aware(start, None)
    ):
        return Problem(N_("DTEND is not after DTSTART"), uid=uid)
    if not _texts(event):
        return Problem(N_("no SUMMARY or DESCRIPTION"), uid=uid)
    if any(len(text) > DESCRIPTION_MAX for text in _texts(event).values()):
        return Problem(TOO_LONG, {"max": DESCRIPTION_MAX}, uid=uid)
    return None


def _texts(event: Component) -> dict[str, str]:
    """Descriptions by language (LANGUAGE parameter; none means Latvian); else the SUMMARY."""
    texts: dict[str, str] = {}
    values = event.get("DESCRIPTION")
    for value in values if isinstance(values, list) else [values] if values else []:
        language = str(getattr(value, "params", {}).get("LANGUAGE", "lv"))[:2].lower()
        if language in LANGUAGES and str(value).strip():
            texts.setdefault(language, str(value).strip())
    summary = str(event.get("SUMMARY") or "").strip()
    if "lv" not in texts and summary:
        texts["lv"] = summary
    return texts if "lv" in texts else {}


def _meeting(
    event: Component, themes: Sequence[Theme], series_theme: dict[str, str], zone: tzinfo
) -> ImportedMeeting:
    uid = str(event["UID"]).strip()
    start = _aware(_dt(event, "DTSTART"), zone)
    end = _aware(_dt(event, "DTEND"), zone) if "DTEND" in event else start
    if end <= start:
        # No DTEND in the file (a source DTEND before DTSTART is refused): the expansion gives
        # the occurrence one equal to DTSTART, as RFC 5545 reads it; a meeting lasts longer.
        end = start + DEFAULT_LENGTH
    recurrence = _dt(event, "RECURRENCE-ID")
    key = uid
    if isinstance(recurrence, datetime):
        key = f"{uid}/{_aware(recurrence, zone).astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%SZ}"
    texts = _texts(event)
    location = str(event.get("LOCATION") or "").strip() or None
    return ImportedMeeting(
        key=key,
        theme=theme_of(event, themes) or series_theme[uid],
        starts_at=start,
        ends_at=end,
        place=location,
        descriptions={"lv": texts["lv"], "ru": texts.get("ru"), "en": texts.get("en")},
        cancelled=str(event.get("STATUS") or "").upper() == "CANCELLED",
    )


def _aware(moment: datetime | date | Any, zone: tzinfo | None) -> datetime:
    if not isinstance(moment, datetime):
        raise ValueError("not a date and time")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone or ZoneInfo("UTC"))
    return moment


def _file_zone(calendar: Calendar, default: ZoneInfo) -> ZoneInfo | None:
    name = str(calendar.get("X-WR-TIMEZONE") or "").strip()
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_when(text: str, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """A meeting's time as staff type it: "2027-02-03 17:30" (90 minutes) or
    "2027-02-03 17:30-19:00", in the municipality's zone; None if it is not that."""
    import re

    match = re.fullmatch(
        r"\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})(?:\s*[-–]\s*(\d{1,2}:\d{2}))?\s*", text
    )
    if match is None:
        return None
    try:
        start = datetime.fromisoformat(f"{match[1]} {int(match[2][:-3]):02d}{match[2][-3:]}")
        end = (
            datetime.fromisoformat(f"{match[1]} {int(match[3][:-3]):02d}{match[3][-3:]}")
            if match[3]
            else start + DEFAULT_LENGTH
        )
    except ValueError:
        return None
    if end <= start:
        return None
    return start.replace(tzinfo=zone), end.replace(tzinfo=zone)
