ALTER TABLE tickets DROP COLUMN erased_at;
ALTER TABLE tickets DROP COLUMN erasure_requested;
ALTER TABLE tickets DROP COLUMN citizen_id_number;
