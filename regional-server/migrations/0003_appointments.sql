-- Appointments booked per item, hall and slot. Name and phone are encrypted (AEAD, a key in
-- the data directory) and wiped after the retention period; the phone's keyed hash stays
-- only to enforce one booking per phone, item and day.
CREATE TABLE appointments (
    id            TEXT PRIMARY KEY,
    hall          TEXT NOT NULL,
    item          TEXT NOT NULL,
    item_name     TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    date          TEXT NOT NULL,
    start         TEXT NOT NULL,
    end           TEXT NOT NULL,
    holder_masked TEXT NOT NULL,
    name_enc      BLOB,
    phone_enc     BLOB,
    phone_hash    TEXT,
    booked_at     TEXT NOT NULL,
    checked_in_at TEXT,
    ticket        TEXT,
    purged_at     TEXT,
    UNIQUE (phone_hash, item, date)
);
CREATE INDEX appointments_slot ON appointments (hall, item, date, start);

-- Bookable places per slot, where an item and hall differ from the default.
CREATE TABLE slot_capacity (
    hall     TEXT NOT NULL,
    item     TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    PRIMARY KEY (hall, item)
);
