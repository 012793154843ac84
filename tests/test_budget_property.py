"""Property: however long sends take to reach Telegram and to be answered, and however the
outbox's sends and the residents' direct replies interleave, Telegram never sees more in one
second than the budget allows — so the budget itself never earns a 429.

The argument (bot/outbox.py, RateBudget): a send is counted from when it is picked, as reserved
while in flight and then stamped with the time of Telegram's answer. Take any second of
Telegram's and the send in it that started last: every other send in that second started no
later, so when that one was judged each was in flight or had been answered less than a second
before — counted. The simulation below checks this with random latencies, gaps and mixes.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.outbox import TELEGRAM_OVERALL_PER_SECOND, Limits, RateBudget, Reservation

START = datetime(2027, 1, 12, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Attempt:
    gap_ms: int  # after the previous attempt wanted to go
    direct: bool  # a handler's reply, else one of the outbox's sends
    to_telegram_ms: int  # from the call to Telegram counting it
    to_answer_ms: int  # from Telegram counting it to its answer


attempts = st.lists(
    st.builds(
        Attempt,
        gap_ms=st.integers(0, 120),
        direct=st.booleans(),
        to_telegram_ms=st.integers(0, 400),
        to_answer_ms=st.integers(0, 400),
    ),
    min_size=1,
    max_size=300,
)


def telegrams_busiest_second(
    rate: int, plan: list[Attempt], *, count_from_call: bool = False
) -> int:
    """Runs the attempts against a RateBudget (each waits until the budget lets it go) and
    returns the most sends Telegram counted within one second. `count_from_call`: each send
    counted from the start of its call instead (how the budget once worked)."""
    budget = RateBudget(Limits(overall_per_second=rate))
    in_flight: list[tuple[datetime, int, Reservation]] = []  # (answer, order, reservation)
    counted_at: list[datetime] = []
    now = wanted = START

    def answer_until(moment: datetime) -> None:
        while in_flight and in_flight[0][0] <= moment:
            answered, _, held = heapq.heappop(in_flight)
            budget.use(held, answered)

    for number, attempt in enumerate(plan):
        wanted += timedelta(milliseconds=attempt.gap_ms)
        now = max(now, wanted)
        chat = 1_000 + number  # a different chat each: only the overall limit is in play
        while True:
            answer_until(now)
            ready = budget.direct_ready_at(now) if attempt.direct else budget.ready_at(chat, now)
            if ready <= now:
                break
            # Wait: until the budget allows it, or until an answer comes that may change that.
            now = min(ready, in_flight[0][0]) if in_flight else ready
        held = budget.reserve(chat, direct=attempt.direct)
        if count_from_call:
            budget.use(held, now)
        counted = now + timedelta(milliseconds=attempt.to_telegram_ms)
        answered = counted + timedelta(milliseconds=attempt.to_answer_ms)
        counted_at.append(counted)
        heapq.heappush(in_flight, (answered, number, held))
    counted_at.sort()
    busiest, first = 0, 0
    for last, moment in enumerate(counted_at):  # Telegram's second: (moment - 1 s, moment]
        while moment - counted_at[first] >= timedelta(seconds=1):
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


@settings(max_examples=300, deadline=None)
@given(plan=attempts, rate=st.integers(1, TELEGRAM_OVERALL_PER_SECOND))
def test_telegram_never_counts_more_in_a_second_than_the_budget_allows(
    plan: list[Attempt], rate: int
) -> None:
    busiest = telegrams_busiest_second(rate, plan)
    assert busiest <= TELEGRAM_OVERALL_PER_SECOND
    if not any(attempt.direct for attempt in plan):
        assert busiest <= rate  # the outbox alone keeps to OUTBOX_RATE


def test_the_simulation_sees_a_budget_that_counts_from_the_call() -> None:
    """Not vacuous: counted from the start of the call, five slow sends leave the budget's
    second before Telegram's, and the next five go while Telegram still counts them."""
    plan = [Attempt(0, False, 900, 50)] * 5 + [Attempt(0, False, 0, 0)] * 5
    assert telegrams_busiest_second(5, plan, count_from_call=True) == 10
    assert telegrams_busiest_second(5, plan) == 5
