//! 时限规则: the time limits of every appeal type and urgency, the return and return-visit
//! windows and the working hours. Everyone signed in reads them; administrators change them here
//! (the same checks as `PUT /api/v1/time-rules`), and see who changed what.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use hotline_core::auth::Permission;
use hotline_core::calendar::{Span, WorkingHours};
use hotline_core::http::page::see_other;
use hotline_core::http::{Caller, CsrfForm, FormFields, PageCaller, PageError, PageUser};
use hotline_core::store::time_rules::{self, RulesChange, TimeRulesDoc};
use hotline_core::time_limit::TimeLimitRule;
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, ErrorCode};
use minijinja::context;
use serde::Serialize;

use super::lookup::UserNames;
use super::{FieldError, OrPage, Pages};
use crate::routes::time_rules::{PutRules, current, save};

const UNITS: [(&str, &str); 3] = [
    ("working_hours", "工作小时"),
    ("working_days", "工作日"),
    ("calendar_hours", "自然小时"),
];

#[derive(Debug, Serialize)]
struct SpanField {
    unit: &'static str,
    value: u32,
}

fn span_field(s: Span) -> SpanField {
    match s {
        Span::WorkingHours(v) => SpanField {
            unit: "working_hours",
            value: v,
        },
        Span::WorkingDays(v) => SpanField {
            unit: "working_days",
            value: v,
        },
        Span::CalendarHours(v) => SpanField {
            unit: "calendar_hours",
            value: v,
        },
    }
}

#[derive(Debug, Serialize)]
struct RuleRow {
    appeal_type: &'static str,
    urgency: &'static str,
    sign_for: SpanField,
    handle: SpanField,
    max_extension: Option<SpanField>,
}

fn rows(doc: &TimeRulesDoc) -> Vec<RuleRow> {
    doc.limits
        .iter()
        .map(|r| RuleRow {
            appeal_type: r.appeal_type.label_zh(),
            urgency: r.urgency.label_zh(),
            sign_for: span_field(r.sign_for),
            handle: span_field(r.handle),
            max_extension: r.max_extension.map(span_field),
        })
        .collect()
}

async fn render(
    hotline: &Hotline,
    pages: &Pages,
    caller: &Caller,
    shown: Option<(TimeRulesDoc, i32)>,
    error: Option<(StatusCode, FieldError)>,
    saved: bool,
) -> Result<HttpResponse, PageError> {
    caller.require(Permission::ReadCatalogue).or_page(caller)?;
    let (doc, version) = match shown {
        Some(s) => s,
        None => {
            let a = current(hotline).await.or_page(caller)?;
            (a.rules, a.version)
        }
    };
    let can_edit = caller.require(Permission::ManageTimeRules).is_ok();
    // The change log, each change with the name of who made it.
    let changes: Vec<(RulesChange, String)> = if can_edit {
        hotline
            .db
            .run(|c| {
                let mut names = UserNames::default();
                time_rules::changes(c, 20).map(|list| {
                    list.into_iter()
                        .map(|ch| {
                            let who = names.of(c, ch.changed_by, "—");
                            (ch, who)
                        })
                        .collect()
                })
            })
            .await
            .or_page(caller)?
    } else {
        Vec::new()
    };
    let changes: Vec<_> = changes
        .into_iter()
        .map(|(c, who)| {
            context! { version => c.version, changed_at => c.changed_at, note => c.note, who }
        })
        .collect();
    let (status, error) = match error {
        Some((status, e)) => (status, Some(e)),
        None => (StatusCode::OK, None),
    };
    pages.render(
        status,
        "time_rules.html",
        context! {
            me => PageUser::of(caller),
            rules => rows(&doc),
            return_window => span_field(doc.return_window),
            return_visit_window => span_field(doc.return_visit_window),
            working_hours => doc.working_hours.to_string(),
            version,
            can_edit,
            changes,
            units => UNITS.iter().map(|(id, name)| context! { id, name }).collect::<Vec<_>>(),
            error,
            saved,
        },
    )
}

pub async fn page(
    req: actix_web::HttpRequest,
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    caller: PageCaller,
) -> Result<HttpResponse, PageError> {
    let saved = req.query_string().contains("saved=1");
    render(&hotline, &pages, &caller.0, None, None, saved).await
}

fn span(form: &FormFields, name: &str) -> Result<Option<Span>, ApiError> {
    let unit = form.one(&format!("{name}_unit")).unwrap_or("").trim();
    let raw = form.one(&format!("{name}_value")).unwrap_or("").trim();
    if unit == "none" || (unit.is_empty() && raw.is_empty()) {
        return Ok(None);
    }
    let value: u32 = raw
        .parse()
        .map_err(|_| ApiError::invalid(name, "must be a whole number"))?;
    match unit {
        "working_hours" => Ok(Some(Span::WorkingHours(value))),
        "working_days" => Ok(Some(Span::WorkingDays(value))),
        "calendar_hours" => Ok(Some(Span::CalendarHours(value))),
        _ => Err(ApiError::invalid(name, "unknown unit of time")),
    }
}

fn required(form: &FormFields, name: &str) -> Result<Span, ApiError> {
    span(form, name)?.ok_or_else(|| ApiError::invalid(name, "is required"))
}

/// The form's rules, in the table's own order (each row names its type and urgency).
fn parse(form: &FormFields, base: &TimeRulesDoc) -> Result<(TimeRulesDoc, i32), ApiError> {
    let mut limits = Vec::with_capacity(base.limits.len());
    for (i, r) in base.limits.iter().enumerate() {
        limits.push(TimeLimitRule {
            appeal_type: r.appeal_type,
            urgency: r.urgency,
            sign_for: required(form, &format!("limits[{i}].sign_for"))?,
            handle: required(form, &format!("limits[{i}].handle"))?,
            max_extension: span(form, &format!("limits[{i}].max_extension"))?,
        });
    }
    let working_hours = WorkingHours::parse(form.one("working_hours").unwrap_or(""))
        .map_err(|e| ApiError::invalid("working_hours", e.to_string()))?;
    let version = form
        .one("expected_version")
        .unwrap_or("")
        .parse()
        .map_err(|_| ApiError::invalid("expected_version", "must be a whole number"))?;
    Ok((
        TimeRulesDoc {
            limits,
            return_window: required(form, "return_window")?,
            return_visit_window: required(form, "return_visit_window")?,
            working_hours,
        },
        version,
    ))
}

pub async fn submit(
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    form: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let caller = &form.caller;
    caller
        .require(Permission::ManageTimeRules)
        .or_page(caller)?;
    let base = current(&hotline).await.or_page(caller)?;
    let (outcome, shown) = match parse(&form, &base.rules) {
        Ok((doc, version)) => {
            let put = PutRules {
                rules: doc.clone(),
                expected_version: version,
                note: form.one("note").map(str::to_owned),
            };
            (
                save(&hotline, caller, put).await.map(|_| ()),
                Some((doc, version)),
            )
        }
        Err(e) => (Err(e), None),
    };
    match outcome {
        Ok(()) => Ok(see_other("/admin/time-rules?saved=1")),
        Err(e) if matches!(e.code, ErrorCode::InvalidField | ErrorCode::VersionConflict) => {
            let error = FieldError::of(&e);
            let status = e.code.status();
            // A stale form shows the rules as they are now, to be edited again.
            let shown = shown.filter(|_| e.code != ErrorCode::VersionConflict);
            render(
                &hotline,
                &pages,
                caller,
                shown,
                Some((status, error)),
                false,
            )
            .await
        }
        Err(e) => Err(e).or_page(caller),
    }
}
