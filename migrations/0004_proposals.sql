-- Residents' proposals, their threads with the office, and staff triage.

ALTER TABLE residents ADD COLUMN banned_at TEXT;
ALTER TABLE residents ADD COLUMN banned_by INTEGER;

-- A proposal being written: saved at every step, before the bot answers, so nothing typed is
-- lost to a crash. One per resident.
CREATE TABLE proposal_drafts (
    resident_id    INTEGER PRIMARY KEY REFERENCES residents (user_id) ON DELETE CASCADE,
    theme          TEXT,
    text           TEXT,
    -- JSON list of attachments: {kind, file_id, file_unique_id, file_name, mime_type, ...}
    attachments    TEXT NOT NULL DEFAULT '[]',
    phone          TEXT,
    email          TEXT,
    wants_contact  INTEGER NOT NULL DEFAULT 0,
    updated_at     TEXT NOT NULL
);

CREATE TABLE proposals (
    id             INTEGER PRIMARY KEY,
    -- Readable reference, e.g. LIEP-2027-0042: prefix, year, number within the year.
    reference      TEXT NOT NULL UNIQUE,
    year           INTEGER NOT NULL,
    number         INTEGER NOT NULL,
    resident_id    INTEGER NOT NULL REFERENCES residents (user_id),
    theme          TEXT NOT NULL,
    text           TEXT NOT NULL,
    language       TEXT NOT NULL,
    phone          TEXT,
    email          TEXT,
    wants_contact  INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL DEFAULT 'received' CHECK (status IN (
                       'received', 'in_review', 'forwarded', 'included', 'not_included',
                       'withdrawn', 'spam')),
    -- Bumped by every change: a staff action names the version it saw, so two specialists
    -- acting at once cannot silently overwrite each other.
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    -- The post in the staff chat, so a specialist's reply to it finds the proposal.
    staff_chat_id     INTEGER,
    staff_message_id  INTEGER,
    UNIQUE (year, number)
);
CREATE INDEX proposals_by_resident ON proposals (resident_id, created_at);
CREATE INDEX proposals_by_status ON proposals (status, theme, created_at);
CREATE INDEX proposals_by_staff_post ON proposals (staff_chat_id, staff_message_id);

CREATE TABLE proposal_attachments (
    id              INTEGER PRIMARY KEY,
    proposal_id     INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('photo', 'document', 'voice', 'location')),
    file_id         TEXT,
    file_unique_id  TEXT,
    file_name       TEXT,
    mime_type       TEXT,
    file_size       INTEGER,
    duration        INTEGER,
    latitude        REAL,
    longitude       REAL
);
CREATE INDEX proposal_attachments_by_proposal ON proposal_attachments (proposal_id);

-- The thread after submission: the office's answers and the resident's follow-ups.
CREATE TABLE proposal_messages (
    id                INTEGER PRIMARY KEY,
    proposal_id       INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    author            TEXT NOT NULL CHECK (author IN ('resident', 'staff')),
    author_id         INTEGER NOT NULL,
    text              TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    staff_chat_id     INTEGER,
    staff_message_id  INTEGER
);
CREATE INDEX proposal_messages_by_proposal ON proposal_messages (proposal_id, id);
CREATE INDEX proposal_messages_by_staff_post ON proposal_messages (staff_chat_id, staff_message_id);

-- Every status change, with who made it and when.
CREATE TABLE proposal_status_changes (
    id           INTEGER PRIMARY KEY,
    proposal_id  INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    reason       TEXT,
    changed_by   INTEGER NOT NULL,
    changed_at   TEXT NOT NULL
);
CREATE INDEX proposal_status_changes_by_proposal ON proposal_status_changes (proposal_id, id);

-- Saved answers for the common cases.
CREATE TABLE answer_templates (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);
