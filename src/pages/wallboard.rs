//! 调度大屏, the dispatcher's wallboard: the open tickets in the caller's scope by state and by the
//! colour of their clock, the day's counts, the overdue and the supervised tickets, and (filled in
//! by `live.js` from the `wallboard` topic) every agent and handler with their state. The script
//! fetches the board again after events, at most every few seconds.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use hotline_core::http::{PageCaller, PageError, PageUser};
use hotline_core::store::board::{self, OPEN};
use hotline_core::store::tickets::{self as ticket_store, TicketFilter, TicketOrder};
use hotline_core::ticket::Status;
use hotline_core::time_limit::WarningLevel;
use hotline_core::workflow::Hotline;
use minijinja::context;
use serde::Serialize;

use super::list::{Row, row};
use super::lookup::Units;
use super::{OrPage, Pages};
use crate::routes::tickets::clock_warning;

/// How many overdue and supervised tickets the board lists.
const LISTED: i64 = 20;

/// One state's line of the queue table.
#[derive(Debug, Serialize)]
struct StateLine {
    status: Status,
    label: &'static str,
    total: usize,
    /// By warning colour (only dispatched and in-hand tickets have a running clock).
    green: usize,
    yellow: usize,
    red: usize,
    overdue: usize,
    supervised: usize,
}

fn state_lines(hotline: &Hotline, clocks: &[board::Clock], now: DateTime<Utc>) -> Vec<StateLine> {
    OPEN.iter()
        .map(|&status| {
            let mut line = StateLine {
                status,
                label: status.label_zh(),
                total: 0,
                green: 0,
                yellow: 0,
                red: 0,
                overdue: 0,
                supervised: 0,
            };
            for c in clocks.iter().filter(|c| c.status == status) {
                line.total += 1;
                line.supervised += usize::from(c.supervised);
                match clock_warning(hotline, c, now) {
                    Some(WarningLevel::Green) => line.green += 1,
                    Some(WarningLevel::Yellow) => line.yellow += 1,
                    Some(WarningLevel::Red) => line.red += 1,
                    Some(WarningLevel::Overdue) => line.overdue += 1,
                    None => {}
                }
            }
            line
        })
        .collect()
}

/// Midnight today in China time.
fn start_of_day(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    local
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(chrono_tz::Asia::Shanghai).earliest())
        .map_or(now, |t| t.with_timezone(&Utc))
}

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
        PageUser::of(&caller).can_watch_wallboard,
        "the wallboard is for the centre's dispatchers and for leaders",
    )
    .await?;
    let now = hotline.now.get();
    let since = start_of_day(now);
    let scope = caller.scope.clone();
    let overdue = TicketFilter {
        overdue: true,
        order: TicketOrder::HandleDeadline,
        ..TicketFilter::default()
    };
    let supervised = TicketFilter {
        statuses: OPEN.into(),
        supervised: Some(true),
        order: TicketOrder::HandleDeadline,
        ..TicketFilter::default()
    };
    let (clocks, today, overdue, supervised) = hotline
        .db
        .run(move |c| {
            let clocks = board::open_clocks(c, &scope)?;
            let today = board::counts_since(c, &scope, since)?;
            let (overdue, _) = ticket_store::list(c, &overdue, &scope, None, LISTED, now)?;
            let (supervised, _) = ticket_store::list(c, &supervised, &scope, None, LISTED, now)?;
            Ok::<_, hotline_core::StoreError>((clocks, today, overdue, supervised))
        })
        .await
        .or_page(&caller)?;
    let units = Units::load(&hotline).await.or_page(&caller)?;
    let rows = |list: &[hotline_core::ticket::Ticket]| -> Vec<Row> {
        list.iter()
            .map(|t| row(&hotline, &units, t, now, false))
            .collect()
    };
    let lines = state_lines(&hotline, &clocks, now);
    let open_total: usize = lines.iter().map(|l| l.total).sum();
    pages.render_live(
        StatusCode::OK,
        "wallboard.html",
        &["board"],
        q.one("part"),
        context! {
            me => PageUser::of(&caller),
            seq,
            lines,
            open_total,
            today,
            overdue => rows(&overdue),
            supervised => rows(&supervised),
            listed => LISTED,
            at => now,
        },
    )
}
