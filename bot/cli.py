"""The `liepaja-bot` command (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="liepaja-bot", description="Liepāja development programme Telegram bot."
    )
    parser.add_argument("--env-file", type=Path, default=Path(".env"), help="default: .env")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot against Telegram (needs BOT_TOKEN)")
    commands.add_parser("migrate", help="apply database migrations and exit")
    demo = commands.add_parser(
        "demo", help="chat with the bot in this terminal, offline, against a fake Telegram"
    )
    demo.add_argument("--script", type=Path, help="play a scripted conversation, print it, exit")
    demo.add_argument("--database", type=Path, help="default: a fresh temporary database")
    demo.add_argument("--language", default="lv", help="the demo resident's Telegram language")
    export = commands.add_parser("export", help="export data for the working groups")
    export.add_argument("what", choices=["proposals"])
    export.add_argument("--format", choices=["csv", "xlsx"], default="xlsx")
    export.add_argument("-o", "--output", type=Path, required=True, help="the file to write")
    export.add_argument(
        "--language", choices=["lv", "ru", "en"], default="lv", help="of headings and statuses"
    )
    args = parser.parse_args(argv)

    try:
        settings = load_settings(env_file=args.env_file)
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    # The demo's terminal is the chat: only warnings may interrupt it.
    level = (
        "WARNING" if args.command == "demo" and settings.log_level == "INFO" else settings.log_level
    )
    configure_logging(level, secrets=[settings.bot_token or ""])

    if args.command == "run":
        return run(settings)
    if args.command == "migrate":
        return asyncio.run(migrate(settings))
    if args.command == "export":
        return asyncio.run(export_to_file(settings, args.format, args.output, args.language))
    if args.command == "demo":
        from bot.demo import run_demo

        return asyncio.run(
            run_demo(settings, script=args.script, database=args.database, language=args.language)
        )
    return 2


def run(settings: Settings) -> int:
    from telegram import Update

    from bot.app import build_application

    if not settings.bot_token:
        print(
            "BOT_TOKEN is not set. Create a bot with @BotFather and put its token in .env "
            "(see .env.example), or try `liepaja-bot demo`, which needs no token.",
            file=sys.stderr,
        )
        return 2
    app = build_application(settings)
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


async def migrate(settings: Settings) -> int:
    from bot.store import Store

    store = Store(settings.database, synchronous=settings.sqlite_synchronous)
    try:
        await store.open()
        applied = await store.applied_migrations()
    finally:
        await store.close()
    print(f"{settings.database}: {len(applied)} migrations applied, newest {applied[-1]}")
    return 0


async def export_to_file(settings: Settings, fmt: str, output: Path, language: str) -> int:
    from bot.export import export_proposals
    from bot.store import Store

    store = Store(settings.database, synchronous=settings.sqlite_synchronous)
    try:
        await store.open()
        data = await export_proposals(store, settings, fmt, language=language)
    finally:
        await store.close()
    output.write_bytes(data)
    print(f"wrote {output} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
