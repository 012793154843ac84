"""The `liepaja-bot` command (also `python -m liepaja_bot`).

It is run by an IT admin from a shell, a service unit or a container: what goes wrong outside
the code (a path, a file, the network) is told in one line on stderr with a non-zero exit code,
never as a traceback. 1: it failed; 2: it was asked for something wrong (settings, arguments).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from bot.store import StoreOpenError

# The export's format, when --format is not given, from the output file's name.
FORMAT_OF_SUFFIX = {".csv": "csv", ".xlsx": "xlsx"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="liepaja-bot", description="Liepāja development programme Telegram bot."
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        help="settings file; must exist if given (default: .env, only if there is one)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot against Telegram (needs BOT_TOKEN)")
    commands.add_parser("migrate", help="apply database migrations and exit")
    check = commands.add_parser(
        "check", help="check the settings, the database and Telegram; exit 1 if anything fails"
    )
    check.add_argument("--offline", action="store_true", help="skip the Telegram checks")
    backup = commands.add_parser(
        "backup", help="copy the database into FILE, safely while the bot runs"
    )
    backup.add_argument("file", type=Path)
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    restore = commands.add_parser(
        "restore", help="replace the database with the backup FILE (the bot must be stopped)"
    )
    restore.add_argument("file", type=Path)
    demo = commands.add_parser(
        "demo", help="chat with the bot in this terminal, offline, against a fake Telegram"
    )
    demo.add_argument("--script", type=Path, help="play a scripted conversation, print it, exit")
    demo.add_argument("--database", type=Path, help="default: a fresh temporary database")
    demo.add_argument("--language", default="lv", help="the demo resident's Telegram language")
    demo.add_argument(
        "--web",
        action="store_true",
        help="serve a page on 127.0.0.1 with a resident's chat and the staff chat side by side",
    )
    demo.add_argument(
        "--port", type=int, default=0, help="the web demo's port (default: a free one)"
    )
    export = commands.add_parser("export", help="export data for the working groups")
    export.add_argument(
        "what",
        choices=["proposals", "bookings", "meetings", "subscriptions"],
        help="what to export",
    )
    export.add_argument(
        "--format", choices=["csv", "xlsx"], help="default: from the file name (.csv or .xlsx)"
    )
    export.add_argument("-o", "--output", type=Path, required=True, help="the file to write")
    export.add_argument(
        "--language", choices=["lv", "ru", "en"], default="lv", help="of headings and statuses"
    )
    qr = commands.add_parser(
        "qr", help="a printable QR code (PNG and SVG) of each theme's deep link into FOLDER"
    )
    qr.add_argument("-o", "--output", type=Path, required=True, help="the folder to write into")
    qr.add_argument("--bot", help="the bot's username (default: the BOT_USERNAME setting)")
    meetings = commands.add_parser("meetings", help="the working groups' meeting schedule")
    meetings_commands = meetings.add_subparsers(dest="meetings_command", required=True)
    import_ = meetings_commands.add_parser(
        "import",
        help="add or update meetings from an iCalendar (.ics) or CSV (.csv) file, all or none",
    )
    import_.add_argument(
        "file", type=Path, help="an .ics or a .csv file; its extension tells which"
    )
    args = parser.parse_args(argv)

    if args.command == "demo" and args.web and args.script is not None:
        return fail("--script plays a conversation in the terminal: leave out --web", code=2)
    if args.command == "demo" and not 0 <= args.port <= 65535:
        return fail(f"--port {args.port}: give 1-65535, or 0 for a free port", code=2)

    export_format: str | None = None
    if args.command == "export":
        export_format = args.format or FORMAT_OF_SUFFIX.get(args.output.suffix.lower())
        if export_format is None:
            # Writing XLSX into a file called .csv (the old default) only confuses its reader.
            return fail(
                f"cannot tell the format from the file name {args.output}: "
                "name it .csv or .xlsx, or give --format csv|xlsx",
                code=2,
            )

    if args.command == "meetings":
        from bot.meetings_schedule import format_of

        if format_of(args.file.name) is None:
            return fail(
                f"cannot tell the format from the file name {args.file}: "
                "name it .ics (iCalendar) or .csv",
                code=2,
            )

    env_file, env_file_required = args.env_file or Path(".env"), args.env_file is not None
    if args.command == "check":
        from liepaja_bot.operations import check as run_checks

        logging.basicConfig(level="ERROR")  # its lines are the report; no log chatter
        return run_checks(env_file, env_file_required, offline=args.offline)
    try:
        settings = load_settings(env_file=env_file, env_file_required=env_file_required)
    except ConfigError as error:
        for problem in str(error).splitlines():  # every bad key at once, one line each
            print(f"Configuration error: {problem}", file=sys.stderr)
        return 2
    # The demo's terminal is the chat: only warnings may interrupt it.
    level = (
        "WARNING" if args.command == "demo" and settings.log_level == "INFO" else settings.log_level
    )
    configure_logging(
        level,
        secrets=[settings.bot_token or "", settings.webhook_secret or ""],
        json_lines=settings.log_format == "json",
    )

    try:
        if args.command == "run":
            return run(settings)
        if args.command == "migrate":
            return asyncio.run(migrate(settings))
        if args.command == "export":
            assert export_format is not None
            return asyncio.run(
                export_to_file(settings, args.what, export_format, args.output, args.language)
            )
        if args.command in ("backup", "restore"):
            from liepaja_bot import operations

            if args.command == "backup":
                return asyncio.run(operations.backup(settings, args.file, force=args.force))
            return asyncio.run(operations.restore(settings, args.file))
        if args.command == "demo" and args.web:
            from liepaja_bot.web import run_web_demo

            return asyncio.run(
                run_web_demo(
                    settings, database=args.database, language=args.language, port=args.port
                )
            )
        if args.command == "qr":
            return write_qr_codes(settings, args.output, args.bot)
        if args.command == "meetings":
            return asyncio.run(import_meetings(settings, args.file))
        if args.command == "demo":
            from liepaja_bot.demo import run_demo

            return asyncio.run(
                run_demo(
                    settings, script=args.script, database=args.database, language=args.language
                )
            )
    except StoreOpenError as error:
        return fail(str(error))
    return 2


def fail(message: str, *, code: int = 1) -> int:
    """Tells the admin what went wrong, in one line; returns the exit code."""
    print(f"liepaja-bot: {message}", file=sys.stderr)
    return code


def run(settings: Settings) -> int:
    from liepaja_bot.operations import Locked, lock_path, take_lock

    if not settings.bot_token:
        print(
            "BOT_TOKEN is not set. Create a bot with @BotFather and put its token in .env "
            "(see .env.example), or try `liepaja-bot demo`, which needs no token.",
            file=sys.stderr,
        )
        return 2
    try:
        # Held until the process ends: `restore` (and a second `run`) see the bot is running.
        lock = take_lock(settings.database)
    except Locked as error:
        return fail(f"not starting: {error} on {settings.database}")
    except OSError as error:
        return fail(f"cannot lock {lock_path(settings.database)}: {error.strerror or error}")
    with lock:
        return _run_locked(settings)


def _run_locked(settings: Settings) -> int:
    from telegram import Update
    from telegram.error import InvalidToken, NetworkError

    from liepaja_bot.assembly import build_application

    app = build_application(settings)
    quiet = _QuietStartUpFailure()
    started = app.post_init

    async def post_init(application: object) -> None:
        # Started: from now on PTB's own logging of network trouble is what the admin needs.
        quiet.starting = False
        if started is not None:
            await started(app)

    app.post_init = post_init
    for handler in logging.getLogger().handlers:
        handler.addFilter(quiet)
    try:
        # Both stop on SIGTERM and SIGINT: no more updates are taken, the one being handled
        # finishes, the outbox delivers what is due (BotApplication.shutdown), exit 0.
        if settings.webhook_url:
            app.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                # Behind a reverse proxy the path Telegram calls is the path we serve.
                url_path=urlsplit(settings.webhook_url).path.strip("/"),
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        return fail(
            "Telegram refused BOT_TOKEN: get the bot's current token from @BotFather", code=2
        )
    except NetworkError as error:  # TimedOut is one too
        return fail(f"Telegram could not be reached at {settings.bot_api_url}: {error}")
    return 0


class _QuietStartUpFailure(logging.Filter):
    """PTB logs a failed first request to Telegram with its whole traceback, then raises it;
    `run` reports it in one line instead, so that log record is dropped while starting."""

    def __init__(self) -> None:
        super().__init__()
        self.starting = True

    def filter(self, record: logging.LogRecord) -> bool:
        from telegram.error import InvalidToken, NetworkError

        failure = record.exc_info[1] if record.exc_info else None
        return not (self.starting and isinstance(failure, NetworkError | InvalidToken))


async def migrate(settings: Settings) -> int:
    from bot.store import Store

    store = Store(settings.database, synchronous=settings.sqlite_synchronous)
    try:
        applied_now = await store.open()
        applied = await store.applied_migrations()
    finally:
        await store.close()
    if applied_now:
        plural = "" if len(applied_now) == 1 else "s"
        print(
            f"{settings.database}: applied {len(applied_now)} migration{plural}: "
            + ", ".join(applied_now)
        )
    else:
        newest = f", newest {applied[-1]}" if applied else ""
        print(f"{settings.database}: already up to date ({len(applied)} migrations{newest})")
    return 0


async def export_to_file(
    settings: Settings, what: str, fmt: str, output: Path, language: str
) -> int:
    from bot.export import export_kind
    from bot.store import Store

    store = Store(settings.database, synchronous=settings.sqlite_synchronous)
    try:
        # Only reads: a mistyped DATABASE must not become a new, empty database.
        await store.open(must_exist=True)
        data = await export_kind(store, settings, what, fmt, language=language)
    finally:
        await store.close()
    try:
        write_private(output, data)
    except OSError as error:
        return fail(f"cannot write {output}: {error.strerror or error}")
    print(f"wrote {output} ({len(data)} bytes)")
    return 0


async def import_meetings(settings: Settings, path: Path) -> int:
    """The schedule in an .ics or .csv file into the database: every meeting or, with a bad
    event or row, none."""
    from bot.clock import utc_now
    from bot.meetings_schedule import format_of, parser_for
    from bot.store import Store

    parse_schedule = parser_for(path.name)
    assert parse_schedule is not None  # main() refused other files

    try:
        data = path.read_bytes()
    except OSError as error:
        return fail(f"cannot read {path}: {error.strerror or error}")
    parsed = parse_schedule(data, settings.municipality.themes, settings.timezone, utc_now())
    if parsed.problems:
        what = "lines" if format_of(path.name) == "csv" else "events"
        print(f"{path}: nothing imported; correct these {what} and import it again:")
        for problem in parsed.problems:
            print(f"  {problem.text()}")
        return 1
    from handlers import meeting_reminders

    store = Store(settings.database)
    try:
        await store.open()
        async with store.unit_of_work():  # the meetings and their reminders' jobs together
            counts = await store.meetings.import_schedule(parsed.meetings)
            replanned = await meeting_reminders.follow_import(store, counts.changed_ids, utc_now())
    finally:
        await store.close()
    print(
        f"{path} into {settings.database}: {counts.added} added, {counts.updated} updated, "
        f"{counts.unchanged} unchanged, {counts.cancelled} cancelled; reminders planned again: "
        f"{replanned}. Nobody else was told: /meetings in the staff chat offers a "
        "broadcast (✏️, ❌) for each."
    )
    return 0


def write_qr_codes(settings: Settings, folder: Path, bot: str | None) -> int:
    from liepaja_bot.qr import USERNAME, deep_link, write_codes

    username = (bot or "").lstrip("@") or settings.bot_username
    if username is None:
        return fail("give the bot's username: --bot NAME, or BOT_USERNAME in the settings", code=2)
    if not USERNAME.fullmatch(username):
        return fail(f"{username!r} is not a Telegram username (5-32 of A-Z, a-z, 0-9, _)", code=2)
    themes = settings.municipality.themes
    try:
        written = write_codes(folder, username, themes)
    except OSError as error:
        return fail(f"cannot write into {folder}: {error.strerror or error}")
    print(
        f"wrote {len(written)} files into {folder}: a PNG and an SVG for each of "
        f"{len(themes)} themes, e.g. {deep_link(username, themes[0].slug)}"
    )
    return 0


def write_private(path: Path, data: bytes) -> None:
    """Writes an export readable by its owner only (0600): it holds what residents wrote and the
    contact details of those who agreed to be contacted."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(file.fileno(), 0o600)  # an existing file keeps its mode through O_CREAT
        file.write(data)


if __name__ == "__main__":
    raise SystemExit(main())
