//! Dispatch: the routing rules (list, read, create, change, delete, and their audit trail) and
//! the suggestion of where a ticket or an appeal should go.

use actix_web::{HttpResponse, web};
use hotline_core::auth::Permission;
use hotline_core::error::ErrorBody;
use hotline_core::http::{ApiJson, ApiQuery, Caller};
use hotline_core::ids::{CategoryId, TicketId};
use hotline_core::store::{categories, tickets};
use hotline_core::ticket::machine::jurisdiction;
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, StoreError};
use hotline_dispatch::DispatchError;
use hotline_dispatch::routing::store::{self, AuditEntry};
use hotline_dispatch::routing::{Appeal, Bounds, Rule, RuleInput, RulePatch, UnitSuggestion};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{opt_text, text};
use crate::dispatching::{Dispatching, editor};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/dispatch/rules")
            .route(web::get().to(list_rules))
            .route(web::post().to(create_rule)),
    )
    .service(
        web::resource("/dispatch/rules/{id}")
            .route(web::get().to(get_rule))
            .route(web::patch().to(update_rule))
            .route(web::delete().to(delete_rule)),
    )
    .service(web::resource("/dispatch/rule-audit").route(web::get().to(rule_audit)))
    .service(web::resource("/dispatch/suggest").route(web::post().to(suggest)));
}

/// A rule and what it says, readable.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    #[serde(flatten)]
    pub rule: Rule,
    /// The rule in one line (Chinese): 分类「城乡建设」 → 事发地所属区县.
    pub description: String,
}

/// The rules with their descriptions, in the order they are tried.
pub async fn rule_views(
    hotline: &Hotline,
    dispatching: &web::Data<Dispatching>,
) -> Result<Vec<RuleView>, ApiError> {
    let d = dispatching.clone();
    Ok(hotline
        .db
        .run(move |c| {
            let router = d.suggester.router(c)?;
            Ok::<_, StoreError>(
                store::list(c)?
                    .into_iter()
                    .map(|rule| RuleView {
                        description: router.describe(&rule),
                        rule,
                    })
                    .collect(),
            )
        })
        .await?)
}

fn rule_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("rule"))
}

async fn view_of(
    hotline: &Hotline,
    dispatching: &web::Data<Dispatching>,
    rule: Rule,
) -> Result<RuleView, ApiError> {
    let d = dispatching.clone();
    Ok(hotline
        .db
        .run(move |c| {
            let router = d.suggester.router(c)?;
            Ok::<_, StoreError>(RuleView {
                description: router.describe(&rule),
                rule,
            })
        })
        .await?)
}

#[utoipa::path(get, path = "/api/v1/dispatch/rules", tag = "dispatch",
    description = "Every routing rule, in the order they are tried (priority, higher first; then position).",
    responses((status = 200, body = Vec<RuleView>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_rules(
    hotline: web::Data<Hotline>,
    dispatching: web::Data<Dispatching>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ReadRoutingRules)?;
    Ok(HttpResponse::Ok().json(rule_views(&hotline, &dispatching).await?))
}

#[utoipa::path(get, path = "/api/v1/dispatch/rules/{id}", tag = "dispatch",
    params(("id" = String, Path, description = "Rule id (UUID)")),
    responses((status = 200, body = RuleView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_rule(
    hotline: web::Data<Hotline>,
    dispatching: web::Data<Dispatching>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ReadRoutingRules)?;
    let id = rule_id(&id)?;
    let rule = hotline.db.run(move |c| store::get(c, id)).await?;
    Ok(HttpResponse::Ok().json(view_of(&hotline, &dispatching, rule).await?))
}

/// Runs a change of the rules for the caller, in one transaction, then wakes the sweeper (the
/// stored suggestions were cleared).
async fn change<T, F>(
    hotline: &Hotline,
    dispatching: &web::Data<Dispatching>,
    caller: &Caller,
    f: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(
            &mut hotline_core::DbConn,
            &store::Editor,
            chrono::DateTime<chrono::Utc>,
        ) -> Result<T, DispatchError>
        + Send
        + 'static,
{
    caller.require(Permission::ManageRoutingRules)?;
    let e = editor(caller);
    let now = hotline.now.get();
    let out = hotline.db.write(move |c| f(c, &e, now)).await?;
    dispatching.wake();
    Ok(out)
}

/// Creates a rule for the caller (shared by the API and the pages).
pub async fn create(
    hotline: &Hotline,
    dispatching: &web::Data<Dispatching>,
    caller: &Caller,
    input: RuleInput,
) -> Result<Rule, ApiError> {
    change(hotline, dispatching, caller, move |c, e, now| {
        store::create(c, &input, e, now)
    })
    .await
}

/// Changes a rule for the caller (shared by the API and the pages).
pub async fn update(
    hotline: &Hotline,
    dispatching: &web::Data<Dispatching>,
    caller: &Caller,
    id: Uuid,
    patch: RulePatch,
) -> Result<Rule, ApiError> {
    change(hotline, dispatching, caller, move |c, e, now| {
        store::update(c, id, patch, e, now)
    })
    .await
}

/// Deletes a rule for the caller (shared by the API and the pages).
pub async fn delete(
    hotline: &Hotline,
    dispatching: &web::Data<Dispatching>,
    caller: &Caller,
    id: Uuid,
    expected_version: Option<i32>,
) -> Result<(), ApiError> {
    change(hotline, dispatching, caller, move |c, e, now| {
        store::delete(c, id, expected_version, e, now).map(|_| ())
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/dispatch/rules", tag = "dispatch", request_body = RuleInput,
    description = "Creates a rule (administrators; dispatchers for the units they may route to). Recorded in the audit trail.",
    responses((status = 201, body = RuleView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_rule(
    hotline: web::Data<Hotline>,
    dispatching: web::Data<Dispatching>,
    caller: Caller,
    body: ApiJson<RuleInput>,
) -> Result<HttpResponse, ApiError> {
    let rule = create(&hotline, &dispatching, &caller, body.0).await?;
    Ok(HttpResponse::Created().json(view_of(&hotline, &dispatching, rule).await?))
}

#[utoipa::path(patch, path = "/api/v1/dispatch/rules/{id}", tag = "dispatch", request_body = RulePatch,
    description = "Changes a rule: absent fields keep their value, `null` clears an optional one. With `expected_version`, a rule changed meanwhile answers 409.",
    params(("id" = String, Path, description = "Rule id (UUID)")),
    responses((status = 200, body = RuleView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_rule(
    hotline: web::Data<Hotline>,
    dispatching: web::Data<Dispatching>,
    caller: Caller,
    id: web::Path<String>,
    body: ApiJson<RulePatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ManageRoutingRules)?;
    let id = rule_id(&id)?;
    let rule = update(&hotline, &dispatching, &caller, id, body.0).await?;
    Ok(HttpResponse::Ok().json(view_of(&hotline, &dispatching, rule).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// The version the caller last read; a rule changed meanwhile answers 409.
    pub expected_version: Option<i32>,
}

#[utoipa::path(delete, path = "/api/v1/dispatch/rules/{id}", tag = "dispatch",
    description = "Deletes a rule; its audit trail stays.",
    params(("id" = String, Path, description = "Rule id (UUID)"), DeleteQuery),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_rule(
    hotline: web::Data<Hotline>,
    dispatching: web::Data<Dispatching>,
    caller: Caller,
    id: web::Path<String>,
    q: ApiQuery<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ManageRoutingRules)?;
    let id = rule_id(&id)?;
    delete(&hotline, &dispatching, &caller, id, q.expected_version).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only the changes of this rule.
    pub rule_id: Option<Uuid>,
    /// Only changes before this entry id (the `id` of the last entry of the previous page).
    pub before: Option<i64>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/dispatch/rule-audit", tag = "dispatch",
    description = "Every change of the rules, newest first: who, when, the rule before and after.",
    params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rule_audit(
    hotline: web::Data<Hotline>,
    caller: Caller,
    q: ApiQuery<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ReadRoutingRules)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 200"));
    }
    let (rule, before) = (q.rule_id, q.before);
    let list = hotline
        .db
        .run(move |c| store::audit_trail(c, rule, before, limit))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// What to suggest for: a stored ticket, or an appeal's text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestBody {
    /// A ticket the caller may see; then give no text.
    pub ticket_id: Option<TicketId>,
    /// The appeal's title (1–200 characters), when no ticket is given.
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 10000)]
    pub detail: Option<String>,
    #[schema(max_length = 200)]
    pub address: Option<String>,
    /// WGS 84; with `longitude`.
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    /// The category the agent chose, if any.
    pub category_id: Option<CategoryId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestAnswer {
    /// The ticket suggested for, if one was given.
    pub ticket_id: Option<TicketId>,
    #[serde(flatten)]
    pub suggestion: UnitSuggestion,
}

/// The suggestion for a ticket the caller may see; stores its mark when it awaits dispatch.
pub async fn for_ticket(
    hotline: &Hotline,
    dispatching: &web::Data<Dispatching>,
    caller: &Caller,
    id: TicketId,
) -> Result<UnitSuggestion, ApiError> {
    caller.require(Permission::SuggestDispatch)?;
    let (d, scope) = (dispatching.clone(), caller.scope.clone());
    Ok(hotline
        .db
        .write(move |c| {
            tickets::get_visible(c, id, &scope)?;
            Ok::<_, DispatchError>(d.suggester.mark(c, id)?.1)
        })
        .await?)
}

fn check_point(b: &SuggestBody) -> Result<Option<(f64, f64)>, ApiError> {
    match (b.latitude, b.longitude) {
        (None, None) => Ok(None),
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
                return Err(ApiError::invalid("latitude", "must lie within ±90"));
            }
            if !(-180.0..=180.0).contains(&lon) || !lon.is_finite() {
                return Err(ApiError::invalid("longitude", "must lie within ±180"));
            }
            Ok(Some((lat, lon)))
        }
        (Some(_), None) => Err(ApiError::invalid(
            "longitude",
            "latitude and longitude come together",
        )),
        (None, Some(_)) => Err(ApiError::invalid(
            "latitude",
            "latitude and longitude come together",
        )),
    }
}

#[utoipa::path(post, path = "/api/v1/dispatch/suggest", tag = "dispatch", request_body = SuggestBody,
    description = "Where a ticket (or an appeal's text) should go: ranked units with their confidence and an explanation (the rule that matched, the terms that weighed most, the place recognised). Units that returned the ticket are never suggested. For a ticket awaiting dispatch the answer is stored: below the threshold it is in the dispatcher's manual queue (`GET /tickets?manual_dispatch=true`).",
    responses((status = 200, body = SuggestAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn suggest(
    hotline: web::Data<Hotline>,
    dispatching: web::Data<Dispatching>,
    caller: Caller,
    body: ApiJson<SuggestBody>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::SuggestDispatch)?;
    let b = body.0;
    if let Some(id) = b.ticket_id {
        let text_given = [&b.title, &b.detail, &b.address]
            .iter()
            .any(|v| v.is_some())
            || b.latitude.is_some()
            || b.longitude.is_some()
            || b.category_id.is_some();
        if text_given {
            return Err(ApiError::invalid(
                "ticket_id",
                "give a ticket_id or the appeal's text, not both",
            ));
        }
        let suggestion = for_ticket(&hotline, &dispatching, &caller, id).await?;
        return Ok(HttpResponse::Ok().json(SuggestAnswer {
            ticket_id: Some(id),
            suggestion,
        }));
    }
    let title = text::<200>("title", b.title.as_deref().unwrap_or_default())?.into_string();
    let detail = opt_text::<10000>("detail", b.detail.as_deref())?.map(|d| d.into_string());
    let address = opt_text::<200>("address", b.address.as_deref())?.map(|a| a.into_string());
    let point = check_point(&b)?;
    let category_id = b.category_id;
    let within = jurisdiction(&caller.unit).to_owned();
    let d = dispatching.clone();
    let suggestion = hotline
        .db
        .run(move |c| {
            if let Some(id) = category_id {
                match categories::get(c, id) {
                    Ok(_) => {}
                    Err(StoreError::NotFound(_)) => {
                        return Err(DispatchError::invalid("category_id", "no such category"));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            let router = d.suggester.router(c)?;
            Ok(router.suggest(
                &Appeal {
                    title: &title,
                    detail: detail.as_deref().unwrap_or_default(),
                    address: address.as_deref(),
                    point,
                    category_id,
                },
                &Bounds {
                    excluded: Vec::new(),
                    within: Some(within),
                },
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(SuggestAnswer {
        ticket_id: None,
        suggestion,
    }))
}
