DROP TABLE repeat_candidates;
DROP TABLE attachments;
DROP TABLE open311_tokens;
DROP TABLE open311_keys;
DROP TABLE client_nonces;
DROP TABLE api_clients;
DROP TABLE idempotency_keys;
DROP TABLE intake_submissions;
