"""How fast the whole bot handles residents' updates, end to end, on this machine.

Each simulated resident does the full proposal flow (11 updates: /start, language, menu, theme,
text, a photo, continue, skip, consent-free preview, submit, /mine) against the in-process fake
Telegram, with the real Application, store (SQLite, synchronous=FULL), journal and message log.

    .venv/bin/python benchmarks/bench_flow.py [--residents 200]

Prints updates per second, per-update latency percentiles and peak memory. Figures depend on
the disk's fsync speed; compare runs on the same machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import load_settings
from fake_telegram import FakeTelegram, FakeTelegramRequest
from liepaja_bot.assembly import build_application


async def main(residents: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        settings = load_settings(
            environ={"DATABASE": f"{scratch}/bench.sqlite3", "PROPOSALS_PER_DAY": "100"},
            env_file=None,
        )
        fake = FakeTelegram()
        app = build_application(
            settings,
            request=FakeTelegramRequest(fake),
            get_updates_request=FakeTelegramRequest(fake),
            token=fake.token,
            rate_limit=False,
        )
        await app.initialize()
        fake.deliver_to(app)
        latencies: list[float] = []

        async def timed(action) -> None:  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            await action
            latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        for n in range(residents):
            user = fake.user(f"R{n}", language_code="en")
            await timed(user.send("/start"))
            await timed(user.press("✅ English"))
            await timed(user.press("📝 Submit a proposal"))
            await timed(user.press("Mobility"))
            await timed(user.send(f"Proposal number {n}: more bicycle parking near schools."))
            await timed(user.send_photo())
            await timed(user.press("➡️ Continue"))
            await timed(user.tap("Skip"))
            await timed(user.press("✅ Submit"))
            await timed(user.send("/mine"))
            await timed(user.send("thanks"))
        elapsed = time.perf_counter() - started
        await app.shutdown()

    latencies.sort()
    count = len(latencies)
    print(f"residents: {residents}, updates: {count}, elapsed: {elapsed:.2f} s")
    print(f"throughput: {count / elapsed:.0f} updates/s (one at a time, as PTB processes them)")
    print(
        "latency per update: "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {latencies[int(count * 0.95)] * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (bot + fake Telegram): {peak:.0f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=200)
    asyncio.run(main(parser.parse_args().residents))
