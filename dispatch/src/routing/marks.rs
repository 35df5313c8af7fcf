//! The suggestion last made for each ticket awaiting dispatch (received, or returned to the
//! centre), at the ticket's version: the unit, its confidence, and whether the ticket is in the
//! dispatcher's **manual queue** (confidence below the threshold, or no unit at all). A sweep
//! (see `hotline::dispatching`) keeps it current; a change of the rules clears it so that
//! everything awaiting dispatch is suggested again under the new rules.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::schema::tickets;
use hotline_core::db::{DbConn, from_db, to_db};
use hotline_core::ids::{TicketId, UnitId};
use hotline_core::ticket::Status;
use serde::Serialize;
use utoipa::ToSchema;

use crate::schema::dispatch_suggestions;

/// The statuses in which a ticket waits for a dispatcher to route it.
pub const AWAITING: [Status; 2] = [Status::Received, Status::Returned];

/// A ticket's stored suggestion.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Mark {
    pub ticket_id: TicketId,
    /// The ticket's version the suggestion was made at.
    pub ticket_version: i32,
    /// The unit suggested first, if any.
    pub unit_id: Option<UnitId>,
    pub confidence: f64,
    /// In the dispatcher's manual queue.
    pub manual: bool,
    pub computed_at: DateTime<Utc>,
}

type Row = (
    String,
    i32,
    Option<String>,
    f64,
    bool,
    chrono::NaiveDateTime,
);

fn mark(r: Row) -> Result<Mark, StoreError> {
    let bad =
        |c: &str, v: &str| StoreError::Corrupt(format!("dispatch_suggestions.{c} holds {v:?}"));
    Ok(Mark {
        ticket_id: r.0.parse().map_err(|_| bad("ticket_id", &r.0))?,
        ticket_version: r.1,
        unit_id: r
            .2
            .as_deref()
            .map(|u| u.parse().map_err(|_| bad("unit_id", u)))
            .transpose()?,
        confidence: r.3,
        manual: r.4,
        computed_at: from_db(r.5),
    })
}

/// Stores a ticket's suggestion, replacing the one before.
pub fn store(conn: &mut DbConn, m: &Mark) -> Result<(), StoreError> {
    let id = m.ticket_id.to_string();
    let values = || {
        (
            dispatch_suggestions::ticket_version.eq(m.ticket_version),
            dispatch_suggestions::unit_id.eq(m.unit_id.map(|u| u.to_string())),
            dispatch_suggestions::confidence.eq(m.confidence),
            dispatch_suggestions::manual.eq(m.manual),
            dispatch_suggestions::computed_at.eq(to_db(m.computed_at)),
        )
    };
    let update = |conn: &mut DbConn| {
        diesel::update(dispatch_suggestions::table.find(&id))
            .set(values())
            .execute(conn)
    };
    if update(conn)? > 0 {
        return Ok(());
    }
    // None yet: insert, unless a concurrent suggestion (the sweep, or a dispatcher asking)
    // inserted it first; then that row is there once the other transaction committed, and this
    // one replaces it.
    let row = (dispatch_suggestions::ticket_id.eq(&id), values());
    let inserted = match conn {
        DbConn::Pg(c) => diesel::insert_into(dispatch_suggestions::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(dispatch_suggestions::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    if inserted == 0 {
        update(conn)?;
    }
    Ok(())
}

/// Forgets every stored suggestion (the rules changed).
pub fn clear(conn: &mut DbConn) -> Result<usize, StoreError> {
    Ok(diesel::delete(dispatch_suggestions::table).execute(conn)?)
}

/// The stored suggestions of these tickets.
pub fn for_tickets(
    conn: &mut DbConn,
    ids: &[TicketId],
) -> Result<HashMap<TicketId, Mark>, StoreError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let rows: Vec<Row> = dispatch_suggestions::table
        .filter(dispatch_suggestions::ticket_id.eq_any(ids))
        .select((
            dispatch_suggestions::ticket_id,
            dispatch_suggestions::ticket_version,
            dispatch_suggestions::unit_id,
            dispatch_suggestions::confidence,
            dispatch_suggestions::manual,
            dispatch_suggestions::computed_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|r| mark(r).map(|m| (m.ticket_id, m)))
        .collect()
}

fn ticket_id(id: &str) -> Result<TicketId, StoreError> {
    id.parse()
        .map_err(|_| StoreError::Corrupt(format!("a ticket id {id:?}")))
}

/// (id, version) of the tickets awaiting dispatch, oldest first; of `only` when given.
fn awaiting(conn: &mut DbConn, only: Option<&[String]>) -> Result<Vec<(String, i32)>, StoreError> {
    let statuses: Vec<String> = AWAITING.iter().map(ToString::to_string).collect();
    let mut q = tickets::table
        .filter(tickets::status.eq_any(statuses))
        .select((tickets::id, tickets::version))
        .order((tickets::received_at.asc(), tickets::id.asc()))
        .into_boxed();
    if let Some(ids) = only {
        q = q.filter(tickets::id.eq_any(ids.to_vec()));
    }
    Ok(q.load(conn)?)
}

/// The tickets awaiting dispatch whose suggestion, at their current version, says manual.
pub fn manual_queue(conn: &mut DbConn) -> Result<Vec<TicketId>, StoreError> {
    let marked: HashMap<String, i32> = dispatch_suggestions::table
        .filter(dispatch_suggestions::manual.eq(true))
        .select((
            dispatch_suggestions::ticket_id,
            dispatch_suggestions::ticket_version,
        ))
        .load::<(String, i32)>(conn)?
        .into_iter()
        .collect();
    let ids: Vec<String> = marked.keys().cloned().collect();
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        for (id, v) in awaiting(conn, Some(chunk))? {
            if marked.get(&id) == Some(&v) {
                out.push(ticket_id(&id)?);
            }
        }
    }
    Ok(out)
}

/// Those of `waiting` ((id, version), in order) that have no suggestion at that version.
fn unmarked(
    conn: &mut DbConn,
    waiting: Vec<(String, i32)>,
) -> Result<Vec<(String, i32)>, StoreError> {
    let ids: Vec<&String> = waiting.iter().map(|(id, _)| id).collect();
    let mut done: HashMap<String, i32> = HashMap::new();
    for chunk in ids.chunks(500) {
        done.extend(
            dispatch_suggestions::table
                .filter(dispatch_suggestions::ticket_id.eq_any(chunk))
                .select((
                    dispatch_suggestions::ticket_id,
                    dispatch_suggestions::ticket_version,
                ))
                .load::<(String, i32)>(conn)?,
        );
    }
    Ok(waiting
        .into_iter()
        .filter(|(id, v)| done.get(id) != Some(v))
        .collect())
}

/// Tickets awaiting dispatch that have no suggestion at their current version, oldest first, at
/// most `limit`.
pub fn stale(conn: &mut DbConn, limit: usize) -> Result<Vec<TicketId>, StoreError> {
    let waiting = awaiting(conn, None)?;
    unmarked(conn, waiting)?
        .into_iter()
        .take(limit)
        .map(|(id, _)| ticket_id(&id))
        .collect()
}

/// Those of `ids` that await dispatch and have no suggestion at their current version: what a
/// sweep after a batch of events has to do, without reading every waiting ticket.
pub fn stale_among(conn: &mut DbConn, ids: &[TicketId]) -> Result<Vec<TicketId>, StoreError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut waiting = Vec::new();
    for chunk in ids.chunks(500) {
        waiting.extend(awaiting(conn, Some(chunk))?);
    }
    unmarked(conn, waiting)?
        .into_iter()
        .map(|(id, _)| ticket_id(&id))
        .collect()
}

/// Forgets the suggestions of tickets that no longer await dispatch. Returns how many.
pub fn prune(conn: &mut DbConn) -> Result<usize, StoreError> {
    let marked: Vec<String> = dispatch_suggestions::table
        .select(dispatch_suggestions::ticket_id)
        .load(conn)?;
    let mut gone = Vec::new();
    for chunk in marked.chunks(500) {
        let waiting: std::collections::HashSet<String> = awaiting(conn, Some(chunk))?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        gone.extend(chunk.iter().filter(|id| !waiting.contains(*id)).cloned());
    }
    let mut n = 0;
    for chunk in gone.chunks(500) {
        n += diesel::delete(
            dispatch_suggestions::table.filter(dispatch_suggestions::ticket_id.eq_any(chunk)),
        )
        .execute(conn)?;
    }
    Ok(n)
}
