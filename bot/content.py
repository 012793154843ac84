"""The municipality's content: its themes, venues, reception hours and texts in lv, ru and en,
read and checked from its TOML file (municipality/liepaja.toml), and the error every part of
the configuration raises. Another municipality reuses the bot by editing a copy of that file."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LANGUAGES = ("lv", "ru", "en")
SLUG = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


# One problem with a setting: (key, where its value came from, what is wrong).
Problem = tuple[str, str, str]


class ConfigError(Exception):
    """Configuration values are missing or wrong: one line per key, each naming its source.
    `key` and `source` are those of the first problem."""

    def __init__(self, key: str, source: str, problem: str, *more: Problem) -> None:
        self.problems: list[Problem] = [(key, source, problem), *more]
        super().__init__("\n".join(f"{s}: {k}: {p}" for k, s, p in self.problems))
        self.key = key
        self.source = source

    @classmethod
    def of(cls, problems: list[Problem]) -> ConfigError:
        return cls(*problems[0], *problems[1:])

    @property
    def keys(self) -> list[str]:
        return [key for key, _source, _problem in self.problems]


@dataclass(frozen=True)
class Localized:
    """One text in each of the bot's languages."""

    lv: str
    ru: str
    en: str

    def __call__(self, language: str) -> str:
        return getattr(self, language, self.lv)


@dataclass(frozen=True)
class Venue:
    name: Localized
    address: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Theme:
    """One of the programme's thematic working groups."""

    slug: str
    name: Localized
    leader: str
    leader_role: Localized


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Reception:
    """The weekly in-person reception: when it is, how it is booked, when people are reminded.
    Latvian public holidays are closed without being listed; staff close other dates by command."""

    weekdays: tuple[int, ...]  # 0 = Monday
    start: time
    end: time
    slot: timedelta
    places_per_slot: int
    weeks_ahead: int
    min_notice: timedelta  # a slot can be booked until this long before it starts
    cancel_deadline: timedelta  # a resident can cancel in the chat until this long before
    reminders: tuple[timedelta, ...]  # before the slot, to a confirmed booking
    # A request the office has not confirmed this long before its slot lapses.
    unconfirmed_expiry: timedelta
    # A place freed on a full date is offered to its waitlist's first for this long.
    offer_time: timedelta = timedelta(minutes=120)


@dataclass(frozen=True)
class Municipality:
    name: Localized
    programme: Localized
    office: Localized
    email: str
    website: str
    reference_prefix: str
    timezone: ZoneInfo
    meeting_venue: Venue
    reception_venue: Venue
    themes: tuple[Theme, ...]
    retention_months: int
    reception: Reception

    def theme(self, slug: str) -> Theme | None:
        return next((t for t in self.themes if t.slug == slug), None)


def load_municipality(path: Path, *, named_by: str = "environment") -> Municipality:
    """Reads and checks the municipality's content file; `named_by` is where MUNICIPALITY_FILE
    came from. Every bad key of the file is reported at once."""
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("MUNICIPALITY_FILE", named_by, f"{path} does not exist") from None
    except OSError as error:
        raise ConfigError("MUNICIPALITY_FILE", named_by, f"{path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("(file)", source, f"not valid TOML: {error}") from None

    # The reader records each problem and hands back a placeholder, so that checking goes on.
    reader = _Reader(data, source)
    themes = []
    raw_themes = reader.list("themes")
    for index, _raw in enumerate(raw_themes):
        key = f"themes[{index}]"
        slug = reader.text(f"{key}.slug")
        if slug and not SLUG.match(slug):
            reader.bad(f"{key}.slug", "expected lower-case ASCII letters, digits, _")
        themes.append(
            Theme(
                slug=slug,
                name=reader.localized(f"{key}.name"),
                leader=reader.text(f"{key}.leader"),
                leader_role=reader.localized(f"{key}.leader_role"),
            )
        )
    if not themes and not reader.problems:
        reader.bad("themes", "at least one theme is needed")
    slugs = [t.slug for t in themes if t.slug]
    if len(set(slugs)) != len(slugs):
        reader.bad("themes", "theme slugs must be unique")

    prefix = reader.text("municipality.reference_prefix")
    if prefix and not re.fullmatch(r"[A-Z]{2,8}", prefix):
        reader.bad("municipality.reference_prefix", "expected 2–8 capital letters")
    municipality = Municipality(
        name=reader.localized("municipality.name"),
        programme=reader.localized("municipality.programme"),
        office=reader.localized("municipality.office"),
        email=reader.text("municipality.email"),
        website=reader.text("municipality.website"),
        reference_prefix=prefix,
        timezone=reader.zone("municipality.timezone"),
        meeting_venue=reader.venue("venues.meetings"),
        reception_venue=reader.venue("venues.reception"),
        themes=tuple(themes),
        retention_months=reader.whole("privacy.retention_months"),
        reception=_reception(reader),
    )
    if reader.problems:
        raise ConfigError.of(reader.problems)
    return municipality


def _reception(reader: _Reader) -> Reception:
    days = reader.list("reception.weekdays")
    weekdays = []
    for day in days:
        if day not in WEEKDAYS:
            reader.bad("reception.weekdays", f"expected day names ({', '.join(WEEKDAYS)})")
            break
        weekdays.append(WEEKDAYS.index(day))
    if not weekdays and not reader.problems:
        reader.bad("reception.weekdays", "at least one day is needed")
    start, end = reader.clock_time("reception.start"), reader.clock_time("reception.end")
    slot = timedelta(minutes=reader.whole("reception.slot_minutes"))
    if start >= end:
        reader.bad("reception.end", "must be after reception.start")
    reminders = reader.list("reception.reminder_hours")
    if not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in reminders):
        reader.bad("reception.reminder_hours", "expected whole numbers of hours, e.g. [24, 2]")
        reminders = []
    reception = Reception(
        weekdays=tuple(sorted(set(weekdays))),
        start=start,
        end=end,
        slot=slot,
        places_per_slot=reader.whole("reception.places_per_slot"),
        weeks_ahead=reader.whole("reception.weeks_ahead"),
        min_notice=timedelta(hours=reader.whole("reception.min_notice_hours")),
        cancel_deadline=timedelta(hours=reader.whole("reception.cancel_deadline_hours")),
        reminders=tuple(timedelta(hours=h) for h in sorted(set(reminders), reverse=True)),
        unconfirmed_expiry=timedelta(hours=reader.whole("reception.unconfirmed_expiry_hours")),
        offer_time=timedelta(
            minutes=reader.whole("reception.offer_minutes")
            if "offer_minutes" in (reader.data.get("reception") or {})
            else 120
        ),
    )
    if reception.unconfirmed_expiry >= reception.min_notice:
        # Else a request made at the last moment would lapse before anyone could confirm it.
        reader.bad("reception.unconfirmed_expiry_hours", "must be less than min_notice_hours")
    return reception


def parse_clock(text: str) -> time | None:
    """A time of day written HH:MM (9:00 too), 00:00 to 23:59; None if it is not one."""
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text)
    return time(int(match.group(1)), int(match.group(2))) if match else None


def _zone(name: str, key: str, source: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(key, source, f"unknown time zone {name!r}") from None


class _Reader:
    """Looks up dotted keys (`themes[3].name`) in parsed TOML and checks their types. A bad value
    is recorded in `problems` and a placeholder returned, so one pass finds every bad key."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source
        self.problems: list[Problem] = []

    def bad(self, key: str, problem: str) -> None:
        self.problems.append((key, self.source, problem))

    def get(self, key: str) -> Any:
        """The value at `key`, or None (recorded as missing)."""
        node: Any = self.data
        for part in key.split("."):
            match = re.fullmatch(r"(\w+)\[(\d+)\]", part)
            name, index = (match.group(1), int(match.group(2))) if match else (part, None)
            if not isinstance(node, dict) or name not in node:
                self.bad(key, "missing")
                return None
            node = node[name]
            if index is not None:
                node = node[index]
        return node

    def text(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.bad(key, "expected a non-empty string")
            return ""
        return value.strip()

    def number(self, key: str) -> float | None:
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.bad(key, "expected a number")
            return None
        return float(value)

    def whole(self, key: str) -> int:
        value = self.get(key)
        if value is None:
            return 1
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.bad(key, "expected a whole number of at least 1")
            return 1
        return value

    def list(self, key: str) -> list[Any]:
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad(key, "expected a list ([[...]] tables)")
            return []
        return value

    def clock_time(self, key: str) -> time:
        value = self.text(key)
        parsed = parse_clock(value)
        if value and parsed is None:
            self.bad(key, "expected a time of day as HH:MM")
        return parsed or time(0)

    def localized(self, key: str) -> Localized:
        return Localized(**{lang: self.text(f"{key}.{lang}") for lang in LANGUAGES})

    def zone(self, key: str) -> ZoneInfo:
        name = self.text(key)
        if not name:
            return ZoneInfo("UTC")
        try:
            return _zone(name, key, self.source)
        except ConfigError as error:
            self.problems.extend(error.problems)
            return ZoneInfo("UTC")

    def venue(self, key: str) -> Venue:
        latitude, longitude = self.number(f"{key}.latitude"), self.number(f"{key}.longitude")
        known = latitude is not None and longitude is not None
        if known and not (-90 <= (latitude or 0) <= 90 and -180 <= (longitude or 0) <= 180):
            self.bad(key, "coordinates out of range")
        return Venue(
            name=self.localized(f"{key}.name"),
            address=self.text(f"{key}.address"),
            latitude=latitude or 0.0,
            longitude=longitude or 0.0,
        )
