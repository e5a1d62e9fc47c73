-- Training mode (培训模式) per terminal: its tickets never join a hall's queue, and whatever it
-- sends is marked as training.
ALTER TABLE devices ADD COLUMN training INTEGER NOT NULL DEFAULT 0;
-- Help calls from a training terminal are practice: marked, and shown as such.
ALTER TABLE help_calls ADD COLUMN training INTEGER NOT NULL DEFAULT 0;
