-- A report reads a hall's ticket events of some days from this index alone, without visiting
-- the table (a region's quarter is a million events). It starts as the index it replaces.
CREATE INDEX ticket_log_facts ON ticket_log (hall, day, ticket_id, state, at, actor, queue, channel);
DROP INDEX ticket_log_report;
-- The events behind a figure, read by their tickets.
CREATE INDEX ticket_log_ticket ON ticket_log (ticket_id);
