-- Statistics are queries over events. Each ticket event carries the hall, day and queue of its
-- ticket and how the ticket came (online, offline, appointment), so a report reads one table.
ALTER TABLE ticket_log ADD COLUMN hall TEXT NOT NULL DEFAULT '';
ALTER TABLE ticket_log ADD COLUMN day TEXT NOT NULL DEFAULT '';
ALTER TABLE ticket_log ADD COLUMN queue TEXT NOT NULL DEFAULT '';
ALTER TABLE ticket_log ADD COLUMN channel TEXT NOT NULL DEFAULT 'online';
UPDATE ticket_log SET
    hall = (SELECT hall FROM tickets t WHERE t.id = ticket_log.ticket_id),
    day = (SELECT day FROM tickets t WHERE t.id = ticket_log.ticket_id),
    queue = (SELECT queue FROM tickets t WHERE t.id = ticket_log.ticket_id),
    channel = (SELECT CASE WHEN appointment_id IS NOT NULL THEN 'appointment'
                           WHEN offline THEN 'offline' ELSE 'online' END
               FROM tickets t WHERE t.id = ticket_log.ticket_id);
CREATE INDEX ticket_log_report ON ticket_log (hall, day, ticket_id);

-- What terminals were used for, anonymous: no person, only what was searched or opened.
CREATE TABLE usage_events (
    id      INTEGER PRIMARY KEY,
    hall    TEXT NOT NULL,
    device  TEXT NOT NULL,
    day     TEXT NOT NULL,              -- local day
    at      TEXT NOT NULL,              -- local time
    kind    TEXT NOT NULL CHECK (kind IN ('search', 'guide', 'print', 'qr', 'ticket', 'help', 'session')),
    subject TEXT NOT NULL DEFAULT '',   -- the words searched, or the item opened or printed
    hits    INTEGER,                    -- a search's results
    seconds INTEGER                     -- a session's length
);
CREATE INDEX usage_report ON usage_events (hall, day, kind);
