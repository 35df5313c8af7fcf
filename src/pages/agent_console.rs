//! 坐席工作台, the agent console: the live incoming queue on the left; on the right either the
//! form for a new appeal (category search, the caller's earlier tickets as the number is typed, a
//! slot for knowledge answers) or, with `?ticket=ID`, that ticket with its dispatch suggestion
//! and explanation, the caller's earlier tickets, the actions its state allows and its history.
//! `live.js` keeps both sides current over the websocket and adds the keyboard shortcuts.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use hotline_core::domain::{AppealType, Urgency};
use hotline_core::http::{Caller, FormFields, PageCaller, PageError, PageUser};
use hotline_core::workflow::Hotline;
use minijinja::{Value, context};

use super::detail::{self, Notice};
use super::lookup::{Choice, category_groups};
use super::register::may_register;
use super::{FieldError, OrPage, Pages, options};
use crate::dispatching::Dispatching;
use crate::routes::queues::QUEUE_LIMIT;
use crate::routes::tickets::ticket_id;

/// The parts `live.js` fetches again: the queue on any event, the ticket on its own.
const PARTS: &[&str] = &["queue", "ticket"];

/// The states an agent sets (在线, 通话中, 话后处理, 暂离).
fn presence_states() -> Vec<Choice> {
    [
        ("online", "在线"),
        ("on_call", "通话中"),
        ("after_call_work", "话后处理"),
        ("away", "暂离"),
    ]
    .into_iter()
    .map(|(id, name)| Choice {
        id: id.to_owned(),
        name: name.to_owned(),
    })
    .collect()
}

/// The console around its right-hand side (`work`: the ticket's context, or the form's).
async fn render(
    hotline: &Hotline,
    pages: &Pages,
    caller: &Caller,
    status: StatusCode,
    part: Option<&str>,
    work: Value,
) -> Result<HttpResponse, PageError> {
    let seq = super::live::seq(hotline).await.or_page(caller)?;
    let sections = super::queues::sections(hotline, caller).await?;
    pages.render_live(
        status,
        "console.html",
        PARTS,
        part,
        context! {
            me => PageUser::of(caller),
            seq,
            sections,
            limit => QUEUE_LIMIT,
            row_link => "/console?ticket=",
            presence_states => presence_states(),
            ..work
        },
    )
}

/// The new-appeal form's context, with what was typed and the refusal when it came back.
async fn form_context(
    hotline: &Hotline,
    caller: &Caller,
    values: HashMap<&str, &str>,
    error: Option<FieldError>,
) -> Result<Value, PageError> {
    let categories = category_groups(hotline, 3).await.or_page(caller)?;
    Ok(context! {
        v => values,
        error,
        appeal_types => options::<AppealType>(AppealType::label_zh),
        urgencies => options::<Urgency>(Urgency::label_zh),
        categories,
    })
}

pub async fn page(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    dispatching: web::Data<Dispatching>,
    caller: PageCaller,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    may_register(&caller)?;
    let q = FormFields::parse(req.query_string().as_bytes());
    let part = q.one("part");
    let Some(raw) = q.one("ticket") else {
        if part == Some("ticket") {
            return Err(hotline_core::ApiError::not_found("part")).or_page(&caller);
        }
        let key = hotline_core::auth::token::random_token();
        let defaults = HashMap::from([("urgency", "normal"), ("idempotency_key", key.as_str())]);
        let work = form_context(&hotline, &caller, defaults, None).await?;
        return render(&hotline, &pages, &caller, StatusCode::OK, part, work).await;
    };
    let id = ticket_id(raw).or_page(&caller)?;
    let notice = Notice::of_query(&q);
    let (status, ticket) =
        detail::context(&hotline, &dispatching, &caller, id, notice, None).await?;
    let work = context! { next => format!("/console?ticket={id}"), ..ticket };
    render(&hotline, &pages, &caller, status, part, work).await
}

/// The console's new-appeal form refused: shown again with the field's message.
pub async fn with_form_error(
    hotline: &Hotline,
    pages: &Pages,
    caller: &Caller,
    values: HashMap<&str, &str>,
    e: &hotline_core::ApiError,
) -> Result<HttpResponse, PageError> {
    let work = form_context(hotline, caller, values, Some(FieldError::of(e))).await?;
    render(
        hotline,
        pages,
        caller,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        work,
    )
    .await
}
