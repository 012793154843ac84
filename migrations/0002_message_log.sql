-- Every update that reaches the bot and every message it sends or edits, so that staff can read
-- a resident's whole conversation later.
CREATE TABLE message_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    chat_id     INTEGER,
    user_id     INTEGER,
    message_id  INTEGER,
    update_id   INTEGER,
    -- text, command, callback, photo, document, voice, location, contact, edit, sticker, ...
    kind        TEXT NOT NULL,
    text        TEXT,
    -- JSON: callback data, media metadata (file ids, sizes, names), coordinates, ...
    details     TEXT
);
CREATE INDEX message_log_by_chat ON message_log (chat_id, id);
CREATE INDEX message_log_by_user ON message_log (user_id, id);
