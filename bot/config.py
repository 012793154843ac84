"""Configuration: deployment settings from the environment (or `.env`); the content of the
municipality file is read by bot/content.py.

Everything is read and checked once at start-up. Bad or missing values raise one ConfigError
that names every such key and where its value came from (the environment, the .env file, the
default), so the bot never starts half-configured and an admin fixes them all in one go.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

from dotenv import dotenv_values

from bot.content import (
    LANGUAGES,
    WEEKDAYS,
    ConfigError,
    Municipality,
    Problem,
    load_municipality,
    parse_clock,
)

# Re-exported: the rest of the bot reads its configuration from here.
__all__ = [
    "LANGUAGES",
    "ConfigError",
    "Municipality",
    "Settings",
    "load_municipality",
    "load_settings",
]


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
# SQLite's `synchronous` settings the bot accepts: FULL (the default) syncs the WAL at every
# commit; NORMAL only at checkpoints, so a power cut (not a crash of the bot) can lose the last
# commits. See README, "Measured".
SYNCHRONOUS = ("FULL", "NORMAL")


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
    # When the weekly meeting digest goes to the residents who asked for it: a weekday
    # (DIGEST_WEEKDAY, 0 = Monday) and a time (DIGEST_TIME), in the municipality's local time.
    digest_weekday: int = 0
    digest_time: time = time(9, 0)

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

    digest_day = get("DIGEST_WEEKDAY") or "monday"
    if digest_day.lower() not in WEEKDAYS:
        bad("DIGEST_WEEKDAY", f"expected a day of the week, monday … sunday, got {digest_day!r}")
    digest_clock = get("DIGEST_TIME") or "09:00"
    digest_time = parse_clock(digest_clock)
    if digest_time is None:
        bad("DIGEST_TIME", f"expected a local time as HH:MM, 00:00 to 23:59, got {digest_clock!r}")
        digest_time = time(9, 0)

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
        digest_weekday=WEEKDAYS.index(digest_day.lower()),
        digest_time=digest_time,
    )
