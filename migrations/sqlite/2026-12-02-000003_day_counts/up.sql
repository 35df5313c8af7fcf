-- The wallboard's counts of the day (dispatched, replied, closed since midnight) as index ranges.
-- Partial: a new ticket has none of these times, so intake writes no entry in them.
CREATE INDEX tickets_dispatched_at ON tickets (dispatched_at) WHERE dispatched_at IS NOT NULL;
CREATE INDEX tickets_replied_at ON tickets (replied_at) WHERE replied_at IS NOT NULL;
CREATE INDEX tickets_closed_at ON tickets (closed_at) WHERE closed_at IS NOT NULL;
