//! The scheduler's and the outbox's tables (migration `2026-12-01-000002_scheduler`).

diesel::table! {
    scheduled_jobs (id) {
        id -> Text,
        kind -> Text,
        ticket_id -> Nullable<Text>,
        due_at -> Timestamp,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        dedupe_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        message_id -> Text,
        dedupe_key -> Text,
        kind -> Text,
        ticket_id -> Nullable<Text>,
        unit_id -> Nullable<Text>,
        recipients -> Text,
        subject -> Text,
        body -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_attachments (outbox_id, position) {
        outbox_id -> Text,
        position -> Integer,
        name -> Text,
        content_type -> Text,
        content -> Text,
    }
}
