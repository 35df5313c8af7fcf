//! What each job does when it comes due. Every effect is written on the connection of the
//! scheduler's transaction, so it commits together with the job's completion.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use hotline_core::db::DbConn;
use hotline_core::domain::Actor;
use hotline_core::domain::text::Reason;
use hotline_core::ids::UnitId;
use hotline_core::scope::Scope;
use hotline_core::store::tickets::{self, Cursor, TicketFilter};
use hotline_core::store::units;
use hotline_core::ticket::{Action, Status, Ticket};
use hotline_core::workflow::{Hotline, WorkflowError};
use hotline_core::{StoreError, time_limit::WarningLevel};
use serde_json::json;

use super::jobs::{self, Job};
use super::plan::{JobKind, plan};
use crate::mail::notices::{Audience, Notices, china_time, span_zh};
use crate::mail::templates::NoticeKind;

/// How a job ended this time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its effect is written.
    Done,
    /// The ticket had moved on: nothing to do.
    Dropped,
    /// The ticket is locked by a command under way: try again next run.
    Busy,
    /// Its ticket's plan puts it later now: moved there.
    Moved,
}

/// What a job needs besides its connection.
pub struct JobCtx<'a> {
    pub hotline: &'a Hotline,
    pub notices: Option<&'a Notices>,
    pub digest_at: NaiveTime,
    pub now: DateTime<Utc>,
}

/// The China date and the moment of the daily digest on or after `now`.
pub fn next_digest(now: DateTime<Utc>, at: NaiveTime, strictly_after: bool) -> DateTime<Utc> {
    let tz = chrono_tz::Asia::Shanghai;
    let mut day = now.with_timezone(&tz).date_naive();
    loop {
        if let Some(t) = tz.from_local_datetime(&day.and_time(at)).single() {
            let t = t.with_timezone(&Utc);
            if t > now || (!strictly_after && t == now) {
                return t;
            }
        }
        day = day.succ_opt().unwrap_or(day);
    }
}

pub fn digest_key(due: DateTime<Utc>) -> String {
    let date = due.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    format!("digest:{date}")
}

/// Runs one claimed job.
pub fn run_job(ctx: &JobCtx<'_>, conn: &mut DbConn, job: &Job) -> Result<Outcome, WorkflowError> {
    if job.kind == JobKind::Digest {
        digest(ctx, conn, job)?;
        return Ok(Outcome::Done);
    }
    let Some(id) = job.ticket_id else {
        return Ok(Outcome::Dropped);
    };
    if !jobs::try_lock_ticket(conn, id)? {
        return Ok(Outcome::Busy);
    }
    let t = tickets::get(conn, id)?;
    let keeper = ctx.hotline.time.snapshot();
    let Some(p) = plan(&t, &keeper).into_iter().find(|p| p.kind == job.kind) else {
        return Ok(Outcome::Dropped);
    };
    if p.due_at > ctx.now {
        let moved = jobs::retry_later(conn, &job.id, job.attempts, None, p.due_at, ctx.now)?;
        return Ok(if moved > 0 {
            Outcome::Moved
        } else {
            Outcome::Dropped
        });
    }
    let key = format!("job:{}", job.id);
    let deadline = p.payload["deadline"]
        .as_str()
        .and_then(|d| d.parse::<DateTime<Utc>>().ok());
    let deadline_text = deadline.map(china_time).unwrap_or_default();
    match job.kind {
        JobKind::WarnYellow | JobKind::WarnRed => {
            let (level, percent) = match job.kind {
                JobKind::WarnYellow => (WarningLevel::Yellow, 70),
                _ => (WarningLevel::Red, 90),
            };
            if let (Some(n), Some(main)) = (ctx.notices, t.main_unit_id) {
                let c = json!({"level": level.label_zh(), "percent": percent, "deadline": deadline_text});
                n.send(
                    conn,
                    NoticeKind::DeadlineWarning,
                    Some(&t),
                    &[(main, c)],
                    Audience::Unit,
                    &key,
                    ctx.now,
                )?;
            }
        }
        JobKind::Overdue => overdue(ctx, conn, &t, &p.payload, &deadline_text, &key)?,
        JobKind::ReturnVisit => {
            if let (Some(n), Some(replied)) = (ctx.notices, t.replied_at) {
                let main = match t.main_unit_id {
                    Some(m) => units::get(conn, m)?.name,
                    None => String::new(),
                };
                let c = json!({"replied_at": china_time(replied), "deadline": deadline_text, "main_unit": main});
                n.send(
                    conn,
                    NoticeKind::ReturnVisitDue,
                    Some(&t),
                    &[(t.centre_id, c)],
                    Audience::Unit,
                    &key,
                    ctx.now,
                )?;
            }
        }
        JobKind::Digest => {}
    }
    Ok(Outcome::Done)
}

/// Supervision by the system, and notices to the unit, the unit above it and the centre.
fn overdue(
    ctx: &JobCtx<'_>,
    conn: &mut DbConn,
    t: &Ticket,
    payload: &serde_json::Value,
    deadline: &str,
    key: &str,
) -> Result<(), WorkflowError> {
    let which = match payload["deadline_kind"].as_str() {
        Some("sign") => "签收",
        _ => "办理",
    };
    let reason = Reason::parse(&format!("超过{which}时限（{deadline}），系统自动督办"))
        .map_err(|e| StoreError::Corrupt(format!("supervision reason: {e}")))?;
    let t = ctx.hotline.act_within(
        conn,
        &Actor::System,
        t.id,
        &Action::Supervise { reason },
        ctx.now,
    )?;
    let (Some(n), Some(main)) = (ctx.notices, t.main_unit_id) else {
        return Ok(());
    };
    let main_unit = units::get(conn, main)?;
    let c = |role: &str| json!({"role": role, "main_unit": main_unit.name, "deadline_kind": which, "deadline": deadline});
    let mut to: Vec<(UnitId, serde_json::Value)> = vec![(main, c("main"))];
    // The unit the supervision escalated to (the parent the first time, higher after).
    if let Some(up) = t.escalated_unit_id.or(main_unit.parent_id)
        && up != t.centre_id
        && up != main
    {
        to.push((up, c("parent")));
    }
    to.push((t.centre_id, c("centre")));
    n.send(
        conn,
        NoticeKind::Overdue,
        Some(&t),
        &to,
        Audience::Unit,
        key,
        ctx.now,
    )?;
    Ok(())
}

/// The most tickets one digest lists (the count covers them all).
const DIGEST_LIST: usize = 50;

/// Every unit with overdue tickets gets one digest for the day (the outbox key is the unit and
/// the date); then the next day's digest job is created.
fn digest(ctx: &JobCtx<'_>, conn: &mut DbConn, job: &Job) -> Result<(), WorkflowError> {
    let date = job.payload["date"].as_str().unwrap_or_default().to_owned();
    if let Some(n) = ctx.notices {
        let filter = TicketFilter {
            statuses: vec![Status::Dispatched, Status::Handling],
            overdue: true,
            ..TicketFilter::default()
        };
        let mut by_unit: BTreeMap<UnitId, Vec<Ticket>> = BTreeMap::new();
        let mut after: Option<Cursor> = None;
        loop {
            let (page, next) =
                tickets::list(conn, &filter, &Scope::All, after.as_ref(), 200, ctx.now)?;
            for t in page {
                if let Some(u) = t.main_unit_id {
                    by_unit.entry(u).or_default().push(t);
                }
            }
            match next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        for (unit, mut list) in by_unit {
            let breach = |t: &Ticket| match (t.status, t.sign_deadline, t.handle_deadline) {
                (Status::Dispatched, Some(s), _) if s < ctx.now => ("签收", s),
                (_, _, Some(h)) => ("办理", h),
                (_, s, None) => ("签收", s.unwrap_or(ctx.now)),
            };
            list.sort_by_key(|t| breach(t).1);
            let count = list.len();
            let items: Vec<_> = list
                .iter()
                .take(DIGEST_LIST)
                .map(|t| {
                    let (which, at) = breach(t);
                    json!({"number": t.number.as_str(), "title": t.title, "status": t.status.label_zh(),
                        "deadline_kind": which, "deadline": china_time(at), "overdue_by": span_zh(ctx.now - at)})
                })
                .collect();
            let c = json!({"date": date, "at": china_time(ctx.now), "count": count, "tickets": items,
                "link": n.link("/tickets?overdue=true")});
            n.send(
                conn,
                NoticeKind::DailyDigest,
                None,
                &[(unit, c)],
                Audience::Admins,
                &format!("digest:{date}"),
                ctx.now,
            )?;
        }
    }
    // After the day's digest: the next day's, however long the scheduler was away.
    let next = next_digest(job.due_at.max(ctx.now), ctx.digest_at, true);
    let next_date = next.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    jobs::insert_once(
        conn,
        JobKind::Digest,
        next,
        &json!({"date": next_date.to_string()}),
        &digest_key(next),
        ctx.now,
    )?;
    Ok(())
}
