"""Exports for the working groups: every proposal as CSV or XLSX.

Contact details are included only where the resident agreed to be contacted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from bot.config import Settings
from bot.i18n import N_, Translator, translator
from bot.proposal_texts import status_name
from bot.store import Store
from bot.store.proposals import ExportRow, ThreadMessage

FORMATS = ("csv", "xlsx")
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
) -> AsyncIterator[list[str | int]]:
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


async def export_proposals(
    store: Store, settings: Settings, fmt: str, *, language: str = "lv"
) -> bytes:
    """All proposals in one file of the given format, as bytes; headings, themes and statuses
    in `language` (Latvian unless said otherwise: the working groups work in Latvian)."""
    tr = translator(language, settings.timezone)
    headings = [tr.gettext(column) for column in COLUMNS]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headings)
        async for values in export_rows(store, settings, tr):
            writer.writerow([_defused(v) for v in values])
        # A byte-order mark lets Excel open Latvian and Russian letters correctly.
        return buffer.getvalue().encode("utf-8-sig")
    if fmt == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(tr.gettext("Proposals"))
        sheet.append(headings)
        async for values in export_rows(store, settings, tr):
            sheet.append([_text_cell(sheet, v) for v in values])
        output = io.BytesIO()
        workbook.save(output)
        return output.getvalue()
    raise ValueError(f"format must be one of {FORMATS}")


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
