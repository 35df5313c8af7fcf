//! Ticket rows: the current state of each ticket, written in the same transaction as its events.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{ticket_units, tickets};
use crate::db::{DbConn, StoreError, from_db, to_db};
use crate::domain::{AppealType, Channel, Urgency};
use crate::ids::{CategoryId, TicketId, UnitId};
use crate::scope::Scope;
use crate::store::{parse_col, parse_opt};
use crate::ticket::{Status, Ticket};

/// Every column is bound on insert (a `None` is NULL, never the column's DEFAULT: no nullable
/// column has one), so bulk paths such as PostgreSQL's binary COPY take the row as it is.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tickets, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct TicketRow {
    pub id: String,
    pub number: String,
    pub query_code: String,
    pub channel: String,
    pub appeal_type: String,
    pub urgency: String,
    pub category_id: Option<String>,
    pub title: String,
    pub detail: String,
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub citizen_name: Option<String>,
    pub citizen_phone: Option<String>,
    pub citizen_id_number: Option<String>,
    pub status: String,
    pub centre_id: String,
    pub main_unit_id: Option<String>,
    pub co_unit_ids: String,
    pub chain: String,
    pub extension: String,
    pub extension_days: Option<i32>,
    pub supervised: bool,
    pub reply: Option<String>,
    pub rating: Option<String>,
    pub rating_comment: Option<String>,
    pub resolution: Option<String>,
    pub merged_into: Option<String>,
    pub return_count: i32,
    pub redo_count: i32,
    pub received_at: chrono::NaiveDateTime,
    pub dispatched_at: Option<chrono::NaiveDateTime>,
    pub signed_at: Option<chrono::NaiveDateTime>,
    pub replied_at: Option<chrono::NaiveDateTime>,
    pub visited_at: Option<chrono::NaiveDateTime>,
    pub closed_at: Option<chrono::NaiveDateTime>,
    pub suspended_at: Option<chrono::NaiveDateTime>,
    pub sign_deadline: Option<chrono::NaiveDateTime>,
    pub handle_deadline: Option<chrono::NaiveDateTime>,
    pub return_deadline: Option<chrono::NaiveDateTime>,
    pub created_by: Option<String>,
    pub version: i32,
    pub updated_at: chrono::NaiveDateTime,
    pub erasure_requested: bool,
    pub erased_at: Option<chrono::NaiveDateTime>,
    pub supervision_count: i32,
    pub escalated_unit_id: Option<String>,
    pub visit_deadline: Option<chrono::NaiveDateTime>,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<chrono::NaiveDateTime>,
}

fn ids_json(ids: &[UnitId]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

fn ids_from_json(column: &'static str, s: &str) -> Result<Vec<UnitId>, StoreError> {
    serde_json::from_str(s).map_err(|_| StoreError::Corrupt(format!("{column} holds {s:?}")))
}

impl From<&Ticket> for TicketRow {
    fn from(t: &Ticket) -> Self {
        let s = |v: &dyn ToString| v.to_string();
        Self {
            id: s(&t.id),
            number: t.number.as_str().to_owned(),
            query_code: t.query_code.as_str().to_owned(),
            channel: s(&t.channel),
            appeal_type: s(&t.appeal_type),
            urgency: s(&t.urgency),
            category_id: t.category_id.map(|c| c.to_string()),
            title: t.title.clone(),
            detail: t.detail.clone(),
            address: t.address.clone(),
            latitude: t.latitude,
            longitude: t.longitude,
            citizen_name: t.citizen_name.clone(),
            citizen_phone: t.citizen_phone.clone(),
            citizen_id_number: t.citizen_id_number.clone(),
            status: s(&t.status),
            centre_id: s(&t.centre_id),
            main_unit_id: t.main_unit_id.map(|u| u.to_string()),
            co_unit_ids: ids_json(&t.co_unit_ids),
            chain: ids_json(&t.chain),
            extension: s(&t.extension),
            extension_days: t.extension_days,
            supervised: t.supervised,
            reply: t.reply.clone(),
            rating: t.rating.map(|r| r.to_string()),
            rating_comment: t.rating_comment.clone(),
            resolution: t.resolution.clone(),
            merged_into: t.merged_into.map(|m| m.to_string()),
            return_count: t.return_count,
            redo_count: t.redo_count,
            received_at: to_db(t.received_at),
            dispatched_at: t.dispatched_at.map(to_db),
            signed_at: t.signed_at.map(to_db),
            replied_at: t.replied_at.map(to_db),
            visited_at: t.visited_at.map(to_db),
            closed_at: t.closed_at.map(to_db),
            suspended_at: t.suspended_at.map(to_db),
            sign_deadline: t.sign_deadline.map(to_db),
            handle_deadline: t.handle_deadline.map(to_db),
            return_deadline: t.return_deadline.map(to_db),
            created_by: t.created_by.map(|u| u.to_string()),
            version: t.version,
            updated_at: to_db(t.updated_at),
            erasure_requested: t.erasure_requested,
            erased_at: t.erased_at.map(to_db),
            supervision_count: t.supervision_count,
            escalated_unit_id: t.escalated_unit_id.map(|u| u.to_string()),
            visit_deadline: t.visit_deadline.map(to_db),
            claimed_by: t.claimed_by.map(|u| u.to_string()),
            claimed_at: t.claimed_at.map(to_db),
        }
    }
}

impl TryFrom<TicketRow> for Ticket {
    type Error = StoreError;
    fn try_from(r: TicketRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_col("tickets.id", &r.id)?,
            number: crate::ids::TicketNumber::parse(&r.number)
                .map_err(|e| StoreError::Corrupt(format!("tickets.number: {e}")))?,
            query_code: crate::ids::QueryCode::parse(&r.query_code)
                .map_err(|e| StoreError::Corrupt(format!("tickets.query_code: {e}")))?,
            channel: parse_col("tickets.channel", &r.channel)?,
            appeal_type: parse_col("tickets.appeal_type", &r.appeal_type)?,
            urgency: parse_col("tickets.urgency", &r.urgency)?,
            category_id: parse_opt("tickets.category_id", r.category_id.as_deref())?,
            title: r.title,
            detail: r.detail,
            address: r.address,
            latitude: r.latitude,
            longitude: r.longitude,
            citizen_name: r.citizen_name,
            citizen_phone: r.citizen_phone,
            citizen_id_number: r.citizen_id_number,
            status: parse_col("tickets.status", &r.status)?,
            centre_id: parse_col("tickets.centre_id", &r.centre_id)?,
            main_unit_id: parse_opt("tickets.main_unit_id", r.main_unit_id.as_deref())?,
            co_unit_ids: ids_from_json("tickets.co_unit_ids", &r.co_unit_ids)?,
            chain: ids_from_json("tickets.chain", &r.chain)?,
            extension: parse_col("tickets.extension", &r.extension)?,
            extension_days: r.extension_days,
            supervised: r.supervised,
            supervision_count: r.supervision_count,
            escalated_unit_id: parse_opt(
                "tickets.escalated_unit_id",
                r.escalated_unit_id.as_deref(),
            )?,
            reply: r.reply,
            rating: parse_opt("tickets.rating", r.rating.as_deref())?,
            rating_comment: r.rating_comment,
            resolution: r.resolution,
            merged_into: parse_opt("tickets.merged_into", r.merged_into.as_deref())?,
            return_count: r.return_count,
            redo_count: r.redo_count,
            received_at: from_db(r.received_at),
            dispatched_at: r.dispatched_at.map(from_db),
            signed_at: r.signed_at.map(from_db),
            replied_at: r.replied_at.map(from_db),
            visited_at: r.visited_at.map(from_db),
            closed_at: r.closed_at.map(from_db),
            suspended_at: r.suspended_at.map(from_db),
            sign_deadline: r.sign_deadline.map(from_db),
            handle_deadline: r.handle_deadline.map(from_db),
            return_deadline: r.return_deadline.map(from_db),
            visit_deadline: r.visit_deadline.map(from_db),
            created_by: parse_opt("tickets.created_by", r.created_by.as_deref())?,
            erasure_requested: r.erasure_requested,
            erased_at: r.erased_at.map(from_db),
            claimed_by: parse_opt("tickets.claimed_by", r.claimed_by.as_deref())?,
            claimed_at: r.claimed_at.map(from_db),
            version: r.version,
            updated_at: from_db(r.updated_at),
        })
    }
}

/// Every unit the ticket is or was with: who may see it.
pub fn involved_units(t: &Ticket) -> Vec<UnitId> {
    let mut units = vec![t.centre_id];
    units.extend(t.main_unit_id);
    units.extend(t.co_unit_ids.iter().copied());
    units.extend(t.chain.iter().copied());
    units.sort();
    units.dedup();
    units
}

fn record_involvement(conn: &mut DbConn, t: &Ticket) -> Result<(), StoreError> {
    let known: Vec<String> = ticket_units::table
        .filter(ticket_units::ticket_id.eq(t.id.to_string()))
        .select(ticket_units::unit_id)
        .load(conn)?;
    for unit in involved_units(t) {
        let unit = unit.to_string();
        if !known.contains(&unit) {
            diesel::insert_into(ticket_units::table)
                .values((
                    ticket_units::ticket_id.eq(t.id.to_string()),
                    ticket_units::unit_id.eq(unit),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Inserts a new ticket's row (its `received` event is appended by the caller in the same
/// transaction).
pub fn insert(conn: &mut DbConn, t: &Ticket) -> Result<(), StoreError> {
    insert_new(conn, std::slice::from_ref(t))
}

/// Inserts new tickets' rows and the units they involve, a statement per table on PostgreSQL.
pub fn insert_new(conn: &mut DbConn, new: &[Ticket]) -> Result<(), StoreError> {
    let rows: Vec<TicketRow> = new.iter().map(TicketRow::from).collect();
    crate::insert_all!(conn, tickets::table, rows)?;
    let involved: Vec<_> = new
        .iter()
        .flat_map(|t| {
            involved_units(t).into_iter().map(|u| {
                (
                    ticket_units::ticket_id.eq(t.id.to_string()),
                    ticket_units::unit_id.eq(u.to_string()),
                )
            })
        })
        .collect();
    crate::insert_all!(conn, ticket_units::table, involved)?;
    Ok(())
}

/// Removes tickets inserted by [`insert_new`] earlier in the same transaction, before anything
/// else refers to them.
pub fn delete_new(conn: &mut DbConn, ids: &[TicketId]) -> Result<(), StoreError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    diesel::delete(ticket_units::table.filter(ticket_units::ticket_id.eq_any(&ids)))
        .execute(conn)?;
    diesel::delete(tickets::table.filter(tickets::id.eq_any(&ids))).execute(conn)?;
    Ok(())
}

/// Writes the new state of a ticket read at `read_version`. Refuses with `VersionConflict` when
/// someone else changed it meanwhile.
pub fn update(conn: &mut DbConn, t: &Ticket, read_version: i32) -> Result<(), StoreError> {
    let n = diesel::update(
        tickets::table
            .filter(tickets::id.eq(t.id.to_string()))
            .filter(tickets::version.eq(read_version)),
    )
    .set(&TicketRow::from(t))
    .execute(conn)?;
    if n == 0 {
        let current = get(conn, t.id)?.version;
        return Err(StoreError::VersionConflict { current });
    }
    record_involvement(conn, t)
}

/// Takes the ticket's row lock until the end of the caller's transaction, so that concurrent
/// commands on one ticket queue instead of failing each other's version check. SQLite needs none:
/// it has one writer at a time.
pub fn lock(conn: &mut DbConn, id: TicketId) -> Result<(), StoreError> {
    if let DbConn::Pg(_) = conn {
        diesel::sql_query("SELECT id FROM tickets WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(id.to_string())
            .execute(conn)?;
    }
    Ok(())
}

pub fn get(conn: &mut DbConn, id: TicketId) -> Result<Ticket, StoreError> {
    tickets::table
        .find(id.to_string())
        .select(TicketRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound("ticket"))?
        .try_into()
}

/// The tickets of `ids` that exist, in no particular order (one statement per 500).
pub fn get_many(conn: &mut DbConn, ids: &[TicketId]) -> Result<Vec<Ticket>, StoreError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        for row in tickets::table
            .filter(tickets::id.eq_any(chunk))
            .select(TicketRow::as_select())
            .load(conn)?
        {
            out.push(row.try_into()?);
        }
    }
    Ok(out)
}

/// The ticket if it exists and `scope` may see it; NotFound otherwise (existence does not leak).
pub fn get_visible(conn: &mut DbConn, id: TicketId, scope: &Scope) -> Result<Ticket, StoreError> {
    let t = get(conn, id)?;
    if let Scope::Units(units) = scope {
        let involved: Vec<String> = ticket_units::table
            .filter(ticket_units::ticket_id.eq(id.to_string()))
            .select(ticket_units::unit_id)
            .load(conn)?;
        if !units.iter().any(|u| involved.contains(&u.to_string())) {
            return Err(StoreError::NotFound("ticket"));
        }
    }
    Ok(t)
}

/// Every unit each of these tickets is or was with (what decides who may see it), by ticket.
pub fn involved_of(
    conn: &mut DbConn,
    ids: &[TicketId],
) -> Result<std::collections::HashMap<TicketId, Vec<UnitId>>, StoreError> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let pairs: Vec<(String, String)> = ticket_units::table
        .filter(ticket_units::ticket_id.eq_any(keys))
        .select((ticket_units::ticket_id, ticket_units::unit_id))
        .load(conn)?;
    let mut out: std::collections::HashMap<TicketId, Vec<UnitId>> =
        std::collections::HashMap::new();
    for (ticket, unit) in pairs {
        out.entry(parse_col("ticket_units.ticket_id", &ticket)?)
            .or_default()
            .push(parse_col("ticket_units.unit_id", &unit)?);
    }
    Ok(out)
}

pub fn by_number(conn: &mut DbConn, number: &str) -> Result<Option<Ticket>, StoreError> {
    tickets::table
        .filter(tickets::number.eq(number))
        .select(TicketRow::as_select())
        .first(conn)
        .optional()?
        .map(Ticket::try_from)
        .transpose()
}

/// Filters of the ticket list. Empty fields do not filter.
#[derive(Debug, Default, Clone)]
pub struct TicketFilter {
    pub statuses: Vec<Status>,
    pub main_unit_id: Option<UnitId>,
    /// A category and everything below it (the caller expands the subtree).
    pub category_ids: Vec<CategoryId>,
    pub appeal_type: Option<AppealType>,
    pub urgency: Option<Urgency>,
    pub channel: Option<Channel>,
    pub received_from: Option<DateTime<Utc>>,
    pub received_to: Option<DateTime<Utc>>,
    /// Only tickets past their sign-for or handling deadline while with a unit.
    pub overdue: bool,
    pub supervised: Option<bool>,
    pub number: Option<String>,
    pub citizen_phone: Option<String>,
    /// Only tickets whose extension is in this state (`requested`: waiting for a decision).
    pub extension: Option<crate::ticket::ExtensionState>,
    /// Only tickets returned twice or more (the shift lead's rulings).
    pub needs_shift_lead: Option<bool>,
    /// The order of the list; any but newest-first gives one page without a cursor.
    pub order: TicketOrder,
    /// Only these tickets (a set another module chose, e.g. the dispatcher's manual queue).
    pub ids: Option<Vec<TicketId>>,
}

/// The orders a list comes in: newest first (paged), or a work queue's order.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum TicketOrder {
    #[default]
    Newest,
    /// The return visit due first (the agents' return-visit queue).
    VisitDeadline,
    /// The handling deadline nearest first, then the sign-for deadline (a unit's queue).
    HandleDeadline,
    /// Oldest first by last change (rulings and extension requests waiting longest).
    LongestWaiting,
}

/// The position after the last ticket of a page (newest first).
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub received_at: DateTime<Utc>,
    pub id: TicketId,
}

/// A page of tickets visible in `scope`, newest first, and the cursor of the next page.
pub fn list(
    conn: &mut DbConn,
    f: &TicketFilter,
    scope: &Scope,
    after: Option<&Cursor>,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<(Vec<Ticket>, Option<Cursor>), StoreError> {
    let mut q = tickets::table.select(TicketRow::as_select()).into_boxed();
    if let Scope::Units(units) = scope {
        let units: Vec<String> = units.iter().map(ToString::to_string).collect();
        q = q.filter(
            tickets::id.eq_any(
                ticket_units::table
                    .filter(ticket_units::unit_id.eq_any(units))
                    .select(ticket_units::ticket_id),
            ),
        );
    }
    if !f.statuses.is_empty() {
        q = q.filter(
            tickets::status.eq_any(
                f.statuses
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            ),
        );
    }
    if let Some(u) = f.main_unit_id {
        q = q.filter(tickets::main_unit_id.eq(u.to_string()));
    }
    if !f.category_ids.is_empty() {
        q = q.filter(
            tickets::category_id.eq_any(
                f.category_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            ),
        );
    }
    if let Some(v) = f.appeal_type {
        q = q.filter(tickets::appeal_type.eq(v.to_string()));
    }
    if let Some(v) = f.urgency {
        q = q.filter(tickets::urgency.eq(v.to_string()));
    }
    if let Some(v) = f.channel {
        q = q.filter(tickets::channel.eq(v.to_string()));
    }
    if let Some(from) = f.received_from {
        q = q.filter(tickets::received_at.ge(to_db(from)));
    }
    if let Some(to) = f.received_to {
        q = q.filter(tickets::received_at.lt(to_db(to)));
    }
    if f.overdue {
        let now = to_db(now);
        q = q.filter(
            tickets::status
                .eq(Status::Handling.to_string())
                .and(tickets::handle_deadline.lt(now))
                .or(tickets::status.eq(Status::Dispatched.to_string()).and(
                    tickets::sign_deadline
                        .lt(now)
                        .or(tickets::handle_deadline.lt(now)),
                )),
        );
    }
    if let Some(s) = f.supervised {
        q = q.filter(tickets::supervised.eq(s));
    }
    if let Some(n) = &f.number {
        q = q.filter(tickets::number.eq(n.clone()));
    }
    if let Some(p) = &f.citizen_phone {
        q = q.filter(tickets::citizen_phone.eq(p.clone()));
    }
    if let Some(ids) = &f.ids {
        q = q.filter(tickets::id.eq_any(ids.iter().map(ToString::to_string).collect::<Vec<_>>()));
    }
    if let Some(e) = f.extension {
        q = q.filter(tickets::extension.eq(e.to_string()));
    }
    match f.needs_shift_lead {
        Some(true) => q = q.filter(tickets::return_count.ge(2)),
        Some(false) => q = q.filter(tickets::return_count.lt(2)),
        None => {}
    }
    if f.order != TicketOrder::Newest {
        // A work queue: one page in the queue's order, rows without the deadline last.
        q = match f.order {
            TicketOrder::Newest | TicketOrder::LongestWaiting => {
                q.order((tickets::updated_at.asc(), tickets::id.asc()))
            }
            TicketOrder::VisitDeadline => q.order((
                tickets::visit_deadline.is_null().asc(),
                tickets::visit_deadline.asc(),
                tickets::id.asc(),
            )),
            TicketOrder::HandleDeadline => q.order((
                tickets::handle_deadline.is_null().asc(),
                tickets::handle_deadline.asc(),
                tickets::sign_deadline.asc(),
                tickets::id.asc(),
            )),
        };
        let rows: Vec<TicketRow> = q.limit(limit).load(conn)?;
        let page = rows
            .into_iter()
            .map(Ticket::try_from)
            .collect::<Result<_, _>>()?;
        return Ok((page, None));
    }
    if let Some(c) = after {
        let at = to_db(c.received_at);
        q = q.filter(
            tickets::received_at.lt(at).or(tickets::received_at
                .eq(at)
                .and(tickets::id.lt(c.id.to_string()))),
        );
    }
    let rows: Vec<TicketRow> = q
        .order((tickets::received_at.desc(), tickets::id.desc()))
        .limit(limit + 1)
        .load(conn)?;
    let more = rows.len() as i64 > limit;
    let page: Vec<Ticket> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(0))
        .map(Ticket::try_from)
        .collect::<Result<_, _>>()?;
    let next = if more {
        page.last().map(|t| Cursor {
            received_at: t.received_at,
            id: t.id,
        })
    } else {
        None
    };
    Ok((page, next))
}

/// Tickets per status, for the metrics and the wallboard.
pub fn count_by_status(conn: &mut DbConn) -> Result<Vec<(String, i64)>, StoreError> {
    use diesel::dsl::count_star;
    Ok(tickets::table
        .group_by(tickets::status)
        .select((tickets::status, count_star()))
        .load(conn)?)
}

/// Every ticket id, for a rebuild from events.
pub fn all_ids(conn: &mut DbConn) -> Result<Vec<TicketId>, StoreError> {
    tickets::table
        .select(tickets::id)
        .order(tickets::id.asc())
        .load::<String>(conn)?
        .iter()
        .map(|id| parse_col("tickets.id", id))
        .collect()
}

/// Overwrites a ticket's row with `t` (a rebuild from events), whatever its version.
pub fn overwrite(conn: &mut DbConn, t: &Ticket) -> Result<(), StoreError> {
    diesel::update(tickets::table.find(t.id.to_string()))
        .set(&TicketRow::from(t))
        .execute(conn)?;
    record_involvement(conn, t)
}

/// The raw stored row, to compare rows byte for byte after a rebuild.
pub fn raw_row(conn: &mut DbConn, id: TicketId) -> Result<TicketRow, StoreError> {
    Ok(tickets::table
        .find(id.to_string())
        .select(TicketRow::as_select())
        .first(conn)?)
}
