//! 我的待办: the caller's work queues (see `routes::queues`), each a table coloured by the
//! warning level of its clock.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use hotline_core::http::{Caller, PageCaller, PageError, PageUser};
use hotline_core::workflow::Hotline;
use minijinja::context;
use serde::Serialize;

use super::list::{Row, row};
use super::lookup::Units;
use super::{OrPage, Pages};
use crate::routes::queues::{self, QueueKind};
use crate::routes::tickets;

/// One line of a queue: the list's row plus what the queue is about.
#[derive(Debug, Serialize)]
struct QueueRow {
    #[serde(flatten)]
    row: Row,
    visit_deadline: Option<DateTime<Utc>>,
    needs_shift_lead: bool,
    extension_days: Option<i32>,
    return_count: i32,
}

#[derive(Debug, Serialize)]
pub(crate) struct Section {
    kind: QueueKind,
    label: &'static str,
    rows: Vec<QueueRow>,
}

/// The caller's queues, each a section of rows.
pub(crate) async fn sections(
    hotline: &Hotline,
    caller: &Caller,
) -> Result<Vec<Section>, PageError> {
    let lists = queues::for_caller(hotline, caller).await.or_page(caller)?;
    let units = Units::load(hotline).await.or_page(caller)?;
    let now = hotline.now.get();
    let manual = tickets::in_manual_queue(hotline, lists.iter().flat_map(|(_, items)| items))
        .await
        .or_page(caller)?;
    Ok(lists
        .into_iter()
        .map(|(kind, items)| Section {
            kind,
            label: kind.label_zh(),
            rows: items
                .iter()
                .map(|t| QueueRow {
                    row: row(hotline, &units, t, now, manual.contains(&t.id)),
                    visit_deadline: t.visit_deadline,
                    needs_shift_lead: t.needs_shift_lead(),
                    extension_days: t.extension_days,
                    return_count: t.return_count,
                })
                .collect(),
        })
        .collect())
}

pub async fn page(
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    caller: PageCaller,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    let sections = sections(&hotline, &caller).await?;
    pages.render(
        StatusCode::OK,
        "queues.html",
        context! { me => PageUser::of(&caller), sections, limit => queues::QUEUE_LIMIT },
    )
}
