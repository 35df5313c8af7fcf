//! The analytics tables (migration `*_analytics` under `migrations/`).

diesel::table! {
    analytics_facts (ticket_id) {
        ticket_id -> Text,
        version -> Integer,
        day -> Text,
        category_id -> Text,
        unit_id -> Text,
        area_id -> Text,
        channel -> Text,
        appeal_type -> Text,
        status -> Text,
        cell -> Nullable<BigInt>,
        measures -> Text,
    }
}

diesel::table! {
    analytics_rollups (day, category_id, unit_id, area_id, channel, appeal_type, status) {
        day -> Text,
        category_id -> Text,
        unit_id -> Text,
        area_id -> Text,
        channel -> Text,
        appeal_type -> Text,
        status -> Text,
        tickets -> BigInt,
        dispatched -> BigInt,
        signed -> BigInt,
        signed_in_time -> BigInt,
        replied -> BigInt,
        replied_in_time -> BigInt,
        closed -> BigInt,
        resolved -> BigInt,
        rated -> BigInt,
        satisfied -> BigInt,
        returned -> BigInt,
        redone -> BigInt,
        extended -> BigInt,
        handled -> BigInt,
        handling_minutes -> BigInt,
        negative -> BigInt,
        sentiment_milli -> BigInt,
    }
}

diesel::table! {
    analytics_cells (day, cell, category_id, appeal_type, area_id) {
        day -> Text,
        cell -> BigInt,
        category_id -> Text,
        appeal_type -> Text,
        area_id -> Text,
        tickets -> BigInt,
    }
}

diesel::table! {
    analytics_cursors (name) {
        name -> Text,
        seq -> BigInt,
        updated_at -> Timestamp,
    }
}

// The org units' areas, imported by dispatch (`hotline import areas`); analytics reads them.
pub use hotline_core::db::schema::dispatch_areas;
