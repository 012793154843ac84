"""The outbox's overall budget: never more than OUTBOX_RATE a second of its own, and direct
replies (sent by the handlers, not through the outbox) take their share of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.outbox import Limits, RateBudget
from tests.conftest import Harness, send_to_subscribers
from tests.test_meetings import CULTURE, publish, subscribe
from tests.test_proposals import specialist

NOW = datetime(2027, 1, 12, 12, 0, tzinfo=UTC)


def test_direct_replies_take_their_share_of_the_rate() -> None:
    budget = RateBudget(Limits(overall_per_second=25))
    for _ in range(20):
        budget.note_direct(NOW)
    for chat in range(1, 6):  # 20 direct + 5 of its own: the rate
        assert budget.ready_at(chat, NOW) == NOW
        budget.spend(chat, NOW)
    assert budget.ready_at(6, NOW) == NOW + timedelta(seconds=1)
    later = NOW + timedelta(seconds=1)
    assert budget.ready_at(6, later) == later  # the last second's sends are past


def test_a_send_counts_from_telegrams_answer_not_from_when_it_was_picked() -> None:
    """The claim of a batch may wait behind residents' updates, and the trip to Telegram takes
    its time: Telegram counts a send somewhere before its answer, so it stays in the window
    from the answer on."""
    budget = RateBudget(Limits(overall_per_second=5))
    held = [budget.reserve(chat) for chat in range(1, 6)]
    assert budget.ready_at(6, NOW) == NOW + timedelta(seconds=1)  # reserved counts already
    answered = NOW + timedelta(milliseconds=700)
    for reservation in held:
        budget.use(reservation, answered)
    a_second_after_the_pick = NOW + timedelta(seconds=1, milliseconds=100)
    assert budget.ready_at(6, a_second_after_the_pick) == answered + timedelta(seconds=1)


def test_a_reservation_never_used_gives_its_place_back() -> None:
    budget = RateBudget(Limits(overall_per_second=1))
    held = budget.reserve(1)
    assert budget.ready_at(2, NOW) > NOW
    budget.cancel(held)
    budget.use(held, NOW)  # too late: nothing is counted
    assert budget.ready_at(2, NOW) == NOW


async def test_a_broadcast_keeps_to_the_limit_within_each_batch(tg: Harness) -> None:
    residents = []
    for number in range(40):
        user = await tg.onboarded(f"R{number}", language="Latviešu")
        await subscribe(user, "lv", CULTURE["lv"])
        residents.append(user)
    await publish(tg)
    offer = tg.staff_chat.messages[-1]
    tg.clock.advance(seconds=1)
    # Telegram's limit at the outbox's own rate: a batch judged before any of it was spent
    # would go over it.
    tg.fake.set_flood_limit(tg.settings.outbox_rate)
    await specialist(tg).press(send_to_subscribers(40), message=offer)
    for _ in range(3):
        tg.clock.advance(seconds=7)
        await tg.app.settle()
    assert tg.fake.flood_refusals == 0
    assert (await tg.store.broadcasts.progress(1)).sent == 40


def test_a_direct_reply_counts_the_outboxs_sends_against_telegrams_limit() -> None:
    budget = RateBudget(Limits(overall_per_second=25))
    for chat in range(1, 26):
        budget.spend(chat, NOW)
    for _ in range(4):  # Telegram's 30, less one for the trip's jitter
        assert budget.direct_ready_at(NOW) == NOW
        budget.note_direct(NOW)
    assert budget.direct_ready_at(NOW) == NOW + timedelta(seconds=1)


async def test_residents_chatting_during_a_broadcast_wait_instead_of_meeting_a_429(
    tg: Harness,
) -> None:
    for number in range(40):
        user = await tg.onboarded(f"R{number}", language="Latviešu")
        await subscribe(user, "lv", CULTURE["lv"])
    chatting = [await tg.onboarded(f"C{number}", language="English") for number in range(10)]
    await publish(tg)
    offer = tg.staff_chat.messages[-1]
    tg.clock.advance(seconds=2)
    tg.fake.set_flood_limit(30)  # Telegram's overall limit
    tg.fake.deliver_to(tg.app)  # updates are handled as they come; the outbox is not drained
    await specialist(tg).press(send_to_subscribers(40), message=offer)
    await tg.app.outbox.deliver_due()  # this second's share of the broadcast goes out
    for user in chatting:  # ten residents ask for help in the same second
        await user.send("/help")
    assert tg.fake.flood_refusals == 0
    for user in chatting:  # the help itself, not an apology for a failed reply
        assert user.last_text.startswith("This bot takes your proposals")
    await tg.app.settle()
    assert tg.fake.flood_refusals == 0
    assert (await tg.store.broadcasts.progress(1)).sent == 40


async def test_a_broadcasts_finished_jobs_are_forgotten_with_its_outbox_rows(tg: Harness) -> None:
    """Each progress tick is a job row: the night's maintenance drops finished ones once they
    are as old as the outbox rows it forgets, so the schedule does not grow with every
    broadcast ever sent."""
    for number in range(3):
        await subscribe(await tg.onboarded(f"R{number}", language="Latviešu"), "lv", CULTURE["lv"])
    await publish(tg)
    offer = tg.staff_chat.messages[-1]
    await specialist(tg).press(send_to_subscribers(3), message=offer)
    for _ in range(3):
        tg.clock.advance(seconds=7)
        await tg.app.settle()
    assert (await tg.store.broadcasts.progress(1)).sent == 3

    async def finished_ticks() -> int:
        rows = await tg.store._fetch(
            "SELECT COUNT(*) FROM scheduled_jobs WHERE kind = 'broadcast_progress'"
            " AND status != 'pending'"
        )
        return int(rows[0][0])

    assert await finished_ticks() >= 1
    tg.clock.advance(days=29)
    await tg.app.settle()
    assert await finished_ticks() >= 1  # kept as long as the outbox rows they wrote
    tg.clock.advance(days=2)
    await tg.app.settle()
    assert await finished_ticks() == 0
    assert await tg.store.schedule.pending("maintenance")  # the next night's run is planned
