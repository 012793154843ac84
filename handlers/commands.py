"""The command menu shown by Telegram clients, and the /help list built from the same source."""

from __future__ import annotations

from bot.i18n import Translator


def command_menu(tr: Translator) -> list[tuple[str, str]]:
    """(command, description) pairs for residents, in the given language."""
    _ = tr.gettext
    return [
        ("start", _("Main menu")),
        ("propose", _("Submit a proposal")),
        ("mine", _("My submissions")),
        ("language", _("Change the language")),
        ("privacy", _("How your data is used")),
        ("help", _("Help")),
        ("cancel", _("Cancel what you are doing")),
    ]
