-- Announcements: a free text from the office to one theme's subscribers or to all of them, sent
-- through the meetings' broadcast engine — the same draft, confirm, ledger (one outbox row per
-- recipient, before the first send), progress and Stop. Such a broadcast is about no meeting, so
-- `meeting_id` and `meeting_version` become optional, and it carries what it says: `audience` (a
-- theme's slug, or '*': everyone subscribed to any theme) and its text in Latvian (required),
-- Russian and English (optional: residents without theirs read the Latvian one).
--
-- SQLite cannot drop NOT NULL or change a CHECK in place, so the table is rebuilt: created
-- anew, filled with every row (ids kept: outbox.broadcast_id and the staff chat's buttons name
-- them), the old one dropped, the new one renamed, its index made again. Foreign keys stay on (a
-- migration runs in a transaction, where the pragma cannot change): that is safe because no
-- table refers to broadcasts, and the rows copied keep their valid meeting_id.
CREATE TABLE broadcasts_rebuilt (
    id               INTEGER PRIMARY KEY,
    meeting_id       INTEGER REFERENCES meetings (id),
    kind             TEXT NOT NULL CHECK (kind IN (
                         'published', 'changed', 'cancelled', 'announcement')),
    meeting_version  INTEGER,
    status           TEXT NOT NULL DEFAULT 'draft' CHECK (status IN (
                         'draft', 'sending', 'done', 'cancelled', 'dropped')),
    recipients       INTEGER NOT NULL DEFAULT 0,
    created_by       INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    confirmed_by     INTEGER,
    confirmed_at     TEXT,
    finished_at      TEXT,
    audience         TEXT,
    text_lv          TEXT,
    text_ru          TEXT,
    text_en          TEXT,
    -- A meeting's broadcast names its meeting and version and says nothing of its own; an
    -- announcement names no meeting and has an audience and a Latvian text.
    CHECK (CASE WHEN kind = 'announcement'
        THEN meeting_id IS NULL AND meeting_version IS NULL
             AND audience IS NOT NULL AND text_lv IS NOT NULL
        ELSE meeting_id IS NOT NULL AND meeting_version IS NOT NULL
             AND audience IS NULL AND text_lv IS NULL AND text_ru IS NULL AND text_en IS NULL
    END)
);
INSERT INTO broadcasts_rebuilt (id, meeting_id, kind, meeting_version, status, recipients,
        created_by, created_at, confirmed_by, confirmed_at, finished_at)
    SELECT id, meeting_id, kind, meeting_version, status, recipients, created_by, created_at,
        confirmed_by, confirmed_at, finished_at
    FROM broadcasts;
DROP TABLE broadcasts;
ALTER TABLE broadcasts_rebuilt RENAME TO broadcasts;
CREATE INDEX broadcasts_by_status ON broadcasts (status);
