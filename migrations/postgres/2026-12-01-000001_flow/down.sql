DROP TABLE time_rule_changes;
DROP TABLE time_rules;
DROP INDEX tickets_visit_queue;
ALTER TABLE tickets DROP COLUMN visit_deadline;
ALTER TABLE tickets DROP COLUMN escalated_unit_id;
ALTER TABLE tickets DROP COLUMN supervision_count;
