//! 单位工作台, the unit workbench: the unit's tickets to sign for, in hand and near their
//! deadline, kept current by `live.js` from the unit's queue on the websocket.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use hotline_core::http::{PageCaller, PageError, PageUser};
use hotline_core::workflow::Hotline;
use minijinja::context;

use super::Pages;
use crate::routes::queues::QUEUE_LIMIT;

pub async fn page(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    caller: PageCaller,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    let (q, seq) = super::live::open(
        &req,
        &hotline,
        &caller,
        PageUser::of(&caller).works_in_unit,
        "the workbench is for the staff of handling units",
    )
    .await?;
    let sections = super::queues::sections(&hotline, &caller).await?;
    pages.render_live(
        StatusCode::OK,
        "workbench.html",
        &["queue"],
        q.one("part"),
        context! { me => PageUser::of(&caller), seq, sections, limit => QUEUE_LIMIT },
    )
}
