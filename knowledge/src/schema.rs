//! The knowledge tables (migration `*_knowledge` under `migrations/`).

diesel::table! {
    kb_articles (id) {
        id -> Text,
        slug -> Text,
        state -> Text,
        version -> Integer,
        published_version -> Nullable<Integer>,
        owner_unit_id -> Text,
        title -> Text,
        category -> Text,
        review_note -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    kb_article_versions (article_id, version) {
        article_id -> Text,
        version -> Integer,
        title -> Text,
        body -> Text,
        category -> Text,
        tags -> Text,
        areas -> Text,
        valid_from -> Nullable<Date>,
        valid_to -> Nullable<Date>,
        source -> Nullable<Text>,
        author_id -> Nullable<Text>,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    kb_article_log (id) {
        id -> BigInt,
        article_id -> Text,
        action -> Text,
        version -> Integer,
        actor_id -> Nullable<Text>,
        actor_role -> Text,
        note -> Nullable<Text>,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    kb_changes (seq) {
        seq -> BigInt,
        article_id -> Text,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    kb_counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    kb_sync_cursors (engine) {
        engine -> Text,
        seq -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(kb_articles, kb_article_versions, kb_article_log);

diesel::table! {
    kb_searches (id) {
        id -> BigInt,
        query -> Text,
        normalised -> Text,
        hits -> Integer,
        top_slug -> Nullable<Text>,
        searched_at -> Timestamp,
    }
}

diesel::table! {
    kb_answer_uses (id) {
        id -> BigInt,
        slug -> Text,
        used_at -> Timestamp,
    }
}

diesel::table! {
    robot_conversations (id) {
        id -> Text,
        token_hash -> Text,
        state -> Text,
        handoff_reason -> Nullable<Text>,
        ticket_id -> Nullable<Text>,
        turns -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    robot_turns (conversation_id, n) {
        conversation_id -> Text,
        n -> Integer,
        speaker -> Text,
        kind -> Text,
        text -> Text,
        article_slug -> Nullable<Text>,
        confidence -> Nullable<Float>,
        options -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(robot_turns -> robot_conversations (conversation_id));
diesel::allow_tables_to_appear_in_same_query!(robot_conversations, robot_turns);

diesel::table! {
    kb_gaps (id) {
        id -> BigInt,
        query -> Text,
        normalised -> Text,
        reason -> Text,
        asked_at -> Timestamp,
    }
}
