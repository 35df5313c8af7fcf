-- The five-level flow (issue 5): supervision escalates one level up the chain each time; the
-- return visit is due within a window after the reply; the time limits and working hours are
-- data an administrator edits, with every change kept.
ALTER TABLE tickets ADD COLUMN supervision_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN escalated_unit_id TEXT;
ALTER TABLE tickets ADD COLUMN visit_deadline TIMESTAMP;
CREATE INDEX tickets_visit_queue ON tickets (visit_deadline) WHERE status = 'replied';

-- One row (id 1): the live time rules as JSON (limits per type and urgency, the return and
-- return-visit windows, the working hours), and a version every node polls.
CREATE TABLE time_rules (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT
);

-- Every change of the time rules: who, when, what was before and after.
CREATE TABLE time_rule_changes (
    version INTEGER PRIMARY KEY,
    changed_at TIMESTAMP NOT NULL,
    changed_by TEXT,
    before_body TEXT,
    after_body TEXT NOT NULL,
    note TEXT
);
