-- The reception's waitlists: a resident waits for a place on a full date; a place that frees
-- (a cancellation, a decline, a lapse, a move to another time) is offered to the first in line.

-- One row per resident and date. An entry is offered at most once: 'waiting' → 'offered' →
-- 'booked', 'declined' (no thanks) or 'expired' (not answered in time); it never waits again,
-- so nobody is offered a place twice. An offered entry holds its place in `offered_start`'s slot
-- until it is answered or lapses (the places counted include it).
CREATE TABLE waitlist (
    id            INTEGER PRIMARY KEY,
    resident_id   INTEGER NOT NULL REFERENCES residents (user_id),
    day           TEXT NOT NULL,  -- YYYY-MM-DD, local date
    language      TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN (
                      'waiting', 'offered', 'booked', 'declined', 'expired')),
    offered_start TEXT,           -- the slot offered (UTC ISO text, as bookings.starts_at)
    offered_until TEXT,
    booking_id    INTEGER REFERENCES bookings (id),
    created_at    TEXT NOT NULL,
    UNIQUE (resident_id, day)
);
CREATE INDEX waitlist_by_day ON waitlist (day, status, id);
CREATE INDEX waitlist_offers ON waitlist (offered_start) WHERE status = 'offered';
