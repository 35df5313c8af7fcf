//! Sign in, sign out, who am I.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use hotline_core::ApiError;
use hotline_core::auth::{Permission, role_permits};
use hotline_core::domain::Role;
use hotline_core::error::ErrorBody;
use hotline_core::http::{ApiJson, Caller};
use hotline_core::store::units::{self, Unit};
use hotline_core::store::users::User;
use hotline_core::workflow::Hotline;
use serde::{Deserialize, Serialize};
use strum::IntoEnumIterator;
use utoipa::ToSchema;

use crate::login::{self, LoginPolicy, SessionKind};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/login").route(web::post().to(login)))
        .service(web::resource("/auth/logout").route(web::post().to(logout)))
        .service(web::resource("/me").route(web::get().to(me)));
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenAnswer {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginBody,
    description = "Exchange a username and password for a bearer token. Repeated failures slow down and then lock the account (423).",
    responses((status = 200, body = TokenAnswer), (status = 401, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn login(
    hotline: web::Data<Hotline>,
    policy: web::Data<LoginPolicy>,
    body: ApiJson<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let l = login::login(
        &hotline,
        **policy,
        &body.0.username,
        &body.0.password,
        SessionKind::Bearer,
    )
    .await?;
    Ok(HttpResponse::Ok().json(TokenAnswer {
        token: l.token,
        expires_at: l.expires_at,
        user: l.user,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutBody {}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = LogoutBody,
    description = "Revoke the token (or cookie session) the request carries.",
    responses((status = 204), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn logout(
    hotline: web::Data<Hotline>,
    caller: Caller,
    _body: ApiJson<LogoutBody>,
) -> Result<HttpResponse, ApiError> {
    login::logout(&hotline, caller.token_hash).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeAnswer {
    pub user: User,
    pub role_label: &'static str,
    pub unit: Unit,
    /// What the role may do, by permission name.
    pub permissions: Vec<String>,
    /// For cookie sessions: send it back as `X-CSRF-Token` on writes.
    pub csrf_token: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = MeAnswer), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn me(hotline: web::Data<Hotline>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let unit_id = caller.user.unit_id;
    let unit = hotline.db.run(move |c| units::get(c, unit_id)).await?;
    let role: Role = caller.user.role;
    Ok(HttpResponse::Ok().json(MeAnswer {
        role_label: role.label_zh(),
        permissions: Permission::iter()
            .filter(|p| role_permits(role, *p))
            .map(|p| p.to_string())
            .collect(),
        csrf_token: caller.via_cookie.then(|| caller.csrf_token.clone()),
        user: caller.user,
        unit,
    }))
}
