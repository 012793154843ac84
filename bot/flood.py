"""A per-resident message budget: someone who sends more than N messages a minute is slowed
down, so one flooding chat cannot crowd out everyone else's."""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=1)
TRACKED = 10_000  # people remembered at once (least recently active first out)


class FloodGuard:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: OrderedDict[int, deque[datetime]] = OrderedDict()
        self._warned: dict[int, datetime] = {}

    def admit(self, user_id: int, now: datetime) -> bool:
        """Counts one message; False when it is over the budget of the last minute."""
        times = self._seen.pop(user_id, None) or deque()
        self._seen[user_id] = times
        while times and now - times[0] >= WINDOW:
            times.popleft()
        if len(self._seen) > TRACKED:
            self._seen.popitem(last=False)
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        self._warned.pop(user_id, None)
        return True

    def first_refusal(self, user_id: int, now: datetime) -> bool:
        """True once per flood: the resident (and staff) are told the first time only."""
        warned = self._warned.get(user_id)
        if warned is not None and now - warned < WINDOW:
            return False
        self._warned[user_id] = now
        if len(self._warned) > TRACKED:
            self._warned.pop(next(iter(self._warned)))
        return True
