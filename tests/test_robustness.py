"""Bad input, stale buttons, edits, foreign groups, errors — and a crash in the middle of a flow."""

from __future__ import annotations

import pytest
from telegram import Update

from tests.conftest import Harness

PROPOSAL = "Graudu ielā vajag vairāk soliņu un koku ēnu vasarā."


async def start_proposal(tg: Harness, name: str = "Anna"):
    anna = await tg.onboarded(name, language="English")
    await anna.press("📝 Submit a proposal")
    await anna.press("Environment")
    return anna


async def test_restart_mid_flow_carries_on_where_the_resident_was(tg: Harness) -> None:
    anna = await start_proposal(tg)
    await anna.send(PROPOSAL)
    await anna.send_location(56.5118, 21.0136)
    assert "1 attachment so far" in anna.last_text

    # The process dies: no shutdown, no final persistence write. A new one starts on the file.
    await tg.crash_and_restart()

    await anna.press("➡️ Continue")  # on the message from before the crash
    assert "contact you" in anna.last_text
    await anna.tap("Skip")
    assert PROPOSAL in anna.last_text and "1 × location" in anna.last_text
    await anna.press("✅ Submit")
    assert "LIEP-2027-0001" in anna.last_text
    [proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=10)
    assert proposal.text == PROPOSAL and proposal.theme == "environment"
    assert [a.kind for a in await tg.store.proposals.attachments_of(proposal.id)] == ["location"]


async def test_text_typed_just_before_a_crash_is_kept(tg: Harness) -> None:
    anna = await start_proposal(tg)
    await anna.send(PROPOSAL)
    await tg.crash_and_restart()
    draft = await tg.store.drafts.draft_of(anna.id)
    assert draft is not None and draft.text == PROPOSAL
    # …and the conversation is where it was: attachments next.
    await anna.send_sticker()
    assert "Press Continue" in anna.last_text


async def test_unknown_command(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.send("/frobnicate")
    assert "I don't know that command" in anna.last_text


async def test_media_and_text_outside_a_flow(tg: Harness) -> None:
    anna = await tg.onboarded("Anna", language="English")
    await anna.send_sticker()
    assert "can't use this here" in anna.last_text
    await anna.send_voice()
    assert "can't use this here" in anna.last_text
    await anna.send("Just some words")
    assert "Submit a proposal" in anna.last_text


async def test_sticker_where_text_is_expected(tg: Harness) -> None:
    anna = await start_proposal(tg)
    await anna.send_sticker()
    assert "write your proposal as a text message" in anna.last_text
    await anna.send(PROPOSAL)  # the flow goes on
    assert "attach" in anna.last_text


async def test_text_too_short_and_too_long_is_kept_with_a_clear_answer(tg: Harness) -> None:
    anna = await start_proposal(tg)
    await anna.send("Koki!")
    assert "That is 5 characters; a proposal needs at least 10" in anna.last_text
    long_text = "Ā" * 4050
    await anna.send(long_text)
    assert "4050 characters; the limit is 4000" in anna.last_text
    assert "shorten it by 50" in anna.last_text
    assert (await tg.store.drafts.draft_of(anna.id)).text == long_text  # nothing lost


async def test_a_long_preview_arrives_whole_in_parts(tg: Harness) -> None:
    anna = await start_proposal(tg)
    # 4000 characters & < > (escaped in HTML), and a long e-mail: more than 4096 to read.
    text = "Vārds <&> " * 399 + "gals & end"
    await anna.send(text)
    await anna.press("➡️ Continue")
    await anna.send("anna.berzina.from.the.karosta.district.of.liepaja@example.com")
    replies = await anna.press("Yes, contact me")
    previews = [m for m in replies if m.text and "Vārds" in m.text]
    assert len(previews) == 2
    assert all(len(m.text) <= 4096 for m in previews)
    assert previews[-1].text.endswith("gals & end")
    assert previews[-1].buttons[0] == ["✅ Submit"]
    assert "".join(m.text for m in previews).count("Vārds <&>") == 399


async def test_stale_button_after_the_flow_ended(tg: Harness) -> None:
    anna = await start_proposal(tg)
    await anna.send(PROPOSAL)
    continue_message = anna.last
    await anna.send("/cancel")
    assert "Cancelled" in anna.all_messages[-2].text
    await anna.press("➡️ Continue", message=continue_message)
    assert anna.last_answer is not None
    assert anna.last_answer.text == "This button is no longer active."
    assert await tg.store.drafts.draft_of(anna.id) is None


async def test_edited_message_is_answered_and_changes_nothing(tg: Harness) -> None:
    anna = await start_proposal(tg)
    await anna.send(PROPOSAL)
    mine = next(m for m in anna.all_messages if not m.from_bot and m.text == PROPOSAL)
    await anna.edit(mine, "Something else entirely, edited later")
    assert "only read new messages" in anna.last_text
    assert (await tg.store.drafts.draft_of(anna.id)).text == PROPOSAL


async def test_bot_added_to_a_foreign_group_says_so_and_leaves(tg: Harness) -> None:
    stranger = tg.resident("Kārlis")
    group = tg.fake.group("Kaimiņi")
    await group.add_bot(by=stranger)  # the bot is added by a member
    assert "apkalpoju tikai privātās sarunās" in group.last_text  # Latvian: a group has no language
    assert tg.fake.calls_to("leaveChat")[-1]["chat_id"] == group.id
    # Whatever still arrives from that group is ignored.
    before = len(group.messages)
    await stranger.in_chat(group).send("/start")
    assert len(group.messages) == before


async def test_an_error_gets_a_polite_answer_and_the_traceback_goes_to_the_log(
    tg: Harness, caplog
) -> None:
    anna = await tg.onboarded("Anna", language="English")
    tg.fake.fail_next("sendMessage", kind="400", description="Bad Request: something odd")
    await anna.send("/help")
    assert anna.last_text.startswith("Sorry, something went wrong on our side")
    assert "something odd" not in anna.last_text
    assert any("error while handling an update" in r.message for r in caplog.records)
    assert all("Anna" not in r.getMessage() for r in caplog.records)  # ids only


async def test_a_forged_button_cannot_open_someone_elses_proposal(tg: Harness) -> None:
    anna = await start_proposal(tg, "Anna")
    await anna.send(PROPOSAL)
    await anna.press("➡️ Continue")
    await anna.tap("Skip")
    await anna.press("✅ Submit")
    [proposal] = await tg.store.proposals.proposals_of(anna.id, offset=0, limit=1)

    mallory = await tg.onboarded("Mallory", language="English")
    for data in (f"mine:open:{proposal.id}", f"mine:withdrawyes:{proposal.id}"):
        await mallory.press_forged(data)
        assert mallory.last_answer.text == "This proposal is not available."
    assert PROPOSAL not in mallory.transcript()
    assert (await tg.store.proposals.proposal(proposal.id)).status == "received"
    # Nor act as staff.
    await mallory.press_forged(f"sp:set:{proposal.id}:included:{proposal.version}")
    assert mallory.last_answer.text == "This is for the Development Office staff only."
    assert (await tg.store.proposals.proposal(proposal.id)).status == "received"


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler can catch it."""


async def test_killed_after_the_reply_before_the_state_was_written(
    tg: Harness, monkeypatch
) -> None:
    anna = await start_proposal(tg)

    async def die() -> None:
        raise Killed

    monkeypatch.setattr(tg.app, "update_persistence", die)
    with pytest.raises(Killed):
        await anna.send(PROPOSAL)
    assert "Press Continue" in anna.last_text  # she saw the answer…
    assert await tg.store.conversations.conversation_states("proposal") == {
        (anna.id, anna.id): "text"
    }
    # …and the state it led to was never written. Telegram sends the update again.
    await tg.crash_and_restart()
    assert await tg.store.conversations.conversation_states("proposal") == {
        (anna.id, anna.id): "attachments"
    }
    await anna.press("➡️ Continue")
    assert "contact you" in anna.last_text
    # Telegram re-sending the finished update changes nothing.
    log_size = len(await tg.store.messages.conversation_with(anna.id))
    repeat = {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "chat": {"id": anna.id, "type": "private"}},
    }
    await tg.app.process_update(Update.de_json(repeat, tg.app.bot))
    assert len(await tg.store.messages.conversation_with(anna.id)) == log_size


async def test_an_update_costs_one_commit_and_two_trips_to_the_database(tg: Harness) -> None:
    """One transaction holds everything (the update is confirmed to Telegram only after it, so
    its arrival need not be written down first); the bookkeeping around the handlers takes two
    trips to the database's thread (each ~0.1 ms)."""
    anna = await tg.onboarded("Anna", language="English")
    await anna.send("hello")  # her user_data and chat_data are known to be empty from now on
    db = tg.store.db
    inner = db._execute
    trips = 0

    async def counted(fn, *args, **kwargs):
        nonlocal trips
        trips += 1
        return await inner(fn, *args, **kwargs)

    statements: list[str] = []
    await db.set_trace_callback(statements.append)
    db._execute = counted
    try:
        await anna.send("thanks")  # free text outside any flow: the menu again
    finally:
        db._execute = inner
        await db.set_trace_callback(None)
    assert "To send this to the Development Office" in anna.last_text
    assert trips == 2
    assert [s for s in statements if s in ("BEGIN IMMEDIATE", "COMMIT")] == [
        "BEGIN IMMEDIATE",
        "COMMIT",
    ]
    assert statements[0] == "BEGIN IMMEDIATE"  # nothing written before, on its own
