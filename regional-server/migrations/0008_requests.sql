-- 0008_requests: citizens' requests (帮代办, 上门取件) and consultations (在线咨询), each a
-- thread of messages. Name and phone are sealed (AEAD, the data directory's key); pages show
-- only their masked forms, kept beside them. The private link's token is kept only as a hash.
CREATE TABLE requests (
    id             TEXT PRIMARY KEY,
    token_hash     TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL,
    hall           TEXT NOT NULL,
    item           TEXT,
    item_name      TEXT NOT NULL DEFAULT '',
    channel        TEXT NOT NULL,
    device         TEXT,
    -- From a terminal in training mode: shown as such, never called back.
    training       INTEGER NOT NULL DEFAULT 0,
    name_enc       BLOB,
    phone_enc      BLOB,
    name_masked    TEXT NOT NULL DEFAULT '',
    phone_masked   TEXT NOT NULL DEFAULT '',
    preferred_time TEXT NOT NULL DEFAULT '',
    state          TEXT NOT NULL,
    taken_by       TEXT,
    outcome        TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX requests_hall ON requests (hall, created_at);

-- A request's thread: the citizen's text first, then automatic and staff answers and notes.
CREATE TABLE request_messages (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    request  TEXT NOT NULL REFERENCES requests (id),
    author   TEXT NOT NULL,
    by_name  TEXT NOT NULL DEFAULT '',
    body     TEXT NOT NULL,
    at       TEXT NOT NULL
);
CREATE INDEX request_messages_request ON request_messages (request, id);
