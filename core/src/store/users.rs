//! Staff users.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::users;
use crate::db::{DbConn, StoreError, from_db, to_db};
use crate::domain::Role;
use crate::ids::{UnitId, UserId};
use crate::store::{is_unique_violation, parse_col};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub unit_id: String,
    pub password_hash: String,
    pub active: bool,
    pub failed_logins: i32,
    pub locked_until: Option<chrono::NaiveDateTime>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub email: Option<String>,
}

/// A staff user, without the password hash.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: UnitId,
    /// Where notices for this user go (unit admins get the unit's notices and daily digest).
    pub email: Option<String>,
    pub active: bool,
    #[serde(skip)]
    pub failed_logins: i32,
    #[serde(skip)]
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<&UserRow> for User {
    type Error = StoreError;
    fn try_from(r: &UserRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_col("users.id", &r.id)?,
            username: r.username.clone(),
            display_name: r.display_name.clone(),
            role: parse_col("users.role", &r.role)?,
            unit_id: parse_col("users.unit_id", &r.unit_id)?,
            email: r.email.clone(),
            active: r.active,
            failed_logins: r.failed_logins,
            locked_until: r.locked_until.map(from_db),
            created_at: from_db(r.created_at),
        })
    }
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub unit_id: UnitId,
    pub password_hash: &'a str,
    pub email: Option<&'a str>,
}

pub fn insert(conn: &mut DbConn, u: &NewUser<'_>, now: DateTime<Utc>) -> Result<User, StoreError> {
    let row = UserRow {
        id: UserId::new().to_string(),
        username: u.username.to_owned(),
        display_name: u.display_name.to_owned(),
        role: u.role.as_ref().to_owned(),
        unit_id: u.unit_id.to_string(),
        password_hash: u.password_hash.to_owned(),
        active: true,
        failed_logins: 0,
        locked_until: None,
        created_at: to_db(now),
        updated_at: to_db(now),
        email: u.email.map(str::to_owned),
    };
    diesel::insert_into(users::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::AlreadyExists {
                    what: "a user with this username",
                    field: "username",
                }
            } else {
                e.into()
            }
        })?;
    User::try_from(&row)
}

/// The user and the stored password hash, for login.
pub fn by_username(
    conn: &mut DbConn,
    username: &str,
) -> Result<Option<(User, String)>, StoreError> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(|r| Ok((User::try_from(&r)?, r.password_hash)))
        .transpose()
}

pub fn get(conn: &mut DbConn, id: UserId) -> Result<User, StoreError> {
    let row = users::table
        .find(id.to_string())
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound("user"))?;
    User::try_from(&row)
}

/// Users of these units (None: all users).
pub fn list(conn: &mut DbConn, units: Option<&[UnitId]>) -> Result<Vec<User>, StoreError> {
    let mut q = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(units) = units {
        q = q.filter(
            users::unit_id.eq_any(units.iter().map(ToString::to_string).collect::<Vec<_>>()),
        );
    }
    q.order(users::username.asc())
        .load(conn)?
        .iter()
        .map(User::try_from)
        .collect()
}

/// What an administrator may change about a user.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub unit_id: Option<String>,
    pub password_hash: Option<String>,
    pub active: Option<bool>,
    pub failed_logins: Option<i32>,
    pub locked_until: Option<Option<chrono::NaiveDateTime>>,
    pub updated_at: Option<chrono::NaiveDateTime>,
    /// `Some(None)` removes the address.
    pub email: Option<Option<String>>,
}

pub fn update(
    conn: &mut DbConn,
    id: UserId,
    mut changes: UserChanges,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    changes.updated_at = Some(to_db(now));
    let n = diesel::update(users::table.find(id.to_string()))
        .set(&changes)
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound("user"));
    }
    get(conn, id)
}

/// Counts a failed login; locks the account for `lock_for` once `max_failures` is reached.
/// Returns the failure count.
pub fn record_failed_login(
    conn: &mut DbConn,
    id: UserId,
    max_failures: i32,
    lock_for: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<i32, StoreError> {
    let failures: i32 = diesel::update(users::table.find(id.to_string()))
        .set(users::failed_logins.eq(users::failed_logins + 1))
        .returning(users::failed_logins)
        .get_result(conn)?;
    if failures >= max_failures {
        diesel::update(users::table.find(id.to_string()))
            .set((
                users::locked_until.eq(Some(to_db(now + lock_for))),
                users::failed_logins.eq(0),
            ))
            .execute(conn)?;
    }
    Ok(failures)
}

pub fn record_successful_login(conn: &mut DbConn, id: UserId) -> Result<(), StoreError> {
    diesel::update(users::table.find(id.to_string()))
        .set((
            users::failed_logins.eq(0),
            users::locked_until.eq(None::<chrono::NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(users::table.count().get_result(conn)?)
}
