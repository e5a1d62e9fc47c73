-- Remote commands for terminals, kept until the terminal reports a result or they expire:
-- queued → sent → done / failed / expired. Times in milliseconds since the epoch.
CREATE TABLE terminal_commands (
    id          TEXT PRIMARY KEY,
    device      TEXT NOT NULL,
    hall        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sent', 'done', 'failed', 'expired')),
    created_by  TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    sent_ms     INTEGER,
    finished_ms INTEGER,
    message     TEXT NOT NULL DEFAULT '',
    attachment_type TEXT,
    attachment  BLOB
);
CREATE INDEX terminal_commands_device ON terminal_commands (device, created_ms);
CREATE INDEX terminal_commands_open ON terminal_commands (state, expires_ms);
