-- Operators can be disabled (their sessions end), and window staff act only in their halls.
ALTER TABLE operators ADD COLUMN disabled_at TEXT;
CREATE TABLE operator_halls (
    operator_id INTEGER NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    hall        TEXT NOT NULL,
    PRIMARY KEY (operator_id, hall)
);

-- A ticket that staff should look at: e.g. one appointment checked in offline at two terminals
-- (both tickets stay in the queue; each names the other).
ALTER TABLE tickets ADD COLUMN conflict TEXT;

-- Bookings waiting for the code texted to the phone. Name and phone sealed as in appointments;
-- the code kept as a keyed hash; at most a few tries; gone once used or expired.
CREATE TABLE booking_codes (
    id          TEXT PRIMARY KEY,
    hall        TEXT NOT NULL,
    item        TEXT NOT NULL,
    date        TEXT NOT NULL,
    start       TEXT NOT NULL,
    name_enc    BLOB NOT NULL,
    phone_enc   BLOB NOT NULL,
    code_hash   TEXT NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 0,
    expires_at  INTEGER NOT NULL
);
