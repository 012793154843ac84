"""The test harness: the real bot Application, talking to the offline fake Telegram.

`tg` gives a running bot on a fresh database; `tg.resident(...)`, `tg.staff_chat` and
`tg.specialist` are people who chat with it. Time comes from `tg.clock`, never the wall clock.
"""

from __future__ import annotations

import os

# As bot/__init__.py does: PTB's durations as timedelta (before any test module imports telegram).
os.environ.setdefault("PTB_TIMEDELTA", "true")

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram.request import BaseRequest

from bot.app import BotApplication
from bot.config import Settings, load_settings
from fake_telegram import FakeGroup, FakeTelegram, FakeTelegramRequest, FakeUser
from liepaja_bot.assembly import build_application

STAFF_CHAT_ID = -1001234567890
ADMIN_ID = 900001


class FakeClock:
    """A clock that moves only when a test says so."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    async def sleep(self, seconds: float) -> None:
        """What the bot's outbox and scheduler "sleep" on: time passes at once."""
        self.now += timedelta(seconds=seconds)


@dataclass
class Harness:
    fake: FakeTelegram
    settings: Settings
    clock: FakeClock
    app: BotApplication

    @property
    def store(self):
        return self.app.store

    def resident(self, name: str = "Anna", *, language_code: str | None = "lv", **kw) -> FakeUser:
        return self.fake.user(name, language_code=language_code, **kw)

    async def onboarded(self, name: str = "Anna", *, language: str = "Latviešu", **kw) -> FakeUser:
        """A resident who has sent /start and chosen a language."""
        user = self.resident(name, **kw)
        await user.send("/start")
        await user.press(_label_of(user, language))
        return user

    @property
    def staff_chat(self) -> FakeGroup:
        return self._staff_chat

    async def crash_and_restart(self) -> None:
        """Abandons the running Application without a clean shutdown (as `kill -9` would: no
        final persistence write) and starts a new one on the same database file. Telegram then
        sends again what the dead one never confirmed."""
        await self.app.store.close()  # only so the test process can exit; nothing is flushed
        self.app = await start_app(self.fake, self.settings, self.clock)
        await self.fake.resend_undelivered()


def _label_of(user: FakeUser, language: str) -> str:
    """The language button's label, ticked or not (the tick follows Telegram's language)."""
    labels = [label for row in user.buttons() for label in row]
    return next(label for label in labels if label in (language, f"✅ {language}"))


def bot_on(
    fake: FakeTelegram,
    settings: Settings,
    clock: FakeClock,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> BotApplication:
    """The bot on `settings`' database, talking to `fake` (through `request` and
    `get_updates_request` if given: tests wrap the transport to watch or break it), not yet
    initialized."""
    return build_application(
        settings,
        request=request or FakeTelegramRequest(fake),
        get_updates_request=get_updates_request or FakeTelegramRequest(fake),
        clock=clock,
        token=fake.token,
        rate_limit=False,  # PTB's rate limiter really sleeps; the fake does not need it
        background=False,  # no loops: each delivery settles the outbox and the schedule
        sleep=clock.sleep,
    )


async def start_app(
    fake: FakeTelegram,
    settings: Settings,
    clock: FakeClock,
    *,
    request: BaseRequest | None = None,
) -> BotApplication:
    """The bot of `bot_on`, started, with the fake delivering updates straight to it."""
    app = bot_on(fake, settings, clock, request=request)
    try:
        await app.initialize()
    except BaseException:
        await app.store.close()  # died starting (a test's kill): only so the test can exit
        raise
    assert app.post_init is not None
    await app.post_init(app)
    fake.deliver_to(app)
    handle = fake.deliver

    async def deliver_and_settle(update: dict[str, object]) -> None:
        # As a person sees it: the reply, and then whatever the bot sends on its own.
        await handle(update)
        await app.settle()

    fake.deliver = deliver_and_settle
    await app.settle()
    return app


def make_settings(tmp_path: Path, **overrides: str) -> Settings:
    environ = {
        "DATABASE": str(tmp_path / "bot.sqlite3"),
        "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
        "ADMIN_IDS": str(ADMIN_ID),
        **overrides,
    }
    return load_settings(environ=environ, env_file=None)


@pytest.fixture
def clock() -> FakeClock:
    # A Tuesday in January 2027, 14:00 in Riga.
    return FakeClock(datetime(2027, 1, 12, 12, 0, tzinfo=UTC))


@pytest.fixture
async def tg(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    fake = FakeTelegram(clock=clock, bot_username="liepaja_test_bot")
    settings = make_settings(tmp_path)
    app = await start_app(fake, settings, clock)
    harness = Harness(fake=fake, settings=settings, clock=clock, app=app)
    harness._staff_chat = fake.group("Attīstības pārvalde", chat_id=STAFF_CHAT_ID, forum=False)  # type: ignore[attr-defined]
    try:
        yield harness
    finally:
        await harness.app.shutdown()


def t(language: str, message: str) -> str:
    """What a person reading `language` sees for a msgid: tests press buttons by these labels."""
    from zoneinfo import ZoneInfo

    from bot.i18n import translator

    return translator(language, ZoneInfo("Europe/Riga")).gettext(message)


def tn(language: str, singular: str, plural: str, n: int) -> str:
    """`t` for a message whose form depends on a number `n`."""
    from zoneinfo import ZoneInfo

    from bot.i18n import translator

    return translator(language, ZoneInfo("Europe/Riga")).ngettext(singular, plural, n)


def send_to_subscribers(n: int, language: str = "lv") -> str:
    """The broadcast offer's Send button (the staff chat reads Latvian)."""
    return tn(language, "📣 Send to {n} subscriber", "📣 Send to {n} subscribers", n).format(n=n)
