-- The foundation: org tree, catalogue, users and sessions, tickets and their events.
-- Portable column types only (ids as text, UTC timestamps without zone, JSON as text), so one
-- diesel schema serves PostgreSQL and SQLite.

CREATE TABLE org_units (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id TEXT REFERENCES org_units (id),
    division_code TEXT,
    email TEXT,
    -- '/root-id/…/own-id/': subtree queries are prefix matches.
    path TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX org_units_parent ON org_units (parent_id);
CREATE INDEX org_units_path ON org_units (path);

CREATE TABLE categories (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES categories (id),
    level INTEGER NOT NULL,
    name TEXT NOT NULL,
    -- '城乡建设/安全生产/事故处理': the natural key re-imports update by.
    full_name TEXT NOT NULL UNIQUE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    sort_order INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX categories_parent ON categories (parent_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES org_units (id),
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_unit ON users (unit_id);

CREATE TABLE sessions (
    -- SHA-256 of the token: a stolen table does not give working tokens.
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    query_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    appeal_type TEXT NOT NULL,
    urgency TEXT NOT NULL,
    category_id TEXT REFERENCES categories (id),
    title TEXT NOT NULL,
    detail TEXT NOT NULL,
    address TEXT,
    latitude DOUBLE,
    longitude DOUBLE,
    citizen_name TEXT,
    citizen_phone TEXT,
    status TEXT NOT NULL,
    centre_id TEXT NOT NULL REFERENCES org_units (id),
    main_unit_id TEXT REFERENCES org_units (id),
    co_unit_ids TEXT NOT NULL,
    chain TEXT NOT NULL,
    extension TEXT NOT NULL,
    extension_days INTEGER,
    supervised BOOLEAN NOT NULL,
    reply TEXT,
    rating TEXT,
    rating_comment TEXT,
    resolution TEXT,
    merged_into TEXT REFERENCES tickets (id),
    return_count INTEGER NOT NULL,
    redo_count INTEGER NOT NULL,
    received_at TIMESTAMP NOT NULL,
    dispatched_at TIMESTAMP,
    signed_at TIMESTAMP,
    replied_at TIMESTAMP,
    visited_at TIMESTAMP,
    closed_at TIMESTAMP,
    suspended_at TIMESTAMP,
    sign_deadline TIMESTAMP,
    handle_deadline TIMESTAMP,
    return_deadline TIMESTAMP,
    created_by TEXT REFERENCES users (id),
    version INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tickets_received ON tickets (received_at, id);
CREATE INDEX tickets_status ON tickets (status, received_at);
CREATE INDEX tickets_main_unit ON tickets (main_unit_id);
CREATE INDEX tickets_category ON tickets (category_id);
CREATE INDEX tickets_handle_deadline ON tickets (handle_deadline);
CREATE INDEX tickets_citizen_phone ON tickets (citizen_phone);

-- Every unit a ticket has been with (centre, main, co-handlers, units passed through): who may
-- see it. Derived from the events like the ticket row.
CREATE TABLE ticket_units (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    unit_id TEXT NOT NULL REFERENCES org_units (id),
    PRIMARY KEY (ticket_id, unit_id)
);
CREATE INDEX ticket_units_unit ON ticket_units (unit_id, ticket_id);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Assigned after commit by the sequencer, in commit order, without gaps.
    seq BIGINT UNIQUE,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor_id TEXT,
    actor_role TEXT NOT NULL,
    actor_unit_id TEXT,
    occurred_at TIMESTAMP NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT,
    UNIQUE (ticket_id, version)
);
CREATE INDEX events_unsequenced ON events (id) WHERE seq IS NULL;

-- Blocks of the daily ticket counter, reserved by each node in short transactions.
CREATE TABLE ticket_counters (
    day TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY,
    loaded_at TIMESTAMP NOT NULL
);
