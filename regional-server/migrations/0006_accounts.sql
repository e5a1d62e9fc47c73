-- Operators managed in the browser: a full name for pages (a help call shows 王* 马上到), and a
-- password that must be changed at the next login (after an admin set or reset it).
ALTER TABLE operators ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE operators ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
