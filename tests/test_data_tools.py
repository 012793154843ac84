"""The office's data tools: exports of every kind (CLI and /export), /stats, QR codes."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook

from bot.store.bookings import Booking
from tests.conftest import ADMIN_ID, Harness, t
from tests.test_cli import cli
from tests.test_proposals import specialist, submit


def lv(message: str) -> str:
    return t("lv", message)


async def seed(tg: Harness) -> dict[str, int]:
    """Two proposals, three bookings, two meetings, subscriptions; returns the residents' ids."""
    anna = await tg.onboarded("Anna", language="Latviešu")
    boris = await tg.onboarded("Boris", language="Русский", language_code="ru")
    await submit(tg, anna, "lv", "Vairāk koncertu Rožu laukumā vasarā.", theme="Kultūra")
    await submit(tg, boris, "ru", "Нужен новый бассейн для детей.", theme="Спорт")
    store = tg.store
    monday = datetime(2027, 1, 18, 8, 0, tzinfo=UTC)  # 10:00 in Riga
    for resident, start, theme in (
        (anna.id, monday, "culture"),
        (boris.id, monday + timedelta(days=7), None),
    ):
        booked = await store.bookings.request(
            resident,
            language="lv",
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            places=2,
            theme=theme,
            note="Mans tālrunis 20000000",  # personal: must not be exported
        )
        assert isinstance(booked, Booking)
    await store.meetings.create(
        theme="culture",
        starts_at=datetime(2027, 2, 3, 15, 30, tzinfo=UTC),
        ends_at=datetime(2027, 2, 3, 17, 0, tzinfo=UTC),
        place=None,
        descriptions={"lv": "Kultūras darba grupas sēde", "ru": None, "en": None},
        by=ADMIN_ID,
    )
    await store.meetings.subscribe(anna.id, "culture")
    await store.meetings.subscribe(boris.id, "culture")
    await store.meetings.subscribe(boris.id, "*")
    return {"anna": anna.id, "boris": boris.id}


def sheet_rows(data: bytes | Path, sheet: str | None = None) -> list[tuple[object, ...]]:
    book = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    return list((book[sheet] if sheet else book.active).iter_rows(values_only=True))


async def test_export_every_kind_from_the_staff_chat_and_the_command_line(
    tg: Harness, tmp_path: Path
) -> None:
    ids = await seed(tg)
    await specialist(tg).send("/export")
    [workbook, proposals_csv] = [m.document for m in tg.staff_chat.messages if m.document]
    assert workbook.filename.endswith(".xlsx") and proposals_csv.filename.endswith(".csv")
    book = load_workbook(io.BytesIO(workbook.content))
    assert book.sheetnames == [lv("Proposals"), lv("Bookings"), lv("Meetings"), lv("Subscriptions")]

    proposals = sheet_rows(workbook.content, lv("Proposals"))
    assert [r[0] for r in proposals[1:]] == ["LIEP-2027-0001", "LIEP-2027-0002"]

    bookings = sheet_rows(workbook.content, lv("Bookings"))
    assert bookings[0][:3] == (lv("Booking"), lv("Resident (Telegram id)"), lv("Date"))
    assert [r[1:5] for r in bookings[1:]] == [
        (ids["anna"], "2027-01-18", "10:00", "10:30"),
        (ids["boris"], "2027-01-25", "10:00", "10:30"),
    ]
    assert bookings[1][5] == "Kultūra" and bookings[2][5] in (None, "")
    assert bookings[1][6] == lv("Waiting for confirmation")
    assert not any("20000000" in str(cell) for row in bookings for cell in row)

    meetings = sheet_rows(workbook.content, lv("Meetings"))
    assert meetings[1][1:5] == ("Kultūra", "2027-02-03", "17:30", "19:00")
    assert meetings[1][7] == "Kultūras darba grupas sēde"

    subscriptions = dict(sheet_rows(workbook.content, lv("Subscriptions"))[1:])
    assert subscriptions["Kultūra"] == 2 and subscriptions["Sports"] == 0
    assert subscriptions[lv("All themes")] == 1 and len(subscriptions) == 13

    # One kind alone, as XLSX and CSV.
    await specialist(tg).send("/export bookings")
    xlsx, csv_doc = [m.document for m in tg.staff_chat.messages if m.document][-2:]
    assert xlsx.filename.startswith("bookings-") and csv_doc.filename.startswith("bookings-")
    assert sheet_rows(xlsx.content) == bookings
    assert csv_doc.content.decode("utf-8-sig").splitlines()[0].startswith(lv("Booking"))
    await specialist(tg).send("/export nothing")
    assert "subscriptions" in tg.staff_chat.last_text

    # The command line: each kind into its own file, beside the running bot.
    database = str(tg.settings.database)
    for kind, expected in (("bookings", bookings), ("meetings", meetings)):
        result = await asyncio.to_thread(
            cli, tmp_path, "export", kind, "-o", f"{kind}.xlsx", DATABASE=database
        )
        assert result.returncode == 0, result.stderr
        assert sheet_rows(tmp_path / f"{kind}.xlsx") == expected
    result = await asyncio.to_thread(
        cli, tmp_path, "export", "subscriptions", "-o", "s.csv", DATABASE=database
    )
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "s.csv").read_text(encoding="utf-8-sig").splitlines()
    assert "Kultūra,2" in lines and f"{lv('All themes')},1" in lines


async def test_stats_sends_a_chart_and_the_numbers_the_store_holds(tg: Harness) -> None:
    await seed(tg)
    outsider = tg.fake.user("Olga", user_id=555).in_chat(tg.staff_chat)
    await outsider.send("/stats")
    assert tg.staff_chat.last_text == lv("This is for the Development Office staff only.")

    await specialist(tg).send("/stats")
    photo_message = next(m for m in tg.staff_chat.messages if m.photo)
    png = photo_message.photo.content
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1000, 1300) and len(png) > 20_000

    text = tg.staff_chat.last_text
    store = tg.store
    since = datetime(2026, 1, 1, tzinfo=UTC)
    proposals = await store.stats.proposal_times(since)
    assert (
        lv("Proposals in the last {weeks} weeks: {total}").format(weeks=8, total=len(proposals))
        in text
    )
    assert "• 2027-01-11: 2" in text  # both proposals this week (Monday 11 January)
    assert "• Kultūra: 1" in text and "• Sports: 1" in text
    # Bookings by the week of the reception: 18 and 25 January.
    bookings = await store.stats.booking_times(since, datetime(2028, 1, 1, tzinfo=UTC))
    assert len(bookings) == 2 and "• 2027-01-18: 1" in text and "• 2027-01-25: 1" in text
    counts = await store.stats.subscription_counts()
    subscribers = text.split(lv("Meeting subscribers per theme:"))[1]
    assert f"• Kultūra: {counts['culture']}" in subscribers and counts["culture"] == 2
    assert f"• {lv('All themes')}: {counts['*']}" in subscribers and "• Sports: 0" in subscribers


def test_qr_codes_of_every_themes_deep_link(tmp_path: Path) -> None:
    from xml.etree import ElementTree

    import segno
    import zxingcpp
    from PIL import Image

    from bot.config import load_settings
    from liepaja_bot.qr import code_of

    settings = load_settings(environ={"DATABASE": str(tmp_path / "x")}, env_file=None)
    themes_by_slug = {theme.slug: theme for theme in settings.municipality.themes}
    result = cli(tmp_path, "qr", "-o", "codes", "--bot", "@liepaja_test_bot")
    assert result.returncode == 0, result.stderr
    assert "wrote 24 files" in result.stdout
    folder = tmp_path / "codes"
    pngs, svgs = sorted(folder.glob("*.png")), sorted(folder.glob("*.svg"))
    assert len(pngs) == len(svgs) == 12 and len(list(folder.iterdir())) == 24
    for png in pngs:
        slug = png.stem
        link = f"https://t.me/liepaja_test_bot?start={slug}"
        # The PNG is read back by a real decoder (zxing-cpp), the name under it left aside.
        [decoded] = zxingcpp.read_barcodes(Image.open(png))
        assert decoded.text == link
        # The SVG holds segno's drawing of the same link (no SVG renderer here to decode it:
        # its path is compared with segno's own for that link) and the name as text.
        tree = ElementTree.parse(folder / f"{slug}.svg").getroot()
        ns = {"svg": "http://www.w3.org/2000/svg"}
        [path] = tree.findall(".//svg:path", ns)
        expected = segno.make_qr(link, error="q", boost_error=False)
        assert code_of(link).matrix == expected.matrix
        buffer = io.BytesIO()
        expected.save(buffer, kind="svg", scale=12, border=4)
        assert f'd="{path.get("d")}"' in buffer.getvalue().decode()
        name = " ".join(text.text or "" for text in tree.findall("svg:text", ns))
        assert name == themes_by_slug[slug].name("lv")

    # The username from the settings, or a clear refusal without one.
    assert cli(tmp_path, "qr", "-o", "b", BOT_USERNAME="liepaja_test_bot").returncode == 0
    refused = cli(tmp_path, "qr", "-o", "c")
    assert refused.returncode == 2 and "BOT_USERNAME" in refused.stderr
    assert cli(tmp_path, "qr", "-o", "d", "--bot", "no way").returncode == 2
