-- Analytics (analytics/src/store): one fact row per ticket (what the ticket adds to the rollups
-- now), the rollups themselves, and how far they have followed the event stream.
CREATE TABLE analytics_facts (
    ticket_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    day TEXT NOT NULL,
    category_id TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    area_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    appeal_type TEXT NOT NULL,
    status TEXT NOT NULL,
    cell BIGINT,
    measures TEXT NOT NULL
);
-- Counts and durations per day x category x unit x area x channel x type x status. Key parts
-- that are unknown are '' (a primary key has no NULLs).
CREATE TABLE analytics_rollups (
    day TEXT NOT NULL,
    category_id TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    area_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    appeal_type TEXT NOT NULL,
    status TEXT NOT NULL,
    tickets BIGINT NOT NULL,
    dispatched BIGINT NOT NULL,
    signed BIGINT NOT NULL,
    signed_in_time BIGINT NOT NULL,
    replied BIGINT NOT NULL,
    replied_in_time BIGINT NOT NULL,
    closed BIGINT NOT NULL,
    resolved BIGINT NOT NULL,
    rated BIGINT NOT NULL,
    satisfied BIGINT NOT NULL,
    returned BIGINT NOT NULL,
    redone BIGINT NOT NULL,
    extended BIGINT NOT NULL,
    handled BIGINT NOT NULL,
    handling_minutes BIGINT NOT NULL,
    negative BIGINT NOT NULL,
    sentiment_milli BIGINT NOT NULL,
    PRIMARY KEY (day, category_id, unit_id, area_id, channel, appeal_type, status)
);
CREATE INDEX analytics_rollups_unit ON analytics_rollups (unit_id, day);
CREATE INDEX analytics_rollups_area ON analytics_rollups (area_id, day);
-- The heat map's hexagonal cells (H3, resolution 9) per day x category x type x area (the
-- area so that a district sees its own cells).
CREATE TABLE analytics_cells (
    day TEXT NOT NULL,
    cell BIGINT NOT NULL,
    category_id TEXT NOT NULL,
    appeal_type TEXT NOT NULL,
    area_id TEXT NOT NULL,
    tickets BIGINT NOT NULL,
    PRIMARY KEY (day, cell, category_id, appeal_type, area_id)
);
CREATE TABLE analytics_cursors (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO analytics_cursors (name, seq, updated_at) VALUES ('rollups', 0, CURRENT_TIMESTAMP);
