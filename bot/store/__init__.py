"""The store: one SQLite file through aiosqlite, and all of the bot's SQL.

`Store` (core.py) is the connection, its lock, transactions and migrations; each subject is a
plain class over it, reached as an attribute named after it — `store.residents`,
`store.proposals`, `store.outbox`, … — with methods named after the question they answer.
"""

from bot.store.core import MIGRATIONS_DIR, MigrationError, Store, StoreOpenError
from bot.store.messages import LoggedMessage
from bot.store.residents import Resident
from bot.store.staff import Specialist

__all__ = [
    "MIGRATIONS_DIR",
    "LoggedMessage",
    "MigrationError",
    "Resident",
    "Specialist",
    "Store",
    "StoreOpenError",
]
