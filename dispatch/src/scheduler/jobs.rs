//! Storage of due work (`scheduled_jobs`): a ticket's jobs brought in line with its plan, and
//! the claim of due jobs, `FOR UPDATE SKIP LOCKED` on PostgreSQL so nodes never take the same
//! job, plain on SQLite, which has one writer at a time.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::schema::tickets;
use hotline_core::db::{DbConn, from_db, to_db};
use hotline_core::ids::TicketId;

use super::plan::{JobKind, Planned};
use super::schema::scheduled_jobs;

pub const PENDING: &str = "pending";
pub const DONE: &str = "done";
/// The ticket had moved on when the job came due: nothing was done.
pub const DROPPED: &str = "dropped";
/// A later event made the job pointless before it came due.
pub const CANCELLED: &str = "cancelled";
/// Every attempt failed (see `last_error`).
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scheduled_jobs)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    pub ticket_id: Option<String>,
    pub due_at: chrono::NaiveDateTime,
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub dedupe_key: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub finished_at: Option<chrono::NaiveDateTime>,
}

/// A job as the scheduler works it.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub kind: JobKind,
    pub ticket_id: Option<TicketId>,
    pub due_at: DateTime<Utc>,
    pub payload: serde_json::Value,
    pub attempts: i32,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;
    fn try_from(r: JobRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("scheduled_jobs {}: {what}", r.id));
        Ok(Self {
            kind: JobKind::parse(&r.kind).ok_or_else(|| corrupt("unknown kind"))?,
            ticket_id: r
                .ticket_id
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("bad ticket id"))?,
            due_at: from_db(r.due_at),
            payload: serde_json::from_str(&r.payload).map_err(|_| corrupt("bad payload"))?,
            attempts: r.attempts,
            id: r.id,
        })
    }
}

fn new_row(
    kind: JobKind,
    ticket: Option<TicketId>,
    due_at: DateTime<Utc>,
    payload: &serde_json::Value,
    dedupe_key: Option<String>,
    now: DateTime<Utc>,
) -> JobRow {
    JobRow {
        id: uuid::Uuid::new_v4().to_string(),
        kind: kind.as_str().to_owned(),
        ticket_id: ticket.map(|t| t.to_string()),
        due_at: to_db(due_at),
        payload: payload.to_string(),
        state: PENDING.to_owned(),
        attempts: 0,
        last_error: None,
        dedupe_key,
        created_at: to_db(now),
        updated_at: to_db(now),
        finished_at: None,
    }
}

/// Brings a ticket's pending jobs in line with its plan: a job no longer planned is cancelled, one
/// whose time moved is moved, a planned one with no pending job is created if it lies ahead of
/// `now` (a planned moment already past with no pending job was acted on, or belongs to a state
/// the ticket has left). The caller holds the ticket's row lock, so reconciliations of one ticket
/// never interleave. Returns how many rows changed.
pub fn reconcile(
    conn: &mut DbConn,
    ticket: TicketId,
    planned: &[Planned],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let pending: Vec<JobRow> = scheduled_jobs::table
        .filter(scheduled_jobs::ticket_id.eq(ticket.to_string()))
        .filter(scheduled_jobs::state.eq(PENDING))
        .select(JobRow::as_select())
        .load(conn)?;
    let mut changed = 0;
    for kind in JobKind::OF_TICKET {
        let want = planned.iter().find(|p| p.kind == kind);
        let mut have = pending.iter().filter(|j| j.kind == kind.as_str());
        let first = have.next();
        for extra in have {
            changed += set_state(conn, &extra.id, CANCELLED, None, now)?;
        }
        match (want, first) {
            (None, Some(job)) => changed += set_state(conn, &job.id, CANCELLED, None, now)?,
            (Some(p), Some(job)) => {
                let payload = p.payload.to_string();
                if from_db(job.due_at) != p.due_at || job.payload != payload {
                    changed += diesel::update(scheduled_jobs::table.find(&job.id))
                        .filter(scheduled_jobs::state.eq(PENDING))
                        .set((
                            scheduled_jobs::due_at.eq(to_db(p.due_at)),
                            scheduled_jobs::payload.eq(payload),
                            scheduled_jobs::updated_at.eq(to_db(now)),
                        ))
                        .execute(conn)?;
                }
            }
            (Some(p), None) if p.due_at > now => {
                let row = new_row(kind, Some(ticket), p.due_at, &p.payload, None, now);
                changed += diesel::insert_into(scheduled_jobs::table)
                    .values(&row)
                    .execute(conn)?;
            }
            _ => {}
        }
    }
    Ok(changed)
}

/// Inserts a job unless one with the same `dedupe_key` exists; returns whether it went in.
pub fn insert_once(
    conn: &mut DbConn,
    kind: JobKind,
    due_at: DateTime<Utc>,
    payload: &serde_json::Value,
    dedupe_key: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let row = new_row(
        kind,
        None,
        due_at,
        payload,
        Some(dedupe_key.to_owned()),
        now,
    );
    let went_in = hotline_core::insert_absent!(
        conn,
        scheduled_jobs::table,
        vec![(dedupe_key.to_owned(), row)],
        scheduled_jobs::id
    )?;
    Ok(!went_in.is_empty())
}

/// Claims up to `limit` pending jobs due at `now`, earliest first, locked until the caller's
/// transaction ends. On PostgreSQL, jobs another node holds are skipped, not waited for.
pub fn claim_due(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Job>, StoreError> {
    let order = (scheduled_jobs::due_at.asc(), scheduled_jobs::id.asc());
    let due = scheduled_jobs::table
        .filter(scheduled_jobs::state.eq(PENDING))
        .filter(scheduled_jobs::due_at.le(to_db(now)))
        .order(order)
        .limit(limit)
        .select(scheduled_jobs::id);
    let ids: Vec<String> = match conn {
        DbConn::Pg(c) => due.for_update().skip_locked().load(c)?,
        DbConn::Sqlite(c) => due.load(c)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<JobRow> = scheduled_jobs::table
        .filter(scheduled_jobs::id.eq_any(&ids))
        .order(order)
        .select(JobRow::as_select())
        .load(conn)?;
    rows.into_iter().map(Job::try_from).collect()
}

/// Locks a ticket's row unless another transaction holds it (PostgreSQL); on SQLite the caller
/// is the only writer. A job whose ticket is busy waits for the next run instead of waiting on a
/// lock while holding others.
pub fn try_lock_ticket(conn: &mut DbConn, id: TicketId) -> Result<bool, StoreError> {
    match conn {
        DbConn::Pg(c) => Ok(tickets::table
            .find(id.to_string())
            .select(tickets::id)
            .for_update()
            .skip_locked()
            .first::<String>(c)
            .optional()?
            .is_some()),
        DbConn::Sqlite(_) => Ok(true),
    }
}

/// Ends a pending job as `state` (done, dropped, cancelled, failed).
pub fn set_state(
    conn: &mut DbConn,
    id: &str,
    state: &str,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::update(scheduled_jobs::table.find(id))
        .filter(scheduled_jobs::state.eq(PENDING))
        .set((
            scheduled_jobs::state.eq(state),
            scheduled_jobs::last_error.eq(error),
            scheduled_jobs::updated_at.eq(to_db(now)),
            scheduled_jobs::finished_at.eq(Some(to_db(now))),
        ))
        .execute(conn)?)
}

/// Sets when a pending job is next due: after a failed attempt (with its error), or because its
/// ticket's plan moved it.
pub fn retry_later(
    conn: &mut DbConn,
    id: &str,
    attempts: i32,
    error: Option<&str>,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::update(scheduled_jobs::table.find(id))
        .filter(scheduled_jobs::state.eq(PENDING))
        .set((
            scheduled_jobs::attempts.eq(attempts),
            scheduled_jobs::last_error.eq(error),
            scheduled_jobs::due_at.eq(to_db(at)),
            scheduled_jobs::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?)
}

/// Jobs by state (for tests and operators), newest first.
pub fn list(
    conn: &mut DbConn,
    ticket: Option<TicketId>,
    state: Option<&str>,
) -> Result<Vec<JobRow>, StoreError> {
    let mut q = scheduled_jobs::table
        .select(JobRow::as_select())
        .into_boxed();
    if let Some(t) = ticket {
        q = q.filter(scheduled_jobs::ticket_id.eq(t.to_string()));
    }
    if let Some(s) = state {
        q = q.filter(scheduled_jobs::state.eq(s.to_owned()));
    }
    Ok(
        q.order((scheduled_jobs::due_at.asc(), scheduled_jobs::id.asc()))
            .load(conn)?,
    )
}

/// Jobs per (kind, state).
pub fn counts(conn: &mut DbConn) -> Result<Vec<(String, String, i64)>, StoreError> {
    Ok(scheduled_jobs::table
        .group_by((scheduled_jobs::kind, scheduled_jobs::state))
        .select((
            scheduled_jobs::kind,
            scheduled_jobs::state,
            diesel::dsl::count_star(),
        ))
        .order((scheduled_jobs::kind, scheduled_jobs::state))
        .load(conn)?)
}
