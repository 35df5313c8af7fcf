//! The event stream for consumers that reconnect: everything after the last sequence they saw.

use actix_web::{HttpResponse, web};
use hotline_core::ApiError;
use hotline_core::auth::Permission;
use hotline_core::error::ErrorBody;
use hotline_core::http::{ApiQuery, Caller};
use hotline_core::store::events::{self, EventView};
use hotline_core::workflow::Hotline;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/events").route(web::get().to(after)));
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The last sequence number seen (0 for the start).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// 1–1000, default 200.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Events of tickets the caller may see, in sequence order.
    pub events: Vec<EventView>,
    /// Pass as `after` for the next page.
    pub next_after: i64,
    /// False when the page was full and more may follow at once.
    pub caught_up: bool,
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery),
    description = "Events carry a global sequence number assigned in commit order without gaps, so reading `after` the last one seen never misses an event.",
    responses((status = 200, body = EventPage), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn after(
    hotline: web::Data<Hotline>,
    caller: Caller,
    q: ApiQuery<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ReadEvents)?;
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid("after", "must be 0 or more"));
    }
    let limit = q.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 1000"));
    }
    let scope = caller.scope.clone();
    let page = hotline
        .db
        .run(move |c| events::after(c, after, limit, &scope))
        .await?;
    let next_after = page.last().and_then(|e| e.seq).unwrap_or(after);
    Ok(HttpResponse::Ok().json(EventPage {
        caught_up: i64::try_from(page.len()).unwrap_or(0) < limit,
        events: page.iter().map(events::StoredEvent::view).collect(),
        next_after,
    }))
}
