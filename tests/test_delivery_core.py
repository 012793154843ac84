"""The delivery core, point by point as the office found it broken: replays without repeats,
handled updates recognised by id, failed state writes, one flow at a time, floods, long HTML,
reads that must not see uncommitted writes, and conversations that expire."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.conftest import Harness, t
from tests.test_proposals import specialist, submit

IDEA = "Jūrmalas parkā vajag vairāk soliņu un dzeramā ūdens krānu."


def record_deliveries(tg: Harness) -> list[dict[str, Any]]:
    """Every update dict the fake Telegram hands the bot, so a test can hand one in again."""
    seen: list[dict[str, Any]] = []
    inner = tg.fake.deliver

    async def deliver(update: dict[str, Any]) -> None:
        seen.append(json.loads(json.dumps(update)))
        await inner(update)

    tg.fake.deliver = deliver
    return seen


def message_update(update_id: int, user_id: int, text: str, message_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": 1_800_000_000,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Anna"},
            "text": text,
        },
    }


async def test_a_replayed_button_press_is_handled_once(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", IDEA, theme="Environment")
    [proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=5)
    inese = specialist(tg)
    seen = record_deliveries(tg)
    await inese.press(t("lv", "🔄 Status"), message=tg.staff_chat.messages[0])
    await inese.press(t("lv", "In review"), message=tg.staff_chat.messages[0])
    notices = [m for m in anna.messages if "In review" in (m.text or "")]
    assert len(notices) == 1
    # Telegram sends the press again (it never got our confirmation): nothing happens twice.
    await tg.fake.deliver(seen[-1])
    assert [m for m in anna.messages if "In review" in (m.text or "")] == notices
    assert [h.status for h in await tg.store.proposals.status_history_of(proposal.id)] == [
        "received",
        "in_review",
    ]


async def test_a_staff_answer_replayed_is_stored_and_delivered_once(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", IDEA, theme="Environment")
    [proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=5)
    seen = record_deliveries(tg)
    await specialist(tg).reply_to(tg.staff_chat.messages[0], "Paldies, nodots darba grupai.")
    await tg.fake.deliver(seen[-1])
    assert len(await tg.store.proposals.thread_of(proposal.id)) == 1
    assert sum("nodots darba grupai" in (m.text or "") for m in anna.messages) == 1


async def test_an_update_after_a_quiet_week_with_a_lower_id_is_not_skipped(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.press("📝 Submit a proposal")
    await anna.press("Environment")
    await tg.fake.deliver(message_update(900_000, anna.id, "Short.", 900_000))
    assert "a proposal needs at least 10" in anna.last_text
    # A week without updates: Telegram picks the next id at random — here a lower one.
    tg.clock.advance(days=8)
    await tg.fake.deliver(message_update(31_337, anna.id, IDEA, 900_001))
    assert (await tg.store.drafts.draft_of(anna.id)).text == IDEA
    assert "Press Continue" in anna.last_text


async def test_a_failed_state_write_fails_the_update_and_telegram_keeps_it(
    tg: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.press("📝 Submit a proposal")
    await anna.press("Environment")
    original = tg.store.conversations.save_conversation_state

    async def disk_full(*args: Any) -> None:
        raise OSError("database or disk is full")

    monkeypatch.setattr(tg.store.conversations, "save_conversation_state", disk_full)
    with pytest.raises(Exception, match="disk is full"):
        await anna.send(IDEA)
    # Nothing of it is committed — not the draft's text, not the state — nor confirmed.
    assert (await tg.store.drafts.draft_of(anna.id)).text is None
    assert [u["message"]["text"] for u in tg.fake.undelivered.values()] == [IDEA]
    monkeypatch.setattr(tg.store.conversations, "save_conversation_state", original)
    await tg.crash_and_restart()  # Telegram sends it again, and the next start handles it
    assert (await tg.store.drafts.draft_of(anna.id)).text == IDEA
    assert tg.fake.undelivered == {}
    assert await tg.store.journal.unfinished() == []  # the suspect it was is cleared
    await anna.press("➡️ Continue")
    assert "contact you" in anna.last_text


async def test_staff_chat_posts_never_hold_up_a_reply(tg: Harness) -> None:
    """40 follow-ups: 40 staff-chat posts wait for the group's 20-a-minute budget in the outbox,
    while another resident's /help is answered at once."""
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", IDEA, theme="Environment")
    [proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=5)
    # The follow-ups are written without settling the outbox after each (no time passes).
    for n in range(40):
        async with tg.store.unit_of_work():
            entry = await tg.store.proposals.add_to_thread(
                proposal.id, author="resident", author_id=anna.id, text=f"Doma {n}"
            )
            await tg.store.outbox.enqueue(
                f"thread:{entry.id}:post",
                tg.settings.staff_chat_id or 0,
                "send_message",
                {"text": f"Doma {n}"},
            )
    bob = tg.resident("Bob", language_code="en")
    started = tg.clock.now
    replies = await bob.send("/help")
    assert replies, "Bob's /help was answered in the same delivery"
    posts = [m for m in tg.staff_chat.messages if m.text.startswith("Doma")]
    assert len(posts) == 40
    # The group budget spread the posts over two minutes of the injected clock; Bob's reply went
    # out at once, before all but the first twenty, not after them.
    assert (posts[-1].date - started).total_seconds() >= 60
    assert (replies[0].date - started).total_seconds() < 1
    assert replies[0].date < posts[20].date


async def test_a_flooding_resident_is_slowed_and_staff_are_told_once(tg: Harness) -> None:
    flooder = await tg.onboarded("Flood", language="English")
    calm = await tg.onboarded("Calm", language="English")
    slowed = 0
    for n in range(100):
        tg.clock.advance(seconds=0.1)  # 100 messages in 10 s
        replies = await flooder.send(f"spam {n}")
        slowed += any("faster than I can read" in (m.text or "") for m in replies)
        if n % 10 == 0:
            assert await calm.send("/help"), "the calm resident is answered"
    assert slowed == 1
    warnings = [m for m in tg.staff_chat.messages if str(flooder.id) in (m.text or "")]
    assert len(warnings) == 1
    # Nothing is lost: every message is in the log staff can read.
    logged = [
        m.text for m in await tg.store.messages.conversation_with(flooder.id) if m.direction == "in"
    ]
    assert sum(1 for text in logged if text and text.startswith("spam ")) == 100
    # A minute later the resident is heard again.
    tg.clock.advance(minutes=1)
    replies = await flooder.send("Hello again")
    assert replies and "faster than I can read" not in (replies[-1].text or "")


async def test_a_follow_up_prompt_wins_over_a_proposal_started_before_it(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", IDEA, theme="Environment")
    await anna.press("📝 Submit a proposal")
    await anna.press("Culture")  # a new draft, waiting for its text…
    await anna.send("/mine")
    await anna.press("LIEP-2027-0001 · Environment")
    await anna.press("💬 Add a message")  # …ends: one flow at a time
    await anna.send("Vēl viena doma par parku.")
    assert "Vēl viena doma" in tg.staff_chat.last_text
    assert (await tg.store.drafts.draft_of(anna.id)).text is None  # nothing went into the draft


async def test_cancel_ends_whatever_is_active(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", IDEA, theme="Environment")
    await anna.send("/mine")
    await anna.press("LIEP-2027-0001 · Environment")
    await anna.press("💬 Add a message")
    await anna.press("📝 Submit a proposal", message=anna.messages[-4])  # the menu above
    await anna.send("/cancel")
    posts = len(tg.staff_chat.messages)
    await anna.send("This text must not reach the staff chat.")
    assert len(tg.staff_chat.messages) == posts
    assert "choose “Submit a proposal” first" in anna.last_text


async def test_a_reply_to_a_follow_up_prompt_reaches_it_from_another_flow(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", IDEA, theme="Environment")
    await anna.send("/mine")
    await anna.press("LIEP-2027-0001 · Environment")
    await anna.press("💬 Add a message")
    prompt = anna.last
    await anna.send("/propose")
    await anna.press("Culture")
    await anna.reply_to(prompt, "Atbilde uz jautājumu par parku.")
    assert "Atbilde uz jautājumu" in tg.staff_chat.last_text
    assert (await tg.store.drafts.draft_of(anna.id)).text is None


async def test_a_stale_theme_button_never_wipes_the_draft(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.press("📝 Submit a proposal")
    themes = anna.last
    await anna.press("Environment", message=themes)
    await anna.send(IDEA)
    await anna.send_location(56.51, 21.01)
    await anna.press("➡️ Continue")
    await anna.send("anna@example.com")
    await anna.press("Yes, contact me")
    assert "Please check your proposal" in anna.last_text
    await anna.press("Culture", message=themes)  # scrolled up, pressed an old button
    assert anna.last_answer.text == "This button is no longer active."
    draft = await tg.store.drafts.draft_of(anna.id)
    assert (draft.theme, draft.text, draft.email, len(draft.attachments)) == (
        "environment",
        IDEA,
        "anna@example.com",
        1,
    )
    assert "unfinished proposal" in anna.last_text
    await anna.press("Continue it")
    await anna.press("✅ Submit")
    assert "LIEP-2027-0001" in anna.last_text


@pytest.mark.parametrize("lead", ["", "ab", "abcde"])  # shifts where a hard cut falls
async def test_a_long_proposal_with_an_answer_opens_in_parts_of_valid_html(
    tg: Harness, lead: str
) -> None:
    anna = await tg.onboarded("Anna", language="English")
    # No space to break at: the cut must still fall between, never inside, "&lt;" and tags.
    text = (lead + "Liepāja<tramvajs>&velo" * 200)[:3990]
    await submit(tg, anna, "en", text, theme="Mobility")
    await specialist(tg).reply_to(tg.staff_chat.messages[0], "Paldies & <labi>!")
    await anna.send("/mine")
    replies = await anna.press("LIEP-2027-0001 · Mobility")
    shown = "".join(m.text or "" for m in replies)
    assert len(replies) >= 2 and all(len(m.text or "") <= 4096 for m in replies)
    assert "Paldies & <labi>!" in shown
    assert shown.count("<tramvajs>") == text.count("<tramvajs>")
    assert "&lt" not in shown


async def test_reads_outside_a_transaction_never_see_its_uncommitted_writes(tg: Harness) -> None:
    store = tg.store
    inside, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with store.unit_of_work():
            await store.residents.set_language(424242, "ru")
            inside.set()
            await release.wait()
            raise RuntimeError("rolled back")

    task = asyncio.create_task(writer())
    await inside.wait()
    reader = asyncio.create_task(store.residents.resident(424242))
    await asyncio.sleep(0)  # let the reader start: it must wait for the transaction
    assert not reader.done()
    release.set()
    with pytest.raises(RuntimeError):
        await task
    assert await reader is None  # it never saw the write that was rolled back


async def test_abandoned_conversations_expire(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.press("📝 Submit a proposal")
    await anna.press("Environment")
    assert await tg.store.conversations.conversation_states("proposal")
    tg.clock.advance(days=31)
    await tg.app.settle()  # the daily maintenance job has come due (several times)
    assert await tg.store.conversations.conversation_states("proposal") == {}
    # Start-up no longer loads it; her draft (kept apart) is still offered.
    await tg.crash_and_restart()
    await anna.send(IDEA)
    assert "choose “Submit a proposal” first" in anna.last_text
    await anna.send("/propose")
    assert "unfinished proposal" in anna.last_text or "Which theme" in anna.last_text


async def test_a_resident_who_blocked_the_bot_is_marked_and_staff_are_told(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", IDEA, theme="Environment")
    await anna.block_bot()
    assert not await tg.store.residents.is_reachable(anna.id)
    await specialist(tg).reply_to(tg.staff_chat.messages[0], "Paldies!")
    assert tg.staff_chat.last_text == t(
        "lv",
        "⚠️ The message about {reference} could not be delivered: the resident has blocked "
        "the bot. It is kept in their “My submissions”.",
    ).format(reference="LIEP-2027-0001")
    assert ("answer:1", "unreachable") in await tg.store.outbox.deliveries_to(anna.id)
    await anna.unblock_bot()
    assert await tg.store.residents.is_reachable(anna.id)


async def test_outbox_honours_429_and_records_timeouts_as_uncertain(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await submit(tg, anna, "en", IDEA, theme="Environment")
    inese = specialist(tg)
    tg.fake.fail_next("sendMessage", kind="429", retry_after=7, chat_id=anna.id)
    before = tg.clock.now
    await inese.reply_to(tg.staff_chat.messages[0], "Pirmā atbilde.")
    assert anna.last_text.endswith("Pirmā atbilde.")  # delivered after the pause
    assert (tg.clock.now - before).total_seconds() >= 7
    tg.fake.fail_next("sendMessage", kind="timeout", chat_id=anna.id)
    await inese.reply_to(tg.staff_chat.messages[0], "Otrā atbilde.")
    assert ("answer:2", "uncertain") in await tg.store.outbox.deliveries_to(anna.id)
    assert not anna.last_text.endswith("Otrā atbilde.")  # not sent blindly a second time


async def test_a_delivery_syncs_its_claim_and_not_its_record(tg: Harness) -> None:
    """Two commits per message sent: the claim before the call, synced (undone by a power cut,
    the message would be sent twice), and the record of how it ended with its log line, not
    synced (undone, the row is "sending": uncertain at the next start, as after a crash)."""
    anna = await tg.onboarded("Anna", language="English")
    async with tg.store.unit_of_work():
        await tg.store.outbox.enqueue("hello", anna.id, "send_message", {"text": "Sveiki!"})
    statements: list[str] = []
    await tg.store.db.set_trace_callback(statements.append)
    try:
        await tg.app.settle()
    finally:
        await tg.store.db.set_trace_callback(None)
    assert anna.last_text == "Sveiki!"
    # Each statement by its first words (the trace shows them with their values).
    writes = [" ".join(s.split()[:4]) for s in statements if not s.startswith("SELECT")]
    claim = writes.index("UPDATE outbox SET status")
    assert writes[claim:] == [
        "UPDATE outbox SET status",  # = 'sending', on its own: synced
        "PRAGMA synchronous = NORMAL",
        "BEGIN IMMEDIATE",
        "INSERT INTO message_log (at,",
        "UPDATE outbox SET status",  # = 'sent'
        "COMMIT",
        "PRAGMA synchronous = FULL",
    ]
