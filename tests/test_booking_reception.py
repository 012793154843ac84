"""The reception's calendar (bot/reception.py): pure, so checked without the bot."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import reception
from bot.config import DEFAULT_MUNICIPALITY_FILE
from bot.content import Reception, load_municipality

RIGA = ZoneInfo("Europe/Riga")
REC = Reception(
    weekdays=(2,),  # Wednesday
    start=time(14, 0),
    end=time(17, 0),
    slot=timedelta(minutes=30),
    places_per_slot=2,
    weeks_ahead=4,
    min_notice=timedelta(hours=24),
    cancel_deadline=timedelta(hours=4),
    reminders=(timedelta(hours=24), timedelta(hours=2)),
    unconfirmed_expiry=timedelta(hours=12),
)


def test_the_municipality_file_configures_the_reception() -> None:
    rec = load_municipality(DEFAULT_MUNICIPALITY_FILE).reception
    assert rec == REC


def test_slots_of_a_reception_day_and_none_on_other_days() -> None:
    slots = reception.slots_of(REC, date(2027, 1, 20), RIGA)
    assert [s.strftime("%H:%M") for s in slots] == [
        "14:00",
        "14:30",
        "15:00",
        "15:30",
        "16:00",
        "16:30",
    ]
    assert all(s.tzinfo == RIGA for s in slots)
    assert reception.slots_of(REC, date(2027, 1, 21), RIGA) == []


def test_18_november_and_other_public_holidays_are_closed_without_configuration() -> None:
    assert reception.holiday(date(2026, 11, 18)) is not None  # a Wednesday
    assert reception.holiday(date(2027, 5, 4)) is not None
    assert reception.holiday(date(2027, 1, 20)) is None
    now = datetime(2026, 11, 2, 10, 0, tzinfo=RIGA)
    days = reception.coming_days(REC, RIGA, now, {})
    assert days == [date(2026, 11, 4), date(2026, 11, 11), date(2026, 11, 25)]


def test_closed_dates_minimum_notice_and_the_horizon() -> None:
    now = datetime(2027, 1, 12, 14, 10, tzinfo=RIGA)  # Tuesday
    closed = {date(2027, 1, 27): "mācības"}
    assert reception.coming_days(REC, RIGA, now, closed) == [
        date(2027, 1, 13),
        date(2027, 1, 20),
        date(2027, 2, 3),
    ]
    # 14:00 tomorrow is less than 24 hours away; 14:30 is not.
    first = reception.open_slots(REC, date(2027, 1, 13), RIGA, now, closed)[0]
    assert first == datetime(2027, 1, 13, 14, 30, tzinfo=RIGA)
    assert reception.open_slots(REC, date(2027, 1, 27), RIGA, now, closed) == []
    assert reception.closed_reason(date(2027, 1, 27), closed) == "mācības"
    assert not reception.within_horizon(REC, date(2027, 2, 10), RIGA, now)


def test_deadlines_and_reminders_around_a_slot() -> None:
    start = datetime(2027, 1, 20, 14, 30, tzinfo=RIGA)
    assert reception.cancel_until(REC, start) == datetime(2027, 1, 20, 10, 30, tzinfo=RIGA)
    assert reception.expires_at(REC, start) == datetime(2027, 1, 20, 2, 30, tzinfo=RIGA)
    assert reception.reminders_due(REC, start, start - timedelta(days=3)) == list(REC.reminders)
    assert reception.reminders_due(REC, start, start - timedelta(hours=5)) == [timedelta(hours=2)]


def test_button_codes_round_trip_and_reject_nonsense() -> None:
    day = date(2027, 1, 20)
    assert reception.day_of_code(reception.day_code(day)) == day
    assert reception.day_of_code(20271350) is None
    assert reception.slot_of_code(REC, day, 1430, RIGA) == datetime(
        2027, 1, 20, 14, 30, tzinfo=RIGA
    )
    assert reception.slot_of_code(REC, day, 1415, RIGA) is None
    assert reception.slot_of_code(REC, date(2027, 1, 21), 1430, RIGA) is None


def test_daylight_saving_time_keeps_local_times() -> None:
    # Summer time began on 28 March 2027: a slot is still 14:00 local, one hour less in UTC.
    [summer, *_] = reception.slots_of(REC, date(2027, 3, 31), RIGA)
    [winter, *_] = reception.slots_of(REC, date(2027, 3, 24), RIGA)
    assert summer.utcoffset() == timedelta(hours=3) and winter.utcoffset() == timedelta(hours=2)
