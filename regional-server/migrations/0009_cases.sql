-- 0009_cases: 好差评 tied to what it rates, and the cases a poor rating opens.

-- Every rating, from a phone or a plate: a ticket's (hall, day, number, with the window and
-- business that served it) or a general one about the hall. Five levels, reasons, a short
-- comment; no names, no phone numbers. Replaces 0004's table (no deployment holds it yet).
DROP TABLE ratings;
CREATE TABLE ratings (
    id       INTEGER PRIMARY KEY,
    hall     TEXT NOT NULL,
    subject  TEXT NOT NULL CHECK (subject IN ('ticket', 'general')),
    day      TEXT,
    number   TEXT,
    business TEXT NOT NULL DEFAULT '',
    window   INTEGER,
    item     TEXT,
    stars    INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    reasons  TEXT NOT NULL DEFAULT '[]',  -- a JSON array of short strings
    comment  TEXT NOT NULL DEFAULT '',
    source   TEXT NOT NULL CHECK (source IN ('phone', 'kiosk')),
    device   TEXT,
    rated_at TEXT NOT NULL,               -- local time
    CHECK ((subject = 'ticket') = (day IS NOT NULL AND number IS NOT NULL))
);
-- One rating per ticket.
CREATE UNIQUE INDEX ratings_ticket ON ratings (hall, day, number) WHERE subject = 'ticket';
CREATE INDEX ratings_hall_time ON ratings (hall, rated_at);

-- A case a 不满意 / 非常不满意 rating opens: the hall's manager replies to the citizen, notes the
-- rectification, a second operator verifies it, and the case is closed with the follow-up call.
CREATE TABLE cases (
    id            INTEGER PRIMARY KEY,
    rating_id     INTEGER NOT NULL UNIQUE REFERENCES ratings (id),
    hall          TEXT NOT NULL,
    opened_at     TEXT NOT NULL,          -- local time, the rating's
    deadline      TEXT,                   -- last working day (YYYY-MM-DD); set from the calendar
    assignee      TEXT,                   -- the hall manager's login name, NULL when none
    stage         TEXT NOT NULL DEFAULT 'open'
                  CHECK (stage IN ('open', 'replied', 'rectified', 'verified', 'closed')),
    reply         TEXT,
    replied_by    TEXT,
    replied_at    TEXT,
    rectification TEXT,
    rectified_by  TEXT,
    rectified_at  TEXT,
    verification  TEXT,
    verified_by   TEXT,
    verified_at   TEXT,
    follow_up     TEXT,                   -- 回访 result
    closed_by     TEXT,
    closed_at     TEXT
);
CREATE INDEX cases_hall ON cases (hall, stage, id);
