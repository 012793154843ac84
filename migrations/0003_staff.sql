-- Development Office specialists added by an admin. Admins themselves come from ADMIN_IDS.
CREATE TABLE specialists (
    user_id     INTEGER PRIMARY KEY,
    added_by    INTEGER NOT NULL,
    added_at    TEXT NOT NULL
);
