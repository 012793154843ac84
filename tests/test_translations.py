"""The catalogs: complete, not fuzzy, placeholders intact, and the .pot in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import bot
import handlers
from bot.config import LANGUAGES
from bot.i18n import LOCALES_DIR, negotiate, translator

# The catalogs and the code the bot runs with: the checkout's, or the installed wheel's in CI.
LOCALES = LOCALES_DIR
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def catalog(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def template():
    with (LOCALES / "messages.pot").open("rb") as pot:
        return read_po(pot)


def code_msgids() -> set[str]:
    found: set[str] = set()
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    for package in (bot, handlers):
        for _file, _line, message, _comments, _context in extract_from_dir(
            Path(package.__file__).parent,
            method_map=[("**.py", "python")],
            keywords=keywords,
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_pot_is_up_to_date_with_the_code() -> None:
    in_pot = {m.id[0] if isinstance(m.id, tuple) else m.id for m in template() if m.id}
    in_code = code_msgids()
    assert in_code - in_pot == set(), "run the pybabel extract/update commands in the README"
    assert in_pot - in_code == set(), "the .pot has strings the code no longer uses"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_is_complete_and_consistent(language: str) -> None:
    po = catalog(language)
    pot_ids = {m.id for m in template() if m.id}
    assert {m.id for m in po if m.id} == pot_ids, "run pybabel update (see the README)"
    problems = []
    for message in po:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if string and set(PLACEHOLDER.findall(string)) != expected:
                problems.append(f"placeholders differ: {ids[0]!r} -> {string!r}")
    assert problems == []


def test_plural_forms_follow_babel() -> None:
    assert catalog("lv").num_plurals == 3
    assert catalog("ru").num_plurals == 3
    lv = translator("lv", None)  # type: ignore[arg-type]
    forms = {
        n: lv.ngettext("{n} open proposal.", "{n} open proposals.", n) for n in (0, 1, 2, 11, 21)
    }
    # Latvian: 0 and 11 take the "zero" form, 1 and 21 the singular, 2 the plural.
    assert forms[0] == forms[11]
    assert forms[1] == forms[21]
    assert len({forms[0], forms[1], forms[2]}) == 3


@pytest.mark.parametrize(
    ("telegram", "ours"),
    [
        ("lv", "lv"),
        ("ru", "ru"),
        ("en-GB", "en"),
        ("en", "en"),
        ("de", "lv"),
        (None, "lv"),
        ("ru-RU", "ru"),
    ],
)
def test_language_negotiation(telegram: str | None, ours: str) -> None:
    assert negotiate(telegram) == ours


def test_po_files_only_for_our_languages() -> None:
    folders = [p.name for p in LOCALES.iterdir() if p.is_dir() and p.name != "__pycache__"]
    assert sorted(folders) == sorted(LANGUAGES)
