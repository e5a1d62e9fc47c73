-- The region's keys, sealed with the key-encryption key every replica is given (SQLite's 0017).
CREATE TABLE region_secrets (
    name   TEXT PRIMARY KEY,
    sealed BYTEA NOT NULL
);
