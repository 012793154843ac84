"""A real `kill -9` mid-broadcast (issue 9): `liepaja-bot run` polls the fake Telegram over HTTP,
40 residents subscribe, a specialist publishes a meeting and confirms its broadcast, and the
process is killed with SIGKILL while the copies go out (OUTBOX_RATE=5: it takes seconds). The
kill is made by the fake from inside the request of one copy, after Telegram delivered it and
before the bot read the answer. A new process on the same file finishes the broadcast: nobody
gets it twice, nobody is skipped — but for copies the store marks 'uncertain' (claimed, then
killed before Telegram's answer), which arrived once or not at all; the killed one among them.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from fake_telegram import FakeMessage, FakeTelegram, FakeUser, serve
from handlers.meetings_desk import EN, LV, PROMPTS, RU
from tests.conftest import ADMIN_ID, STAFF_CHAT_ID, send_to_subscribers, t
from tests.test_kill9 import press_when_shown, start_bot

SUBSCRIBERS = 40
KILL_AT = 10  # the copy whose request kills the first process
HEADING = t("lv", "👥 Working-group meeting: {theme}").split("{")[0]
WHEN = (
    "When? Write the date and time in Riga's time, e.g. 2027-02-03 17:30 (90 minutes), "
    "or with the end: 2027-02-03 17:30-19:00."
)
SUBSCRIPTIONS = (
    "Press a theme to hear about its meetings here (✅ = subscribed), or “All themes”. "
    "Press again to unsubscribe. The weekly digest brings the coming week's meetings of these "
    "themes in one message, once a week. /stop ends every subscription."
)
REPORT = "✅ Broadcast #{id} finished: {sent} of {n} delivered."
UNCERTAIN = "❓ Uncertain (timed out: may have arrived, not sent again): {n}"


def copies(user: FakeUser) -> int:
    return sum(1 for m in user.messages if (m.text or "").startswith(HEADING))


async def prompted(fake: FakeTelegram, chat: Any, text: str, before: int) -> FakeMessage:
    """Until the bot has asked `text` in `chat` (after its first `before` messages)."""
    await fake.wait_until(
        lambda: any(m.text == text for m in chat.messages[before:]), 10, message=text
    )
    return next(m for m in chat.messages[before:] if m.text == text)


async def subscribe(fake: FakeTelegram, user: FakeUser, theme: str) -> None:
    """/start, Latvian, 👥 → 🔔 → the theme (or all), until its button is ticked."""
    await user.send("/start")
    await press_when_shown(fake, user, "✅ Latviešu", within=30)  # first start: imports
    await press_when_shown(fake, user, t("lv", "👥 Working-group meetings"))
    before = len(user.messages)
    await press_when_shown(fake, user, t("lv", "🔔 Subscriptions"))
    listing = await prompted(fake, user, t("lv", SUBSCRIPTIONS), before)
    await user.press(theme, message=listing)
    await fake.wait_until(lambda: listing.button(f"✅ {theme}") is not None, 10, message=theme)


async def publish_and_confirm(fake: FakeTelegram, inese: FakeUser, staff: Any) -> None:
    """/newmeeting in the staff chat: culture, a date, the descriptions, Publish, then Send."""
    before = len(staff.messages)
    await inese.send("/newmeeting")
    await press_when_shown(fake, inese, "Kultūra")
    await prompted(fake, staff, t("lv", WHEN), before)
    await inese.send("2027-02-03 17:30")
    await prompted(fake, staff, t("lv", PROMPTS[LV]), before)
    await inese.send("Apspriedīsim kultūras stratēģiju.")
    await prompted(fake, staff, t("lv", PROMPTS[RU]), before)
    await inese.send("Обсудим стратегию культуры.")
    asked = await prompted(fake, staff, t("lv", PROMPTS[EN]), before)
    await inese.press(t("lv", "Skip"), message=asked)
    await press_when_shown(fake, inese, t("lv", "✅ Publish"))
    send = send_to_subscribers(SUBSCRIBERS)
    await press_when_shown(fake, inese, send)


async def test_kill_9_mid_broadcast_duplicates_and_skips_nobody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTBOX_RATE", "5")  # 40 copies take seconds: time to strike mid-way
    fake = FakeTelegram(bot_username="liepaja_test_bot")
    staff = fake.group("Attīstības pārvalde", chat_id=STAFF_CHAT_ID)
    inese = fake.user("Inese", user_id=ADMIN_ID, language_code="lv").in_chat(staff)
    themes = ["Kultūra", t("lv", "All themes")]
    residents = [fake.user(f"R{n}", language_code="lv") for n in range(SUBSCRIBERS)]
    subscriber_ids = {str(user.id) for user in residents}
    server = await serve(fake)
    log_path = tmp_path / "bot.log"
    processes: list[asyncio.subprocess.Process] = []
    killed = asyncio.Event()
    armed = False
    killed_copy: str | None = None
    original = fake.call

    async def call(method: str, params: dict[str, Any], files: Any = None) -> Any:
        nonlocal armed, killed_copy
        is_copy = (
            method.lower() == "sendmessage"
            and str(params.get("chat_id")) in subscriber_ids
            and str(params.get("text") or "").startswith(HEADING)
        )
        if not (armed and is_copy and sum(map(copies, residents)) >= KILL_AT - 1):
            answer = await original(method, params, files)
            await fake._notify_activity()
            return answer
        armed = False
        await original(method, params, files)  # Telegram delivers it ...
        processes[0].kill()  # ... and the bot dies before it reads the answer
        killed_copy = str(params["chat_id"])
        killed.set()
        return (503, {"ok": False, "error_code": 503, "description": "killed"})

    fake.call = call  # type: ignore[method-assign]
    try:
        with log_path.open("wb") as log:
            processes.append(await start_bot(server, fake, tmp_path, log))
            await asyncio.gather(
                *(subscribe(fake, user, themes[n % 2]) for n, user in enumerate(residents))
            )
            armed = True
            await publish_and_confirm(fake, inese, staff)
            await asyncio.wait_for(killed.wait(), 20)
            assert await asyncio.wait_for(processes[0].wait(), 15) == -signal.SIGKILL
            delivered = sum(map(copies, residents))
            assert KILL_AT <= delivered < SUBSCRIBERS, delivered  # mid-broadcast

            processes.append(await start_bot(server, fake, tmp_path, log))
            finished = t("lv", REPORT).split("{")[0]
            await fake.wait_until(
                lambda: any((m.text or "").startswith(finished) for m in staff.messages),
                30,
                message=f"no final report\n{staff.transcript()}",
            )
            processes[1].send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(processes[1].wait(), 30) == 0  # stopped cleanly
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await asyncio.wait_for(process.wait(), 15)
        await server.close()

    store = Store(tmp_path / "bot.sqlite3")
    await store.open()
    try:
        ledger = {}
        for user in residents:
            rows = [(k, s) for k, s in await store.outbox.deliveries_to(user.id) if "cast:" in k]
            assert len(rows) == 1, (user.first_name, rows)
            ledger[str(user.id)] = rows[0][1]
    finally:
        await store.close()
    assert killed_copy is not None and ledger[killed_copy] == "uncertain"  # never sent again
    for user in residents:
        if ledger[str(user.id)] == "uncertain":
            assert copies(user) <= 1, f"{user.first_name}: uncertain, yet {copies(user)} copies"
        else:
            assert ledger[str(user.id)] == "sent", (user.first_name, ledger[str(user.id)])
            assert copies(user) == 1, f"{user.first_name}: {copies(user)} copies"
    uncertain = sum(status == "uncertain" for status in ledger.values())
    report = "\n".join(
        [
            t("lv", REPORT).format(id=1, sent=SUBSCRIBERS - uncertain, n=SUBSCRIBERS),
            t("lv", UNCERTAIN).format(n=uncertain),
        ]
    )
    assert report in [m.text for m in staff.messages]
    logs = log_path.read_text(encoding="utf-8", errors="replace")
    assert " ERROR " not in logs and " CRITICAL " not in logs, "the bot logged an error"
