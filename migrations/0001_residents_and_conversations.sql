-- Residents and the state PTB keeps for their conversations.
-- Times are ISO-8601 UTC text; Python turns them into aware datetimes.

CREATE TABLE residents (
    user_id            INTEGER PRIMARY KEY,
    -- The language the resident chose (lv, ru, en); NULL until they chose one.
    language           TEXT CHECK (language IN ('lv', 'ru', 'en')),
    -- Telegram's language_code at first contact: only a hint, see bot/i18n.py.
    telegram_language  TEXT,
    first_seen         TEXT NOT NULL,
    last_seen          TEXT NOT NULL,
    privacy_shown_at   TEXT
);

-- ConversationHandler states: key is the JSON array PTB uses as the key, state its JSON value.
CREATE TABLE conversation_states (
    name        TEXT NOT NULL,
    key         TEXT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (name, key)
) WITHOUT ROWID;

CREATE TABLE user_data (
    user_id     INTEGER PRIMARY KEY,
    data        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE chat_data (
    chat_id     INTEGER PRIMARY KEY,
    data        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE bot_data (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    data        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
