"""Logging set-up: one format, secrets redacted, no chatter that would carry them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable


class RedactSecrets(logging.Filter):
    """Replaces secrets (the bot token) wherever they would appear in a log line — PTB and httpx
    put the token in request URLs, and tracebacks repeat them."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line (LOG_FORMAT=json), for log collectors. Log messages carry ids,
    never what people wrote: the same records as the plain text format, only structured."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, secrets: Iterable[str] = (), *, json_lines: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonLines()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(RedactSecrets(secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # httpx logs every request URL (with the token) at INFO; its warnings are enough.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # At DEBUG these would log what residents write (SQL parameters, Bot API call arguments):
    # personal data stays out of logs whatever the level.
    for name in ("aiosqlite", "httpcore", "telegram"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level)))
