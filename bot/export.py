"""Exports for the working groups, as CSV or XLSX, in the reader's language: every proposal,
every reception booking, every working-group meeting, and the subscribers per theme.

Contact details are included only where the resident agreed to be contacted (proposals); the
other kinds hold nothing personal beyond residents' ids. Each kind is a `Table` (a sheet's name,
its headings, its rows); `export_tables` writes one or more of them as a file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from bot import statuses
from bot.config import Settings
from bot.i18n import N_, Translator, translator
from bot.proposal_texts import status_name
from bot.store import Store
from bot.store.proposals import ExportRow, ThreadMessage

FORMATS = ("csv", "xlsx")
Cell = str | int
KINDS = ("proposals", "bookings", "meetings", "subscriptions")
COLUMNS = (
    N_("Reference"),
    N_("Theme"),
    N_("Submitted"),
    N_("Status"),
    N_("Reason for the status"),
    N_("Language"),
    N_("Text"),
    N_("Attachments"),
    N_("Answers from the office"),
    N_("Follow-ups from the resident"),
    N_("Agreed to be contacted"),
    N_("Phone"),
    N_("E-mail"),
)


async def export_rows(
    store: Store, settings: Settings, tr: Translator
) -> AsyncIterator[list[Cell]]:
    """One row per proposal, in the reader's language. Times are ISO-like local times
    (sortable in any spreadsheet), not prose."""
    tz = settings.timezone

    def joined(messages: list[ThreadMessage]) -> str:
        return "\n\n".join(
            f"[{m.created_at.astimezone(tz):%Y-%m-%d %H:%M}] {m.text}" for m in messages
        )

    row: ExportRow
    async for row in store.proposals.proposals_for_export():
        p = row.proposal
        theme = settings.municipality.theme(p.theme)
        yield [
            p.reference,
            theme.name(tr.language) if theme else p.theme,
            p.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            status_name(tr, p.status),
            row.reason or "",
            p.language,
            p.text,
            row.attachments,
            joined(row.answers),
            joined(row.follow_ups),
            tr.gettext("yes") if p.wants_contact else tr.gettext("no"),
            (p.phone or "") if p.wants_contact else "",
            (p.email or "") if p.wants_contact else "",
        ]


@dataclass(frozen=True)
class Table:
    """One kind of data, ready to write: a CSV file, or a sheet of a workbook."""

    title: str
    headings: list[str]
    rows: AsyncIterator[list[Cell]] | Iterable[list[Cell]]


async def _rows(table: Table) -> AsyncIterator[list[Cell]]:
    if isinstance(table.rows, AsyncIterator):
        async for values in table.rows:
            yield values
    else:
        for values in table.rows:
            yield values


async def export_tables(tables: list[Table], fmt: str) -> bytes:
    """The tables as one file: XLSX with a sheet each; CSV holds exactly one."""
    if fmt == "csv":
        if len(tables) != 1:
            raise ValueError("a CSV file holds one table")
        [table] = tables
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(table.headings)
        async for values in _rows(table):
            writer.writerow([_defused(v) for v in values])
        # A byte-order mark lets Excel open Latvian and Russian letters correctly.
        return buffer.getvalue().encode("utf-8-sig")
    if fmt == "xlsx":
        workbook = Workbook(write_only=True)
        for table in tables:
            # Excel allows 31 characters in a sheet's name.
            sheet = workbook.create_sheet(table.title[:31])
            sheet.append(table.headings)
            async for values in _rows(table):
                sheet.append([_text_cell(sheet, v) for v in values])
        output = io.BytesIO()
        workbook.save(output)
        return output.getvalue()
    raise ValueError(f"format must be one of {FORMATS}")


async def export_proposals(
    store: Store, settings: Settings, fmt: str, *, language: str = "lv"
) -> bytes:
    """All proposals in one file of the given format, as bytes; headings, themes and statuses
    in `language` (Latvian unless said otherwise: the working groups work in Latvian)."""
    return await export_kind(store, settings, "proposals", fmt, language=language)


async def export_kind(
    store: Store, settings: Settings, kind: str, fmt: str, *, language: str = "lv"
) -> bytes:
    """One kind (KINDS) in one file of the given format."""
    tr = translator(language, settings.timezone)
    return await export_tables([await table(store, settings, kind, tr)], fmt)


async def export_workbook(store: Store, settings: Settings, *, language: str = "lv") -> bytes:
    """Every kind in one XLSX workbook, a sheet each, proposals first."""
    tr = translator(language, settings.timezone)
    return await export_tables([await table(store, settings, k, tr) for k in KINDS], "xlsx")


async def table(store: Store, settings: Settings, kind: str, tr: Translator) -> Table:
    """The kind's table in the reader's language."""
    build: dict[str, Callable[[Store, Settings, Translator], Any]] = {
        "proposals": _proposals_table,
        "bookings": _bookings_table,
        "meetings": _meetings_table,
        "subscriptions": _subscriptions_table,
    }
    if kind not in build:
        raise ValueError(f"kind must be one of {KINDS}")
    result: Table = await build[kind](store, settings, tr)
    return result


async def _proposals_table(store: Store, settings: Settings, tr: Translator) -> Table:
    return Table(
        tr.gettext("Proposals"),
        [tr.gettext(column) for column in COLUMNS],
        export_rows(store, settings, tr),
    )


BOOKING_COLUMNS = (
    N_("Booking"),
    N_("Resident (Telegram id)"),
    N_("Date"),
    N_("From"),
    N_("To"),
    N_("Theme"),
    N_("Status"),
    N_("Reason for the status"),
    N_("Language"),
    N_("Requested"),
)


async def _bookings_table(store: Store, settings: Settings, tr: Translator) -> Table:
    """A booking's note is left out: free text, personal, and not what the groups count."""
    tz = settings.timezone
    rows: list[list[Cell]] = []
    for b in await store.stats.bookings():
        start, end = b.starts_at.astimezone(tz), b.ends_at.astimezone(tz)
        rows.append(
            [
                b.id,
                b.resident_id if b.resident_id > 0 else tr.gettext("anonymous"),
                f"{start:%Y-%m-%d}",
                f"{start:%H:%M}",
                f"{end:%H:%M}",
                _theme(settings, tr, b.theme),
                tr.gettext(statuses.BOOKING_NAMES.get(b.status, b.status)),
                b.reason or "",
                b.language,
                f"{b.created_at.astimezone(tz):%Y-%m-%d %H:%M}",
            ]
        )
    return Table(tr.gettext("Bookings"), [tr.gettext(c) for c in BOOKING_COLUMNS], rows)


MEETING_COLUMNS = (
    N_("Meeting"),
    N_("Theme"),
    N_("Date"),
    N_("From"),
    N_("To"),
    N_("Place"),
    N_("Status"),
    N_("Description"),
)
MEETING_STATUS = {"scheduled": N_("Scheduled"), "cancelled": N_("Cancelled")}


async def _meetings_table(store: Store, settings: Settings, tr: Translator) -> Table:
    tz = settings.timezone
    venue = settings.municipality.meeting_venue
    rows: list[list[Cell]] = []
    for m in await store.stats.meetings():
        start, end = m.starts_at.astimezone(tz), m.ends_at.astimezone(tz)
        rows.append(
            [
                m.id,
                _theme(settings, tr, m.theme),
                f"{start:%Y-%m-%d}",
                f"{start:%H:%M}",
                f"{end:%H:%M}",
                m.place or f"{venue.name(tr.language)}, {venue.address}",
                tr.gettext(MEETING_STATUS.get(m.status, m.status)),
                m.description(tr.language),
            ]
        )
    return Table(tr.gettext("Meetings"), [tr.gettext(c) for c in MEETING_COLUMNS], rows)


SUBSCRIPTION_COLUMNS = (N_("Theme"), N_("Subscribers"))


async def _subscriptions_table(store: Store, settings: Settings, tr: Translator) -> Table:
    """Counts only: residents subscribed to each theme, then those subscribed to every theme
    (who are told of every theme's meetings besides)."""
    counts = await store.stats.subscription_counts()
    rows: list[list[Cell]] = [
        [theme.name(tr.language), counts.get(theme.slug, 0)]
        for theme in settings.municipality.themes
    ]
    rows.append([tr.gettext("All themes"), counts.get("*", 0)])
    return Table(tr.gettext("Subscriptions"), [tr.gettext(c) for c in SUBSCRIPTION_COLUMNS], rows)


def _theme(settings: Settings, tr: Translator, slug: str | None) -> str:
    if not slug:
        return ""
    theme = settings.municipality.theme(slug)
    return theme.name(tr.language) if theme else slug


def _defused(value: str | int) -> str | int:
    """A resident's text that starts like a formula ("=HYPERLINK(...)") must stay text when a
    spreadsheet opens the CSV (OWASP: CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _text_cell(sheet: Any, value: str | int) -> WriteOnlyCell | int:
    """openpyxl takes a string starting with "=" for a formula; these cells are always text.
    Control characters that XML cannot carry (a resident's text may hold a bell, a vertical tab,
    an escape sequence) would make openpyxl refuse the whole file, for everyone: in the
    spreadsheet they become U+FFFD, while the store keeps the text as sent (and so does the CSV)."""
    if isinstance(value, int):
        return value
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value))
    cell.data_type = "s"
    return cell
