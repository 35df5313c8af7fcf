DROP TABLE console_watching;
DROP TABLE console_states;
DROP TABLE console_connections;
DROP TABLE console_nodes;
ALTER TABLE tickets DROP COLUMN claimed_at;
ALTER TABLE tickets DROP COLUMN claimed_by;
