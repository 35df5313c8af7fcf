//! Open311 API keys (`api_key` of POST requests). A key is 256 random bits shown once by
//! `hotline admin open311-key create NAME`; only its HMAC under the deployment's secret key is
//! stored, like session tokens, so a database dump gives no working key.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_core::auth::token::{TokenKey, random_token};
use hotline_core::db::{DbConn, to_db};

use crate::error::IntakeError;
use crate::schema::open311_keys;

/// Who a valid key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder {
    pub name: String,
    /// The stored hash: a stable, secret-free id for rate limits and idempotency scopes.
    pub key_hash: String,
}

/// Issues a key for `name` (an app or organisation, e.g. 市民随手拍); returns the key.
pub fn create(
    conn: &mut DbConn,
    secret: &TokenKey,
    name: &str,
    now: DateTime<Utc>,
) -> Result<String, IntakeError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(IntakeError::invalid("name", "1 to 100 characters"));
    }
    let key = random_token();
    diesel::insert_into(open311_keys::table)
        .values((
            open311_keys::key_hash.eq(secret.hash(&key)),
            open311_keys::name.eq(name),
            open311_keys::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(key)
}

/// Revokes every live key issued to `name`; returns how many.
pub fn revoke(conn: &mut DbConn, name: &str, now: DateTime<Utc>) -> Result<usize, IntakeError> {
    Ok(diesel::update(
        open311_keys::table
            .filter(open311_keys::name.eq(name.trim()))
            .filter(open311_keys::revoked_at.is_null()),
    )
    .set(open311_keys::revoked_at.eq(to_db(now)))
    .execute(conn)?)
}

/// The holder of a live key; None for an unknown or revoked one. The lookup is by the keyed
/// hash, so comparing hashes leaks nothing about the key.
pub fn verify(
    conn: &mut DbConn,
    secret: &TokenKey,
    key: &str,
) -> Result<Option<KeyHolder>, IntakeError> {
    let hash = secret.hash(key.trim());
    let name: Option<String> = open311_keys::table
        .find(&hash)
        .filter(open311_keys::revoked_at.is_null())
        .select(open311_keys::name)
        .first(conn)
        .optional()?;
    Ok(name.map(|name| KeyHolder {
        name,
        key_hash: hash,
    }))
}
