"""An offline fake of the Telegram Bot API for demos and end-to-end tests.

The real python-telegram-bot ``Application`` talks to it either in-process
(``FakeTelegramRequest``) or over HTTP on localhost (``serve``).
"""

from .actors import FakeGroup, FakeUser
from .http import FakeTelegramServer, serve
from .models import ApiCall, CallbackAnswer, FakeFile, FakeMessage
from .rules import ApiError
from .server import FakeTelegram
from .transport import FakeTelegramRequest

__all__ = [
    "ApiCall",
    "ApiError",
    "CallbackAnswer",
    "FakeFile",
    "FakeGroup",
    "FakeMessage",
    "FakeTelegram",
    "FakeTelegramRequest",
    "FakeTelegramServer",
    "FakeUser",
    "serve",
]
