-- Claims: who works a ticket now (derived from its claimed / claim_released events, like every
-- other column of the row).
ALTER TABLE tickets ADD COLUMN claimed_by TEXT;
ALTER TABLE tickets ADD COLUMN claimed_at TIMESTAMP;

-- Presence of the agent console, shared by every node. A node is alive while its heartbeat is
-- recent; the rows of a node that stopped beating (a crash) are ignored and then swept.
CREATE TABLE console_nodes (
    node_id TEXT PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    heartbeat_at TIMESTAMP NOT NULL
);

-- One row per open websocket connection.
CREATE TABLE console_connections (
    node_id TEXT NOT NULL,
    connection_id BIGINT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    connected_at TIMESTAMP NOT NULL,
    PRIMARY KEY (node_id, connection_id)
);
CREATE INDEX console_connections_user ON console_connections (user_id);

-- The state a user set (online, on_call, after_call_work, away), whatever connection set it.
CREATE TABLE console_states (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    state TEXT NOT NULL,
    since TIMESTAMP NOT NULL
);

-- Who views or edits which ticket, per connection.
CREATE TABLE console_watching (
    node_id TEXT NOT NULL,
    connection_id BIGINT NOT NULL,
    ticket_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    mode TEXT NOT NULL,
    since TIMESTAMP NOT NULL,
    PRIMARY KEY (node_id, connection_id, ticket_id)
);
CREATE INDEX console_watching_ticket ON console_watching (ticket_id);
