"""Residents' data rights: a copy of everything (/mydata), being forgotten (/forget) down to the
bytes of the database file, and the retention the privacy notice promises."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fake_telegram import FakeUser
from tests.conftest import ADMIN_ID, Harness, t
from tests.test_booking import book
from tests.test_booking_calendar import calendar_files, confirmed_booking, event_of
from tests.test_proposals import MOBILITY
from tests.test_waitlist import fill, join_waitlist, offers

NAME = "Zelmīra"
SURNAME = "Kvēpstiņa"
PHONE = "+37129871234"
EMAIL = "zelmira.kvepstina@example.lv"
PROPOSAL = "Lūdzu, iestādiet liepas gar Kuršu ielu, lai vasarā būtu ēna."
STRAY = "Starp citu, mans kaimiņš Pēteris Pļaviņš bieži trokšņo naktīs."
NOTE = "Ieradīšos ar ratiņkrēslu, lūdzu, palīdziet pie durvīm."


def _(message: str) -> str:
    return t("lv", message)


async def subscribe_to_culture(user: FakeUser) -> None:
    """Culture's meetings, and the weekly digest of them."""
    await user.press(_("👥 Working-group meetings"))
    await user.press(_("🔔 Subscriptions"))
    await user.press(_("Kultūra"))
    await user.press(_("🗓 Weekly digest: off"))


async def resident_with_everything(tg: Harness) -> FakeUser:
    """A resident with two proposals (phone, e-mail), a booking with a note, a subscription to
    a theme's meetings and its weekly digest, a stray message and a draft."""
    user = await tg.onboarded(NAME, last_name=SURNAME, phone_number=PHONE)
    await subscribe_to_culture(user)
    await user.press(_("📝 Submit a proposal"))
    await user.press(MOBILITY["lv"])
    await user.send(PROPOSAL)
    await user.press(_("➡️ Continue"))
    await user.tap(_("📱 Share my phone number"))
    await user.press(_("Yes, contact me"))
    await user.press(_("✅ Submit"))
    await user.send("/propose")
    await user.press(MOBILITY["lv"])
    await user.send("Otrs priekšlikums par soliņiem parkā.")
    await user.press(_("➡️ Continue"))
    await user.send(EMAIL)
    await user.press(_("Yes, contact me"))
    await user.press(_("✅ Submit"))
    await book(user, "lv", note=NOTE)
    await user.send(STRAY)
    return user


async def test_mydata_sends_everything_as_a_file(tg: Harness) -> None:
    user = await resident_with_everything(tg)
    await user.send("/mydata")
    message = user.last
    assert message.document is not None and message.document.filename == "my-data.json"
    assert message.caption == _(
        "Everything this bot holds about you, as a file. To have it deleted: /forget"
    )
    data = json.loads(message.document.content)
    assert data["profile"]["user_id"] == user.id and data["profile"]["language"] == "lv"
    [first, second] = data["proposals"]
    assert first["text"] == PROPOSAL and first["phone"] == PHONE
    assert second["email"] == EMAIL
    assert [s["status"] for s in first["status_history"]] == ["received"]
    [booking] = data["bookings"]
    assert booking["note"] == NOTE and booking["status"] == "requested"
    assert any(m["text"] == STRAY for m in data["message_log"])
    assert data["waitlist"] == []  # the section is there even when empty
    assert [s["theme"] for s in data["meeting_subscriptions"]] == ["culture"]
    assert data["weekly_digest"]["on_since"].startswith("2027-01-12")


async def test_forget_leaves_no_byte_of_the_person(tg: Harness) -> None:
    user = await resident_with_everything(tg)
    [card] = [m for m in tg.staff_chat.messages if m.text and PHONE in m.text]
    await user.send("/propose")
    await user.press(MOBILITY["lv"])
    await user.send("Melnraksts, kas nekad netiks iesniegts.")
    database = Path(tg.settings.database)

    def file_bytes() -> bytes:
        wal = database.with_name(database.name + "-wal")
        return database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")

    secrets = [NAME, SURNAME, PHONE, EMAIL, STRAY, NOTE, "Melnraksts, kas nekad"]
    before = file_bytes()
    # Names come only in updates, which are no longer written down as they arrive.
    assert all(s.encode() in before for s in secrets if s not in (NAME, SURNAME))

    await user.send("/forget")
    assert user.last.buttons == [[_("🗑 Yes, delete my data")], [_("No, keep it")]]
    await user.press(_("🗑 Yes, delete my data"))
    assert user.last_text == _(
        "Your data has been deleted. If you write to this bot again, it starts afresh."
    )

    store = tg.store
    assert await store.residents.resident(user.id) is None
    assert await store.messages.conversation_with(user.id) == []
    assert await store.drafts.draft_of(user.id) is None
    assert await store.proposals.proposals_of(user.id, offset=0, limit=10) == []
    assert await store.meetings.subscriptions_of(user.id) == set()
    assert not await store.meetings.digest_on(user.id)
    # The proposals stay, anonymous, with their text; contact details gone.
    first = await store.proposals.proposal_by_reference("LIEP-2027-0001")
    assert first is not None and first.text == PROPOSAL
    assert first.resident_id < 0 and first.phone is None and not first.wants_contact
    placeholder = await store.residents.resident(first.resident_id)
    assert placeholder is not None and placeholder.language is None
    history = await store.proposals.status_history_of(first.id)
    assert all(change.changed_by != user.id for change in history)
    # The booking is cancelled, its note gone; the staff chat's cards no longer show them.
    booking = await store.bookings.booking(1)
    assert booking is not None
    assert booking.status == "cancelled" and booking.note is None
    assert PHONE not in (card.text or "")
    # The edited cards say "anonymous" in the staff's language, not the placeholder's id.
    edited = [m for m in tg.staff_chat.messages if m.text and _("anonymous") in m.text]
    assert card in edited and len(edited) >= 3  # both proposals' cards and the booking's
    placeholder_id = re.compile(rf"(?<![\w-]){first.resident_id}(?!\d)")
    assert not any(placeholder_id.search(m.text or "") for m in tg.staff_chat.messages)
    assert all(NOTE not in (m.text or "") for m in tg.staff_chat.messages)
    assert all(EMAIL not in (m.text or "") for m in tg.staff_chat.messages)

    after = file_bytes()
    for secret in secrets:
        assert secret.encode() not in after, secret
    assert PROPOSAL.encode() in after  # the anonymous record

    # Staff cannot bring them back: a new /start is a new resident, with nothing of before.
    await user.send("/start")
    assert await store.proposals.proposals_of(user.id, offset=0, limit=10) == []


async def test_forget_can_be_called_off(tg: Harness) -> None:
    user = await tg.onboarded(NAME)
    await user.send("/forget")
    await user.press(_("No, keep it"))
    assert user.last_text == _("Nothing was deleted.")
    assert await tg.store.residents.resident(user.id) is not None


async def test_a_banned_resident_stays_banned_after_forget(tg: Harness) -> None:
    user = await tg.onboarded(NAME)
    await subscribe_to_culture(user)
    await tg.store.residents.ban_resident(user.id, by=ADMIN_ID)
    await user.send("/forget")
    await user.press(_("🗑 Yes, delete my data"))
    assert await tg.store.residents.is_banned(user.id)
    resident = await tg.store.residents.resident(user.id)
    assert resident is not None and resident.language is None
    # Their row stays for the ban, their subscriptions and weekly digest do not.
    assert await tg.store.meetings.subscriptions_of(user.id) == set()
    assert not await tg.store.meetings.digest_on(user.id)


async def test_retention_after_the_notices_period(tg: Harness) -> None:
    user = await resident_with_everything(tg)
    await user.send("/propose")
    await user.press(MOBILITY["lv"])
    await user.send("Pamests melnraksts.")
    other = await tg.onboarded("Jānis")
    # A month on: the abandoned draft goes, nothing else.
    tg.clock.advance(days=31)
    await tg.app.settle()
    assert await tg.store.drafts.draft_of(user.id) is None
    assert await tg.store.messages.conversation_with(user.id) != []
    # 24 months after the last message (the booking long over): log, contacts, bookings go.
    await other.send("Vēl esmu te.")
    tg.clock.advance(days=365 * 2)
    await other.send("Joprojām te.")
    await tg.app.settle()
    assert await tg.store.messages.conversation_with(user.id) == []
    proposal = await tg.store.proposals.proposal_by_reference("LIEP-2027-0001")
    assert proposal is not None and proposal.phone is None and proposal.text == PROPOSAL
    held = await tg.store.privacy.everything_about(user.id)
    assert held["message_log"] == [] and held["bookings"] == [] and held["draft"] is None
    assert all(p["phone"] is None and p["email"] is None for p in held["proposals"])
    # Someone who wrote recently keeps theirs.
    assert await tg.store.messages.conversation_with(other.id) != []


@pytest.mark.parametrize("language", ["lv", "ru"])
async def test_forget_takes_a_confirmed_booking_out_of_the_calendar_and_frees_its_place(
    tg: Harness, language: str
) -> None:
    _ = lambda message: t(language, message)  # noqa: E731
    anna = await confirmed_booking(tg, language)  # Wednesday 14:30
    [published] = calendar_files(anna)
    await fill(tg)
    boris = await tg.onboarded("Boris")
    await join_waitlist(boris, "lv")

    await anna.send("/forget")
    await anna.press(_("🗑 Yes, delete my data"))

    # Her calendar app is told to remove the meeting it holds: same event, a later version.
    [_published, removal] = calendar_files(anna)
    assert str(removal["METHOD"]) == "CANCEL"
    assert str(event_of(removal)["UID"]) == str(event_of(published)["UID"])
    assert event_of(removal)["SEQUENCE"] > event_of(published)["SEQUENCE"]
    assert str(event_of(removal)["STATUS"]) == "CANCELLED"
    before, after = _(
        "Your booking for {when} is cancelled. Opening this file removes it from your calendar."
    ).split("{when}")
    caption = anna.last.caption or ""
    assert caption.startswith(before) and caption.endswith(after) and "14:30" in caption
    assert anna.messages[-2].text == _(
        "Your data has been deleted. If you write to this bot again, it starts afresh."
    )
    # The place she held goes to the first in the date's line, as any cancelled one would.
    [offer] = offers(boris, "lv")
    assert "14:30" in offer
    booking = await tg.store.bookings.booking(1)
    assert booking is not None and booking.status == "cancelled" and booking.resident_id < 0
    # Nothing more reaches her chat once she is forgotten (no second cancellation).
    assert anna.last.caption == caption


async def test_forget_sends_no_calendar_file_for_a_booking_never_confirmed(tg: Harness) -> None:
    anna = await tg.onboarded("Anna")
    await book(anna, "lv")
    await anna.send("/forget")
    await anna.press(_("🗑 Yes, delete my data"))
    assert calendar_files(anna) == []
    booking = await tg.store.bookings.booking(1)
    assert booking is not None and booking.status == "cancelled"
