DROP INDEX open311_tokens_ticket;
ALTER TABLE open311_tokens DROP COLUMN address_id;
ALTER TABLE open311_tokens DROP COLUMN media_url;
