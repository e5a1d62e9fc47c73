-- Reports and the hall monitor read ticket_hops; the events are read by ticket only (the page
-- behind a figure). The wide index over every event's columns only slowed each event's write.
DROP INDEX ticket_log_facts;
