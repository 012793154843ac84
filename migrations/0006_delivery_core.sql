-- The delivery core: an outbox every notice goes through, a stored schedule, and handled updates
-- recognised by their ids (Telegram picks a random next id after a quiet week, so a watermark
-- would skip real updates).

-- Everything the bot sends on its own (not the direct reply to the person acting) is a row here,
-- written in the same transaction as the change that causes it. `key` names the cause, so a
-- replayed update cannot enqueue the same notice twice.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    chat_id      INTEGER NOT NULL,
    -- A Bot method (send_message, edit_message_text, send_photo, ...) and its arguments as JSON;
    -- {"$message_of": KEY} in the arguments stands for the message another row produced.
    method       TEXT NOT NULL,
    payload      TEXT NOT NULL,
    -- JSON: what the message is for, e.g. {"kind": "proposal_post", "proposal_id": 7}; the
    -- sender records the message id it got back accordingly.
    purpose      TEXT,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN (
                     'pending', 'sending', 'sent', 'uncertain', 'failed', 'unreachable')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    settled_at   TEXT,
    message_id   INTEGER,
    error        TEXT
);
-- The sender reads the oldest pending row of each chat (one chat's messages stay in order).
CREATE INDEX outbox_pending ON outbox (chat_id, id) WHERE status = 'pending';
CREATE INDEX outbox_by_status ON outbox (status, settled_at);

-- Jobs due at a time (reminders, expiries, maintenance). The truth is here, not in memory: a
-- job that came due while the bot was down runs once when it starts.
CREATE TABLE scheduled_jobs (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    payload     TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed',
                                                                  'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    finished_at TEXT,
    error       TEXT
);
CREATE INDEX scheduled_jobs_due ON scheduled_jobs (due_at) WHERE status = 'pending';

-- Updates handled to the end, by id, kept for a bounded time (Telegram re-sends for a day).
CREATE TABLE processed_updates (
    update_id    INTEGER PRIMARY KEY,
    finished_at  TEXT NOT NULL
);
CREATE INDEX processed_updates_by_time ON processed_updates (finished_at);
DROP TABLE update_watermark;

-- A resident who blocked the bot (403 or my_chat_member) is not sent to until they unblock it.
ALTER TABLE residents ADD COLUMN unreachable_at TEXT;

-- Prompts the bot posted that a reply answers ("reply with the reason", "write your message
-- about LIEP-…"): which proposal a reply belongs to comes from here, never from the text.
CREATE TABLE prompts (
    chat_id      INTEGER NOT NULL,
    message_id   INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    proposal_id  INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    version      INTEGER,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id)
) WITHOUT ROWID;

-- Every message the bot posted about a proposal in the staff chat (the card, its parts, the
-- attachments, follow-ups): a specialist's reply to any of them answers that proposal.
CREATE TABLE staff_posts (
    chat_id      INTEGER NOT NULL,
    message_id   INTEGER NOT NULL,
    proposal_id  INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, message_id)
) WITHOUT ROWID;
INSERT INTO staff_posts (chat_id, message_id, proposal_id)
    SELECT staff_chat_id, staff_message_id, id FROM proposals
    WHERE staff_chat_id IS NOT NULL AND staff_message_id IS NOT NULL;
INSERT OR IGNORE INTO staff_posts (chat_id, message_id, proposal_id)
    SELECT staff_chat_id, staff_message_id, proposal_id FROM proposal_messages
    WHERE staff_chat_id IS NOT NULL AND staff_message_id IS NOT NULL;

-- Idle conversation states are dropped after a while; this finds them.
CREATE INDEX conversation_states_by_age ON conversation_states (updated_at);
CREATE INDEX chat_data_by_age ON chat_data (updated_at);
CREATE INDEX user_data_by_age ON user_data (updated_at);
