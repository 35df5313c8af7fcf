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

/// Stores a ticket's suggestion, replacing the one before (an upsert: a concurrent suggestion
/// for the same ticket, the sweep's or a dispatcher's, never makes it fail).
pub fn store(conn: &mut DbConn, m: &Mark) -> Result<(), StoreError> {
    store_all(conn, std::slice::from_ref(m))
}

/// Stores the suggestions of a sweep, each replacing the ticket's one before: one statement per
/// 500 on either backend (an upsert on the ticket).
pub fn store_all(conn: &mut DbConn, all: &[Mark]) -> Result<(), StoreError> {
    use diesel::upsert::excluded;
    use dispatch_suggestions as s;
    for chunk in all.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|m| {
                (
                    s::ticket_id.eq(m.ticket_id.to_string()),
                    s::ticket_version.eq(m.ticket_version),
                    s::unit_id.eq(m.unit_id.map(|u| u.to_string())),
                    s::confidence.eq(m.confidence),
                    s::manual.eq(m.manual),
                    s::computed_at.eq(to_db(m.computed_at)),
                )
            })
            .collect();
        let set = (
            s::ticket_version.eq(excluded(s::ticket_version)),
            s::unit_id.eq(excluded(s::unit_id)),
            s::confidence.eq(excluded(s::confidence)),
            s::manual.eq(excluded(s::manual)),
            s::computed_at.eq(excluded(s::computed_at)),
        );
        match conn {
            DbConn::Pg(c) => diesel::insert_into(s::table)
                .values(rows)
                .on_conflict(s::ticket_id)
                .do_update()
                .set(set)
                .execute(c)?,
            DbConn::Sqlite(c) => diesel::insert_into(s::table)
                .values(rows)
                .on_conflict(s::ticket_id)
                .do_update()
                .set(set)
                .execute(c)?,
        };
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

/// The tickets awaiting dispatch whose suggestion, at their current version, says manual.
pub fn manual_queue(conn: &mut DbConn) -> Result<Vec<TicketId>, StoreError> {
    let statuses: Vec<String> = AWAITING.iter().map(ToString::to_string).collect();
    tickets::table
        .inner_join(
            dispatch_suggestions::table.on(dispatch_suggestions::ticket_id
                .eq(tickets::id)
                .and(dispatch_suggestions::ticket_version.eq(tickets::version))),
        )
        .filter(dispatch_suggestions::manual.eq(true))
        .filter(tickets::status.eq_any(statuses))
        .order((tickets::received_at.asc(), tickets::id.asc()))
        .select(tickets::id)
        .load::<String>(conn)?
        .iter()
        .map(|id| ticket_id(id))
        .collect()
}

/// Where a sweep through the waiting tickets has got to: the last ticket it read, in the order
/// of [`stale`] (received, then id).
pub type Cursor = (chrono::NaiveDateTime, String);

/// Tickets awaiting dispatch that have no suggestion at their current version, oldest first, at
/// most `limit`, after `after` when given: one anti-join on the status index, so a sweep costs
/// what it finds, not what is stored.
pub fn stale(
    conn: &mut DbConn,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<Vec<(TicketId, Cursor)>, StoreError> {
    stale_query(conn, after, None, limit)
}

/// Those of `ids` that await dispatch and have no suggestion at their current version: what a
/// sweep after a batch of events has to do, without reading every waiting ticket.
pub fn stale_among(conn: &mut DbConn, ids: &[TicketId]) -> Result<Vec<TicketId>, StoreError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(
            stale_query(conn, None, Some(chunk), chunk.len())?
                .into_iter()
                .map(|(id, _)| id),
        );
    }
    Ok(out)
}

fn stale_query(
    conn: &mut DbConn,
    after: Option<&Cursor>,
    only: Option<&[String]>,
    limit: usize,
) -> Result<Vec<(TicketId, Cursor)>, StoreError> {
    let statuses: Vec<String> = AWAITING.iter().map(ToString::to_string).collect();
    let mut q = tickets::table
        .left_join(
            dispatch_suggestions::table.on(dispatch_suggestions::ticket_id
                .eq(tickets::id)
                .and(dispatch_suggestions::ticket_version.eq(tickets::version))),
        )
        .filter(dispatch_suggestions::ticket_id.is_null())
        .filter(tickets::status.eq_any(statuses))
        .select((tickets::id, tickets::received_at))
        .order((tickets::received_at.asc(), tickets::id.asc()))
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .into_boxed();
    if let Some(ids) = only {
        q = q.filter(tickets::id.eq_any(ids.to_vec()));
    }
    if let Some((at, id)) = after {
        q = q.filter(
            tickets::received_at
                .gt(*at)
                .or(tickets::received_at.eq(*at).and(tickets::id.gt(id.clone()))),
        );
    }
    q.load::<(String, chrono::NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, at)| Ok((ticket_id(&id)?, (at, id))))
        .collect()
}

/// Forgets the suggestions of tickets that no longer await dispatch (one statement). Returns
/// how many.
pub fn prune(conn: &mut DbConn) -> Result<usize, StoreError> {
    let statuses: Vec<String> = AWAITING.iter().map(ToString::to_string).collect();
    // NOT EXISTS, one index probe per stored suggestion (NOT IN over a subquery compares every
    // suggestion with every waiting ticket).
    Ok(diesel::delete(
        dispatch_suggestions::table.filter(diesel::dsl::not(diesel::dsl::exists(
            tickets::table
                .filter(tickets::id.eq(dispatch_suggestions::ticket_id))
                .filter(tickets::status.eq_any(statuses)),
        ))),
    )
    .execute(conn)?)
}
