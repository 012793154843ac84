"""What the reception has free for a resident right now: the calendar (bot/reception.py) with
the dates staff closed and the places the store counts. Checked at every step of the booking
flow, so a button from an older message never books a past, closed or full slot."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import format_time

from bot import reception
from bot.app import BotContext


def clock_time(context: BotContext, moment: datetime) -> str:
    return format_time(moment, "short", tzinfo=context.settings.timezone, locale=context.tr.locale)


async def closed_dates(context: BotContext) -> dict[date, str]:
    today = context.now().astimezone(context.settings.timezone).date()
    weeks = context.municipality.reception.weeks_ahead
    return await context.store.bookings.closed_dates(today, today + timedelta(weeks=weeks))


async def free_slots(context: BotContext, day: date) -> list[datetime]:
    """The slots of `day` that can be booked now and have a place left."""
    rec = context.municipality.reception
    zone = context.settings.timezone
    slots = reception.open_slots(rec, day, zone, context.now(), await closed_dates(context))
    if not slots:
        return []
    taken = await context.store.bookings.taken_places(slots[0], slots[-1] + rec.slot)
    return [slot for slot in slots if taken.get(slot, 0) < rec.places_per_slot]


async def free_days(context: BotContext) -> list[date]:
    return [day for day, free in await reception_days(context) if free]


async def reception_days(context: BotContext) -> list[tuple[date, bool]]:
    """The coming open reception days, each with whether it has a free place (a full one has a
    waitlist)."""
    rec = context.municipality.reception
    zone = context.settings.timezone
    days = reception.coming_days(rec, zone, context.now(), await closed_dates(context))
    return [(day, bool(await free_slots(context, day))) for day in days]


def unavailable(context: BotContext, day: date, slot: datetime) -> str:
    _ = context.gettext
    if not reception.bookable(context.municipality.reception, slot, context.now()):
        return _("{time} on {date} can no longer be booked.").format(
            time=clock_time(context, slot), date=context.tr.date(day, "MMMMEd")
        )
    return _("Sorry, {time} was just taken.").format(time=clock_time(context, slot))
