//! The dispatch tables (migration `*_dispatch_routing` under `migrations/`).

diesel::table! {
    dispatch_rules (id) {
        id -> Text,
        kind -> Text,
        category_id -> Nullable<Text>,
        area_unit_id -> Nullable<Text>,
        keywords -> Text,
        target -> Text,
        unit_id -> Nullable<Text>,
        priority -> Integer,
        position -> Integer,
        active -> Bool,
        note -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    dispatch_rule_audit (id) {
        id -> BigInt,
        rule_id -> Text,
        action -> Text,
        actor_id -> Nullable<Text>,
        actor_role -> Text,
        actor_unit_id -> Nullable<Text>,
        occurred_at -> Timestamp,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
    }
}

diesel::table! {
    dispatch_place_names (name) {
        name -> Text,
        unit_id -> Text,
        source -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

// Defined in core's schema: the sweep joins suggestions to `tickets`, and analytics reads the areas.
pub use hotline_core::db::schema::{dispatch_areas, dispatch_suggestions};
