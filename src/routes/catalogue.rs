//! The org tree and the category catalogue: readable by every signed-in user (dispatch pickers
//! need them), changed by administrators.

use actix_web::{HttpResponse, web};
use hotline_core::auth::Permission;
use hotline_core::domain::org::{ParentFacts, check_placement};
use hotline_core::domain::{Level, UnitKind};
use hotline_core::error::ErrorBody;
use hotline_core::http::{ApiJson, ApiQuery, Caller};
use hotline_core::ids::{CategoryId, UnitId};
use hotline_core::store::categories::{self, Category};
use hotline_core::store::units::{self, Unit, UnitFilter, UnitSpec};
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, StoreError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{opt_text, text};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/org-units")
            .route(web::get().to(list_units))
            .route(web::post().to(create_unit)),
    )
    .service(
        web::resource("/org-units/{id}")
            .route(web::get().to(get_unit))
            .route(web::patch().to(update_unit)),
    )
    .service(
        web::resource("/categories")
            .route(web::get().to(list_categories))
            .route(web::post().to(create_category)),
    )
    .service(web::resource("/categories/{id}").route(web::patch().to(update_category)));
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    pub parent_id: Option<UnitId>,
    pub level: Option<Level>,
    pub kind: Option<UnitKind>,
}

#[utoipa::path(get, path = "/api/v1/org-units", tag = "org", params(UnitQuery),
    responses((status = 200, body = Vec<Unit>)), security(("bearer" = [])))]
pub async fn list_units(
    hotline: web::Data<Hotline>,
    caller: Caller,
    q: ApiQuery<UnitQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ReadCatalogue)?;
    let f = UnitFilter {
        parent_id: q.parent_id,
        level: q.level,
        kind: q.kind,
        within_path: None,
    };
    let list = hotline.db.run(move |c| units::list(c, &f)).await?;
    Ok(HttpResponse::Ok().json(list))
}

fn unit_id(raw: &str) -> Result<UnitId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("org unit"))
}

#[utoipa::path(get, path = "/api/v1/org-units/{id}", tag = "org", params(("id" = String, Path)),
    responses((status = 200, body = Unit), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_unit(
    hotline: web::Data<Hotline>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ReadCatalogue)?;
    let id = unit_id(&id)?;
    let unit = hotline.db.run(move |c| units::get(c, id)).await?;
    Ok(HttpResponse::Ok().json(unit))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUnit {
    /// Unique key, e.g. the division code or `990100-ZJJ`.
    pub code: String,
    pub name: String,
    pub level: Level,
    pub kind: UnitKind,
    pub parent_id: Option<UnitId>,
    /// GB/T 2260 6 digits; 9 or 12 digits below the county.
    pub division_code: Option<String>,
    pub email: Option<String>,
}

pub fn check_email(field: &str, email: Option<&str>) -> Result<Option<String>, ApiError> {
    match email.map(str::trim).filter(|e| !e.is_empty()) {
        None => Ok(None),
        Some(e) => {
            let ok = e.len() <= 254
                && e.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                })
                && !e.chars().any(|c| c.is_whitespace() || c.is_control());
            if ok {
                Ok(Some(e.to_owned()))
            } else {
                Err(ApiError::invalid(field, "not an e-mail address"))
            }
        }
    }
}

pub fn check_code(field: &str, code: &str) -> Result<String, ApiError> {
    let code = code.trim();
    if code.is_empty()
        || code.len() > 64
        || !code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::invalid(
            field,
            "1 to 64 ASCII letters, digits, '-' or '_'",
        ));
    }
    Ok(code.to_owned())
}

#[utoipa::path(post, path = "/api/v1/org-units", tag = "org", request_body = CreateUnit,
    responses((status = 201, body = Unit), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_unit(
    hotline: web::Data<Hotline>,
    caller: Caller,
    body: ApiJson<CreateUnit>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ManageCatalogue)?;
    let b = body.0;
    let spec = UnitSpec {
        code: check_code("code", &b.code)?,
        name: text::<100>("name", &b.name)?.into_string(),
        level: b.level,
        kind: b.kind,
        parent_id: b.parent_id,
        division_code: b
            .division_code
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty()),
        email: check_email("email", b.email.as_deref())?,
    };
    let unit = hotline
        .db
        .write(move |c| {
            if units::by_code(c, &spec.code)?.is_some() {
                return Err(StoreError::AlreadyExists {
                    what: "a unit with this code",
                    field: "code",
                });
            }
            let parent = match spec.parent_id {
                Some(p) => Some(
                    units::get(c, p)
                        .map_err(|_| StoreError::invalid("parent_id", "no such unit"))?,
                ),
                None => None,
            };
            check_placement(
                spec.level,
                spec.kind,
                spec.division_code.as_deref(),
                parent.as_ref().map(|p| ParentFacts {
                    level: p.level,
                    kind: p.kind,
                    division_code: p.division_code.as_deref(),
                }),
            )
            .map_err(|(field, reason)| {
                StoreError::invalid(
                    if field == "parent_code" {
                        "parent_id"
                    } else {
                        field
                    },
                    reason,
                )
            })?;
            Ok(units::upsert(c, &spec, hotline_core::db::now())?.0)
        })
        .await?;
    Ok(HttpResponse::Created().json(unit))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUnit {
    pub name: Option<String>,
    pub email: Option<String>,
    /// Retire (false) or restore (true) the unit; retired units receive no new tickets.
    pub active: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/org-units/{id}", tag = "org", request_body = UpdateUnit,
    params(("id" = String, Path)),
    responses((status = 200, body = Unit), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_unit(
    hotline: web::Data<Hotline>,
    caller: Caller,
    id: web::Path<String>,
    body: ApiJson<UpdateUnit>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ManageCatalogue)?;
    let id = unit_id(&id)?;
    let b = body.0;
    let name = opt_text::<100>("name", b.name.as_deref())?.map(|n| n.into_string());
    let email = check_email("email", b.email.as_deref())?;
    let unit = hotline
        .db
        .write(move |c| {
            let now = hotline_core::db::now();
            let u = units::get(c, id)?;
            if name.is_some() || email.is_some() {
                let spec = UnitSpec {
                    code: u.code.clone(),
                    name: name.unwrap_or(u.name.clone()),
                    level: u.level,
                    kind: u.kind,
                    parent_id: u.parent_id,
                    division_code: u.division_code.clone(),
                    email: email.or(u.email.clone()),
                };
                units::upsert(c, &spec, now)?;
            }
            if let Some(active) = b.active {
                units::set_active(c, id, active, now)?;
            }
            units::get(c, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(unit))
}

#[utoipa::path(get, path = "/api/v1/categories", tag = "catalogue",
    description = "The three-level category tree, flat: each category names its parent.",
    responses((status = 200, body = Vec<Category>)), security(("bearer" = [])))]
pub async fn list_categories(
    hotline: web::Data<Hotline>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ReadCatalogue)?;
    let list = hotline.db.run(categories::list).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCategory {
    pub level1: String,
    pub level2: Option<String>,
    pub level3: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/categories", tag = "catalogue", request_body = CreateCategory,
    description = "Adds a category path (existing levels are reused).",
    responses((status = 201, body = Category), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_category(
    hotline: web::Data<Hotline>,
    caller: Caller,
    body: ApiJson<CreateCategory>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ManageCatalogue)?;
    let b = body.0;
    let mut names = vec![category_name("level1", &b.level1)?];
    if let Some(l2) = opt_text::<50>("level2", b.level2.as_deref())? {
        names.push(category_name("level2", l2.as_str())?);
        if let Some(l3) = opt_text::<50>("level3", b.level3.as_deref())? {
            names.push(category_name("level3", l3.as_str())?);
        }
    } else if b.level3.as_deref().is_some_and(|s| !s.trim().is_empty()) {
        return Err(ApiError::invalid("level2", "a third level needs a second"));
    }
    let category = hotline
        .db
        .write(move |c| {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let (id, _) = categories::ensure_path(c, &refs, 1000, hotline_core::db::now())?;
            categories::get(c, id)
        })
        .await?;
    Ok(HttpResponse::Created().json(category))
}

/// A category name: short, and without the '/' that joins full names.
pub fn category_name(field: &str, s: &str) -> Result<String, ApiError> {
    let name = text::<50>(field, s)?.into_string();
    if name.contains('/') {
        return Err(ApiError::invalid(field, "must not contain '/'"));
    }
    Ok(name)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCategory {
    pub active: bool,
}

#[utoipa::path(patch, path = "/api/v1/categories/{id}", tag = "catalogue", request_body = UpdateCategory,
    params(("id" = String, Path)),
    responses((status = 200, body = Category), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_category(
    hotline: web::Data<Hotline>,
    caller: Caller,
    id: web::Path<String>,
    body: ApiJson<UpdateCategory>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ManageCatalogue)?;
    let id: CategoryId = id.parse().map_err(|_| ApiError::not_found("category"))?;
    let active = body.0.active;
    let c = hotline
        .db
        .write(move |c| categories::set_active(c, id, active, hotline_core::db::now()))
        .await?;
    Ok(HttpResponse::Ok().json(c))
}
