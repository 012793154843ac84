"""A proposal's statuses: the one place that says which there are, in what order staff set
them, which close a proposal, and what each is called. (The proposals table's CHECK constraint
repeats the list for the database's sake; tests/test_store.py keeps the two the same.)"""

from __future__ import annotations

from bot.i18n import N_

# What staff set, in triage order.
TRIAGE = ("received", "in_review", "forwarded", "included", "not_included")
# Set by others: the resident withdraws, staff mark spam (with a ban).
WITHDRAWN, SPAM = "withdrawn", "spam"
ALL = (*TRIAGE, WITHDRAWN, SPAM)
CLOSED = ("included", "not_included", WITHDRAWN, SPAM)
OPEN = tuple(status for status in TRIAGE if status not in CLOSED)
# Staff must give the resident a reason for this one.
NEEDS_REASON = "not_included"

NAMES = {
    "received": N_("Received"),
    "in_review": N_("In review"),
    "forwarded": N_("Forwarded to the working group"),
    "included": N_("Included in the programme"),
    "not_included": N_("Not included in the programme"),
    WITHDRAWN: N_("Withdrawn"),
    SPAM: N_("Rejected as spam"),
}

# A reception booking's statuses (bookings table), as residents and staff read them.
BOOKING_NAMES = {
    "requested": N_("Waiting for confirmation"),
    "confirmed": N_("Confirmed"),
    "declined": N_("Declined"),
    "cancelled": N_("Cancelled"),
    "expired": N_("Lapsed: not confirmed in time"),
    "attended": N_("Attended"),
    "no_show": N_("Did not come"),
}
