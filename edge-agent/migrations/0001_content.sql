-- Content versions as content-addressed records: a version lists (kind, key) → blob hash.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    body   BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE versions (
    id          INTEGER PRIMARY KEY,
    version     TEXT NOT NULL,
    region      TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('active', 'previous', 'staged'))
);
CREATE UNIQUE INDEX versions_one_per_state ON versions (state);

CREATE TABLE entries (
    version_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    sha256     TEXT NOT NULL REFERENCES blobs (sha256),
    PRIMARY KEY (version_id, kind, key)
) WITHOUT ROWID;
CREATE INDEX entries_by_blob ON entries (sha256);
