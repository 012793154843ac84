-- A journal of updates: each is written here as it arrives (before it waits in PTB's queue) and
-- removed once its effects and the conversation state it led to are committed. After a crash,
-- what is left here is handled (again) at start-up, so nothing Telegram delivered is lost and a
-- reply the resident saw is never followed by a lost state. The watermark makes Telegram's
-- re-delivery of a finished update a no-op. attempts: how often handling it has begun.
CREATE TABLE update_journal (
    update_id    INTEGER PRIMARY KEY,
    payload      TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    received_at  TEXT NOT NULL
);

CREATE TABLE update_watermark (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    processed_through  INTEGER NOT NULL
);
