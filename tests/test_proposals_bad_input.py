"""Proposals: each bad input gets a clear answer in the resident's language, nothing lost."""

from __future__ import annotations

from tests.conftest import ADMIN_ID, STAFF_CHAT_ID, Harness, make_settings, start_app, t
from tests.test_proposals import submit

TEXT = "Нужно больше скамеек на Приморском бульваре."


async def start_in_russian(tg: Harness):
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await boris.press(t("ru", "📝 Submit a proposal"))
    await boris.press("Окружающая среда")
    await boris.send(TEXT)
    return boris


async def test_invalid_email_is_refused_in_russian_and_the_draft_kept(tg: Harness) -> None:
    boris = await start_in_russian(tg)
    await boris.press(t("ru", "➡️ Continue"))
    await boris.send("boris at example")
    assert boris.last_text == t(
        "ru",
        "“{text}” does not look like an e-mail address. Please check it, share your "
        "phone number with the button, or press Skip.",
    ).format(text="boris at example")
    draft = await tg.store.drafts.draft_of(boris.id)
    assert draft.email is None and draft.text == TEXT
    await boris.send("Boris.Petrov@Example.LV")
    await boris.press(t("ru", "Yes, contact me"))
    assert "Boris.Petrov@example.lv" in boris.last_text  # the domain is normalised


async def test_someone_elses_contact_is_not_taken(tg: Harness) -> None:
    boris = await start_in_russian(tg)
    await boris.press(t("ru", "➡️ Continue"))
    await boris.send_contact(phone_number="+37129999999", user_id=123, first_name="Other")
    assert t(
        "ru", "Please share your own number with the button, or type your e-mail address."
    ) in (boris.last_text)
    assert (await tg.store.drafts.draft_of(boris.id)).phone is None


async def test_at_most_ten_attachments(tg: Harness) -> None:
    boris = await start_in_russian(tg)
    for _ in range(10):
        await boris.send_photo()
    await boris.send_document("plan.pdf", b"%PDF-1.4", mime_type="application/pdf")
    assert "10" in boris.last_text
    assert len((await tg.store.drafts.draft_of(boris.id)).attachments) == 10


async def test_a_second_press_on_submit_does_not_submit_twice(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.press("📝 Submit a proposal")
    await anna.press("Culture")
    await anna.send("An open-air cinema in Jūrmalas parks.")
    await anna.press("➡️ Continue")
    await anna.tap("Skip")
    preview = anna.last
    await anna.press("✅ Submit", message=preview)
    preview.reply_markup = {
        "inline_keyboard": [[{"text": "✅ Submit", "callback_data": "prop:submit"}]]
    }
    await anna.press("✅ Submit", message=preview)  # an impatient double tap
    assert await tg.store.proposals.count_proposals_of(anna.id) == 1


async def test_edit_text_in_the_preview(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.press("📝 Submit a proposal")
    await anna.press("Culture")
    await anna.send("First version of the idea.")
    await anna.press("➡️ Continue")
    await anna.tap("Skip")
    await anna.press("✏️ Edit the text")
    await anna.send("short")
    assert "at least 10" in anna.last_text
    await anna.send("Second, better version of the idea.")
    assert "Second, better version" in anna.last_text
    await anna.press("✅ Submit")
    [proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=1)
    assert proposal.text == "Second, better version of the idea."


async def test_cancel_works_in_every_state(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    steps = [
        lambda: anna.press("📝 Submit a proposal"),  # → choosing a theme
        lambda: anna.press("Culture"),  # → writing the text
        lambda: anna.send("A text long enough to pass."),  # → attachments
        lambda: anna.press("➡️ Continue"),  # → contact
        lambda: anna.send("anna@example.lv"),  # → consent
        lambda: anna.press("No"),  # → preview
    ]
    for reached in range(1, len(steps) + 1):
        for step in steps[:reached]:
            await step()
        await anna.send("/cancel")
        assert any(m.text == "Cancelled. Nothing was sent." for m in anna.messages[-2:])
        assert anna.last.buttons[0] == ["📝 Submit a proposal"]
        assert await tg.store.drafts.draft_of(anna.id) is None
    assert await tg.store.proposals.count_proposals_of(anna.id) == 0


async def test_a_follow_up_that_is_too_long_is_refused_and_can_be_retried(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", "Free public Wi-Fi at the tram stops.", theme="Economy")
    await anna.send("/mine")
    await anna.press("LIEP-2027-0001 · Economy")
    await anna.press("💬 Add a message")
    await anna.send_sticker()
    assert "Please write your message as text." in anna.last_text
    await anna.send("x" * 4001)
    assert "1 to 4000 characters; yours has 4001" in anna.last_text
    await anna.send("Especially at Rožu laukums.")
    assert (await tg.store.proposals.thread_of(1))[0].text == "Especially at Rožu laukums."


async def test_answer_to_a_resident_who_blocked_the_bot_is_kept(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", "Please repair the pier at the north breakwater.", theme="Safety")
    await anna.block_bot()
    inese = tg.fake.user("Inese", user_id=ADMIN_ID).in_chat(tg.staff_chat)
    post = tg.staff_chat.messages[0]
    await inese.reply_to(post, "We have asked the port authority.")
    assert tg.staff_chat.last_text.startswith("⚠️")
    assert [m.text for m in await tg.store.proposals.thread_of(1)] == [
        "We have asked the port authority."
    ]


async def test_proposals_go_to_their_themes_forum_topic(tmp_path, clock) -> None:
    from fake_telegram import FakeTelegram

    fake = FakeTelegram(clock=clock)
    staff = fake.group("Staff", chat_id=STAFF_CHAT_ID, forum=True)
    app = await start_app(fake, make_settings(tmp_path, STAFF_TOPICS="mobility:77"), clock)
    try:
        anna = fake.user("Anna", language_code="en")
        await anna.send("/start")
        await anna.press("✅ English")
        await submit(None, anna, "en", "Bus lanes on Jaunā ostmala.", theme="Mobility")  # type: ignore[arg-type]
        await submit(None, anna, "en", "A new school sports ground.", theme="Sport")  # type: ignore[arg-type]
        posts = [m for m in staff.messages if m.text and "LIEP-" in m.text]
        assert [(m.text.split(" ")[1], m.message_thread_id) for m in posts] == [
            ("LIEP-2027-0001", 77),
            ("LIEP-2027-0002", None),
        ]
    finally:
        await app.shutdown()


async def test_unknown_theme_in_a_deep_link_just_opens_the_menu(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.send("/start nosuchtheme")
    assert anna.last.buttons[0] == ["📝 Submit a proposal"]
    assert await tg.store.drafts.draft_of(anna.id) is None


async def test_staff_commands_are_refused_to_residents(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    for command in ("/export", "/proposals", "/templates", "/conversation 1", "/addstaff 5"):
        await anna.send(command)
        assert anna.last_text == "This is for the Development Office staff only."
    assert [d for m in anna.messages if (d := m.document)] == []


async def test_a_long_follow_up_reaches_the_staff_chat_whole(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", "Longer opening hours for the library.", theme="Culture")
    await anna.send("/mine")
    await anna.press("LIEP-2027-0001 · Culture")
    await anna.press("💬 Add a message")
    follow_up = ("Paragraph about reading rooms. " * 129).strip()  # 3998 characters
    await anna.send(follow_up)
    parts = [m.text for m in tg.staff_chat.messages if m.text and "Paragraph" in m.text]
    assert all(len(p) <= 4096 for p in parts)
    assert " ".join(parts).count("Paragraph about reading rooms.") == 129  # nothing cut off
