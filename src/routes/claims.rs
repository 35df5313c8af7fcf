//! Claims (认领): `POST /api/v1/tickets/{id}/claim` takes a ticket from a shared queue to work
//! it, `DELETE` ends the claim. Of many concurrent claims one wins; the others get 409 `claimed`
//! with the current version and the holder. The rules are in `hotline_core::ticket::claim`.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use hotline_core::auth::Permission;
use hotline_core::error::{ErrorBody, ErrorCode};
use hotline_core::http::{ApiJson, Caller};
use hotline_core::ids::UserId;
use hotline_core::store::users;
use hotline_core::ticket::{ActionKind, Ticket, TicketView};
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::tickets::{actions_for, ticket_id, view};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/tickets/{id}/claim")
            .route(web::post().to(claim))
            .route(web::delete().to(release)),
    );
}

/// Who works a ticket now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimHolder {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub claimed_at: Option<DateTime<Utc>>,
}

/// The holder of the ticket's claim, with their name.
pub async fn holder_of(hotline: &Hotline, t: &Ticket) -> Result<Option<ClaimHolder>, ApiError> {
    let Some(id) = t.claimed_by else {
        return Ok(None);
    };
    let at = t.claimed_at;
    let user = hotline
        .db
        .run(move |c| users::get(c, id).map(Some))
        .await
        .or_else(|e| match e {
            StoreError::NotFound(_) => Ok(None),
            other => Err(other),
        })?;
    Ok(user.map(|u| ClaimHolder {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        claimed_at: at,
    }))
}

/// Completes a `claimed` refusal with the holder's name (the state machine knows only the id).
pub async fn name_holder(hotline: &Hotline, mut e: ApiError) -> ApiError {
    if e.code != ErrorCode::Claimed {
        return e;
    }
    let holder = e
        .details
        .as_ref()
        .and_then(|d| d["claimed_by"]["id"].as_str())
        .and_then(|s| s.parse::<UserId>().ok());
    if let Some(id) = holder
        && let Ok(u) = hotline.db.run(move |c| users::get(c, id)).await
        && let Some(d) = e.details.as_mut()
    {
        d["claimed_by"] = serde_json::json!({
            "id": u.id, "username": u.username, "display_name": u.display_name,
        });
        e.message = format!(
            "the ticket is claimed by {} ({}); it is now at version {}",
            u.display_name, u.username, d["version"]
        );
    }
    e
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// The version the caller read; a stale one answers 409 `version_conflict`.
    pub expected_version: Option<i32>,
    /// A dispatcher (or the handling unit's administrator) takes over another user's claim.
    #[serde(default)]
    pub take_over: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimResult {
    pub ticket: TicketView,
    /// Who holds the claim now (None after a release).
    pub claim: Option<ClaimHolder>,
    pub actions: Vec<ActionKind>,
}

async fn answer(hotline: &Hotline, caller: &Caller, t: &Ticket) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ClaimResult {
        ticket: view(hotline, caller, t),
        claim: holder_of(hotline, t).await?,
        actions: actions_for(caller, t),
    }))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/claim", tag = "actions", request_body = ClaimBody,
    description = "认领: claim a ticket of a shared queue to work it (the centre's agents and dispatchers at the centre; the handling unit's staff at a unit). While claimed, others' actions answer 409 `claimed` naming the holder, except dispatchers, leaders and the unit's administrator. Of concurrent claims one wins; the others get 409 `claimed` with `details.version` and `details.claimed_by`. The holder claiming again changes nothing. The claim ends by itself when the ticket moves to another queue.",
    params(("id" = String, Path)),
    responses((status = 200, body = ClaimResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn claim(
    hotline: web::Data<Hotline>,
    caller: Caller,
    id: web::Path<String>,
    body: ApiJson<ClaimBody>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ActOnTickets)?;
    let id = ticket_id(&id)?;
    let b = body.0;
    let t = match hotline
        .claim(
            caller.actor(),
            caller.scope.clone(),
            id,
            b.expected_version,
            b.take_over,
        )
        .await
    {
        Ok(t) => t,
        Err(e) => return Err(name_holder(&hotline, e.into()).await),
    };
    answer(&hotline, &caller, &t).await
}

#[utoipa::path(delete, path = "/api/v1/tickets/{id}/claim", tag = "actions",
    description = "释放认领: end the claim (its holder, or a dispatcher / the handling unit's administrator). 409 `invalid_transition` when nobody holds it, 409 `claimed` for anyone else.",
    params(("id" = String, Path)),
    responses((status = 200, body = ClaimResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn release(
    hotline: web::Data<Hotline>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ActOnTickets)?;
    let id = ticket_id(&id)?;
    let t = match hotline
        .release(caller.actor(), caller.scope.clone(), id, None)
        .await
    {
        Ok(t) => t,
        Err(e) => return Err(name_holder(&hotline, e.into()).await),
    };
    answer(&hotline, &caller, &t).await
}
