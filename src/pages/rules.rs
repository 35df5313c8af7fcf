//! 派单规则: the routing rules in the order they are tried, a form to add one, a page per rule
//! to change or delete it, and the audit trail of every change. Readers with the permission see
//! them; administrators and dispatchers edit them (through the same functions as the API, so the
//! checks are the API's own).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use hotline_core::auth::{Permission, role_permits};
use hotline_core::http::page::see_other;
use hotline_core::http::page_text;
use hotline_core::http::{Caller, CsrfForm, FormFields, PageCaller, PageError, PageUser};
use hotline_core::ids::{CategoryId, UnitId};
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, ErrorCode, StoreError};
use hotline_dispatch::routing::store::{self, AuditEntry};
use hotline_dispatch::routing::{Rule, RuleInput, RuleKind, RulePatch, Target};
use minijinja::context;
use serde::Serialize;
use strum::IntoEnumIterator;
use uuid::Uuid;

use super::lookup::{Choice, Units, UserNames, category_groups};
use super::{OrPage, Pages};
use crate::dispatching::Dispatching;
use crate::routes::dispatch::{self as api, RuleView};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/dispatch/rules")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/dispatch/rules/{id}")
            .route(web::get().to(edit))
            .route(web::post().to(update)),
    )
    .route("/dispatch/rules/{id}/delete", web::post().to(delete));
}

/// One change of the trail, as the page shows it.
#[derive(Debug, Serialize)]
struct Change {
    at: chrono::DateTime<chrono::Utc>,
    action: &'static str,
    who: String,
    rule_id: String,
    before: Option<String>,
    after: Option<String>,
}

fn action_label(a: &str) -> &'static str {
    match a {
        "created" => "新建",
        "updated" => "修改",
        "deleted" => "删除",
        _ => "变更",
    }
}

/// The trail with rules described and actors named.
async fn trail(
    hotline: &Hotline,
    dispatching: &web::Data<Dispatching>,
    rule: Option<Uuid>,
) -> Result<Vec<Change>, ApiError> {
    let d = dispatching.clone();
    Ok(hotline
        .db
        .run(move |c| {
            let router = d.suggester.router(c)?;
            let entries: Vec<AuditEntry> = store::audit_trail(c, rule, None, 30)?;
            let mut names = UserNames::default();
            let mut out = Vec::new();
            for e in entries {
                let who = names.of(c, e.actor_id, "系统（默认规则）");
                out.push(Change {
                    at: e.occurred_at,
                    action: action_label(&e.action),
                    who,
                    rule_id: e.rule_id.to_string(),
                    before: e.before.as_ref().map(|r| router.describe(r)),
                    after: e.after.as_ref().map(|r| router.describe(r)),
                });
            }
            Ok::<_, StoreError>(out)
        })
        .await?)
}

fn choices<T: IntoEnumIterator + AsRef<str> + Copy>(label: fn(T) -> &'static str) -> Vec<Choice> {
    T::iter()
        .map(|t| Choice {
            id: t.as_ref().to_owned(),
            name: label(t).to_owned(),
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct FormError {
    field: Option<String>,
    message: String,
}

fn form_error(e: &ApiError) -> FormError {
    FormError {
        field: e.field.clone(),
        message: if e.code == ErrorCode::VersionConflict {
            "规则已被他人修改，请刷新页面后重试。".to_owned()
        } else {
            page_text::message(e)
        },
    }
}

/// The values a rule's form shows.
fn values_of(r: &Rule) -> HashMap<String, String> {
    let mut v = HashMap::new();
    v.insert("kind".into(), r.kind.to_string());
    v.insert("target".into(), r.target.to_string());
    let mut put = |k: &str, s: Option<String>| {
        if let Some(s) = s {
            v.insert(k.to_owned(), s);
        }
    };
    put("category_id", r.category_id.map(|c| c.to_string()));
    put("area_unit_id", r.area_unit_id.map(|u| u.to_string()));
    put("unit_id", r.unit_id.map(|u| u.to_string()));
    put("keywords", Some(r.keywords.join("、")));
    put("priority", Some(r.priority.to_string()));
    put("position", Some(r.position.to_string()));
    put("note", r.note.clone());
    put("version", Some(r.version.to_string()));
    if r.active {
        v.insert("active".into(), "true".into());
    }
    v
}

fn typed(f: &FormFields) -> HashMap<String, String> {
    f.pairs()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn parsed<T: std::str::FromStr>(f: &FormFields, name: &'static str) -> Result<Option<T>, ApiError> {
    f.one(name)
        .map(|v| v.trim().parse::<T>())
        .transpose()
        .map_err(|_| ApiError::invalid(name, "invalid value"))
}

/// Reads the rule form: keywords separated by 、，, commas or spaces; blank numbers take the
/// defaults; the checkbox `active`.
fn input_of(f: &FormFields) -> Result<RuleInput, ApiError> {
    let kind = parsed::<RuleKind>(f, "kind")?
        .ok_or_else(|| ApiError::invalid("kind", "must not be empty"))?;
    let target = parsed::<Target>(f, "target")?
        .ok_or_else(|| ApiError::invalid("target", "must not be empty"))?;
    let keywords = f
        .one("keywords")
        .unwrap_or_default()
        .split(['、', '，', ',', ' ', '\u{3000}', '\n'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(RuleInput {
        kind,
        category_id: parsed::<CategoryId>(f, "category_id")?,
        area_unit_id: parsed::<UnitId>(f, "area_unit_id")?,
        keywords,
        target,
        unit_id: parsed::<UnitId>(f, "unit_id")?,
        priority: parsed::<i32>(f, "priority")?,
        position: parsed::<i32>(f, "position")?,
        active: Some(f.one("active").is_some()),
        note: f.one("note").map(str::to_owned),
    })
}

/// What the rule form needs to offer.
async fn pickers(hotline: &Hotline, caller: &Caller) -> Result<minijinja::Value, ApiError> {
    let units = Units::load(hotline).await?;
    Ok(context! {
        kinds => choices::<RuleKind>(RuleKind::label_zh),
        targets => choices::<Target>(Target::label_zh),
        categories => category_groups(hotline, 2).await?,
        areas => units.governments(&caller.unit),
        units => units.dispatch_targets(&caller.unit),
        may_edit => role_permits(caller.user.role, Permission::ManageRoutingRules),
    })
}

async fn render_list(
    hotline: &Hotline,
    pages: &Pages,
    dispatching: &web::Data<Dispatching>,
    caller: &Caller,
    values: HashMap<String, String>,
    error: Option<(StatusCode, FormError)>,
    done: Option<&str>,
) -> Result<HttpResponse, PageError> {
    caller
        .require(Permission::ReadRoutingRules)
        .or_page(caller)?;
    let rules: Vec<RuleView> = api::rule_views(hotline, dispatching)
        .await
        .or_page(caller)?;
    let changes = trail(hotline, dispatching, None).await.or_page(caller)?;
    let (status, error) = match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    pages.render(
        status,
        "rules.html",
        context! {
            me => PageUser::of(caller),
            rules,
            changes,
            v => values,
            error,
            done,
            threshold => (dispatching.suggester.threshold() * 100.0).round(),
            p => pickers(hotline, caller).await.or_page(caller)?,
        },
    )
}

pub async fn list(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    dispatching: web::Data<Dispatching>,
    caller: PageCaller,
) -> Result<HttpResponse, PageError> {
    let q = FormFields::parse(req.query_string().as_bytes());
    let done = q
        .one("done")
        .filter(|d| ["created", "updated", "deleted"].contains(d));
    let defaults = HashMap::from([("active".to_owned(), "true".to_owned())]);
    render_list(
        &hotline,
        &pages,
        &dispatching,
        &caller,
        defaults,
        None,
        done,
    )
    .await
}

fn refusable(e: &ApiError) -> bool {
    matches!(e.code, ErrorCode::InvalidField | ErrorCode::VersionConflict)
}

pub async fn create(
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    dispatching: web::Data<Dispatching>,
    form: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let caller = &form.caller;
    let made = match input_of(&form.fields) {
        Ok(i) => api::create(&hotline, &dispatching, caller, i).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(_) => Ok(see_other("/dispatch/rules?done=created")),
        Err(e) if refusable(&e) => {
            let error = Some((e.code.status(), form_error(&e)));
            let values = typed(&form.fields);
            render_list(&hotline, &pages, &dispatching, caller, values, error, None).await
        }
        Err(e) => Err(e).or_page(caller),
    }
}

fn path_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("rule"))
}

async fn render_edit(
    hotline: &Hotline,
    pages: &Pages,
    dispatching: &web::Data<Dispatching>,
    caller: &Caller,
    id: Uuid,
    values: Option<HashMap<String, String>>,
    error: Option<(StatusCode, FormError)>,
) -> Result<HttpResponse, PageError> {
    caller
        .require(Permission::ReadRoutingRules)
        .or_page(caller)?;
    let rule = hotline
        .db
        .run(move |c| store::get(c, id))
        .await
        .map_err(ApiError::from)
        .or_page(caller)?;
    let changes = trail(hotline, dispatching, Some(id))
        .await
        .or_page(caller)?;
    let (status, error) = match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    let version = rule.version;
    let mut v = values.unwrap_or_else(|| values_of(&rule));
    v.insert("version".into(), version.to_string());
    let d = dispatching.clone();
    let described = rule.clone();
    let description = hotline
        .db
        .run(move |c| d.suggester.router(c).map(|r| r.describe(&described)))
        .await
        .map_err(ApiError::from)
        .or_page(caller)?;
    pages.render(
        status,
        "rule.html",
        context! {
            me => PageUser::of(caller),
            rule,
            description,
            changes,
            v,
            error,
            p => pickers(hotline, caller).await.or_page(caller)?,
        },
    )
}

pub async fn edit(
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    dispatching: web::Data<Dispatching>,
    caller: PageCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&path).or_page(&caller)?;
    render_edit(&hotline, &pages, &dispatching, &caller, id, None, None).await
}

pub async fn update(
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    dispatching: web::Data<Dispatching>,
    form: CsrfForm,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let caller = &form.caller;
    let id = path_id(&path).or_page(caller)?;
    let changed = match (
        input_of(&form.fields),
        parsed::<i32>(&form.fields, "version"),
    ) {
        (Ok(i), Ok(version)) => {
            let patch = RulePatch {
                kind: Some(i.kind),
                category_id: Some(i.category_id),
                area_unit_id: Some(i.area_unit_id),
                keywords: Some(i.keywords),
                target: Some(i.target),
                unit_id: Some(i.unit_id),
                priority: i.priority,
                position: i.position,
                active: i.active,
                note: Some(i.note),
                expected_version: version,
            };
            api::update(&hotline, &dispatching, caller, id, patch).await
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match changed {
        Ok(_) => Ok(see_other("/dispatch/rules?done=updated")),
        Err(e) if refusable(&e) => {
            let error = Some((e.code.status(), form_error(&e)));
            let values = Some(typed(&form.fields));
            render_edit(&hotline, &pages, &dispatching, caller, id, values, error).await
        }
        Err(e) => Err(e).or_page(caller),
    }
}

pub async fn delete(
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    dispatching: web::Data<Dispatching>,
    form: CsrfForm,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let caller = &form.caller;
    let id = path_id(&path).or_page(caller)?;
    let version = parsed::<i32>(&form.fields, "version").or_page(caller)?;
    match api::delete(&hotline, &dispatching, caller, id, version).await {
        Ok(()) => Ok(see_other("/dispatch/rules?done=deleted")),
        Err(e) if refusable(&e) => {
            let error = Some((e.code.status(), form_error(&e)));
            render_edit(&hotline, &pages, &dispatching, caller, id, None, error).await
        }
        Err(e) => Err(e).or_page(caller),
    }
}
