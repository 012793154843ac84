"""The reception's calendar, pure: which dates and slots exist, which are closed, and the
deadlines around a slot. No store, no Telegram — the flows ask here and the store counts places.

Slots are aware datetimes in the municipality's zone; the store keeps them in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from bot.content import Reception


@cache
def _latvian_holidays(year: int) -> Mapping[date, str]:
    return dict(holidays.country_holidays("LV", years=year))


def holiday(day: date) -> str | None:
    """The Latvian public holiday on `day` (the reception is closed then), if any."""
    return _latvian_holidays(day.year).get(day)


def slots_of(reception: Reception, day: date, zone: ZoneInfo) -> list[datetime]:
    """The starts of the slots on `day`, if the reception is held on that weekday at all."""
    if day.weekday() not in reception.weekdays:
        return []
    moment = datetime.combine(day, reception.start, tzinfo=zone)
    end = datetime.combine(day, reception.end, tzinfo=zone)
    slots = []
    while moment + reception.slot <= end:
        slots.append(moment)
        moment += reception.slot
    return slots


def closed_reason(day: date, closed: Mapping[date, str]) -> str | None:
    """Why the reception is closed on `day`: a date staff closed, or a public holiday."""
    return closed.get(day) or holiday(day)


def bookable(reception: Reception, start: datetime, now: datetime) -> bool:
    """Whether a slot starting at `start` may still be booked at `now` (minimum notice)."""
    return start - reception.min_notice >= now


def open_slots(
    reception: Reception, day: date, zone: ZoneInfo, now: datetime, closed: Mapping[date, str]
) -> list[datetime]:
    """The slots of `day` that can still be booked (places aside: the store counts those)."""
    if closed_reason(day, closed) is not None or not within_horizon(reception, day, zone, now):
        return []
    return [slot for slot in slots_of(reception, day, zone) if bookable(reception, slot, now)]


def within_horizon(reception: Reception, day: date, zone: ZoneInfo, now: datetime) -> bool:
    today = now.astimezone(zone).date()
    return today <= day <= today + timedelta(weeks=reception.weeks_ahead)


def coming_days(
    reception: Reception, zone: ZoneInfo, now: datetime, closed: Mapping[date, str]
) -> list[date]:
    """The reception days from today to the booking horizon that still have a bookable slot."""
    today = now.astimezone(zone).date()
    days = (today + timedelta(days=n) for n in range(reception.weeks_ahead * 7 + 1))
    return [day for day in days if open_slots(reception, day, zone, now, closed)]


def cancel_until(reception: Reception, start: datetime) -> datetime:
    """Until when a resident can cancel a booking of the slot at `start` in the chat."""
    return start - reception.cancel_deadline


def expires_at(reception: Reception, start: datetime) -> datetime:
    """When a request for the slot at `start` lapses if the office has not confirmed it."""
    return start - reception.unconfirmed_expiry


def reminders_due(reception: Reception, start: datetime, now: datetime) -> list[timedelta]:
    """The reminder offsets still ahead of `now` (a booking confirmed late gets fewer)."""
    return [offset for offset in reception.reminders if start - offset > now]


def day_code(day: date) -> int:
    """A date as the digits a button carries: 2027-01-20 → 20270120."""
    return day.year * 10000 + day.month * 100 + day.day


def day_of_code(code: int) -> date | None:
    try:
        return date(code // 10000, code // 100 % 100, code % 100)
    except ValueError:
        return None


def slot_of_code(reception: Reception, day: date, code: int, zone: ZoneInfo) -> datetime | None:
    """The slot of `day` whose start is `code` as HHMM (1430), if the reception has one."""
    return next(
        (s for s in slots_of(reception, day, zone) if s.hour * 100 + s.minute == code), None
    )
