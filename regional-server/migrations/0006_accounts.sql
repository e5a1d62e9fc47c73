-- Operators managed in the browser: a full name for pages (a help call shows 王* 马上到), and a
-- password that must be changed at the next login (after an admin set or reset it).
ALTER TABLE operators ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE operators ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;

-- The hall an audited action concerns ('' when none), so the audit view can filter by hall.
ALTER TABLE audit_log ADD COLUMN hall TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_operator ON audit_log (operator, id);
CREATE INDEX audit_log_hall ON audit_log (hall, id);
