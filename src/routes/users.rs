//! Staff accounts. Administrators manage everyone in their scope; unit admins manage handlers and
//! admins of their own unit and the units below it.

use actix_web::{HttpResponse, web};
use hotline_core::auth::Permission;
use hotline_core::domain::Role;
use hotline_core::error::ErrorBody;
use hotline_core::http::{ApiJson, Caller};
use hotline_core::ids::{UnitId, UserId};
use hotline_core::scope::Scope;
use hotline_core::store::sessions;
use hotline_core::store::users::{self, User, UserChanges};
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, StoreError};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::accounts::{self, AccountSpec};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/users")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/users/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(update)),
    );
}

fn scope_units(scope: &Scope) -> Option<Vec<UnitId>> {
    match scope {
        Scope::All => None,
        Scope::Units(u) => Some(u.clone()),
    }
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    description = "Users of the units in the caller's scope.",
    responses((status = 200, body = Vec<User>), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(hotline: web::Data<Hotline>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ReadUsers)?;
    let units = scope_units(&caller.scope);
    let list = hotline
        .db
        .run(move |c| users::list(c, units.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// What a caller may do to accounts with this role in this unit.
fn check_manage(caller: &Caller, role: Role, unit: UnitId) -> Result<(), ApiError> {
    caller.require(Permission::ManageUsers)?;
    if !caller.scope.contains(unit) {
        return Err(ApiError::invalid(
            "unit_id",
            "the unit is outside your scope",
        ));
    }
    if caller.user.role == Role::UnitAdmin && !role.is_unit_staff() {
        return Err(ApiError::forbidden(
            "unit admins manage unit handlers and unit admins only",
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: UnitId,
    /// At least 10 characters.
    pub password: String,
    /// Where notices for this account go (unit admins get their unit's notices and digest).
    pub email: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = User), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    hotline: web::Data<Hotline>,
    caller: Caller,
    body: ApiJson<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    check_manage(&caller, b.role, b.unit_id)?;
    let spec = tokio::task::spawn_blocking(move || {
        AccountSpec::new(&b.username, &b.display_name, b.role, b.unit_id, &b.password)?
            .with_email(b.email.as_deref())
    })
    .await
    .map_err(ApiError::internal)??;
    let user = hotline
        .db
        .write(move |c| accounts::insert(c, &spec))
        .await?;
    Ok(HttpResponse::Created().json(user))
}

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("user"))
}

async fn visible_user(hotline: &Hotline, caller: &Caller, id: UserId) -> Result<User, ApiError> {
    let user = hotline.db.run(move |c| users::get(c, id)).await?;
    if caller.scope.contains(user.unit_id) {
        Ok(user)
    } else {
        Err(ApiError::not_found("user"))
    }
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    hotline: web::Data<Hotline>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ReadUsers)?;
    let user = visible_user(&hotline, &caller, user_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub unit_id: Option<UnitId>,
    /// Sets a new password and ends the user's sessions.
    pub password: Option<String>,
    /// false deactivates the account and ends its sessions.
    pub active: Option<bool>,
    /// A new address for notices; an empty string removes it.
    pub email: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UpdateUser,
    params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    hotline: web::Data<Hotline>,
    caller: Caller,
    id: web::Path<String>,
    body: ApiJson<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ManageUsers)?;
    let current = visible_user(&hotline, &caller, user_id(&id)?).await?;
    let b = body.0;
    let role = b.role.unwrap_or(current.role);
    let unit = b.unit_id.unwrap_or(current.unit_id);
    check_manage(&caller, current.role, current.unit_id)?;
    check_manage(&caller, role, unit)?;
    if current.id == caller.user.id
        && (b.active == Some(false) || b.role.is_some_and(|r| r != current.role))
    {
        return Err(ApiError::invalid(
            "role",
            "you cannot demote or deactivate yourself",
        ));
    }
    let display_name =
        super::opt_text::<50>("display_name", b.display_name.as_deref())?.map(|n| n.into_string());
    let password_hash = match b.password {
        Some(pw) => Some(
            tokio::task::spawn_blocking(move || accounts::hash_password("password", &pw))
                .await
                .map_err(ApiError::internal)??,
        ),
        None => None,
    };
    let email = match b.email.as_deref() {
        None => None,
        Some(e) => Some(crate::routes::catalogue::check_email("email", Some(e))?),
    };
    let ends_sessions = password_hash.is_some() || b.active == Some(false);
    let changes = UserChanges {
        display_name,
        role: b.role.map(|r| r.to_string()),
        unit_id: b.unit_id.map(|u| u.to_string()),
        password_hash,
        active: b.active,
        email,
        ..UserChanges::default()
    };
    let id = current.id;
    let user = hotline
        .db
        .write(move |c| {
            let now = hotline_core::db::now();
            let target = hotline_core::store::units::get(c, unit)
                .map_err(|_| StoreError::invalid("unit_id", "no such unit"))?;
            accounts::check_role_fits(role, target.kind)?;
            let user = users::update(c, id, changes, now)?;
            if ends_sessions {
                sessions::revoke_all(c, id, now)?;
            }
            Ok::<_, StoreError>(user)
        })
        .await?;
    Ok(HttpResponse::Ok().json(user))
}
