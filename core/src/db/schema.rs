//! The one diesel schema both backends share (see the migrations under `migrations/`).

diesel::table! {
    org_units (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        level -> Text,
        kind -> Text,
        parent_id -> Nullable<Text>,
        division_code -> Nullable<Text>,
        email -> Nullable<Text>,
        path -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    categories (id) {
        id -> Text,
        parent_id -> Nullable<Text>,
        level -> Integer,
        name -> Text,
        full_name -> Text,
        active -> Bool,
        sort_order -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        role -> Text,
        unit_id -> Text,
        password_hash -> Text,
        active -> Bool,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        email -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        kind -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tickets (id) {
        id -> Text,
        number -> Text,
        query_code -> Text,
        channel -> Text,
        appeal_type -> Text,
        urgency -> Text,
        category_id -> Nullable<Text>,
        title -> Text,
        detail -> Text,
        address -> Nullable<Text>,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        citizen_name -> Nullable<Text>,
        citizen_phone -> Nullable<Text>,
        citizen_id_number -> Nullable<Text>,
        status -> Text,
        centre_id -> Text,
        main_unit_id -> Nullable<Text>,
        co_unit_ids -> Text,
        chain -> Text,
        extension -> Text,
        extension_days -> Nullable<Integer>,
        supervised -> Bool,
        reply -> Nullable<Text>,
        rating -> Nullable<Text>,
        rating_comment -> Nullable<Text>,
        resolution -> Nullable<Text>,
        merged_into -> Nullable<Text>,
        return_count -> Integer,
        redo_count -> Integer,
        received_at -> Timestamp,
        dispatched_at -> Nullable<Timestamp>,
        signed_at -> Nullable<Timestamp>,
        replied_at -> Nullable<Timestamp>,
        visited_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        suspended_at -> Nullable<Timestamp>,
        sign_deadline -> Nullable<Timestamp>,
        handle_deadline -> Nullable<Timestamp>,
        return_deadline -> Nullable<Timestamp>,
        created_by -> Nullable<Text>,
        version -> Integer,
        updated_at -> Timestamp,
        erasure_requested -> Bool,
        erased_at -> Nullable<Timestamp>,
        supervision_count -> Integer,
        escalated_unit_id -> Nullable<Text>,
        visit_deadline -> Nullable<Timestamp>,
        claimed_by -> Nullable<Text>,
        claimed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ticket_units (ticket_id, unit_id) {
        ticket_id -> Text,
        unit_id -> Text,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        seq -> Nullable<BigInt>,
        ticket_id -> Text,
        version -> Integer,
        kind -> Text,
        actor_id -> Nullable<Text>,
        actor_role -> Text,
        actor_unit_id -> Nullable<Text>,
        occurred_at -> Timestamp,
        payload -> Text,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    ticket_counters (day) {
        day -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    calendar_days (day) {
        day -> Text,
        kind -> Text,
        name -> Text,
    }
}

diesel::table! {
    calendar_years (year) {
        year -> Integer,
        loaded_at -> Timestamp,
    }
}

diesel::table! {
    time_rules (id) {
        id -> Integer,
        body -> Text,
        version -> Integer,
        updated_at -> Timestamp,
        updated_by -> Nullable<Text>,
    }
}

diesel::table! {
    time_rule_changes (version) {
        version -> Integer,
        changed_at -> Timestamp,
        changed_by -> Nullable<Text>,
        before_body -> Nullable<Text>,
        after_body -> Text,
        note -> Nullable<Text>,
    }
}

diesel::joinable!(ticket_units -> tickets (ticket_id));
diesel::joinable!(ticket_units -> org_units (unit_id));
diesel::joinable!(events -> tickets (ticket_id));
diesel::joinable!(users -> org_units (unit_id));
diesel::joinable!(sessions -> users (user_id));

// The dispatch crate's stored suggestions (migration `*_dispatch_routing`), defined here so that
// the dispatcher's sweep can join them to `tickets`.
diesel::table! {
    dispatch_suggestions (ticket_id) {
        ticket_id -> Text,
        ticket_version -> Integer,
        unit_id -> Nullable<Text>,
        confidence -> Double,
        manual -> Bool,
        computed_at -> Timestamp,
    }
}

// The org units' areas (migration `*_dispatch_routing`), imported by dispatch and read by
// analytics for its per-area maps.
diesel::table! {
    dispatch_areas (unit_id) {
        unit_id -> Text,
        geometry -> Text,
        imported_at -> Timestamp,
    }
}

// The agent console's presence (migration `*_console_presence`), shared by every node.
diesel::table! {
    console_nodes (node_id) {
        node_id -> Text,
        started_at -> Timestamp,
        heartbeat_at -> Timestamp,
    }
}

diesel::table! {
    console_connections (node_id, connection_id) {
        node_id -> Text,
        connection_id -> BigInt,
        user_id -> Text,
        connected_at -> Timestamp,
    }
}

diesel::table! {
    console_states (user_id) {
        user_id -> Text,
        state -> Text,
        since -> Timestamp,
    }
}

diesel::table! {
    console_watching (node_id, connection_id, ticket_id) {
        node_id -> Text,
        connection_id -> BigInt,
        ticket_id -> Text,
        user_id -> Text,
        mode -> Text,
        since -> Timestamp,
    }
}

diesel::joinable!(console_connections -> users (user_id));
diesel::joinable!(console_connections -> console_nodes (node_id));
diesel::joinable!(console_watching -> users (user_id));
diesel::joinable!(console_watching -> console_nodes (node_id));
diesel::joinable!(console_states -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    console_nodes,
    console_connections,
    console_states,
    console_watching,
    dispatch_suggestions,
    org_units,
    categories,
    users,
    sessions,
    tickets,
    ticket_units,
    events,
    ticket_counters,
    calendar_days,
    calendar_years,
    time_rules,
    time_rule_changes,
);
