"""Configuration: deployment settings from the environment (or `.env`), content from a TOML file.

Everything is read and checked once at start-up. A bad or missing value raises one ConfigError
that names the key and where it came from, so the bot never starts half-configured.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MUNICIPALITY_FILE = PROJECT_ROOT / "municipality" / "liepaja.toml"
DEFAULT_DATABASE = Path("data/liepaja-bot.sqlite3")
DEFAULT_BOT_API_URL = "https://api.telegram.org/bot"
LANGUAGES = ("lv", "ru", "en")
# SQLite's `synchronous` settings the bot accepts: FULL (the default) syncs the WAL at every
# commit; NORMAL only at checkpoints, so a power cut (not a crash of the bot) can lose the last
# commits. See README, "Measured".
SYNCHRONOUS = ("FULL", "NORMAL")
SLUG = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message names the key and its source."""

    def __init__(self, key: str, source: str, problem: str) -> None:
        super().__init__(f"{source}: {key}: {problem}")
        self.key = key
        self.source = source


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
    timezone: ZoneInfo
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
    # SQLite's synchronous setting (SYNCHRONOUS): FULL unless NORMAL is asked for.
    sqlite_synchronous: str = "FULL"


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Reads settings from `environ` (default: the process environment) over the `.env` file."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    source = (
        "environment" if env_file is None or not env_file.is_file() else f"environment/{env_file}"
    )

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
            raise ConfigError(key, source, f"expected a whole number, got {raw!r}") from None

    admin_ids: set[int] = set()
    for part in (get("ADMIN_IDS") or "").replace(";", ",").split(","):
        if part.strip():
            try:
                admin_ids.add(int(part))
            except ValueError:
                raise ConfigError(
                    "ADMIN_IDS",
                    source,
                    f"expected Telegram user ids separated by commas, got {part!r}",
                ) from None

    token = get("BOT_TOKEN")
    if token is not None and not re.fullmatch(r"\d+:[A-Za-z0-9_-]{20,}", token):
        # Say what is wrong without echoing the secret.
        raise ConfigError("BOT_TOKEN", source, "does not look like a token from @BotFather")

    api_url = (get("BOT_API_URL") or DEFAULT_BOT_API_URL).rstrip("/")
    if not api_url.startswith(("http://", "https://")):
        raise ConfigError("BOT_API_URL", source, f"expected an http(s) URL, got {api_url!r}")
    default_file_url = (
        api_url[: -len("/bot")] + "/file/bot" if api_url.endswith("/bot") else api_url
    )
    file_url = (get("BOT_FILE_API_URL") or default_file_url).rstrip("/")

    timezone_name = get("TIMEZONE", "Europe/Riga") or "Europe/Riga"
    timezone = _zone(timezone_name, "TIMEZONE", source)

    municipality_file = Path(get("MUNICIPALITY_FILE") or DEFAULT_MUNICIPALITY_FILE)
    per_day = integer("PROPOSALS_PER_DAY", 5)
    if per_day is not None and per_day < 1:
        raise ConfigError("PROPOSALS_PER_DAY", source, "must be at least 1")
    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("LOG_LEVEL", source, "expected DEBUG, INFO, WARNING or ERROR")
    synchronous = (get("SQLITE_SYNCHRONOUS") or "FULL").upper()
    if synchronous not in SYNCHRONOUS:
        raise ConfigError("SQLITE_SYNCHRONOUS", source, "expected FULL or NORMAL")

    municipality = load_municipality(municipality_file)
    staff_topics: dict[str, int] = {}
    for part in (get("STAFF_TOPICS") or "").split(","):
        if not part.strip():
            continue
        slug, _, topic = part.partition(":")
        if municipality.theme(slug.strip()) is None or not topic.strip().isdigit():
            raise ConfigError(
                "STAFF_TOPICS",
                source,
                f"expected theme:topic_id pairs with known themes, got {part!r}",
            )
        staff_topics[slug.strip()] = int(topic)

    return Settings(
        bot_token=token,
        database=Path(get("DATABASE") or DEFAULT_DATABASE),
        bot_api_url=api_url,
        bot_file_api_url=file_url,
        staff_chat_id=integer("STAFF_CHAT_ID"),
        admin_ids=frozenset(admin_ids),
        timezone=timezone,
        municipality=municipality,
        municipality_file=municipality_file,
        proposals_per_day=per_day or 5,
        conversation_idle_days=_at_least(1, "CONVERSATION_IDLE_DAYS", integer, 30, source),
        messages_per_minute=_at_least(5, "MESSAGES_PER_MINUTE", integer, 20, source),
        log_level=log_level,
        staff_topics=staff_topics,
        sqlite_synchronous=synchronous,
    )


def _at_least(
    minimum: int, key: str, integer: Callable[[str, int], int | None], default: int, source: str
) -> int:
    value = integer(key, default)
    if value is None or value < minimum:
        raise ConfigError(key, source, f"must be at least {minimum}")
    return value


def load_municipality(path: Path) -> Municipality:
    """Reads and checks the municipality's content file."""
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("MUNICIPALITY_FILE", "environment", f"{path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("(file)", source, f"not valid TOML: {error}") from None

    reader = _Reader(data, source)
    themes = []
    raw_themes = reader.list("themes")
    for index, _raw in enumerate(raw_themes):
        key = f"themes[{index}]"
        slug = reader.text(f"{key}.slug")
        if not SLUG.match(slug):
            raise ConfigError(f"{key}.slug", source, "expected lower-case ASCII letters, digits, _")
        themes.append(
            Theme(
                slug=slug,
                name=reader.localized(f"{key}.name"),
                leader=reader.text(f"{key}.leader"),
                leader_role=reader.localized(f"{key}.leader_role"),
            )
        )
    if not themes:
        raise ConfigError("themes", source, "at least one theme is needed")
    slugs = [t.slug for t in themes]
    if len(set(slugs)) != len(slugs):
        raise ConfigError("themes", source, "theme slugs must be unique")

    prefix = reader.text("municipality.reference_prefix")
    if not re.fullmatch(r"[A-Z]{2,8}", prefix):
        raise ConfigError("municipality.reference_prefix", source, "expected 2–8 capital letters")
    return Municipality(
        name=reader.localized("municipality.name"),
        programme=reader.localized("municipality.programme"),
        office=reader.localized("municipality.office"),
        email=reader.text("municipality.email"),
        website=reader.text("municipality.website"),
        reference_prefix=prefix,
        timezone=_zone(reader.text("municipality.timezone"), "municipality.timezone", source),
        meeting_venue=reader.venue("venues.meetings"),
        reception_venue=reader.venue("venues.reception"),
        themes=tuple(themes),
        retention_months=reader.whole("privacy.retention_months"),
    )


def _zone(name: str, key: str, source: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(key, source, f"unknown time zone {name!r}") from None


class _Reader:
    """Looks up dotted keys (`themes[3].name`) in parsed TOML and checks their types."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def get(self, key: str) -> Any:
        node: Any = self.data
        for part in key.split("."):
            match = re.fullmatch(r"(\w+)\[(\d+)\]", part)
            name, index = (match.group(1), int(match.group(2))) if match else (part, None)
            if not isinstance(node, dict) or name not in node:
                raise ConfigError(key, self.source, "missing")
            node = node[name]
            if index is not None:
                node = node[index]
        return node

    def text(self, key: str) -> str:
        value = self.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(key, self.source, "expected a non-empty string")
        return value.strip()

    def number(self, key: str) -> float:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, self.source, "expected a number")
        return float(value)

    def whole(self, key: str) -> int:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(key, self.source, "expected a whole number of at least 1")
        return value

    def list(self, key: str) -> list[Any]:
        value = self.get(key)
        if not isinstance(value, list):
            raise ConfigError(key, self.source, "expected a list ([[...]] tables)")
        return value

    def localized(self, key: str) -> Localized:
        return Localized(**{lang: self.text(f"{key}.{lang}") for lang in LANGUAGES})

    def venue(self, key: str) -> Venue:
        latitude, longitude = self.number(f"{key}.latitude"), self.number(f"{key}.longitude")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ConfigError(key, self.source, "coordinates out of range")
        return Venue(
            name=self.localized(f"{key}.name"),
            address=self.text(f"{key}.address"),
            latitude=latitude,
            longitude=longitude,
        )
