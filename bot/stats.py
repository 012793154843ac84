"""/stats for the office: proposals per theme per week, bookings per week, subscribers per theme
— counted from the store, drawn as one PNG chart (matplotlib, Agg: no display needed) and told as
text beside it, both in the reader's language."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.config import Settings
from bot.i18n import Translator
from bot.store import Store

WEEKS = 8  # the chart's past: this week and the seven before it
ALL_THEMES = "*"


@dataclass(frozen=True)
class Figures:
    weeks: list[date]  # the Mondays (local dates) of the proposals' weeks, oldest first
    proposals: dict[str, list[int]]  # theme slug → proposals submitted each of those weeks
    booking_weeks: list[date]  # the same past weeks and those the reception can be booked in
    bookings: list[int]  # bookings (any status) for a reception in each of booking_weeks
    subscribers: dict[str, int]  # theme slug → residents subscribed; '*': to every theme


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def gather(store: Store, settings: Settings, now: datetime) -> Figures:
    tz = settings.timezone
    this_week = monday_of(now.astimezone(tz).date())
    weeks = [this_week - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    ahead = settings.municipality.reception.weeks_ahead
    booking_weeks = weeks + [this_week + timedelta(weeks=n) for n in range(1, ahead + 1)]

    def start_of(week: date) -> datetime:
        return datetime.combine(week, datetime.min.time(), tzinfo=tz)

    def week_index(moment: datetime, of: list[date]) -> int | None:
        week = monday_of(moment.astimezone(tz).date())
        return of.index(week) if week in of else None

    proposals = {theme.slug: [0] * len(weeks) for theme in settings.municipality.themes}
    for submitted, theme in await store.stats.proposal_times(start_of(weeks[0])):
        index = week_index(submitted, weeks)
        if index is not None:
            proposals.setdefault(theme, [0] * len(weeks))[index] += 1
    bookings = [0] * len(booking_weeks)
    until = start_of(booking_weeks[-1] + timedelta(weeks=1))
    for starts in await store.stats.booking_times(start_of(booking_weeks[0]), until):
        index = week_index(starts, booking_weeks)
        if index is not None:
            bookings[index] += 1
    counts = await store.stats.subscription_counts()
    subscribers = {theme.slug: counts.get(theme.slug, 0) for theme in settings.municipality.themes}
    subscribers[ALL_THEMES] = counts.get(ALL_THEMES, 0)
    return Figures(weeks, proposals, booking_weeks, bookings, subscribers)


def _theme_name(settings: Settings, tr: Translator, slug: str) -> str:
    if slug == ALL_THEMES:
        return tr.gettext("All themes")
    theme = settings.municipality.theme(slug)
    return theme.name(tr.language) if theme else slug


def summary(figures: Figures, settings: Settings, tr: Translator) -> str:
    """The numbers the chart shows, as text."""
    _ = tr.gettext
    total = sum(sum(counts) for counts in figures.proposals.values())
    lines = [
        _("Proposals in the last {weeks} weeks: {total}").format(weeks=WEEKS, total=total),
        _("Per week:"),
    ]
    for index, week in enumerate(figures.weeks):
        n = sum(counts[index] for counts in figures.proposals.values())
        lines.append(f"• {week:%Y-%m-%d}: {n}")
    lines.append(_("Per theme:"))
    for slug, counts in figures.proposals.items():
        if sum(counts):
            lines.append(f"• {_theme_name(settings, tr, slug)}: {sum(counts)}")
    lines += ["", _("Reception bookings per week (any status):")]
    for week, n in zip(figures.booking_weeks, figures.bookings, strict=True):
        lines.append(f"• {week:%Y-%m-%d}: {n}")
    lines += ["", _("Meeting subscribers per theme:")]
    for slug, n in figures.subscribers.items():
        lines.append(f"• {_theme_name(settings, tr, slug)}: {n}")
    return "\n".join(lines)


def chart_png(figures: Figures, settings: Settings, tr: Translator) -> bytes:
    """The three charts in one PNG. Drawn on a Figure of its own (no pyplot state), so it can
    run in a worker thread; DejaVu Sans, shipped with matplotlib, has Latvian and Cyrillic."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _ = tr.gettext
    figure = Figure(figsize=(10, 13), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    top, middle, bottom = figure.subplots(3, 1, height_ratios=(3, 2, 3))

    labels = [f"{week:%d.%m}" for week in figures.weeks]
    base = [0] * len(labels)
    palette = colormaps["tab20"]
    for n, (slug, counts) in enumerate(figures.proposals.items()):
        if not sum(counts):
            continue
        top.bar(
            labels,
            counts,
            bottom=base,
            label=_theme_name(settings, tr, slug),
            color=palette(n % 20),
        )
        base = [b + c for b, c in zip(base, counts, strict=True)]
    top.set_title(_("Proposals per theme per week"))
    if any(base):
        top.legend(loc="upper left", fontsize="small", ncols=2)
    top.yaxis.get_major_locator().set_params(integer=True)

    middle.bar([f"{week:%d.%m}" for week in figures.booking_weeks], figures.bookings)
    middle.set_title(_("Reception bookings per week"))
    middle.yaxis.get_major_locator().set_params(integer=True)

    names = [_theme_name(settings, tr, slug) for slug in figures.subscribers]
    bottom.barh(names, list(figures.subscribers.values()))
    bottom.invert_yaxis()
    bottom.set_title(_("Meeting subscribers per theme"))
    bottom.xaxis.get_major_locator().set_params(integer=True)

    output = io.BytesIO()
    figure.savefig(output, format="png")
    return output.getvalue()
