//! Login sessions: browser cookies and API bearer tokens. Only the SHA-256 of a token is stored.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::sessions;
use crate::db::{DbConn, StoreError, from_db, to_db};
use crate::ids::UserId;
use crate::store::parse_col;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: String,
    pub kind: String,
    pub csrf_token: String,
    pub created_at: chrono::NaiveDateTime,
    pub expires_at: chrono::NaiveDateTime,
    pub revoked_at: Option<chrono::NaiveDateTime>,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub user_id: UserId,
    pub kind: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

pub fn insert(
    conn: &mut DbConn,
    token_hash: &str,
    user_id: UserId,
    kind: &str,
    csrf_token: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(sessions::table)
        .values(&SessionRow {
            token_hash: token_hash.to_owned(),
            user_id: user_id.to_string(),
            kind: kind.to_owned(),
            csrf_token: csrf_token.to_owned(),
            created_at: to_db(now),
            expires_at: to_db(expires_at),
            revoked_at: None,
        })
        .execute(conn)?;
    Ok(())
}

/// The live (unexpired, unrevoked) session with this token hash.
pub fn find_live(
    conn: &mut DbConn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>, StoreError> {
    sessions::table
        .find(token_hash)
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(to_db(now)))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?
        .map(|r| {
            Ok(Session {
                user_id: parse_col("sessions.user_id", &r.user_id)?,
                token_hash: r.token_hash,
                kind: r.kind,
                csrf_token: r.csrf_token,
                expires_at: from_db(r.expires_at),
            })
        })
        .transpose()
}

pub fn revoke(conn: &mut DbConn, token_hash: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = diesel::update(sessions::table.find(token_hash))
        .filter(sessions::revoked_at.is_null())
        .set(sessions::revoked_at.eq(Some(to_db(now))))
        .execute(conn)?;
    Ok(n > 0)
}

/// Revokes every session of a user (password change, deactivation).
pub fn revoke_all(
    conn: &mut DbConn,
    user_id: UserId,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(
        diesel::update(sessions::table.filter(sessions::user_id.eq(user_id.to_string())))
            .filter(sessions::revoked_at.is_null())
            .set(sessions::revoked_at.eq(Some(to_db(now))))
            .execute(conn)?,
    )
}

/// Removes sessions that ended more than a day ago.
pub fn purge_expired(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let cutoff = to_db(now - chrono::Duration::days(1));
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.lt(cutoff))).execute(conn)?)
}
