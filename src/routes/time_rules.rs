//! The time rules (时限规则): every signed-in user reads them (deadlines on the pages come from
//! them); administrators change them. A change applies on this node at once and on every other
//! node within its next poll.

use actix_web::{HttpResponse, web};
use hotline_core::auth::Permission;
use hotline_core::error::ErrorBody;
use hotline_core::http::{ApiJson, ApiQuery, Caller};
use hotline_core::store::time_rules::{self, RulesChange, TimeRulesDoc};
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::opt_text;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/time-rules")
            .route(web::get().to(get))
            .route(web::put().to(put)),
    )
    .service(web::resource("/time-rules/changes").route(web::get().to(changes)));
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RulesAnswer {
    pub rules: TimeRulesDoc,
    /// 0 while the defaults were never edited; send it back as `expected_version`.
    pub version: i32,
}

/// The stored rules and their version (the defaults at version 0).
pub async fn current(hotline: &Hotline) -> Result<RulesAnswer, ApiError> {
    let stored = hotline.db.run(time_rules::load).await?;
    Ok(match stored {
        Some(s) => RulesAnswer {
            rules: s.doc,
            version: s.version,
        },
        None => RulesAnswer {
            rules: TimeRulesDoc::default(),
            version: 0,
        },
    })
}

#[utoipa::path(get, path = "/api/v1/time-rules", tag = "time",
    responses((status = 200, body = RulesAnswer), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(hotline: web::Data<Hotline>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ReadCatalogue)?;
    Ok(HttpResponse::Ok().json(current(&hotline).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutRules {
    pub rules: TimeRulesDoc,
    /// The version the change was made from (409 when another change came first).
    pub expected_version: i32,
    /// Why (kept with the change), e.g. the notice that changed the limits.
    pub note: Option<String>,
}

/// Validates and stores new rules made from `expected`, then reloads this node's live rules.
pub async fn save(
    hotline: &Hotline,
    caller: &Caller,
    put: PutRules,
) -> Result<RulesAnswer, ApiError> {
    caller.require(Permission::ManageTimeRules)?;
    put.rules
        .table()
        .map_err(|e| ApiError::invalid(format!("rules.{}", e.field), e.reason))?;
    let note = opt_text::<500>("note", put.note.as_deref())?.map(|n| n.as_str().to_owned());
    let (doc, expected, by, now) = (
        put.rules.clone(),
        put.expected_version,
        Some(caller.user.id),
        hotline.now.get(),
    );
    let version = hotline
        .db
        .write(move |c| time_rules::save(c, &doc, expected, by, note.as_deref(), now))
        .await
        .map_err(ApiError::from)?;
    let h = hotline.clone();
    tokio::task::spawn_blocking(move || crate::server::reload_rules(&h))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    tracing::info!(version, by = %caller.user.username, "time rules changed");
    Ok(RulesAnswer {
        rules: put.rules,
        version,
    })
}

#[utoipa::path(put, path = "/api/v1/time-rules", tag = "time", request_body = PutRules,
    responses((status = 200, body = RulesAnswer), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put(
    hotline: web::Data<Hotline>,
    caller: Caller,
    body: ApiJson<PutRules>,
) -> Result<HttpResponse, ApiError> {
    let answer = save(&hotline, &caller, body.0).await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/time-rules/changes", tag = "time", params(ChangesQuery),
    description = "Every change of the time rules, newest first: who, when, before and after.",
    responses((status = 200, body = Vec<RulesChange>), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn changes(
    hotline: web::Data<Hotline>,
    caller: Caller,
    q: ApiQuery<ChangesQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ManageTimeRules)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 200"));
    }
    let list = hotline
        .db
        .run(move |c| time_rules::changes(c, limit))
        .await
        .map_err(|e: StoreError| ApiError::from(e))?;
    Ok(HttpResponse::Ok().json(list))
}
