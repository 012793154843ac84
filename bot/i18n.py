"""Languages: gettext catalogs for lv (default, the state language), ru and en; Babel formats.

The `.po` files in `locales/` (installed as `bot.locales`) are the source of truth. They are
compiled in memory when the bot starts, so a fresh clone needs no build step and a stale `.mo`
file can never be served.
The locale is resolved once per update (stored choice → Telegram's language_code → Latvian) and
carried in the context as a `Translator`; nothing is set globally.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, negotiate_locale
from babel.dates import format_skeleton, format_time, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.config import LANGUAGES, package_folder

LOCALES_DIR = package_folder("bot.locales")
DOMAIN = "messages"
DEFAULT_LANGUAGE = "lv"
# The staff chat is shared by the office: its posts and buttons are in the state language.
STAFF_LANGUAGE = DEFAULT_LANGUAGE

# Shown on the language buttons in the language itself, never translated.
LANGUAGE_NAMES = {"lv": "Latviešu", "ru": "Русский", "en": "English"}


def negotiate(telegram_language: str | None) -> str:
    """Our language closest to Telegram's language_code; Latvian when nothing matches."""
    if not telegram_language:
        return DEFAULT_LANGUAGE
    found = negotiate_locale([telegram_language.replace("-", "_")], list(LANGUAGES), sep="_")
    if found is None:
        found = negotiate_locale([telegram_language.split("-")[0]], list(LANGUAGES))
    return found or DEFAULT_LANGUAGE


@cache
def catalog(language: str, locales_dir: Path = LOCALES_DIR) -> Translations:
    """The compiled catalog of one language (compiled from its .po file on first use)."""
    po_path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_path.open("rb") as po_file:
        po = read_po(po_file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, po, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@dataclass(frozen=True)
class Translator:
    """Texts, numbers and dates in one language and time zone."""

    language: str
    timezone: ZoneInfo

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def gettext(self, message: str) -> str:
        return catalog(self.language).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return catalog(self.language).ngettext(singular, plural, n)

    def datetime(
        self, moment: dt.datetime, date_skeleton: str = "yMMMd", time: str = "short"
    ) -> str:
        """A date and time in the municipality's zone: '2027. g. 12. janv., 14:00'."""
        if moment.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        day = format_skeleton(date_skeleton, moment, tzinfo=self.timezone, locale=self.locale)
        return f"{day}, {format_time(moment, time, tzinfo=self.timezone, locale=self.locale)}"

    def date(self, day: dt.date | dt.datetime, skeleton: str = "yMMMMEd") -> str:
        if isinstance(day, dt.datetime):
            day = day.astimezone(self.timezone).date()
        return format_skeleton(skeleton, day, locale=self.locale)

    def duration(self, length: dt.timedelta) -> str:
        """A length of time as people say it, rounded to its largest unit: '6 minūtes',
        '34 секунды', '1 hour'."""
        return format_timedelta(length, locale=self.locale)


def translator(language: str | None, timezone: ZoneInfo) -> Translator:
    return Translator(language if language in LANGUAGES else DEFAULT_LANGUAGE, timezone)


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined; it is translated where it is shown."""
    return message
