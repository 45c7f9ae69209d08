-- The value a snapshot replaced when it was last written, NULL when it replaced none. The upsert
-- that logs a command sets it from the row it overwrites and returns it, so one statement both
-- stores a snapshot and tells the reply what it replaced.
ALTER TABLE snapshots ADD COLUMN replaced_value BIGINT;
