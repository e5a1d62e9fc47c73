-- Over-the-air updates: signed RAUC bundles (the file kept in the bundles directory), rollouts of
-- a bundle in groups, each terminal's phase in its rollout, and what each terminal runs.
-- Times in milliseconds since the epoch.
CREATE TABLE releases (
    id          TEXT PRIMARY KEY,
    version     TEXT NOT NULL,
    compatible  TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT NOT NULL UNIQUE,
    signer      TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_ms INTEGER NOT NULL
);
CREATE TABLE rollouts (
    id          TEXT PRIMARY KEY,
    release_id  TEXT NOT NULL REFERENCES releases (id),
    name        TEXT NOT NULL,
    state       TEXT NOT NULL
        CHECK (state IN ('running', 'paused', 'cancelled', 'stopped', 'finished')),
    success_pct INTEGER NOT NULL,
    error_pct   INTEGER NOT NULL,
    groups      TEXT NOT NULL,
    open_groups INTEGER NOT NULL,
    -- Failures already counted when a stopped rollout was resumed (the threshold counts anew).
    failure_baseline INTEGER NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
);
CREATE TABLE rollout_terminals (
    rollout     TEXT NOT NULL REFERENCES rollouts (id),
    device      TEXT NOT NULL,
    hall        TEXT NOT NULL,
    grp         INTEGER NOT NULL,
    phase       TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (rollout, device)
);
CREATE INDEX rollout_terminals_device ON rollout_terminals (device);
CREATE TABLE device_systems (
    device      TEXT PRIMARY KEY,
    version     TEXT NOT NULL,
    slot        TEXT NOT NULL,
    compatible  TEXT NOT NULL,
    updated_ms  INTEGER NOT NULL
);
