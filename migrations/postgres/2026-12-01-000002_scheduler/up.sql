-- Dispatch: the durable scheduler's due work and the mail outbox (hotline-dispatch,
-- dispatch/src/scheduler/schema.rs), and a mailbox per staff account for notices.

ALTER TABLE users ADD COLUMN email TEXT;

-- Due work: deadline warnings, overdue supervision, return visits, the daily digest. A ticket's
-- jobs are created, moved and cancelled in the transaction of the event that causes it; a job's
-- effect and its completion commit in one transaction.
CREATE TABLE scheduled_jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    ticket_id TEXT REFERENCES tickets (id),
    due_at TIMESTAMP NOT NULL,
    payload TEXT NOT NULL,
    -- pending, done, dropped (the ticket had moved on), cancelled (by a later event), failed
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    -- Unique where set: one daily digest job per day.
    dedupe_key TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX scheduled_jobs_due ON scheduled_jobs (due_at) WHERE state = 'pending';
CREATE INDEX scheduled_jobs_ticket ON scheduled_jobs (ticket_id) WHERE state = 'pending';

-- One row per message, written in the transaction of the event or job it tells of. The sender
-- leases a row, hands it to the SMTP server, and marks it sent; after the last try it is dead.
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    ticket_id TEXT REFERENCES tickets (id),
    unit_id TEXT REFERENCES org_units (id),
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- pending, sent, dead
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX mail_outbox_next ON mail_outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX mail_outbox_state ON mail_outbox (state, created_at);
