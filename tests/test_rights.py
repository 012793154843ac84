"""Rights and bad input, tried as a hostile resident and a hostile member of the staff chat
would: which proposal a staff message belongs to comes from the store, buttons are parsed with
bounds and answered, residents' buttons do nothing in the staff chat."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.i18n import translator
from tests.conftest import Harness, t
from tests.test_proposals import specialist, submit

IDEA = "Jūrmalas parkā vajag vairāk soliņu un dzeramā ūdens krānu."


async def test_a_reference_written_by_a_resident_cannot_redirect_an_answer(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", IDEA, theme="Environment")  # LIEP-2027-0001
    mallory = await tg.onboarded("Mallory", language="English")
    # ~4,000 characters ending in Anna's reference: the staff card is split, and its second
    # part is a bot message that names LIEP-2027-0001.
    text = ("Lūdzu izlasiet šo garo tekstu. " * 130)[:3975] + " LIEP-2027-0001"
    await submit(tg, mallory, "en", text, theme="Culture")  # LIEP-2027-0002
    second_part = next(
        m for m in tg.staff_chat.messages if m.text and m.text.endswith("LIEP-2027-0001")
    )
    await specialist(tg).reply_to(second_part, "Paldies par ieteikumu.")
    [anna_proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=5)
    [mallory_proposal] = await tg.store.proposals.proposals_of(mallory.id, offset=0, limit=5)
    assert await tg.store.proposals.thread_of(anna_proposal.id) == []
    assert [m.text for m in await tg.store.proposals.thread_of(mallory_proposal.id)] == [
        "Paldies par ieteikumu."
    ]
    assert not any("Paldies par ieteikumu" in (m.text or "") for m in anna.messages)


async def test_a_reply_to_an_attachment_in_the_staff_chat_answers_its_proposal(
    tg: Harness,
) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.press("📝 Submit a proposal")
    await anna.press("Environment")
    await anna.send(IDEA)
    await anna.send_photo()
    await anna.press("➡️ Continue")
    await anna.tap("Skip")
    await anna.press("✅ Submit")
    photo = next(m for m in tg.staff_chat.messages if m.photo)
    await specialist(tg).reply_to(photo, "Redzējām fotogrāfiju, paldies.")
    assert anna.last_text.endswith("Redzējām fotogrāfiju, paldies.")


@pytest.mark.parametrize("data", ["menu:propose", "prop:theme:culture", "lang:en", "mine:page:0"])
async def test_residents_buttons_do_nothing_in_the_staff_chat(tg: Harness, data: str) -> None:
    stranger = tg.fake.user("Svešinieks", language_code="lv").in_chat(tg.staff_chat)
    await tg.fake.user("Inese", language_code="lv").in_chat(tg.staff_chat).send("/staffhelp")
    posted = len(tg.staff_chat.messages)
    await stranger.press_forged(data)
    assert stranger.last_answer is not None  # answered: no spinner
    assert len(tg.staff_chat.messages) == posted


@pytest.mark.parametrize(
    "data",
    [
        "mine:open:99999999999999999999999",
        "mine:page:99999999999999999999999",
        "sd:open:99999999999999999999999",
        "sp:set:1:included:99999999999999999999999",
        "prop:theme:" + "x" * 50,
    ],
)
async def test_oversized_callback_data_is_answered_as_a_stale_button(
    tg: Harness, data: str
) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.press_forged(data)
    assert anna.last_answer is not None
    assert anna.last_answer.text == "This button is no longer active."
    assert "Sorry" not in (anna.last_text or "")


@pytest.mark.parametrize("status", ["bogus", "withdrawn"])
async def test_a_forged_status_is_answered_and_changes_nothing(tg: Harness, status: str) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", IDEA, theme="Environment")
    [proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=5)
    inese = specialist(tg)
    await inese.press_forged(f"sp:set:{proposal.id}:{status}:1", message=tg.staff_chat.messages[0])
    assert inese.last_answer is not None
    assert (await tg.store.proposals.proposal(proposal.id)).status == "received"


async def test_nothing_open_shows_no_empty_keyboard(tg: Harness) -> None:
    inese = specialist(tg)
    replies = await inese.send("/proposals")
    staff_language = translator("lv", ZoneInfo("Europe/Riga"))
    assert replies[-1].text == staff_language.ngettext(
        "{n} open proposal.", "{n} open proposals.", 0
    ).format(n=0)
    assert replies[-1].buttons == []
    assert "Sorry" not in "".join(m.text or "" for m in tg.staff_chat.messages)


async def test_add_a_message_on_a_closed_proposal_is_answered(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", IDEA, theme="Environment")
    await anna.send("/mine")
    await anna.press("LIEP-2027-0001 · Environment")
    card = anna.last
    [proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=5)
    inese = specialist(tg)
    await inese.press(t("lv", "🔄 Status"), message=tg.staff_chat.messages[0])
    await inese.press(t("lv", "Included in the programme"), message=tg.staff_chat.messages[0])
    assert (await tg.store.proposals.proposal(proposal.id)).is_closed
    await anna.press("💬 Add a message", message=card)
    assert anna.last_answer is not None and "closed" in anna.last_answer.text


async def test_one_specialist_answering_then_setting_a_status_is_not_told_of_a_conflict(
    tg: Harness,
) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", IDEA, theme="Environment")
    inese = specialist(tg)
    post = tg.staff_chat.messages[0]
    await inese.press(t("lv", "🔄 Status"), message=post)  # the buttons carry version 1
    await inese.reply_to(post, "Paldies, skatīsim.")  # an answer meanwhile
    await inese.press(t("lv", "In review"), message=post)
    assert not inese.last_answer.show_alert
    [proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=5)
    assert proposal.status == "in_review"


async def test_a_card_whose_sending_was_uncertain_is_learnt_from_a_press_on_it(
    tg: Harness,
) -> None:
    anna = await tg.onboarded("Anna", language="English")
    # Telegram takes the card but the answer never reaches the bot: the row is "uncertain".
    tg.fake.fail_next("sendMessage", kind="timeout", chat_id=tg.staff_chat.chat_id)
    await submit(tg, anna, "en", IDEA, theme="Environment")
    [proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=5)
    assert ("proposal:1:post", "uncertain") in await tg.store.outbox.deliveries_to(
        tg.staff_chat.chat_id
    )
    assert proposal.staff_message_id is None
    # The fake's timeout is raised before it posts; stand in for the card Telegram did post.
    inese = specialist(tg)
    await inese.send("/proposals")
    await inese.press(t("lv", "All open ({n})").format(n=1))
    await inese.press("LIEP-2027-0001 · " + t("lv", "Received"))
    card = tg.staff_chat.last
    await inese.press(t("lv", "🔄 Status"), message=card)
    await inese.press(t("lv", "◀️ Back"), message=card)
    await inese.reply_to(card, "Paldies, skatām.")
    assert anna.last_text.endswith("Paldies, skatām.")
