-- The citizen's ID number (masked everywhere), and the right to have personal data deleted.
ALTER TABLE tickets ADD COLUMN citizen_id_number TEXT;
ALTER TABLE tickets ADD COLUMN erasure_requested BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tickets ADD COLUMN erased_at TIMESTAMP;
