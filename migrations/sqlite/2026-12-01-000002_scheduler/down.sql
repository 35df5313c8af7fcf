DROP TABLE mail_outbox;
DROP TABLE scheduled_jobs;
ALTER TABLE users DROP COLUMN email;
