-- A journal of updates being processed. An update is written here before any handler runs and
-- removed once its effects (and the conversation state) are committed. After a crash, what is
-- left here is processed again at start-up, so a reply the resident saw is never followed by a
-- lost state; the watermark makes Telegram's re-delivery of a finished update a no-op.
CREATE TABLE update_journal (
    update_id    INTEGER PRIMARY KEY,
    payload      TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 1,
    received_at  TEXT NOT NULL
);

CREATE TABLE update_watermark (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    processed_through  INTEGER NOT NULL
);
