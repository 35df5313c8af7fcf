CREATE INDEX tickets_citizen_phone ON tickets (citizen_phone);
DROP INDEX tickets_phone_received;
