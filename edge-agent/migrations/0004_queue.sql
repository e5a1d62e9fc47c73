-- Queue tickets issued at this terminal, and the blocks of numbers it may issue from.
-- A number is unique per hall, day and prefix; an appointment checks in once.
CREATE TABLE tickets (
    id             INTEGER PRIMARY KEY,
    hall           TEXT NOT NULL,
    day            TEXT NOT NULL,
    prefix         TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    number         TEXT NOT NULL,
    business       TEXT NOT NULL,
    priority       TEXT NOT NULL,
    state          TEXT NOT NULL,
    issued_at      TEXT NOT NULL,
    called_at      TEXT,
    window         INTEGER,
    finished_at    TEXT,
    appointment_id TEXT UNIQUE,
    offline        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (hall, day, prefix, seq)
);
CREATE INDEX tickets_waiting ON tickets (hall, day, prefix) WHERE state = 'waiting';

-- `local`: the agent is the hall's authority (no regional server); `lease`: leased from it.
CREATE TABLE number_blocks (
    hall   TEXT NOT NULL,
    day    TEXT NOT NULL,
    prefix TEXT NOT NULL,
    first  INTEGER NOT NULL,
    last   INTEGER NOT NULL,
    next   INTEGER NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (hall, day, prefix, first)
);
