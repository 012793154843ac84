-- Working-group meetings: the published schedule, residents' theme subscriptions, and the
-- broadcasts that tell subscribers about a meeting — each subscriber once.

-- One row per meeting. `starts_at`/`ends_at` in UTC (ISO text, as everywhere). `place` NULL is
-- the municipality's meetings venue (venues.meetings). Descriptions: Latvian required, Russian
-- and English optional (Latvian is shown where one is missing). `source_key` names an imported
-- event (its UID, plus the occurrence for a recurring one), so importing a file again updates
-- instead of adding. Every change raises `version`; a broadcast names the version it tells of.
CREATE TABLE meetings (
    id              INTEGER PRIMARY KEY,
    theme           TEXT NOT NULL,
    starts_at       TEXT NOT NULL,
    ends_at         TEXT NOT NULL,
    place           TEXT,
    description_lv  TEXT NOT NULL,
    description_ru  TEXT,
    description_en  TEXT,
    status          TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    source_key      TEXT UNIQUE,
    version         INTEGER NOT NULL DEFAULT 1,
    created_by      INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX meetings_by_start ON meetings (starts_at, theme);

-- A resident's subscription to one theme's meetings, or to all ('*'). Consent to be written to:
-- /stop removes every row of the resident.
CREATE TABLE meeting_subscriptions (
    resident_id  INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    theme        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (resident_id, theme)
) WITHOUT ROWID;
CREATE INDEX meeting_subscriptions_by_theme ON meeting_subscriptions (theme, resident_id);

-- A broadcast about one version of a meeting: offered to staff as a draft with a preview; when
-- confirmed, its delivery ledger — one outbox row per recipient, keyed
-- broadcast:{id}:{resident} — is written in the same transaction, before the first send.
CREATE TABLE broadcasts (
    id               INTEGER PRIMARY KEY,
    meeting_id       INTEGER NOT NULL REFERENCES meetings (id),
    kind             TEXT NOT NULL CHECK (kind IN ('published', 'changed', 'cancelled')),
    meeting_version  INTEGER NOT NULL,
    status           TEXT NOT NULL DEFAULT 'draft' CHECK (status IN (
                         'draft', 'sending', 'done', 'cancelled', 'dropped')),
    recipients       INTEGER NOT NULL DEFAULT 0,
    created_by       INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    confirmed_by     INTEGER,
    confirmed_at     TEXT,
    finished_at      TEXT
);
CREATE INDEX broadcasts_by_status ON broadcasts (status);

-- The outbox's lanes: 0 for notices and answers, 1 for bulk (broadcast) rows. The sender takes
-- lane 0 first, so a notice never queues behind thousands of broadcast rows; one chat's rows
-- still go in the order they were written.
ALTER TABLE outbox ADD COLUMN lane INTEGER NOT NULL DEFAULT 0;
-- The broadcast a row belongs to (its progress is counted over these).
ALTER TABLE outbox ADD COLUMN broadcast_id INTEGER;
CREATE INDEX outbox_by_broadcast ON outbox (broadcast_id, status) WHERE broadcast_id IS NOT NULL;
