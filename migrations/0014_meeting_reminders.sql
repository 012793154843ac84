-- Reminders residents ask for with ⏰ by a working-group meeting: one row per meeting and
-- resident, while the reminder is wanted — turned off by pressing ⏰ again, /forget, or the
-- daily maintenance once the meeting has ended; a cancelled meeting's row goes when the resident
-- has been told. `lead_minutes` is how long before the start it comes (24 hours, or 1 hour when
-- asked for less than a day ahead): a meeting moved elsewhere in time keeps it. The reminder
-- itself is a job of the stored schedule, sent through the outbox.
CREATE TABLE meeting_reminders (
    meeting_id    INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    resident_id   INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    lead_minutes  INTEGER NOT NULL CHECK (lead_minutes > 0),
    created_at    TEXT NOT NULL,
    PRIMARY KEY (meeting_id, resident_id)
) WITHOUT ROWID;
CREATE INDEX meeting_reminders_by_resident ON meeting_reminders (resident_id);
