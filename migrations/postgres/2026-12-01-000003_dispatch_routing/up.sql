-- Dispatch: routing rules and their audit trail, the extra place names of the gazetteer, the
-- GeoJSON areas of org units, and the latest suggestion per ticket awaiting dispatch (the
-- dispatcher's manual queue). See dispatch/src/routing and dispatch/src/places.
CREATE TABLE dispatch_rules (
    id TEXT PRIMARY KEY,
    -- category | area | keyword
    kind TEXT NOT NULL,
    category_id TEXT REFERENCES categories (id),
    area_unit_id TEXT REFERENCES org_units (id),
    -- JSON array of words (keyword rules)
    keywords TEXT NOT NULL,
    -- unit (unit_id) | district (the district of the recognised place)
    target TEXT NOT NULL,
    unit_id TEXT REFERENCES org_units (id),
    priority INTEGER NOT NULL,
    position INTEGER NOT NULL,
    active BOOLEAN NOT NULL,
    note TEXT,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX dispatch_rules_order ON dispatch_rules (priority, position);

-- Every change of a rule: who, when, and the rule before and after (JSON; NULL when absent).
-- No foreign key to the rule: the trail outlives a deleted rule.
CREATE TABLE dispatch_rule_audit (
    id BIGSERIAL PRIMARY KEY,
    rule_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT REFERENCES users (id),
    actor_role TEXT NOT NULL,
    actor_unit_id TEXT REFERENCES org_units (id),
    occurred_at TIMESTAMP NOT NULL,
    before TEXT,
    after TEXT
);
CREATE INDEX dispatch_rule_audit_rule ON dispatch_rule_audit (rule_id, id);

-- Roads, estates and landmarks the org tree does not name, each in one of its units.
CREATE TABLE dispatch_place_names (
    name TEXT PRIMARY KEY,
    unit_id TEXT NOT NULL REFERENCES org_units (id),
    source TEXT,
    updated_at TIMESTAMP NOT NULL
);

-- The area an org unit serves, as a GeoJSON geometry (Polygon or MultiPolygon, WGS 84).
CREATE TABLE dispatch_areas (
    unit_id TEXT PRIMARY KEY REFERENCES org_units (id),
    geometry TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL
);

-- The suggestion last computed for a ticket, at the ticket's version; `manual` when its
-- confidence is below the threshold (the dispatcher's manual queue).
CREATE TABLE dispatch_suggestions (
    ticket_id TEXT PRIMARY KEY REFERENCES tickets (id),
    ticket_version INTEGER NOT NULL,
    unit_id TEXT REFERENCES org_units (id),
    confidence DOUBLE PRECISION NOT NULL,
    manual BOOLEAN NOT NULL,
    computed_at TIMESTAMP NOT NULL
);
CREATE INDEX dispatch_suggestions_manual ON dispatch_suggestions (manual);
