"""The command menus shown by Telegram clients, and the help lists built from the same source."""

from __future__ import annotations

from bot.i18n import Translator


def command_menu(tr: Translator) -> list[tuple[str, str]]:
    """(command, description) pairs for residents, in the given language."""
    _ = tr.gettext
    return [
        ("start", _("Main menu")),
        ("propose", _("Submit a proposal")),
        ("book", _("Book a meeting")),
        ("mine", _("My submissions")),
        ("language", _("Change the language")),
        ("privacy", _("How your data is used")),
        ("mydata", _("A copy of your data")),
        ("forget", _("Delete your data")),
        ("help", _("Help")),
        ("cancel", _("Cancel what you are doing")),
    ]


def staff_command_menu(tr: Translator) -> list[tuple[str, str]]:
    """(command, description) pairs for the staff chat, in the given language."""
    _ = tr.gettext
    return [
        ("proposals", _("Open proposals by theme and status")),
        ("bookings", _("The coming reception's bookings")),
        ("waitlist", _("Who is waiting for a place at the reception, by date")),
        ("closedate", _("Close the reception on a date: /closedate YYYY-MM-DD reason")),
        ("meetings", _("The working groups' coming meetings: edit, cancel, broadcast")),
        ("newmeeting", _("Create a working-group meeting")),
        ("schedulecsv", _("A CSV file to fill in with meetings and send back")),
        ("announce", _("Write to meeting subscribers: one theme's or all")),
        ("templates", _("Saved answers")),
        ("addtemplate", _("Save an answer: /addtemplate Title | Text")),
        ("deltemplate", _("Delete a saved answer: /deltemplate number")),
        ("export", _("Everything as XLSX, or one kind: /export bookings")),
        ("stats", _("Proposals, bookings and subscribers: a chart and the numbers")),
        ("conversation", _("A resident's whole chat: /conversation id")),
        ("unban", _("Let a banned resident submit again: /unban id")),
        ("staff", _("Who the admins and specialists are")),
        ("staffhelp", _("How staff work with the bot")),
    ]
