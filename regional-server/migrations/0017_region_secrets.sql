-- The region's keys, sealed with the key-encryption key every replica is given: on PostgreSQL
-- the replicas share them through here (storage/secrets.rs); a region on SQLite keeps them in
-- its data directory and leaves this empty.
CREATE TABLE region_secrets (
    name   TEXT PRIMARY KEY,
    sealed BLOB NOT NULL
);
