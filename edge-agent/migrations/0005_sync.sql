-- Sync with the regional server: the shard lists of the last manifest, and small state
-- (manifest ETag, last sync time).
CREATE TABLE sync_shards (
    sha256 TEXT PRIMARY KEY,
    body   BLOB NOT NULL
);
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
