-- Open311 GeoReport v2: what a request carried that the ticket has no column for, returned by
-- GET requests (media_url, address_id); one token row per Open311 ticket.
ALTER TABLE open311_tokens ADD COLUMN media_url TEXT;
ALTER TABLE open311_tokens ADD COLUMN address_id TEXT;
CREATE UNIQUE INDEX open311_tokens_ticket ON open311_tokens (ticket_id);
