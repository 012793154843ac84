-- The weekly in-person reception: residents' bookings of its slots, dates staff closed, and the
-- staff prompts a typed decline reason answers.

-- One row per request. `starts_at` is the slot's start in UTC (ISO text, as everywhere); a slot
-- is the set of rows with the same `starts_at`. Places are counted over the active ones.
CREATE TABLE bookings (
    id              INTEGER PRIMARY KEY,
    resident_id     INTEGER NOT NULL REFERENCES residents (user_id),
    language        TEXT NOT NULL,
    starts_at       TEXT NOT NULL,
    ends_at         TEXT NOT NULL,
    theme           TEXT,
    note            TEXT,
    status          TEXT NOT NULL DEFAULT 'requested' CHECK (status IN (
                        'requested', 'confirmed', 'declined', 'cancelled', 'expired',
                        'attended', 'no_show')),
    -- Why it was declined or cancelled (as the resident reads it).
    reason          TEXT,
    -- Who decided last (a specialist, or the resident for a cancellation), and their name as
    -- the staff chat showed it.
    decided_by      INTEGER,
    decided_by_name TEXT,
    decided_at      TEXT,
    -- Raised by every change: a button carries the version its specialist saw.
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL
);
-- One active booking per resident: the store checks, and this makes a race impossible.
CREATE UNIQUE INDEX bookings_one_active ON bookings (resident_id)
    WHERE status IN ('requested', 'confirmed');
CREATE INDEX bookings_by_start ON bookings (starts_at, status);

-- Dates the office closed by command (/closedate); public holidays are not stored.
CREATE TABLE closed_dates (
    day        TEXT PRIMARY KEY,  -- YYYY-MM-DD, local date
    reason     TEXT NOT NULL,
    closed_by  INTEGER NOT NULL,
    closed_at  TEXT NOT NULL
) WITHOUT ROWID;

-- "Reply with the reason": which booking a specialist's reply declines comes from here.
CREATE TABLE booking_prompts (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    booking_id  INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id)
) WITHOUT ROWID;
