-- Residents' data rights (/mydata, /forget) and the retention the privacy notice promises.

-- A resident who asked to be forgotten is replaced, in the proposals, threads and bookings kept
-- for the programme, by a placeholder row of its own: a negative user_id (Telegram's user ids
-- are positive) and nothing personal; forgotten_at marks it (and keeps retention away from it).
ALTER TABLE residents ADD COLUMN forgotten_at TEXT;

-- Retention finds residents silent for the retention period, drafts abandoned for a month, and
-- bookings that ended long ago.
CREATE INDEX residents_by_last_seen ON residents (last_seen);
CREATE INDEX proposal_drafts_by_age ON proposal_drafts (updated_at);
CREATE INDEX bookings_by_resident ON bookings (resident_id, starts_at);
