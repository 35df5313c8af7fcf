//! Registering a phone appeal (受理): agents and dispatchers of a 12345 centre.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use hotline_core::domain::{AppealType, Urgency};
use hotline_core::http::page::see_other;
use hotline_core::http::{Caller, CsrfForm, PageCaller, PageError, PageUser};
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, ErrorCode};
use minijinja::context;

use super::lookup::category_groups;
use super::{FieldError, OrPage, Pages, options};
use crate::routes::tickets::{self, CreateTicket};

/// Agents and dispatchers of a centre register appeals; everyone else gets a 403 page.
pub(crate) fn may_register(caller: &Caller) -> Result<(), PageError> {
    if PageUser::of(caller).can_register {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "appeals are registered by staff of a 12345 centre",
        ))
        .or_page(caller)
    }
}

async fn render(
    hotline: &Hotline,
    pages: &Pages,
    caller: &Caller,
    values: HashMap<&str, &str>,
    error: Option<FieldError>,
) -> Result<HttpResponse, PageError> {
    let categories = category_groups(hotline, 3).await.or_page(caller)?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    pages.render(
        status,
        "ticket_new.html",
        context! {
            me => PageUser::of(caller),
            v => values,
            error,
            appeal_types => options::<AppealType>(AppealType::label_zh),
            urgencies => options::<Urgency>(Urgency::label_zh),
            categories,
        },
    )
}

pub async fn form(
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    caller: PageCaller,
) -> Result<HttpResponse, PageError> {
    may_register(&caller)?;
    // A key per rendered form: submitting it twice (a double click, a resend) registers once.
    let key = hotline_core::auth::token::random_token();
    let defaults = HashMap::from([("urgency", "normal"), ("idempotency_key", key.as_str())]);
    render(&hotline, &pages, &caller, defaults, None).await
}

pub async fn submit(
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    form: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let caller = &form.caller;
    may_register(caller)?;
    // 登记并直接办结 (the console): the answer is checked before anything is registered.
    let answer = match answer_now(&hotline, &form).await {
        Ok(a) => a,
        Err(e) => return refused(&hotline, &pages, &form, e).await,
    };
    let fields = &["idempotency_key", "next", "answer", "article", "then"];
    let registered = match form.parse_into::<CreateTicket>(fields) {
        Ok(body) => tickets::register(&hotline, caller, body, form.one("idempotency_key")).await,
        Err(e) => Err(e),
    };
    if let (Ok(t), Some(action)) = (&registered, answer) {
        let done =
            crate::routes::actions::perform(&hotline, caller, t.ticket_id, action, None).await;
        return Ok(match done {
            Ok(_) => see_other(&format!("/console?ticket={}&done=answer", t.ticket_id)),
            // Registered, not answered (it was answered or taken meanwhile): the ticket shows
            // where it stands and its answer form.
            Err(e) => {
                tracing::info!(error = %e, "registered, but the direct answer was refused");
                see_other(&format!(
                    "/console?ticket={}&created=1&unanswered=1",
                    t.ticket_id
                ))
            }
        });
    }
    match registered {
        // From the agent console, back to it with the new ticket open (its dispatch suggestion).
        Ok(t) if form.one("next").is_some_and(super::is_live_page) => Ok(see_other(&format!(
            "/console?ticket={}&created=1",
            t.ticket_id
        ))),
        Ok(t) => Ok(see_other(&format!("/tickets/{}?created=1", t.ticket_id))),
        Err(e) => refused(&hotline, &pages, &form, e).await,
    }
}

/// A refused registration: the form again with the field's message (in the console when it
/// came from there), or the error page.
async fn refused(
    hotline: &Hotline,
    pages: &Pages,
    form: &CsrfForm,
    e: ApiError,
) -> Result<HttpResponse, PageError> {
    let caller = &form.caller;
    if e.code != ErrorCode::InvalidField {
        return Err(e).or_page(caller);
    }
    let values = form.pairs().collect();
    if form.one("next").is_some() {
        super::agent_console::with_form_error(hotline, pages, caller, values, &e).await
    } else {
        render(hotline, pages, caller, values, Some(FieldError::of(&e))).await
    }
}

/// The direct answer the console's form asks for with 登记并直接办结 (`then=answer`).
async fn answer_now(
    hotline: &Hotline,
    form: &CsrfForm,
) -> Result<Option<hotline_core::ticket::Action>, ApiError> {
    if form.one("then") != Some("answer") {
        return Ok(None);
    }
    let answer = form.one("answer").unwrap_or_default();
    Ok(Some(hotline_core::ticket::Action::Answer {
        answer: crate::routes::text("answer", answer)?,
        article: crate::routes::actions::citation(hotline, form.one("article")).await?,
    }))
}
