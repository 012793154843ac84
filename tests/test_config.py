"""Configuration: defaults, the .env file, and one clear error per bad value."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.config import DEFAULT_MUNICIPALITY_FILE, ConfigError, load_settings
from bot.logs import RedactSecrets

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_defaults_are_liepaja() -> None:
    settings = load_settings(environ={}, env_file=None)
    m = settings.municipality
    assert settings.database == Path("data/liepaja-bot.sqlite3")
    assert settings.bot_api_url == "https://api.telegram.org/bot"
    assert settings.timezone.key == "Europe/Riga"
    assert len(m.themes) == 12
    assert m.theme("mobility") is not None and m.theme("mobility").leader == "Didzis Jēriņš"
    assert m.theme("education").name("ru") == "Образование"
    assert m.meeting_venue.address.startswith("Rožu laukums 5/6")
    assert m.reception_venue.address == "Rožu iela 6, Liepāja, LV-3401"
    assert m.email == "attistiba@liepaja.lv"
    assert settings.sqlite_synchronous == "FULL"
    assert (
        load_settings(environ={"SQLITE_SYNCHRONOUS": "normal"}, env_file=None).sqlite_synchronous
        == "NORMAL"
    )


def test_outbox_rate_default_and_the_highest_allowed() -> None:
    assert load_settings(environ={}, env_file=None).outbox_rate == 25
    assert load_settings(environ={"OUTBOX_RATE": "30"}, env_file=None).outbox_rate == 30


def test_digest_day_and_time_default_and_set(tmp_path: Path) -> None:
    settings = load_settings(environ={}, env_file=None)
    assert (settings.digest_weekday, settings.digest_time) == (0, time(9, 0))  # Mondays 09:00
    env = tmp_path / ".env"
    env.write_text("DIGEST_WEEKDAY=Friday\nDIGEST_TIME=16:30\n")
    settings = load_settings(environ={}, env_file=env)
    assert (settings.digest_weekday, settings.digest_time) == (4, time(16, 30))


def test_bad_digest_settings_say_what_is_expected(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("DIGEST_TIME=9.00\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"DIGEST_WEEKDAY": "pirmdiena"}, env_file=env)
    assert str(raised.value).splitlines() == [
        "environment: DIGEST_WEEKDAY: expected a day of the week, monday … sunday, got 'pirmdiena'",
        f"{env}: DIGEST_TIME: expected a local time as HH:MM, 00:00 to 23:59, got '9.00'",
    ]


def test_env_file_and_environment(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(f"BOT_TOKEN={TOKEN}\nADMIN_IDS=1, 2\nSTAFF_CHAT_ID=-1001\n")
    settings = load_settings(environ={"ADMIN_IDS": "3"}, env_file=env)
    assert settings.bot_token == TOKEN
    assert settings.admin_ids == frozenset({3})  # the environment wins over the file
    assert settings.staff_chat_id == -1001
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "key"),
    [
        ({"ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
        ({"STAFF_CHAT_ID": "staff"}, "STAFF_CHAT_ID"),
        ({"CONVERSATION_IDLE_DAYS": "0"}, "CONVERSATION_IDLE_DAYS"),
        ({"MESSAGES_PER_MINUTE": "2"}, "MESSAGES_PER_MINUTE"),
        ({"BOT_TOKEN": "not-a-token"}, "BOT_TOKEN"),
        ({"BOT_API_URL": "ftp://x"}, "BOT_API_URL"),
        ({"PROPOSALS_PER_DAY": "0"}, "PROPOSALS_PER_DAY"),
        ({"OUTBOX_RATE": "31"}, "OUTBOX_RATE"),  # above Telegram's 30 messages a second
        ({"OUTBOX_RATE": "0"}, "OUTBOX_RATE"),
        ({"OUTBOX_RATE": "fast"}, "OUTBOX_RATE"),
        ({"STAFF_TOPICS": "unknown:5"}, "STAFF_TOPICS"),
        ({"SQLITE_SYNCHRONOUS": "OFF"}, "SQLITE_SYNCHRONOUS"),
        ({"MUNICIPALITY_FILE": "/nonexistent.toml"}, "MUNICIPALITY_FILE"),
        ({"DIGEST_WEEKDAY": "mon"}, "DIGEST_WEEKDAY"),
        ({"DIGEST_TIME": "24:00"}, "DIGEST_TIME"),
        ({"DIGEST_TIME": "9"}, "DIGEST_TIME"),
    ],
)
def test_bad_values_name_the_key(environ: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ, env_file=None)
    assert raised.value.key == key
    assert "not-a-token" not in str(raised.value)


def test_bad_municipality_file_names_key_and_file(tmp_path: Path) -> None:
    broken = tmp_path / "town.toml"
    text = DEFAULT_MUNICIPALITY_FILE.read_text(encoding="utf-8")
    broken.write_text(text.replace('ru = "Спорт", ', ""), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"MUNICIPALITY_FILE": str(broken)}, env_file=None)
    assert raised.value.key == "themes[3].name.ru"
    assert str(broken) in str(raised.value)


def test_token_is_redacted_from_log_lines() -> None:
    import logging

    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "POST https://api.telegram.org/bot%s/getMe",
        (TOKEN,),
        None,
    )
    RedactSecrets([TOKEN]).filter(record)
    assert TOKEN not in record.getMessage()
    assert "[redacted]" in record.getMessage()


def test_each_key_names_where_its_own_value_came_from(tmp_path: Path) -> None:
    env = tmp_path / "bot.env"
    env.write_text("PROPOSALS_PER_DAY=0\nSTAFF_CHAT_ID=staff\n")
    with pytest.raises(ConfigError) as raised:
        # STAFF_CHAT_ID's bad value in the file is overridden by a good one in the environment.
        load_settings(environ={"ADMIN_IDS": "12,abc", "STAFF_CHAT_ID": "-1001"}, env_file=env)
    lines = str(raised.value).splitlines()
    assert sorted(lines) == sorted(
        [
            "environment: ADMIN_IDS: expected Telegram user ids separated by commas, got 'abc'",
            f"{env}: PROPOSALS_PER_DAY: must be at least 1",
        ]
    )


def test_every_bad_key_is_reported_at_once(tmp_path: Path) -> None:
    environ = {
        "ADMIN_IDS": "12,abc",
        "STAFF_CHAT_ID": "staff",
        "MESSAGES_PER_MINUTE": "1",
        "BOT_TOKEN": "not-a-token",
        "BOT_API_URL": "ftp://x",
        "PROPOSALS_PER_DAY": "0",
        "LOG_LEVEL": "LOUD",
    }
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ, env_file=None)
    assert sorted(raised.value.keys) == sorted(environ)
    assert len(str(raised.value).splitlines()) == len(environ)
    assert "not-a-token" not in str(raised.value)


def test_every_bad_key_of_the_municipality_file_is_reported_at_once(tmp_path: Path) -> None:
    broken = tmp_path / "town.toml"
    text = DEFAULT_MUNICIPALITY_FILE.read_text(encoding="utf-8")
    text = text.replace('ru = "Спорт", ', "").replace('reference_prefix = "LIEP"', "")
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"MUNICIPALITY_FILE": str(broken)}, env_file=None)
    assert raised.value.keys == ["themes[3].name.ru", "municipality.reference_prefix"]
    assert all(line.startswith(f"{broken}: ") for line in str(raised.value).splitlines())


def test_an_env_file_given_explicitly_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "production.env"
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={}, env_file=missing, env_file_required=True)
    assert raised.value.key == "--env-file" and str(missing) in str(raised.value)
    # The default .env stays optional.
    assert load_settings(environ={}, env_file=missing).bot_token is None
