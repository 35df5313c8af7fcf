//! Creating staff accounts, shared by the API, the pages and `hotline admin create-user`.

use hotline_core::auth::password;
use hotline_core::db::DbConn;
use hotline_core::domain::Role;
use hotline_core::ids::UnitId;
use hotline_core::store::units;
use hotline_core::store::users::{self, NewUser, User};
use hotline_core::{ApiError, StoreError};

/// A username: 2–32 lower-case letters, digits, '.', '_' or '-'.
pub fn check_username(s: &str) -> Result<String, ApiError> {
    let s = s.trim();
    let ok = (2..=32).contains(&s.len())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(s.to_owned())
    } else {
        Err(ApiError::invalid(
            "username",
            "2 to 32 lower-case letters, digits, '.', '_' or '-'",
        ))
    }
}

pub fn hash_password(field: &str, pw: &str) -> Result<String, ApiError> {
    password::check_strength(pw).map_err(|e| ApiError::invalid(field, e.to_string()))?;
    password::hash(pw).map_err(ApiError::internal)
}

/// A validated new account.
pub struct AccountSpec {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: UnitId,
    pub password_hash: String,
    /// Where notices for this account go.
    pub email: Option<String>,
}

impl AccountSpec {
    pub fn new(
        username: &str,
        display_name: &str,
        role: Role,
        unit_id: UnitId,
        pw: &str,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            username: check_username(username)?,
            display_name: crate::routes::text::<50>("display_name", display_name)?.into_string(),
            role,
            unit_id,
            password_hash: hash_password("password", pw)?,
            email: None,
        })
    }

    /// Sets the account's e-mail address (checked; empty means none).
    pub fn with_email(mut self, email: Option<&str>) -> Result<Self, ApiError> {
        self.email = crate::routes::catalogue::check_email("email", email)?;
        Ok(self)
    }
}

/// Checks that the role fits the unit: centre roles work in a 12345 centre, unit roles in a
/// handling unit; leaders and administrators sit anywhere.
pub fn check_role_fits(
    role: Role,
    unit_kind: hotline_core::domain::UnitKind,
) -> Result<(), StoreError> {
    use hotline_core::domain::UnitKind;
    match (role, unit_kind) {
        (Role::Agent | Role::Dispatcher | Role::Reviewer, k) if k != UnitKind::Centre => {
            Err(StoreError::invalid(
                "role",
                "agents, dispatchers and knowledge reviewers belong to a 12345 centre",
            ))
        }
        (Role::UnitHandler | Role::UnitAdmin, UnitKind::Centre) => Err(StoreError::invalid(
            "role",
            "unit handlers and unit admins belong to a handling unit",
        )),
        _ => Ok(()),
    }
}

pub fn insert(conn: &mut DbConn, spec: &AccountSpec) -> Result<User, StoreError> {
    let unit = units::get(conn, spec.unit_id)
        .map_err(|_| StoreError::invalid("unit_id", "no such unit"))?;
    check_role_fits(spec.role, unit.kind)?;
    users::insert(
        conn,
        &NewUser {
            username: &spec.username,
            display_name: &spec.display_name,
            role: spec.role,
            unit_id: spec.unit_id,
            password_hash: &spec.password_hash,
            email: spec.email.as_deref(),
        },
        hotline_core::db::now(),
    )
}
