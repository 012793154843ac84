"""Onboarding through the fake Telegram: /start, the language, privacy, menu, help, commands."""

from __future__ import annotations

import pytest

from tests.conftest import Harness, t

MENU = "📝 Submit a proposal"


async def test_first_start_asks_language_in_all_three_with_telegrams_guess_ticked(
    tg: Harness,
) -> None:
    boris = tg.resident("Boris", language_code="ru")
    await boris.send("/start")
    question = boris.last
    for language in ("lv", "ru", "en"):
        assert t(language, "Please choose your language") in question.text
    # Telegram's language_code is only a hint: it is offered first and ticked, not imposed.
    assert question.buttons == [["✅ Русский"], ["Latviešu"], ["English"]]
    assert (await tg.store.residents.resident(boris.id)).language is None


@pytest.mark.parametrize(
    ("telegram_code", "label", "language"),
    [("lv", "✅ Latviešu", "lv"), ("ru", "✅ Русский", "ru"), ("en", "✅ English", "en")],
)
async def test_onboarding_in_each_language(
    tg: Harness, telegram_code: str, label: str, language: str
) -> None:
    resident = tg.resident("Resident", language_code=telegram_code)
    await resident.send("/start")
    replies = await resident.press(label)
    texts = "\n".join(m.text or "" for m in replies)
    # Welcome, the short privacy notice and the menu, all in the chosen language.
    assert t(language, "Language: {language}").format(language=label[2:]) in texts
    assert "/privacy" in texts and "24" in texts
    assert "/mydata" in texts and "/forget" in texts
    assert resident.last.buttons[0] == [t(language, MENU)]
    assert (await tg.store.residents.resident(resident.id)).language == language
    # The chat's command menu follows the choice.
    commands = tg.fake.commands_for(scope={"type": "chat", "chat_id": resident.id})
    assert ("propose", t(language, "Submit a proposal")) in commands
    # A second /start goes straight to the menu: no language question, no privacy again.
    replies = await resident.send("/start")
    assert len(replies) == 1 and replies[0].buttons[0] == [t(language, MENU)]


async def test_latvian_is_the_default_when_telegram_gives_another_language(tg: Harness) -> None:
    hans = tg.resident("Hans", language_code="de")
    await hans.send("/start")
    assert hans.buttons()[0] == ["✅ Latviešu"]
    await hans.send("/help")  # before choosing: Latvian, the state language
    assert t("lv", "❓ Help") in [row[0] for row in hans.buttons()]


async def test_language_can_be_changed_later(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await anna.send("/language")
    await anna.press("English")
    assert anna.last.buttons[0] == ["📝 Submit a proposal"]
    assert (await tg.store.residents.resident(anna.id)).language == "en"


async def test_privacy_and_help(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.send("/privacy")
    notice = anna.last_text
    assert "Liepāja City Municipality" in notice and "attistiba@liepaja.lv" in notice
    assert "Telegram" in notice and "24 months" in notice
    assert "/mydata" in notice and "/forget" in notice
    await anna.press("❓ Help")
    assert "/propose" in anna.last_text and "Rožu iela 6, Liepāja, LV-3401" in anna.last_text


async def test_the_menu_offers_only_what_works(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    assert anna.last.buttons == [
        ["📝 Submit a proposal"],
        ["📅 Book a meeting"],
        ["👥 Working-group meetings"],
        ["📂 My submissions and bookings"],
        ["🌐 Language"],
        ["❓ Help"],
    ]
    # An old menu's entry for a flow that is not built is a stale button, answered as such.
    await anna.press_forged("menu:mydata")
    assert anna.last_answer.text == "This button is no longer active."


async def test_commands_are_published_in_every_language(tg: Harness) -> None:
    for language in ("lv", "ru", "en"):
        commands = dict(tg.fake.commands_for(language_code=language))
        assert commands["start"] == t(language, "Main menu")
        assert set(commands) >= {
            "start",
            "propose",
            "mine",
            "language",
            "privacy",
            "help",
            "cancel",
        }
    assert dict(tg.fake.commands_for()) == dict(tg.fake.commands_for(language_code="lv"))


async def test_deep_link_waits_for_the_language_then_offers_the_theme(tg: Harness) -> None:
    anna = tg.resident("Anna", language_code="en")
    await anna.send("/start mobility")
    await anna.press("✅ English")
    assert "Mobility" in anna.last_text
    await anna.press("📝 Submit a proposal on this theme")
    assert "Theme: Mobility" in anna.last_text


async def test_every_message_in_and_out_is_logged(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.send("hello there")
    log = await tg.store.messages.conversation_with(anna.id)
    inbound = [(m.kind, m.text or m.details.get("data")) for m in log if m.direction == "in"]
    assert inbound[:3] == [("command", "/start"), ("callback", "lang:en"), ("text", "hello there")]
    outbound = [m for m in log if m.direction == "out"]
    assert len(outbound) == len([m for m in anna.all_messages if m.from_bot]) + sum(
        len(m.edits) for m in anna.all_messages
    )
    assert outbound[-1].details["buttons"][0] == ["📝 Submit a proposal"]
