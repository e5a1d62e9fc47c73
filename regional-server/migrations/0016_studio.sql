-- The content studio: each editor's draft (the records changed against a published version),
-- change sets submitted for review, their review and when they publish.
CREATE TABLE draft_records (
    editor     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    -- NULL: the draft removes the record.
    body       BLOB,
    -- The record's SHA-256 in the version the edit began from; NULL: a new record.
    base_sha   TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (editor, kind, key)
);
CREATE TABLE change_sets (
    id                INTEGER PRIMARY KEY,
    editor            TEXT NOT NULL,
    title             TEXT NOT NULL,
    -- submitted, returned, approved (waiting for publish_at), published, failed, withdrawn
    state             TEXT NOT NULL,
    base_version      TEXT NOT NULL,
    submitted_at      TEXT NOT NULL,
    reviewer          TEXT,
    reviewed_at       TEXT,
    comment           TEXT NOT NULL DEFAULT '',
    -- Local time (China Standard Time) to publish at; NULL: at once when approved.
    publish_at        TEXT,
    published_version TEXT
);
CREATE INDEX change_sets_state ON change_sets (state, publish_at);
CREATE TABLE change_set_records (
    change_set INTEGER NOT NULL REFERENCES change_sets (id),
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    body       BLOB,
    base_sha   TEXT,
    PRIMARY KEY (change_set, kind, key)
);
