DROP INDEX tickets_dispatched_at;
DROP INDEX tickets_replied_at;
DROP INDEX tickets_closed_at;
