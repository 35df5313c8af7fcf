//! The change log the search indexes follow. Each change takes its number from a counter row in
//! the changing transaction; PostgreSQL holds that row locked until the transaction commits (and
//! SQLite has one writer), so changes become visible in number order and a follower that reads
//! `seq > last` never skips one that commits late.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use hotline_core::StoreError;
use hotline_core::db::{DbConn, to_db};

use super::parse;
use crate::article::ArticleId;
use crate::schema::{kb_changes, kb_sync_cursors};

const COUNTER: &str = "changes";

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

/// Appends a change of `article` to the log; returns its number.
pub fn record(
    conn: &mut DbConn,
    article: ArticleId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, StoreError> {
    let sql = match conn {
        DbConn::Pg(_) => {
            "INSERT INTO kb_counters (name, value) VALUES ($1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = kb_counters.value + 1 RETURNING value"
        }
        DbConn::Sqlite(_) => {
            "INSERT INTO kb_counters (name, value) VALUES (?1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = kb_counters.value + 1 RETURNING value"
        }
    };
    let seq = diesel::sql_query(sql)
        .bind::<Text, _>(COUNTER)
        .get_result::<Value>(conn)?
        .value;
    diesel::insert_into(kb_changes::table)
        .values((
            kb_changes::seq.eq(seq),
            kb_changes::article_id.eq(article.to_string()),
            kb_changes::changed_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(seq)
}

/// The changes after `seq`, oldest first, at most `limit`: (number, article).
pub fn after(conn: &mut DbConn, seq: i64, limit: i64) -> Result<Vec<(i64, ArticleId)>, StoreError> {
    let rows: Vec<(i64, String)> = kb_changes::table
        .filter(kb_changes::seq.gt(seq))
        .order(kb_changes::seq.asc())
        .limit(limit)
        .select((kb_changes::seq, kb_changes::article_id))
        .load(conn)?;
    rows.into_iter()
        .map(|(s, a)| Ok((s, parse("kb_changes.article_id", &a)?)))
        .collect()
}

/// The number of the latest change (0 when there is none).
pub fn last(conn: &mut DbConn) -> Result<i64, StoreError> {
    let max: Option<i64> = kb_changes::table
        .select(diesel::dsl::max(kb_changes::seq))
        .first(conn)?;
    Ok(max.unwrap_or(0))
}

/// How far the shared engine `engine` has applied the log (0: nothing yet).
pub fn cursor(conn: &mut DbConn, engine: &str) -> Result<i64, StoreError> {
    Ok(kb_sync_cursors::table
        .find(engine)
        .select(kb_sync_cursors::seq)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// Records that `engine` has applied the log up to `seq` (never moves it back).
pub fn set_cursor(
    conn: &mut DbConn,
    engine: &str,
    seq: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let current = cursor(conn, engine)?;
    if seq <= current {
        return Ok(());
    }
    let n = diesel::update(kb_sync_cursors::table.find(engine))
        .set((
            kb_sync_cursors::seq.eq(seq),
            kb_sync_cursors::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(kb_sync_cursors::table)
            .values((
                kb_sync_cursors::engine.eq(engine),
                kb_sync_cursors::seq.eq(seq),
                kb_sync_cursors::updated_at.eq(to_db(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}
