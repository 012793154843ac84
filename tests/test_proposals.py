"""Proposals end to end: a resident submits, staff triage and answer, the resident follows it."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fake_telegram import FakeUser
from tests.conftest import ADMIN_ID, Harness, t

TEXT = {
    "lv": 'Lūdzu, izveidojiet veloceliņu gar Graudu ielu līdz jūrai! 🚲 <ne tags> & "pēdiņas"',
    "ru": 'Предлагаю сделать велодорожку по улице Грауду до моря! 🚲 <не тег> & "кавычки"',
}
LANGUAGE_LABEL = {"lv": "Latviešu", "ru": "Русский"}
MOBILITY = {"lv": "Mobilitāte", "ru": "Мобильность"}


async def submit(tg: Harness, user: FakeUser, language: str, text: str, *, theme: str) -> str:
    """Submits a proposal without attachments or contact; returns the confirmation text."""
    await user.press(t(language, "📝 Submit a proposal"))
    await user.press(theme)
    await user.send(text)
    await user.press(t(language, "➡️ Continue"))
    await user.tap(t(language, "Skip"))
    await user.press(t(language, "✅ Submit"))
    return user.last_text


def specialist(tg: Harness) -> FakeUser:
    """An admin of the Development Office, acting in the staff chat (Latvian)."""
    return tg.fake.user("Inese", user_id=ADMIN_ID, language_code="lv").in_chat(tg.staff_chat)


@pytest.mark.parametrize("language", ["lv", "ru"])
async def test_submit_triage_answer_follow_up(tg: Harness, language: str) -> None:
    resident = await tg.onboarded("Anna", language=LANGUAGE_LABEL[language], language_code=language)
    _ = lambda message: t(language, message)  # noqa: E731 — what this resident reads

    # Resident: theme (leader shown) → text → a photo → phone → consent → preview → submit.
    await resident.press(_("📝 Submit a proposal"))
    assert "Didzis Jēriņš" in resident.last_text
    await resident.press(MOBILITY[language])
    await resident.send(TEXT[language])
    await resident.send_photo()
    await resident.press(_("➡️ Continue"))
    await resident.tap(_("📱 Share my phone number"))
    await resident.press(_("Yes, contact me"))
    assert TEXT[language] in resident.last_text  # markup characters shown as typed
    assert resident.last.buttons[0] == [_("✅ Submit")]
    await resident.press(_("✅ Submit"))
    assert "LIEP-2027-0001" in resident.last_text

    # The store had it before the resident saw the reference.
    [proposal] = await tg.store.proposals.proposals_of(resident.id, offset=0, limit=5)
    assert (proposal.reference, proposal.text, proposal.language) == (
        "LIEP-2027-0001",
        TEXT[language],
        language,
    )
    assert proposal.phone == resident.phone_number and proposal.wants_contact
    [photo] = await tg.store.proposals.attachments_of(proposal.id)
    assert photo.kind == "photo" and photo.file_id
    assert await tg.store.drafts.draft_of(resident.id) is None

    # Staff chat: the post with the text and contact, the photo as a reply.
    post = next(m for m in tg.staff_chat.messages if m.text and "LIEP-2027-0001" in m.text)
    assert TEXT[language] in post.text and resident.phone_number in post.text
    assert post.buttons[0] == [t("lv", "💬 Answer"), t("lv", "🔄 Status")]
    assert any(m.photo and m.reply_to_message_id == post.message_id for m in tg.staff_chat.messages)

    # Staff change the status; the resident is told in their language.
    inese = specialist(tg)
    await inese.press(t("lv", "🔄 Status"), message=post)
    await inese.press(t("lv", "Forwarded to the working group"), message=post)
    assert (await tg.store.proposals.proposal(proposal.id)).status == "forwarded"
    history = await tg.store.proposals.status_history_of(proposal.id)
    assert [(h.status, h.changed_by) for h in history] == [
        ("received", resident.id),
        ("forwarded", ADMIN_ID),
    ]
    assert _("Forwarded to the working group") in resident.last_text
    assert "LIEP-2027-0001" in resident.last_text

    # Staff answer by replying to the post; the resident gets it as written.
    answer = "Paldies! Jūsu priekšlikums nodots darba grupai. <b>nav HTML</b>"
    await inese.reply_to(post, answer)
    assert resident.last_text.endswith(answer)
    assert "✅" in tg.staff_chat.last_text

    # My submissions: the proposal with its status and the answer.
    await resident.send("/mine")
    await resident.press(f"LIEP-2027-0001 · {MOBILITY[language]}")
    assert answer in resident.last_text
    assert _("Forwarded to the working group") in resident.last_text

    # A follow-up reaches the staff chat as a reply to the post.
    await resident.press(_("💬 Add a message"))
    await resident.send("Vēl viena doma / ещё одна мысль")
    follow_up = tg.staff_chat.last
    assert "Vēl viena doma" in follow_up.text
    assert follow_up.reply_to_message_id == post.message_id
    thread = await tg.store.proposals.thread_of(proposal.id)
    assert [(m.author, m.text) for m in thread] == [
        ("staff", answer),
        ("resident", "Vēl viena doma / ещё одна мысль"),
    ]
    # Staff can answer the follow-up by replying to it, too.
    await inese.reply_to(follow_up, "Labi, pievienots.")
    assert resident.last_text.endswith("Labi, pievienots.")


async def test_withdrawal(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await submit(tg, anna, "lv", "Vairāk atkritumu urnu pludmalē, lūdzu.", theme="Vide")
    await anna.send("/mine")
    await anna.press("LIEP-2027-0001 · Vide")
    await anna.press(t("lv", "↩️ Withdraw"))
    await anna.press(t("lv", "Yes, withdraw {reference}").format(reference="LIEP-2027-0001"))
    [proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=1)
    assert proposal.status == "withdrawn"
    assert "LIEP-2027-0001" in tg.staff_chat.last_text
    # Closed: no more follow-ups or withdrawal buttons.
    await anna.send("/mine")
    await anna.press("LIEP-2027-0001 · Vide")
    assert anna.last.buttons == [[t("lv", "◀️ My submissions")]]


async def test_not_included_needs_a_reason_the_resident_sees(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await submit(tg, anna, "lv", "Uzbūvējiet kalnu pilsētas centrā.", theme="Sports")
    inese = specialist(tg)
    post = tg.staff_chat.messages[0]
    await inese.press(t("lv", "🔄 Status"), message=post)
    await inese.press(t("lv", "Not included in the programme"), message=post)
    prompt = tg.staff_chat.last
    assert prompt.text.startswith("✍️")
    await inese.reply_to(prompt, "Pilsētas budžetā tam nav līdzekļu.")
    [proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=1)
    assert proposal.status == "not_included"
    assert "Pilsētas budžetā tam nav līdzekļu." in anna.last_text
    assert [h.reason for h in await tg.store.proposals.status_history_of(proposal.id)][-1] == (
        "Pilsētas budžetā tam nav līdzekļu."
    )
    # The card in the staff chat shows it, and being closed, has no buttons left.
    assert t("lv", "Not included in the programme") in post.text
    assert post.buttons == []


async def test_two_specialists_at_once_do_not_overwrite_each_other(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await submit(tg, anna, "lv", "Apgaismojums Jūrmalas parkā naktī.", theme="Drošība")
    admin = tg.fake.user("Inese", user_id=ADMIN_ID)
    await admin.send("/addstaff 900002")
    inese = admin.in_chat(tg.staff_chat)
    janis = tg.fake.user("Jānis", user_id=900002).in_chat(tg.staff_chat)
    post = tg.staff_chat.messages[0]
    # Both open the status choices on the same version of the proposal…
    await inese.press(t("lv", "🔄 Status"), message=post)
    stale_keyboard = post.reply_markup
    await inese.press(t("lv", "In review"), message=post)
    # …Jānis presses on what he saw before Inese's change reached him.
    post.reply_markup = stale_keyboard
    await janis.press(t("lv", "Included in the programme"), message=post)
    # He is told, with what it is now, instead of overwriting Inese's change.
    assert janis.last_answer.show_alert
    assert t("lv", "In review") in janis.last_answer.text
    assert (await tg.store.proposals.proposal(1)).status == "in_review"
    assert [h.status for h in await tg.store.proposals.status_history_of(1)] == [
        "received",
        "in_review",
    ]


async def test_rights_are_checked_when_the_action_happens(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await submit(tg, anna, "lv", "Vairāk bērnu laukumu Karostā.", theme="Izglītība")
    admin = tg.fake.user("Inese", user_id=ADMIN_ID)
    await admin.send("/addstaff 900003")
    peteris = tg.fake.user("Pēteris", user_id=900003).in_chat(tg.staff_chat)
    post = tg.staff_chat.messages[0]
    await peteris.press(t("lv", "🔄 Status"), message=post)  # allowed while a specialist
    await admin.send("/removestaff 900003")
    await peteris.press(t("lv", "In review"), message=post)
    assert peteris.last_answer.text == t("lv", "This is for the Development Office staff only.")
    assert (await tg.store.proposals.proposal(1)).status == "received"
    # A random member of the staff chat cannot answer by replying either.
    await peteris.reply_to(post, "Es arī gribu atbildēt")
    assert not any("Es arī gribu" in (m.text or "") for m in anna.messages)


async def test_spam_bans_the_sender(tg: Harness) -> None:
    spammer = await tg.onboarded("Spam", language="Latviešu")
    await submit(tg, spammer, "lv", "Pērciet lētus pulksteņus www.example.com", theme="Ekonomika")
    inese = specialist(tg)
    post = tg.staff_chat.messages[0]
    await inese.press(t("lv", "🚫 Spam / ban"), message=post)
    await inese.press(t("lv", "🚫 Yes: spam, and ban the sender"), message=post)
    assert (await tg.store.proposals.proposal(1)).status == "spam"
    await spammer.press(t("lv", "📝 Submit a proposal"))
    assert "attistiba@liepaja.lv" in spammer.last_text
    assert spammer.last.buttons == []


async def test_daily_cap(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    for n in range(5):
        assert f"LIEP-2027-000{n + 1}" in await submit(
            tg, anna, "en", f"Proposal number {n} about parks.", theme="Environment"
        )
    await anna.press("📝 Submit a proposal")
    assert "You have sent 5 proposals today" in anna.last_text
    tg.clock.advance(days=1)
    await anna.press("📝 Submit a proposal")
    assert "Which theme" in anna.last_text


async def test_answer_templates_and_paged_staff_list(tg: Harness) -> None:
    residents = [await tg.onboarded(f"R{i}", language="English") for i in range(3)]
    for i in range(9):
        await submit(
            tg, residents[i % 3], "en", f"Idea {i}: more trees on street {i}.", theme="Environment"
        )
    admin = tg.fake.user("Inese", user_id=ADMIN_ID)
    await admin.send("/addtemplate Thanks | Thank you, we have passed it to the working group.")
    await admin.send("/proposals")
    await admin.press(t("lv", "All open ({n})").format(n=9))
    assert len(admin.last.buttons) == 9  # 8 proposals and the paging row
    await admin.press(t("lv", "Next ▶️"))
    assert admin.last.buttons[0] == ["LIEP-2027-0009 · " + t("lv", "Received")]
    await admin.press("LIEP-2027-0009 · " + t("lv", "Received"))
    assert "Idea 8" in admin.last_text
    await admin.press(t("lv", "💬 Answer"))
    await admin.press("Thanks")
    assert residents[2].last_text.endswith("Thank you, we have passed it to the working group.")


async def test_export_as_xlsx_and_csv(tg: Harness, tmp_path: Path) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await anna.press(t("lv", "📝 Submit a proposal"))
    await anna.press("Kultūra")
    await anna.send('=HYPERLINK("http://x") — vairāk koncertu Rožu laukumā')
    await anna.press(t("lv", "➡️ Continue"))
    await anna.send("anna@example.lv")
    await anna.press(t("lv", "No"))  # no consent: the e-mail must not be exported
    await anna.press(t("lv", "✅ Submit"))
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await boris.press(t("ru", "📝 Submit a proposal"))
    await boris.press("Спорт")
    await boris.send("Нужен новый бассейн для детей.")
    await boris.press(t("ru", "➡️ Continue"))
    await boris.send("boris@example.lv")
    await boris.press(t("ru", "Yes, contact me"))
    await boris.press(t("ru", "✅ Submit"))
    tg.fake.user("Inese", user_id=ADMIN_ID).in_chat(tg.staff_chat)
    await specialist(tg).send("/export")
    documents = [m.document for m in tg.staff_chat.messages if m.document]
    xlsx = next(d for d in documents if d.filename.endswith(".xlsx"))
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("Atsauce", "Tēma", "Iesniegts", "Statuss")
    assert [r[0] for r in rows[1:]] == ["LIEP-2027-0001", "LIEP-2027-0002"]
    assert rows[1][6].startswith("=HYPERLINK") and rows[1][12] in (None, "")
    assert rows[2][1] == "Sports" and rows[2][12] == "boris@example.lv"
    csv_doc = next(d for d in documents if d.filename.endswith(".csv"))
    csv_text = csv_doc.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "anna@example.lv" not in csv_text

    # The same from the command line, in its own process, beside the running bot (WAL).
    output = tmp_path / "proposals.xlsx"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "liepaja_bot",
        "--env-file",
        os.devnull,
        "export",
        "proposals",
        "--format",
        "xlsx",
        "-o",
        str(output),
        env={**os.environ, "DATABASE": str(tg.settings.database)},
        stdout=asyncio.subprocess.PIPE,
    )
    assert await process.wait() == 0
    rows = list(load_workbook(output).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["LIEP-2027-0001", "LIEP-2027-0002"]


async def test_a_withdrawn_proposal_can_no_longer_be_triaged(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="Latviešu")
    await submit(tg, anna, "lv", "Skvērs pie Svētās Annas baznīcas.", theme="Kultūra")
    post = tg.staff_chat.messages[0]
    inese = specialist(tg)
    await inese.press(t("lv", "🔄 Status"), message=post)  # a specialist opens the choices…
    stale = post.reply_markup
    await anna.send("/mine")
    await anna.press("LIEP-2027-0001 · Kultūra")
    await anna.press(t("lv", "↩️ Withdraw"))
    await anna.press(t("lv", "Yes, withdraw {reference}").format(reference="LIEP-2027-0001"))
    assert post.buttons == []  # the post in the staff chat lost its buttons
    post.reply_markup = stale  # …and presses on what they still had on screen
    await inese.press(t("lv", "Included in the programme"), message=post)
    assert inese.last_answer.show_alert
    assert (await tg.store.proposals.proposal(1)).status == "withdrawn"


async def test_replying_to_any_bot_message_naming_a_proposal_answers_it(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", "A dog park in Ezerkrasts.", theme="Environment")
    inese = specialist(tg)
    await inese.reply_to(tg.staff_chat.messages[0], "First answer.")
    confirmation = tg.staff_chat.last  # "✅ Answer to LIEP-2027-0001 sent …"
    await inese.reply_to(confirmation, "And a second one.")
    assert anna.last_text.endswith("And a second one.")


async def test_staff_list_by_status_and_answer_through_the_prompt(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    for i in range(3):
        await submit(tg, anna, "en", f"Idea {i}: a bench at the tram stop {i}.", theme="Mobility")
    admin = tg.fake.user("Inese", user_id=ADMIN_ID)  # in a private chat with the bot
    await admin.send("/proposals")
    await admin.press(t("lv", "All open ({n})").format(n=3))
    await admin.press("LIEP-2027-0002 · " + t("lv", "Received"))
    await admin.press(t("lv", "🔄 Status"))
    await admin.press(t("lv", "In review"))
    await admin.send("/proposals")
    assert [t("lv", "In review") + " (1)"] in admin.last.buttons
    assert ["Mobilitāte (3)"] in admin.last.buttons  # theme names in the specialist's language
    await admin.press(t("lv", "In review") + " (1)")
    assert admin.last.buttons == [["LIEP-2027-0002 · " + t("lv", "In review")]]

    await admin.press("LIEP-2027-0002 · " + t("lv", "In review"))
    await admin.press(t("lv", "💬 Answer"))
    prompt = admin.last
    assert prompt.text.startswith("✍️") and "LIEP-2027-0002" in prompt.text
    await admin.reply_to(prompt, "We will look at the tram stops in spring.")
    assert anna.last_text.endswith("We will look at the tram stops in spring.")
    assert "LIEP-2027-0002" in anna.last_text


async def test_what_the_outbox_sends_is_logged_with_its_settling(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English", language_code="en")
    await submit(tg, anna, "en", TEXT["lv"], theme="Mobility")
    posted = [m for m in tg.staff_chat.messages if m.from_bot]
    logged = [
        m
        for m in await tg.store.messages.conversation_with(tg.staff_chat.id)
        if m.direction == "out"
    ]
    assert len(logged) == len(posted) == 1
    assert logged[0].message_id == posted[0].message_id and "LIEP-2027-0001" in logged[0].text
    assert set((await tg.store.outbox.counts()).keys()) == {"sent"}
