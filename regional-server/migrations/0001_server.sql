-- Operators, their sessions and the audit log of admin actions.
CREATE TABLE operators (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    operator_id  INTEGER NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    expires_at   INTEGER NOT NULL
);
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    operator TEXT NOT NULL,
    action   TEXT NOT NULL,
    detail   TEXT NOT NULL,
    outcome  TEXT NOT NULL
);

-- One-time enrollment tokens (kept hashed) and the devices they made.
CREATE TABLE enrollment_tokens (
    token_sha256 TEXT PRIMARY KEY,
    hall         TEXT NOT NULL,
    position     TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    device_id    TEXT,
    created_by   TEXT NOT NULL
);
CREATE TABLE devices (
    id          TEXT PRIMARY KEY,
    hall        TEXT NOT NULL,
    position    TEXT NOT NULL,
    cert_sha256 TEXT NOT NULL UNIQUE,
    enrolled_at TEXT NOT NULL,
    revoked_at  TEXT
);

-- Published content: immutable blobs by SHA-256, and signed manifests.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    body   BLOB NOT NULL
);
CREATE TABLE versions (
    id           INTEGER PRIMARY KEY,
    version      TEXT NOT NULL UNIQUE,
    region       TEXT NOT NULL,
    manifest     BLOB NOT NULL,
    signature    TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL
);

-- Events from terminals, once each by their idempotency key.
CREATE TABLE events (
    idempotency_key TEXT PRIMARY KEY,
    device_id       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    received_at     TEXT NOT NULL
);

-- The latest heartbeat of each device.
CREATE TABLE heartbeats (
    device_id   TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL,
    body        TEXT NOT NULL
);
