//! The intake tables (migrations `*_intake` under `migrations/`).

diesel::table! {
    intake_submissions (ticket_id) {
        ticket_id -> Text,
        channel -> Text,
        client_id -> Nullable<Text>,
        raw_payload -> Text,
        remote_addr -> Nullable<Text>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        request_hash -> Text,
        ticket_id -> Text,
        status -> Integer,
        content_type -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        name -> Text,
        channel -> Text,
        salt -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    client_nonces (client_id, nonce) {
        client_id -> Text,
        nonce -> Text,
        seen_at -> Timestamp,
    }
}

diesel::table! {
    open311_keys (key_hash) {
        key_hash -> Text,
        name -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    open311_tokens (token) {
        token -> Text,
        ticket_id -> Text,
        created_at -> Timestamp,
        media_url -> Nullable<Text>,
        address_id -> Nullable<Text>,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        ticket_id -> Nullable<Text>,
        kind -> Text,
        content_type -> Text,
        byte_size -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        gps_latitude -> Nullable<Double>,
        gps_longitude -> Nullable<Double>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    repeat_candidates (ticket_id, candidate_id) {
        ticket_id -> Text,
        candidate_id -> Text,
        score -> Double,
        reason -> Text,
        created_at -> Timestamp,
    }
}
