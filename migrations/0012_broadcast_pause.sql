-- A broadcast can be paused and resumed from its progress message. Its state is kept here, not in
-- memory, so a pause outlasts a restart: the broadcast is 'paused', and its rows not sent yet are
-- 'held' — a status the sender never picks — until Resume makes them 'pending' again. SQLite
-- cannot change a CHECK constraint in place, so both tables are rebuilt with every row kept
-- (nothing references either table; their columns stay in the same order).

CREATE TABLE broadcasts_new (
    id               INTEGER PRIMARY KEY,
    meeting_id       INTEGER NOT NULL REFERENCES meetings (id),
    kind             TEXT NOT NULL CHECK (kind IN ('published', 'changed', 'cancelled')),
    meeting_version  INTEGER NOT NULL,
    status           TEXT NOT NULL DEFAULT 'draft' CHECK (status IN (
                         'draft', 'sending', 'paused', 'done', 'cancelled', 'dropped')),
    recipients       INTEGER NOT NULL DEFAULT 0,
    created_by       INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    confirmed_by     INTEGER,
    confirmed_at     TEXT,
    finished_at      TEXT,
    -- When it was last resumed: the rate it is observed to send at is counted from here (or
    -- from confirmed_at), so a pause does not make the time remaining look longer.
    resumed_at       TEXT
);
INSERT INTO broadcasts_new (id, meeting_id, kind, meeting_version, status, recipients,
                            created_by, created_at, confirmed_by, confirmed_at, finished_at)
    SELECT id, meeting_id, kind, meeting_version, status, recipients, created_by, created_at,
           confirmed_by, confirmed_at, finished_at
    FROM broadcasts;
DROP TABLE broadcasts;
ALTER TABLE broadcasts_new RENAME TO broadcasts;
CREATE INDEX broadcasts_by_status ON broadcasts (status);

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
