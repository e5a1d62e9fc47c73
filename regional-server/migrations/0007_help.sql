-- 0007_help: calls for staff from the plates (有事请教 → 呼叫工作人员, or the help button).
-- The id is the terminal's; hall and position come from its enrollment. Times are UTC
-- (RFC 3339 with milliseconds, so they sort as text).
CREATE TABLE help_calls (
    id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    hall TEXT NOT NULL,
    position TEXT NOT NULL,
    screen TEXT NOT NULL DEFAULT '',
    item TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT 'waiting'
        CHECK (stage IN ('waiting', 'escalated', 'acknowledged', 'resolved')),
    escalated_at TEXT,
    acknowledged_by TEXT,
    acknowledged_name TEXT,
    acknowledged_at TEXT,
    resolved_by TEXT,
    resolved_at TEXT
);
CREATE INDEX help_calls_open ON help_calls (stage, created_at);
CREATE INDEX help_calls_hall ON help_calls (hall, created_at);
CREATE INDEX help_calls_device ON help_calls (device, created_at);
