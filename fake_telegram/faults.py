"""Fault injection: make the next Bot API calls fail the way the real network and API can.

``FakeTelegram.fail_next(...)`` queues a rule; ``FakeTelegram.call`` consumes the first rule
that matches a call and answers with the failure instead of running the method.

Telegram's overall limit, opt-in: ``FakeTelegram(flood_limit_per_second=30)`` (or
``set_flood_limit(30)``) answers a message-sending call (sendMessage, sendPhoto, … — every
``send*`` but sendChatAction, and copyMessage/forwardMessage) with 429 and ``retry_after`` when
that many were accepted within the last second by the fake's clock. Refused calls do not count.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from .rules import BLOCKED, ApiError

__all__ = ["FailRule", "FailureKind", "FaultInjection", "SimulatedNetworkError", "SimulatedTimeout"]

FailureKind = Literal["429", "403", "400", "timeout", "500", "network"]


class SimulatedTimeout(Exception):
    """Raised by ``FakeTelegram.call``; transports turn it into a client-side timeout."""


class SimulatedNetworkError(Exception):
    """Raised by ``FakeTelegram.call``; transports turn it into a dropped connection."""


@dataclass
class FailRule:
    method: str | None  # lower-case; None = any method except getUpdates
    kind: FailureKind
    retry_after: int
    times: int
    chat_id: int | None
    description: str | None


class FaultInjection:
    """The queue of injected failures (a part of FakeTelegram)."""

    def __init__(self, flood_limit_per_second: int | None = None) -> None:
        self._failures: list[FailRule] = []
        self.flood_limit_per_second: int | None = None
        self.flood_refusals = 0  # 429s answered because of the flood limit
        self._accepted_sends: deque[datetime] = deque()
        self.set_flood_limit(flood_limit_per_second)

    def set_flood_limit(self, per_second: int | None) -> None:
        """Enforce Telegram's overall limit on sending messages (None: no limit, the default)."""
        if per_second is not None and per_second < 1:
            raise ValueError("the flood limit must be at least 1 message a second")
        self.flood_limit_per_second = per_second
        self._accepted_sends.clear()

    def _flood_refusal(self, method: str, now: datetime) -> ApiError | None:
        """A 429 if this sending call is over the limit; else counts it as accepted."""
        limit = self.flood_limit_per_second
        if limit is None or not _sends_a_message(method):
            return None
        sends = self._accepted_sends
        while sends and now - sends[0] >= _SECOND:
            sends.popleft()
        if len(sends) < limit:
            sends.append(now)
            return None
        self.flood_refusals += 1
        wait = (sends[0] + _SECOND - now).total_seconds()
        retry_after = max(1, math.ceil(wait))  # whole seconds, as Telegram gives them
        return ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )

    def fail_next(
        self,
        method: str | None = None,
        *,
        kind: FailureKind,
        retry_after: int = 3,
        times: int = 1,
        chat_id: int | None = None,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` matching calls fail.

        ``method=None`` matches any method except getUpdates (a running poller would otherwise
        swallow the failure). ``kind``: "429" (with ``parameters.retry_after``), "403", "400",
        "500", "timeout" (PTB raises TimedOut; the call is not executed) or "network" (dropped
        connection, PTB raises NetworkError).
        """
        if kind == "429" and retry_after < 1:
            # PTB only raises RetryAfter for a truthy retry_after; 0 becomes a plain error.
            raise ValueError("retry_after must be at least 1 second")
        self._failures.append(
            FailRule(
                method=method.lower() if method else None,
                kind=kind,
                retry_after=retry_after,
                times=times,
                chat_id=chat_id,
                description=description,
            )
        )

    def _take_failure(self, method: str, params: dict[str, Any]) -> FailRule | None:
        for rule in self._failures:
            if rule.method is None and method == "getUpdates":
                continue
            if rule.method is not None and rule.method != method.lower():
                continue
            if rule.chat_id is not None and str(params.get("chat_id")) != str(rule.chat_id):
                continue
            rule.times -= 1
            if rule.times <= 0:
                self._failures.remove(rule)
            return rule
        return None

    @staticmethod
    def _failure_response(rule: FailRule) -> tuple[int, dict[str, Any]]:
        if rule.kind == "timeout":
            raise SimulatedTimeout(rule.description or "simulated timeout")
        if rule.kind == "network":
            raise SimulatedNetworkError(rule.description or "simulated connection drop")
        if rule.kind == "429":
            error = ApiError(
                429,
                rule.description or f"Too Many Requests: retry after {rule.retry_after}",
                {"retry_after": rule.retry_after},
            )
        elif rule.kind == "403":
            error = ApiError(403, rule.description or BLOCKED)
        elif rule.kind == "400":
            error = ApiError(400, rule.description or "Bad Request: injected failure")
        else:
            error = ApiError(500, rule.description or "Internal Server Error")
        return error.status, error.body()


_SECOND = timedelta(seconds=1)


def _sends_a_message(method: str) -> bool:
    name = method.lower()
    if name == "sendchataction":
        return False
    return name.startswith("send") or name in ("copymessage", "forwardmessage")
