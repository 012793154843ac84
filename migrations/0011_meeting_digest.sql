-- The weekly digest of working-group meetings: a resident who asked for it gets, once a week (the
-- day and time are the office's settings), the coming week's meetings of their subscribed themes
-- in one message. Off unless asked for: a row here is the resident's consent, and /stop, /forget
-- and a resident's row going remove it.
CREATE TABLE meeting_digests (
    resident_id  INTEGER PRIMARY KEY REFERENCES residents (user_id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL
);
