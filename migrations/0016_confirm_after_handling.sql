-- Updates are confirmed to Telegram only once handled (bot/updates.py), so Telegram keeps what a
-- crash interrupts: the journal no longer holds every update as it arrives, only one suspected
-- of killing the bot (bot/store/journal.py). Whether the last run stopped cleanly tells the
-- start-up whether there can be a suspect; one row.
CREATE TABLE bot_run (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    started_at TEXT NOT NULL,
    stopped_at TEXT
);
