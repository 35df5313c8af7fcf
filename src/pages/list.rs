//! The ticket list: a filter form over `ListQuery`, newest first, cursor paging.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use hotline_core::ErrorCode;
use hotline_core::auth::Permission;
use hotline_core::domain::{AppealType, Channel, Urgency};
use hotline_core::http::page_text;
use hotline_core::http::{FormFields, PageCaller, PageError, PageUser};
use hotline_core::ticket::{Status, Ticket};
use hotline_core::workflow::Hotline;
use minijinja::context;
use serde::Serialize;

use super::lookup::{Units, category_groups};
use super::{OrPage, Pages, options};
use crate::routes::tickets::{self, ListQuery};

/// One line of the list.
#[derive(Debug, Serialize)]
pub struct Row {
    pub id: String,
    pub number: String,
    pub title: String,
    pub appeal_type: AppealType,
    pub urgency: Urgency,
    pub status: Status,
    pub main_unit: Option<String>,
    pub received_at: DateTime<Utc>,
    /// The deadline the running clock counts towards (sign-for, then handling).
    pub deadline: Option<DateTime<Utc>>,
    pub warning: Option<String>,
    pub supervised: bool,
    /// In the dispatcher's manual queue.
    pub manual: bool,
}

/// The deadline the ticket's clock runs towards now, as `warning_of` measures it.
pub fn running_deadline(t: &Ticket) -> Option<DateTime<Utc>> {
    match t.status {
        Status::Dispatched if t.signed_at.is_none() => t.sign_deadline,
        Status::Dispatched | Status::Handling | Status::Suspended => t.handle_deadline,
        _ => None,
    }
}

pub(super) fn row(
    hotline: &Hotline,
    units: &Units,
    t: &Ticket,
    now: DateTime<Utc>,
    manual: bool,
) -> Row {
    Row {
        id: t.id.to_string(),
        number: t.number.as_str().to_owned(),
        title: t.title.clone(),
        appeal_type: t.appeal_type,
        urgency: t.urgency,
        status: t.status,
        main_unit: units.opt_name(t.main_unit_id),
        received_at: t.received_at,
        deadline: running_deadline(t),
        warning: tickets::warning_of(hotline, t, now).map(|w| w.to_string()),
        supervised: t.supervised,
        manual,
    }
}

/// The list with the same filters, at `cursor` (or the first page).
fn page_link(fields: &FormFields, cursor: Option<&str>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::from("/tickets?"));
    for (k, v) in fields
        .pairs()
        .filter(|(k, v)| *k != "cursor" && !v.trim().is_empty())
    {
        s.append_pair(k, v);
    }
    if let Some(c) = cursor {
        s.append_pair("cursor", c);
    }
    s.finish()
}

/// The field error a filter gave, for the page.
#[derive(Debug, Serialize)]
struct FilterError {
    field: Option<String>,
    message: String,
}

pub async fn page(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    caller: PageCaller,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    caller.require(Permission::ReadTickets).or_page(&caller)?;
    let fields = FormFields::parse(req.query_string().as_bytes());
    let answer = match fields.parse_into::<ListQuery>(&[]) {
        Ok(q) => tickets::query(&hotline, &caller, &q).await,
        Err(e) => Err(e),
    };
    let (items, next, error) = match answer {
        Ok((items, next)) => (items, next, None),
        Err(e) if e.code == ErrorCode::InvalidField => {
            let error = FilterError {
                field: e.field.clone(),
                message: page_text::message(&e),
            };
            (Vec::new(), None, Some(error))
        }
        Err(e) => return Err(e).or_page(&caller),
    };
    let units = Units::load(&hotline).await.or_page(&caller)?;
    let now = hotline_core::db::now();
    let manual = tickets::in_manual_queue(&hotline, &items)
        .await
        .or_page(&caller)?;
    let rows: Vec<Row> = items
        .iter()
        .map(|t| row(&hotline, &units, t, now, manual.contains(&t.id)))
        .collect();
    let filters: HashMap<&str, &str> = fields
        .pairs()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let next_page = next
        .as_deref()
        .map(|cursor| page_link(&fields, Some(cursor)));
    let categories = category_groups(&hotline, 2).await.or_page(&caller)?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    pages.render(
        status,
        "tickets.html",
        context! {
            me => PageUser::of(&caller),
            rows,
            f => filters,
            error,
            next_page,
            first_page => page_link(&fields, None),
            paged => fields.one("cursor").is_some(),
            statuses => options::<Status>(Status::label_zh),
            appeal_types => options::<AppealType>(AppealType::label_zh),
            urgencies => options::<Urgency>(Urgency::label_zh),
            channels => options::<Channel>(Channel::label_zh),
            categories,
        },
    )
}
