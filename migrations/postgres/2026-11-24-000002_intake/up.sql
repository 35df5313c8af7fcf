-- Intake: what each channel delivered, exactly-once keys, client apps, Open311 keys and tokens,
-- attachments and repeat-appeal flags.

-- The appeal as the channel delivered it, kept beside its ticket for audit.
CREATE TABLE intake_submissions (
    ticket_id TEXT PRIMARY KEY REFERENCES tickets (id),
    channel TEXT NOT NULL,
    client_id TEXT,
    raw_payload TEXT NOT NULL,
    remote_addr TEXT,
    received_at TIMESTAMP NOT NULL
);

-- One row per (caller, Idempotency-Key): the answer given, replayed to retries.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    status INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Registered apps and mini-programs. The secret is never stored: it is derived from the
-- deployment's secret key, the client id and this salt.
CREATE TABLE api_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    salt TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);

-- Nonces of signed requests, kept for the replay window.
CREATE TABLE client_nonces (
    client_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (client_id, nonce)
);
CREATE INDEX client_nonces_seen ON client_nonces (seen_at);

CREATE TABLE open311_keys (
    key_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE TABLE open311_tokens (
    token TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    ticket_id TEXT REFERENCES tickets (id),
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    byte_size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    gps_latitude DOUBLE PRECISION,
    gps_longitude DOUBLE PRECISION,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket_id);

-- A new appeal that looks like an open ticket: flagged for an agent to merge.
CREATE TABLE repeat_candidates (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    candidate_id TEXT NOT NULL REFERENCES tickets (id),
    score DOUBLE PRECISION NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (ticket_id, candidate_id)
);
CREATE INDEX repeat_candidates_candidate ON repeat_candidates (candidate_id);
