//! Signing in and out. Wrong passwords slow the next try down and lock the account for a while
//! after several in a row; an unknown username costs the same time as a wrong password.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hotline_core::auth::password;
use hotline_core::auth::token::random_token;
use hotline_core::store::users::User;
use hotline_core::store::{sessions, users};
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, ErrorCode, StoreError};

/// Login policy, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    pub max_failures: i32,
    pub lock_for: chrono::Duration,
    pub session_for: chrono::Duration,
}

pub struct Login {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Cookie,
    Bearer,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Cookie => "cookie",
            Self::Bearer => "bearer",
        }
    }
}

fn wrong() -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, "wrong username or password")
}

fn locked(until: DateTime<Utc>) -> ApiError {
    let local = until.with_timezone(&chrono_tz::Asia::Shanghai);
    ApiError::new(
        ErrorCode::AccountLocked,
        format!(
            "too many failed logins: the account is locked until {}",
            local.format("%H:%M")
        ),
    )
    .with_details(serde_json::json!({ "locked_until": until }))
}

pub async fn login(
    hotline: &Hotline,
    policy: LoginPolicy,
    username: &str,
    password_text: &str,
    kind: SessionKind,
) -> Result<Login, ApiError> {
    let name = username.trim().to_owned();
    let found = hotline
        .db
        .run(move |c| users::by_username(c, &name))
        .await?;
    let now = hotline_core::db::now();
    let given = password_text.to_owned();
    let Some((user, hash)) = found.filter(|(u, _)| u.active) else {
        let _ =
            tokio::task::spawn_blocking(move || password::verify(&given, password::decoy_hash()))
                .await;
        return Err(wrong());
    };
    if let Some(until) = user.locked_until.filter(|u| *u > now) {
        return Err(locked(until));
    }
    let ok = tokio::task::spawn_blocking(move || password::verify(&given, &hash))
        .await
        .map_err(ApiError::internal)?;
    let id = user.id;
    if !ok {
        let failures = hotline
            .db
            .write(move |c| {
                users::record_failed_login(c, id, policy.max_failures, policy.lock_for, now)
            })
            .await?;
        if failures >= policy.max_failures {
            return Err(locked(now + policy.lock_for));
        }
        // Each failure in a row makes the next answer slower.
        let delay = 250 * u64::try_from(failures).unwrap_or(1);
        tokio::time::sleep(Duration::from_millis(delay.min(2_000))).await;
        return Err(wrong());
    }
    let token = random_token();
    let csrf_token = random_token();
    let expires_at = now + policy.session_for;
    let (token_hash, csrf) = (hotline.token_key.hash(&token), csrf_token.clone());
    hotline
        .db
        .write(move |c| {
            users::record_successful_login(c, id)?;
            sessions::insert(c, &token_hash, id, kind.as_str(), &csrf, now, expires_at)?;
            Ok::<_, StoreError>(())
        })
        .await?;
    Ok(Login {
        token,
        csrf_token,
        expires_at,
        user,
    })
}

pub async fn logout(hotline: &Hotline, token_hash: String) -> Result<(), ApiError> {
    let now = hotline_core::db::now();
    hotline
        .db
        .write(move |c| sessions::revoke(c, &token_hash, now))
        .await?;
    Ok(())
}
