-- Each hop of a ticket as its events tell it, kept by whoever writes an event, in the same
-- transaction: a report reads one row a hop instead of every event (a region's quarter is a
-- million events). The events stay in ticket_log, behind every figure.
CREATE TABLE ticket_hops (
    ticket_id     INTEGER PRIMARY KEY,   -- the hop's row in tickets
    hall          TEXT NOT NULL,
    day           TEXT NOT NULL,
    queue         TEXT NOT NULL,
    channel       TEXT NOT NULL,
    waiting_since TEXT,                  -- issued, or transferred in
    first_called  TEXT,                  -- a recall does not move it
    serving_at    TEXT,
    ended_at      TEXT,                  -- done, no-show, transferred on or cancelled
    state         TEXT NOT NULL,         -- its latest state
    window        INTEGER,
    staff         TEXT,                  -- who called it
    recalls       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ticket_hops_report ON ticket_hops (hall, day);
INSERT INTO ticket_hops
SELECT l.ticket_id, l.hall, l.day, l.queue, l.channel,
       MIN(CASE WHEN l.state = 'waiting' THEN l.at END),
       MIN(CASE WHEN l.state = 'called' THEN l.at END),
       MIN(CASE WHEN l.state = 'serving' THEN l.at END),
       MAX(CASE WHEN l.state IN ('done', 'no_show', 'transferred', 'cancelled') THEN l.at END),
       t.state, t.window,
       MIN(CASE WHEN l.state = 'called' THEN l.actor END),
       t.recalls
FROM ticket_log l JOIN tickets t ON t.id = l.ticket_id
GROUP BY l.ticket_id;
