"""Every handler of the bot, registered in one ordered place.

PTB runs each update through the handler groups in ascending order and at most one handler per
group, so order is meaning here:
  -100 … -80  middleware: resolve the language, guard chats, slow floods, answer edits;
  -11, -10    replies to the bot's prompts, which belong to the prompt's flow (decline reasons
              for bookings in their own group: a group runs at most one handler, and one that
              is not a reply to a booking prompt must still reach the proposals' prompts);
  0           the flows, in the order listed — conversations first (they own their states),
              then stateless commands and buttons, and the fallbacks last, which take whatever
              nothing else took (a fallback in a later group would answer *every* update).
"""

from __future__ import annotations

import warnings

from telegram.ext import BaseHandler
from telegram.warnings import PTBUserWarning

from bot.app import BotApplication
from handlers import (
    announce_desk,
    booking,
    booking_notices,
    bookings_desk,
    broadcast_desk,
    errors,
    fallbacks,
    meeting_digest,
    meeting_notices,
    meeting_reminders,
    meetings,
    meetings_desk,
    meetings_import,
    middleware,
    my_bookings,
    my_data,
    my_submissions,
    onboarding,
    rescheduling,
    staff_admin,
    staff_desk,
    stats_desk,
    submitting,
    triage,
    waitlist,
)


def register(app: BotApplication) -> None:
    # The main menu, in this order; each entry belongs to (and is handled by) its flow.
    app.menu = [
        submitting.MENU_ENTRY,
        booking.MENU_ENTRY,
        meetings.MENU_ENTRY,
        my_submissions.MENU_ENTRY,
        onboarding.LANGUAGE_ENTRY,
        onboarding.HELP_ENTRY,
    ]
    for group, group_handlers in middleware.handlers().items():
        app.add_handlers(group_handlers, group=group)
    # Replies to the bot's prompts reach the prompt's flow, whatever flow is active.
    app.add_handlers(bookings_desk.prompt_reply_handlers(), group=-11)
    app.add_handlers(my_submissions.prompt_reply_handlers(), group=-10)
    with warnings.catch_warnings():
        # Our conversations are per chat on purpose (one flow at a time per resident), so
        # PTB's hint that their button handlers are not tracked per message is noise.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        flows: list[BaseHandler] = [
            *my_data.handlers(),  # first: a resident's data rights work in the middle of any flow
            *submitting.handlers(),  # before onboarding: it takes `/start <theme>` deep links
            *booking.handlers(),
            *meetings_desk.handlers(),
            *announce_desk.handlers(),
            *meetings.handlers(),
            *broadcast_desk.handlers(),
            *meetings_import.handlers(),
            *my_bookings.handlers(),
            *waitlist.handlers(),
            *rescheduling.handlers(),
            *my_submissions.handlers(),
            *onboarding.handlers(),
            *staff_admin.handlers(),
            *stats_desk.handlers(),
            *bookings_desk.handlers(),
            *triage.handlers(),
            *staff_desk.handlers(),
            *fallbacks.handlers(),
        ]
    app.add_handlers(flows, group=0)
    app.add_error_handler(errors.on_error)
    booking_notices.register_jobs(app)
    waitlist.register_jobs(app)
    meeting_notices.register_jobs(app)
    meeting_digest.register_jobs(app)
    meeting_reminders.register_jobs(app)
