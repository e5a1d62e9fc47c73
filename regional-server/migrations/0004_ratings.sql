-- Citizens' ratings of a finished ticket (好差评), one per ticket: stars and an optional short
-- comment; no names, no phone numbers.
CREATE TABLE ratings (
    hall     TEXT NOT NULL,
    day      TEXT NOT NULL,
    number   TEXT NOT NULL,
    business TEXT NOT NULL,
    window   INTEGER,
    stars    INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    comment  TEXT NOT NULL DEFAULT '',
    rated_at TEXT NOT NULL,
    PRIMARY KEY (hall, day, number)
);
