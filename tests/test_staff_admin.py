"""Staff administration: specialists, the staff chat set-up, reading a resident's conversation."""

from __future__ import annotations

from tests.conftest import ADMIN_ID, Harness, t


async def test_admin_adds_and_removes_specialists(tg: Harness) -> None:
    admin = tg.fake.user("Inese", user_id=ADMIN_ID, language_code="en")
    await admin.send("/start")
    await admin.press("✅ English")
    await admin.send("/addstaff")
    assert "/addstaff 123456789" in admin.last_text
    await admin.send("/addstaff 555")
    assert admin.last_text == "555 is now a specialist."
    assert "555" in tg.staff_chat.last_text  # the staff chat sees who changed what
    await admin.send("/addstaff 555")
    assert admin.last_text == "555 is already a specialist."
    await admin.send("/staff")
    assert "1 specialist:" in admin.last_text and "555" in admin.last_text

    specialist = tg.fake.user("Jānis", user_id=555, language_code="en")
    await specialist.send("/staff")
    assert "555" in specialist.last_text
    await specialist.send("/addstaff 777")  # specialists are not admins
    assert specialist.last_text == "This is for the Development Office staff only."
    assert not await tg.store.staff.is_specialist(777)

    await admin.send("/removestaff 555")
    assert admin.last_text == "555 is no longer a specialist."
    await specialist.send("/staff")
    assert specialist.last_text == "This is for the Development Office staff only."


async def test_staff_read_a_residents_whole_conversation(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await anna.send("Labdien! Kur notiek darba grupu sanāksmes?")
    await anna.send_location(56.5086, 21.0118)
    admin = tg.fake.user("Inese", user_id=ADMIN_ID)
    await admin.send(f"/conversation {anna.id}")
    document = admin.last.document
    assert document is not None and document.filename == f"conversation-{anna.id}.txt"
    transcript = document.content.decode("utf-8")
    lines = transcript.splitlines()
    assert "/start" in lines[0] and t("lv", "resident") in lines[0]
    pressed = t("lv", "[pressed a button: {data}]").format(data="lang:lv")
    assert pressed in lines[2]  # /start, the language question, then the press
    assert any("Labdien! Kur notiek darba grupu sanāksmes?" in line for line in lines)
    assert any("[location]" in line for line in lines)
    assert any(t("lv", "What would you like to do?") in line for line in lines)  # the bot's side
    assert "14:00:00" in lines[0]  # Riga time (UTC+2 in January)


async def test_an_admin_adding_the_bot_to_a_group_learns_its_id(tg: Harness) -> None:
    admin = tg.fake.user("Inese", user_id=ADMIN_ID)
    group = tg.fake.group("Jaunā štāba grupa")
    await group.add_bot(by=admin)
    assert f"STAFF_CHAT_ID={group.id}" in group.last_text
    assert tg.fake.calls_to("leaveChat") == []


def test_every_staff_handler_goes_through_the_rights_check() -> None:
    import warnings

    from telegram.ext import ConversationHandler
    from telegram.warnings import PTBUserWarning

    from handlers import (
        announce_desk,
        bookings_desk,
        broadcast_desk,
        meetings_desk,
        meetings_import,
        staff_admin,
        staff_desk,
        stats_desk,
        triage,
    )

    def callbacks(handlers):  # type: ignore[no-untyped-def]
        for handler in handlers:
            if isinstance(handler, ConversationHandler):
                yield from callbacks(handler.entry_points)
                for state in handler.states.values():
                    yield from callbacks(state)
                yield from callbacks(handler.fallbacks)
            else:
                yield handler.callback

    modules = (staff_admin, triage, staff_desk, bookings_desk, broadcast_desk, meetings_desk)
    modules += (meetings_import, stats_desk, announce_desk)
    # Quitting a meeting draft or an announcement is open to anyone: a specialist removed
    # mid-draft is not stuck.
    open_to_all = {"handlers.meetings_desk.quit_draft", "handlers.announce_desk.quit_draft"}
    with warnings.catch_warnings():  # as handlers.register builds them: per chat on purpose
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        unguarded = {
            f"{module.__name__}.{callback.__name__}"
            for module in modules
            for callback in callbacks(module.handlers())
            if not getattr(callback, "checks_rights", False)
        }
    assert unguarded == open_to_all


async def test_staff_help_commands_and_unban(tg: Harness) -> None:
    from tests.test_proposals import submit

    staff_menu = dict(tg.fake.commands_for(scope={"type": "chat", "chat_id": tg.staff_chat.id}))
    assert {"proposals", "export", "staffhelp", "unban"} <= set(staff_menu)
    spammer = await tg.onboarded("Spam", language="English")
    await submit(tg, spammer, "en", "Buy cheap watches at example.com", theme="Economy")
    inese = tg.fake.user("Inese", user_id=ADMIN_ID, language_code="en").in_chat(tg.staff_chat)
    post = tg.staff_chat.messages[0]
    await inese.press(t("lv", "🚫 Spam / ban"), message=post)
    await inese.press(t("lv", "🚫 Yes: spam, and ban the sender"), message=post)
    assert await tg.store.residents.is_banned(spammer.id)
    await inese.send("/staffhelp")
    assert "/unban" in tg.staff_chat.last_text
    await inese.send(f"/unban {spammer.id}")
    assert not await tg.store.residents.is_banned(spammer.id)
    await spammer.press("📝 Submit a proposal")
    assert "Which theme" in spammer.last_text
