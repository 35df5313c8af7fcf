//! `POST /tickets/{id}/act/{action}`: one form per transition. The form is read into the same
//! `Action` the JSON API builds and goes through `actions::perform` (or `Hotline::merge`) with the
//! version the page was rendered from, so a page someone else overtook answers 409 instead of
//! acting on a ticket its reader has not seen.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use hotline_core::auth::Permission;
use hotline_core::http::page::see_other;
use hotline_core::http::page_text;
use hotline_core::http::{Caller, CsrfForm, FormFields, PageError};
use hotline_core::ids::{TicketId, UnitId};
use hotline_core::store::tickets as ticket_store;
use hotline_core::ticket::{Action, ActionKind, Rating, Ruling};
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, ErrorCode, StoreError};

use super::detail::{self, Feedback, Notice};
use super::{OrPage, Pages};
use crate::routes::actions::{perform, routing_units};
use crate::routes::tickets::ticket_id;
use crate::routes::{opt_text, text};

/// Fields that may carry several values (multi-selects).
const MULTI: &[&str] = &["co_unit_ids"];

fn required<'a>(f: &'a FormFields, name: &str) -> &'a str {
    f.one(name).unwrap_or_default()
}

fn parsed<T: std::str::FromStr>(f: &FormFields, name: &'static str) -> Result<Option<T>, ApiError> {
    f.one(name)
        .map(|v| v.trim().parse::<T>())
        .transpose()
        .map_err(|_| ApiError::invalid(name, "invalid value"))
}

fn must<T>(v: Option<T>, name: &'static str) -> Result<T, ApiError> {
    v.ok_or_else(|| ApiError::invalid(name, "must not be empty"))
}

fn unit_ids(f: &FormFields, name: &'static str) -> Result<Vec<UnitId>, ApiError> {
    f.all(name)
        .into_iter()
        .map(|v| {
            v.parse()
                .map_err(|_| ApiError::invalid(name, "no such unit"))
        })
        .collect()
}

/// Reads the form of `kind` into an action (merge is read apart: it names a second ticket).
async fn action(hotline: &Hotline, kind: ActionKind, f: &FormFields) -> Result<Action, ApiError> {
    use ActionKind as A;
    let reason = || text("reason", required(f, "reason"));
    let note = || opt_text("note", f.one("note"));
    Ok(match kind {
        A::Answer => Action::Answer {
            answer: text("answer", required(f, "answer"))?,
            article: crate::routes::actions::citation(hotline, f.one("article")).await?,
        },
        A::Dispatch => {
            let main = must(parsed::<UnitId>(f, "main_unit_id")?, "main_unit_id")?;
            let co = unit_ids(f, "co_unit_ids")?;
            let note = note()?;
            let (main, co) = routing_units(hotline, main, "main_unit_id", &co).await?;
            Action::Dispatch { main, co, note }
        }
        A::Sign => Action::Sign,
        A::PassDown => {
            let to = must(parsed::<UnitId>(f, "to_unit_id")?, "to_unit_id")?;
            let note = note()?;
            Action::PassDown {
                to: hotline.unit_ref(to, "to_unit_id").await?,
                note,
            }
        }
        A::Return => Action::Return { reason: reason()? },
        A::Rule => {
            let ruling = text("ruling", required(f, "ruling"))?;
            let decision = match f.one("decision") {
                Some("send_back") => Ruling::SendBack,
                Some("redispatch") => {
                    let main = parsed::<UnitId>(f, "main_unit_id")?.ok_or_else(|| {
                        ApiError::invalid("main_unit_id", "required to re-dispatch")
                    })?;
                    let co = unit_ids(f, "co_unit_ids")?;
                    let (main, co) = routing_units(hotline, main, "main_unit_id", &co).await?;
                    Ruling::Redispatch { main, co }
                }
                _ => return Err(ApiError::invalid("decision", "must not be empty")),
            };
            Action::Rule { ruling, decision }
        }
        A::RequestExtension => Action::RequestExtension {
            days: must(parsed(f, "days")?, "days")?,
            reason: reason()?,
        },
        A::ApproveExtension => Action::ApproveExtension {
            days: parsed(f, "days")?,
            note: note()?,
        },
        A::DenyExtension => Action::DenyExtension { reason: reason()? },
        A::Suspend => Action::Suspend { reason: reason()? },
        A::Resume => Action::Resume,
        A::Reply => Action::Reply {
            reply: text("reply", required(f, "reply"))?,
        },
        A::ReturnVisit => Action::ReturnVisit {
            reached: f.one("reached").is_some(),
            note: note()?,
        },
        A::Rate => Action::Rate {
            rating: must(parsed::<Rating>(f, "rating")?, "rating")?,
            comment: opt_text("comment", f.one("comment"))?,
        },
        A::Redo => Action::Redo { reason: reason()? },
        A::Supervise => Action::Supervise { reason: reason()? },
        A::Withdraw => Action::Withdraw { reason: reason()? },
        A::Close => Action::Close {
            resolution: text("resolution", required(f, "resolution"))?,
        },
        A::Merge => return Err(ApiError::invalid("action", "merge is read apart")),
    })
}

/// 合并: the duplicate named by its ticket number, looked up within the caller's scope.
async fn merge(
    hotline: &Hotline,
    caller: &Caller,
    id: TicketId,
    f: &FormFields,
    version: Option<i32>,
) -> Result<(), ApiError> {
    caller.require(Permission::ActOnTickets)?;
    let number = must(f.one("target_number"), "target_number")?
        .trim()
        .to_owned();
    let reason = text("reason", required(f, "reason"))?;
    let scope = caller.scope.clone();
    let target = hotline
        .db
        .run(move |c| {
            let Some(t) = ticket_store::by_number(c, &number)? else {
                return Ok(None);
            };
            match ticket_store::get_visible(c, t.id, &scope) {
                Ok(t) => Ok(Some(t)),
                Err(StoreError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await?
        .ok_or_else(|| ApiError::invalid("target_number", "no such ticket"))?;
    hotline
        .merge(
            caller.actor(),
            caller.scope.clone(),
            id,
            target.id,
            reason,
            version,
        )
        .await?;
    Ok(())
}

async fn take(
    hotline: &Hotline,
    caller: &Caller,
    id: TicketId,
    kind: ActionKind,
    f: &FormFields,
) -> Result<(), ApiError> {
    let version = Some(must(
        parsed::<i32>(f, "expected_version")?,
        "expected_version",
    )?);
    if kind == ActionKind::Merge {
        return merge(hotline, caller, id, f, version).await;
    }
    let action = action(hotline, kind, f).await?;
    perform(hotline, caller, id, action, version)
        .await
        .map(|_| ())
}

/// What was typed, to fill the form again after a field error.
fn typed(f: &FormFields) -> HashMap<String, serde_json::Value> {
    let mut out: HashMap<String, serde_json::Value> = HashMap::new();
    for (k, v) in f.pairs() {
        if MULTI.contains(&k) {
            let list = out
                .entry(k.to_owned())
                .or_insert_with(|| serde_json::json!([]));
            if let serde_json::Value::Array(items) = list {
                items.push(v.into());
            }
        } else {
            out.entry(k.to_owned()).or_insert_with(|| v.into());
        }
    }
    out
}

/// Where the browser goes after an action: back to the live page the form was on (the agent
/// console, `next`), or else the ticket page, with the action named for the banner.
fn after_action(f: &FormFields, id: TicketId, kind: ActionKind) -> String {
    match f.one("next").filter(|n| super::is_live_page(n)) {
        Some(next) => {
            let sep = if next.contains('?') { '&' } else { '?' };
            format!("{next}{sep}done={kind}")
        }
        None => format!("/tickets/{id}?done={kind}"),
    }
}

pub async fn submit(
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    dispatching: web::Data<crate::dispatching::Dispatching>,
    form: CsrfForm,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let caller = &form.caller;
    let id = ticket_id(&path.0).or_page(caller)?;
    let kind: ActionKind = path
        .1
        .parse()
        .map_err(|_| ApiError::not_found("action"))
        .or_page(caller)?;
    match take(&hotline, caller, id, kind, &form.fields).await {
        Ok(()) => Ok(see_other(&after_action(&form.fields, id, kind))),
        Err(e)
            if matches!(
                e.code,
                ErrorCode::InvalidField | ErrorCode::VersionConflict | ErrorCode::InvalidTransition
            ) =>
        {
            let status = e.code.status();
            let feedback = Feedback {
                action: kind,
                message: page_text::message(&e),
                field_error: e.code == ErrorCode::InvalidField,
                at_form: false,
                values: typed(&form.fields),
            };
            detail::render_part(
                &hotline,
                &pages,
                &dispatching,
                caller,
                id,
                Notice::default(),
                Some((status, feedback)),
                None,
            )
            .await
        }
        Err(e) => Err(e).or_page(caller),
    }
}
