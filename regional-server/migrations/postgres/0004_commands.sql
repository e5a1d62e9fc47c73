-- Remote commands for terminals (SQLite's 0019).
CREATE TABLE terminal_commands (
    id          TEXT PRIMARY KEY,
    device      TEXT NOT NULL,
    hall        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sent', 'done', 'failed', 'expired')),
    created_by  TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL,
    sent_ms     BIGINT,
    finished_ms BIGINT,
    message     TEXT NOT NULL DEFAULT '',
    attachment_type TEXT,
    attachment  BYTEA
);
CREATE INDEX terminal_commands_device ON terminal_commands (device, created_ms);
CREATE INDEX terminal_commands_open ON terminal_commands (state, expires_ms);
