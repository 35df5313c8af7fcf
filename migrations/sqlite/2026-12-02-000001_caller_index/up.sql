-- The same-caller repeat check asks for a caller's latest tickets (phone, newest first, a few).
-- On the phone alone the planner may walk the received_at index backwards instead and read
-- every recent ticket when the caller has none; with both columns one index range answers.
CREATE INDEX tickets_phone_received ON tickets (citizen_phone, received_at);
DROP INDEX tickets_citizen_phone;
