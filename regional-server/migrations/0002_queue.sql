-- Each hall's queue, of which the server is the authority.
-- A ticket row is one visit to one business type: a transfer ends a row as `transferred` and
-- opens the next hop with the same number in the new queue.
CREATE TABLE tickets (
    id             INTEGER PRIMARY KEY,
    hall           TEXT NOT NULL,
    day            TEXT NOT NULL,
    prefix         TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    hop            INTEGER NOT NULL DEFAULT 0,
    number         TEXT NOT NULL,
    queue          TEXT NOT NULL,      -- the business type it waits for now
    business       TEXT NOT NULL,
    priority       TEXT NOT NULL,
    state          TEXT NOT NULL,
    issued_at      TEXT NOT NULL,      -- local time the citizen took it; the order of calling
    device         TEXT,
    request_id     TEXT UNIQUE,
    offline        INTEGER NOT NULL DEFAULT 0,
    appointment_id TEXT,
    only_window    INTEGER,            -- a transfer to one window
    window         INTEGER,
    called_at      TEXT,
    recalls        INTEGER NOT NULL DEFAULT 0,
    serving_at     TEXT,
    finished_at    TEXT,
    UNIQUE (hall, day, prefix, seq, hop)
);
CREATE INDEX tickets_waiting ON tickets (hall, day, queue) WHERE state = 'waiting';
CREATE INDEX tickets_done ON tickets (hall, queue, id) WHERE state = 'done';
CREATE UNIQUE INDEX tickets_appointment ON tickets (appointment_id) WHERE hop = 0;

-- Every change of state, with who made it.
CREATE TABLE ticket_log (
    id        INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    at        TEXT NOT NULL,
    state     TEXT NOT NULL,
    window    INTEGER,
    actor     TEXT NOT NULL
);

-- Online numbers count up from 1; blocks leased to terminals for offline use count down from
-- the top, so the two never meet and online numbers have no gaps.
CREATE TABLE number_counters (
    hall        TEXT NOT NULL,
    day         TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    next_online INTEGER NOT NULL,
    lease_floor INTEGER NOT NULL,
    PRIMARY KEY (hall, day, prefix)
);
CREATE TABLE number_leases (
    hall      TEXT NOT NULL,
    day       TEXT NOT NULL,
    prefix    TEXT NOT NULL,
    first     INTEGER NOT NULL,
    last      INTEGER NOT NULL,
    device    TEXT NOT NULL,
    leased_at TEXT NOT NULL,
    PRIMARY KEY (hall, day, prefix, first)
);
