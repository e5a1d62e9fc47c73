-- Rate limits shared by a region's replicas (on PostgreSQL; a single process keeps them in
-- memory): one row per counted attempt, by limiter and key.
CREATE TABLE rate_hits (
    id      INTEGER PRIMARY KEY,
    limiter TEXT NOT NULL,
    key     TEXT NOT NULL,
    at_ms   INTEGER NOT NULL
);
CREATE INDEX rate_hits_key ON rate_hits (limiter, key, at_ms);
