-- A broadcast can be paused and resumed from its progress message. The pause is kept here, not
-- in memory, so it outlasts a restart: `paused_at` is set while a sending broadcast is paused,
-- and its rows not sent yet are 'held' — a status the sender never picks — until Resume makes
-- them 'pending' again and records `resumed_at` (the pace it is observed to send at is counted
-- from there, so a pause does not make the time remaining look longer). The broadcast's status
-- stays 'sending' while paused: a pause is a state of a broadcast under way, and Stop and the
-- end work on it as on any.
ALTER TABLE broadcasts ADD COLUMN paused_at TEXT;
ALTER TABLE broadcasts ADD COLUMN resumed_at TEXT;

-- SQLite cannot change a CHECK constraint in place, so the outbox is rebuilt with 'held' among
-- its statuses: every row kept with its id (nothing references the table), the columns in the
-- same order, the indexes made again.
CREATE TABLE outbox_new (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    chat_id      INTEGER NOT NULL,
    method       TEXT NOT NULL,
    payload      TEXT NOT NULL,
    purpose      TEXT,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN (
                     'pending', 'held', 'sending', 'sent', 'uncertain', 'failed', 'unreachable')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    settled_at   TEXT,
    message_id   INTEGER,
    error        TEXT,
    lane         INTEGER NOT NULL DEFAULT 0,
    broadcast_id INTEGER
);
INSERT INTO outbox_new (id, key, chat_id, method, payload, purpose, status, attempts, not_before,
                        created_at, settled_at, message_id, error, lane, broadcast_id)
    SELECT id, key, chat_id, method, payload, purpose, status, attempts, not_before, created_at,
           settled_at, message_id, error, lane, broadcast_id
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (chat_id, id) WHERE status = 'pending';
CREATE INDEX outbox_by_status ON outbox (status, settled_at);
CREATE INDEX outbox_by_broadcast ON outbox (broadcast_id, status) WHERE broadcast_id IS NOT NULL;
