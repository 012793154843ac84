"""One flow at a time per person: starting a flow (a proposal, a follow-up, …) ends any other
they were in, and /cancel ends whatever is active.

PTB keeps each ConversationHandler's states apart and offers no way for one conversation to end
another, so this module keeps the list of the bot's conversations and ends them through
ConversationHandler's own state update (the same call PTB makes when a callback returns END),
which the persistence then writes in the update's transaction.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, ConversationHandler


def _flows(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> list[ConversationHandler[Any]]:
    # Every conversation is a flow: they are all registered in group 0 (handlers/__init__.py).
    return [h for h in application.handlers.get(0, []) if isinstance(h, ConversationHandler)]


def active_flows(
    update: Update, application: Application[Any, Any, Any, Any, Any, Any]
) -> list[str]:
    """The names of the flows this person is in, in this chat."""
    key = _key(update)
    return [
        h.name or "" for h in _flows(application) if key is not None and key in h._conversations
    ]


def end_flows(
    update: Update,
    application: Application[Any, Any, Any, Any, Any, Any],
    *,
    keep: str | None = None,
) -> list[str]:
    """Ends every flow of this person in this chat but `keep`; returns the names it ended."""
    key = _key(update)
    ended: list[str] = []
    if key is None:
        return ended
    for handler in _flows(application):
        if handler.name != keep and key in handler._conversations:
            handler._update_state(ConversationHandler.END, key)
            ended.append(handler.name or "")
    return ended


def _key(update: Update) -> tuple[int, int] | None:
    # Our flows are per chat and per user (PTB's default key).
    chat, user = update.effective_chat, update.effective_user
    return (chat.id, user.id) if chat is not None and user is not None else None
