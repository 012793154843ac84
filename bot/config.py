"""Configuration: deployment settings from the environment (or `.env`), content from a TOML file.

Everything is read and checked once at start-up. Bad or missing values raise one ConfigError
that names every such key and where its value came from (the environment, the .env file, the
default), so the bot never starts half-configured and an admin fixes them all in one go.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values


def package_folder(package: str) -> Path:
    """The folder of one of the data packages installed inside `bot` (bot.migrations,
    bot.locales, bot.municipality): found through the import system, so an installed wheel and
    an editable checkout (where they are the repository's top-level folders) both work."""
    folder = files(package)
    if not isinstance(folder, Path):
        # A zipped install (zipimport) has no folder to read migrations or catalogs from.
        raise RuntimeError(f"{package} is not installed as files on disk")
    return folder


DEFAULT_MUNICIPALITY_FILE = package_folder("bot.municipality") / "liepaja.toml"
DEFAULT_DATABASE = Path("data/liepaja-bot.sqlite3")
DEFAULT_BOT_API_URL = "https://api.telegram.org/bot"
LANGUAGES = ("lv", "ru", "en")
# SQLite's `synchronous` settings the bot accepts: FULL (the default) syncs the WAL at every
# commit; NORMAL only at checkpoints, so a power cut (not a crash of the bot) can lose the last
# commits. See README, "Measured".
SYNCHRONOUS = ("FULL", "NORMAL")
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


@dataclass(frozen=True)
class Settings:
    """Deployment settings. Secrets live here and nowhere else; never log this object whole."""

    bot_token: str | None = field(repr=False)
    database: Path
    bot_api_url: str
    bot_file_api_url: str
    staff_chat_id: int | None
    admin_ids: frozenset[int]
    municipality: Municipality
    municipality_file: Path
    proposals_per_day: int = 5
    # Conversation states untouched this long are dropped (drafts are kept apart).
    conversation_idle_days: int = 30
    # A resident sending more than this many messages a minute is slowed down.
    messages_per_minute: int = 20
    # Forum topic (message_thread_id) in the staff chat for each theme slug, where it has one.
    staff_topics: dict[str, int] = field(default_factory=dict)
    log_level: str = "INFO"
    # "text" or "json" (one JSON object a line, for log collectors).
    log_format: str = "text"
    # Webhook mode when webhook_url is set (else long polling); the secret is checked on every
    # request Telegram makes to us.
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    # Messages a second the outbox sends overall (broadcasts included); at most Telegram's 30.
    outbox_rate: int = 25
    # SQLite's synchronous setting (SQLITE_SYNCHRONOUS): FULL unless NORMAL is asked for.
    sqlite_synchronous: str = "FULL"
    # The bot's username (BOT_USERNAME, without "@"): for the deep links `liepaja-bot qr` prints.
    bot_username: str | None = None

    @property
    def timezone(self) -> ZoneInfo:
        """Dates and times are shown in the municipality's zone (its file says which)."""
        return self.municipality.timezone


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    *,
    env_file_required: bool = False,
) -> Settings:
    """Reads settings from `environ` (default: the process environment) over the `.env` file.
    The file is optional unless `env_file_required` (it was named on the command line)."""
    environment = os.environ if environ is None else environ
    from_file: dict[str, str] = {}
    if env_file is not None and (env_file_required or env_file.exists()):
        if not env_file.exists():
            raise ConfigError("--env-file", "command line", f"{env_file} does not exist")
        try:
            from_file = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        except OSError as error:
            raise ConfigError("(file)", str(env_file), error.strerror or str(error)) from None
    values = {**from_file, **environment}
    problems: list[Problem] = []

    def source(key: str) -> str:
        if key in environment:
            return "environment"
        return str(env_file) if key in from_file else "default"

    def bad(key: str, problem: str) -> None:
        problems.append((key, source(key), problem))

    def get(key: str, default: str | None = None) -> str | None:
        value = values.get(key, "").strip()
        return value or default

    def integer(key: str, default: int | None = None) -> int | None:
        raw = get(key)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            bad(key, f"expected a whole number, got {raw!r}")
            return default

    admin_ids: set[int] = set()
    for part in (get("ADMIN_IDS") or "").replace(";", ",").split(","):
        if part.strip():
            try:
                admin_ids.add(int(part))
            except ValueError:
                bad("ADMIN_IDS", f"expected Telegram user ids separated by commas, got {part!r}")

    token = get("BOT_TOKEN")
    if token is not None and not re.fullmatch(r"\d+:[A-Za-z0-9_-]{20,}", token):
        # Say what is wrong without echoing the secret.
        bad("BOT_TOKEN", "does not look like a token from @BotFather")

    api_url = (get("BOT_API_URL") or DEFAULT_BOT_API_URL).rstrip("/")
    if not api_url.startswith(("http://", "https://")):
        bad("BOT_API_URL", f"expected an http(s) URL, got {api_url!r}")
    default_file_url = (
        api_url[: -len("/bot")] + "/file/bot" if api_url.endswith("/bot") else api_url
    )
    file_url = (get("BOT_FILE_API_URL") or default_file_url).rstrip("/")

    municipality_file = Path(get("MUNICIPALITY_FILE") or DEFAULT_MUNICIPALITY_FILE)
    staff_chat_id = integer("STAFF_CHAT_ID")
    per_day = integer("PROPOSALS_PER_DAY", 5)
    if per_day is not None and per_day < 1:
        bad("PROPOSALS_PER_DAY", "must be at least 1")
    idle_days = integer("CONVERSATION_IDLE_DAYS", 30)
    if idle_days is not None and idle_days < 1:
        bad("CONVERSATION_IDLE_DAYS", "must be at least 1")
    per_minute = integer("MESSAGES_PER_MINUTE", 20)
    if per_minute is not None and per_minute < 5:
        bad("MESSAGES_PER_MINUTE", "must be at least 5")
    outbox_rate = integer("OUTBOX_RATE", 25)
    if outbox_rate is not None and not 1 <= outbox_rate <= 30:
        bad("OUTBOX_RATE", "must be 1 to 30 (Telegram allows about 30 messages a second)")
    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        bad("LOG_LEVEL", "expected DEBUG, INFO, WARNING or ERROR")
    synchronous = (get("SQLITE_SYNCHRONOUS") or "FULL").upper()
    if synchronous not in SYNCHRONOUS:
        bad("SQLITE_SYNCHRONOUS", "expected FULL or NORMAL")

    log_format = (get("LOG_FORMAT") or "text").lower()
    if log_format not in ("text", "json"):
        bad("LOG_FORMAT", "expected text or json")
    webhook_url = get("WEBHOOK_URL")
    webhook_secret = get("WEBHOOK_SECRET")
    if webhook_url is not None:
        if not re.fullmatch(r"https://[^/\s]+(/\S*)?", webhook_url):
            bad("WEBHOOK_URL", f"expected the https:// URL Telegram will call, got {webhook_url!r}")
        if webhook_secret is None:
            bad("WEBHOOK_SECRET", "required with WEBHOOK_URL (16-256 of A-Z a-z 0-9 _ -)")
    if webhook_secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", webhook_secret):
        bad("WEBHOOK_SECRET", "expected 16 to 256 characters of A-Z a-z 0-9 _ -")
    webhook_port = integer("WEBHOOK_PORT", 8443)
    if webhook_port is not None and not 0 < webhook_port < 65536:
        bad("WEBHOOK_PORT", "expected a port number")

    try:
        municipality: Municipality | None = load_municipality(
            municipality_file, named_by=source("MUNICIPALITY_FILE")
        )
    except ConfigError as error:
        problems.extend(error.problems)
        municipality = None
    staff_topics: dict[str, int] = {}
    for part in (get("STAFF_TOPICS") or "").split(","):
        if not part.strip() or municipality is None:  # no themes to check the slugs against
            continue
        slug, _, topic = part.partition(":")
        if municipality.theme(slug.strip()) is None or not topic.strip().isdigit():
            bad("STAFF_TOPICS", f"expected theme:topic_id pairs with known themes, got {part!r}")
            continue
        staff_topics[slug.strip()] = int(topic)

    if problems or municipality is None:
        raise ConfigError.of(problems)
    return Settings(
        bot_token=token,
        database=Path(get("DATABASE") or DEFAULT_DATABASE),
        bot_api_url=api_url,
        bot_file_api_url=file_url,
        staff_chat_id=staff_chat_id,
        admin_ids=frozenset(admin_ids),
        municipality=municipality,
        municipality_file=municipality_file,
        proposals_per_day=per_day or 5,
        conversation_idle_days=idle_days or 30,
        messages_per_minute=per_minute or 20,
        log_level=log_level,
        outbox_rate=outbox_rate or 25,
        staff_topics=staff_topics,
        log_format=log_format,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_listen=get("WEBHOOK_LISTEN") or "127.0.0.1",
        webhook_port=webhook_port or 8443,
        sqlite_synchronous=synchronous,
        bot_username=(get("BOT_USERNAME") or "").strip().lstrip("@") or None,
    )


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
        match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", value)
        if value and match is None:
            self.bad(key, "expected a time of day as HH:MM")
        return time(int(match.group(1)), int(match.group(2))) if match else time(0)

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
