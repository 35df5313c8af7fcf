//! `Caller`: the signed-in user behind a request, from a bearer token (API clients) or the
//! session cookie (pages). Cookie-authenticated writes must carry the session's CSRF token: JSON
//! requests in the `X-CSRF-Token` header, page forms in a `csrf_token` field (see `CsrfForm`).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::Method;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use crate::auth::token::constant_time_eq;
use crate::auth::{Permission, role_permits};
use crate::db::StoreError;
use crate::domain::{Actor, UnitRef};
use crate::error::{ApiError, ErrorCode};
use crate::scope::{self, Scope};
use crate::store::users::User;
use crate::store::{sessions, units, users};
use crate::workflow::Hotline;

pub const SESSION_COOKIE: &str = "hotline_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub unit: UnitRef,
    pub unit_name: String,
    pub scope: Scope,
    pub token_hash: String,
    pub csrf_token: String,
    pub via_cookie: bool,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::Staff {
            user_id: self.user.id,
            role: self.user.role,
            unit: self.unit.clone(),
        }
    }

    /// 403 unless the caller's role has `p`.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if role_permits(self.user.role, p) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "the role {} may not {p}",
                self.user.role
            )))
        }
    }

    pub fn verify_csrf(&self, token: &str) -> Result<(), ApiError> {
        if constant_time_eq(token, &self.csrf_token) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::CsrfRejected,
                "the form is stale or forged: reload the page and try again",
            ))
        }
    }
}

/// The token a request carries and whether it came in the cookie.
pub fn request_token(req: &HttpRequest) -> Option<(String, bool)> {
    if let Some(h) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let v = h.to_str().ok()?;
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))?;
        return Some((token.trim().to_owned(), false));
    }
    req.cookie(SESSION_COOKIE)
        .map(|c| (c.value().to_owned(), true))
}

fn is_form(req: &HttpRequest) -> bool {
    matches!(
        req.content_type(),
        "application/x-www-form-urlencoded" | "multipart/form-data"
    )
}

/// Loads the caller behind a token hash, or None when the session is not live.
pub fn load(conn: &mut crate::DbConn, token_hash: &str) -> Result<Option<Caller>, StoreError> {
    let now = crate::db::now();
    let Some(session) = sessions::find_live(conn, token_hash, now)? else {
        return Ok(None);
    };
    let user = users::get(conn, session.user_id)?;
    if !user.active {
        return Ok(None);
    }
    let unit = units::get(conn, user.unit_id)?;
    let unit_ref = unit.as_ref();
    let root = scope::root_path(user.role, &unit_ref);
    let scope = if scope::is_tree_root(root) {
        Scope::All
    } else {
        Scope::Units(units::subtree_ids(conn, root)?)
    };
    Ok(Some(Caller {
        user,
        unit: unit_ref,
        unit_name: unit.name,
        scope,
        token_hash: session.token_hash,
        csrf_token: session.csrf_token,
        via_cookie: session.kind == "cookie",
    }))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if let Some(c) = req.extensions().get::<Caller>() {
                return Ok(c.clone());
            }
            let Some((token, via_cookie)) = request_token(&req) else {
                return Err(ApiError::unauthenticated());
            };
            let hotline = req
                .app_data::<web::Data<Hotline>>()
                .ok_or_else(|| ApiError::internal("Hotline is not registered as app data"))?
                .clone();
            let hash = hotline.token_key.hash(&token);
            let caller = hotline
                .db
                .run(move |c| load(c, &hash))
                .await
                .map_err(ApiError::from)?
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::Unauthenticated,
                        "the session has ended: sign in again",
                    )
                })?;
            let unsafe_method =
                !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
            if via_cookie && unsafe_method && !is_form(&req) {
                let sent = req
                    .headers()
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                caller.verify_csrf(sent)?;
            }
            req.extensions_mut().insert(caller.clone());
            Ok(caller)
        })
    }
}
