//! The rows the seeder writes, in forms both bulk paths take: PostgreSQL's binary COPY needs every
//! column bound (no DEFAULT for a None), which core's `TicketRow` does not promise, so the ticket
//! row is converted field by field from it. Converting from `TicketRow` (rather than from the
//! ticket) keeps the encoding exactly the one `hotline rebuild` compares with.

use diesel::prelude::*;
use hotline_core::db::schema::{events, ticket_units, tickets};
use hotline_core::db::to_db;
use hotline_core::store::tickets::TicketRow;
use hotline_core::ticket::Event;

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = tickets, treat_none_as_default_value = false)]
pub struct TicketOut {
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

impl From<TicketRow> for TicketOut {
    fn from(r: TicketRow) -> Self {
        Self {
            id: r.id,
            number: r.number,
            query_code: r.query_code,
            channel: r.channel,
            appeal_type: r.appeal_type,
            urgency: r.urgency,
            category_id: r.category_id,
            title: r.title,
            detail: r.detail,
            address: r.address,
            latitude: r.latitude,
            longitude: r.longitude,
            citizen_name: r.citizen_name,
            citizen_phone: r.citizen_phone,
            citizen_id_number: r.citizen_id_number,
            status: r.status,
            centre_id: r.centre_id,
            main_unit_id: r.main_unit_id,
            co_unit_ids: r.co_unit_ids,
            chain: r.chain,
            extension: r.extension,
            extension_days: r.extension_days,
            supervised: r.supervised,
            reply: r.reply,
            rating: r.rating,
            rating_comment: r.rating_comment,
            resolution: r.resolution,
            merged_into: r.merged_into,
            return_count: r.return_count,
            redo_count: r.redo_count,
            received_at: r.received_at,
            dispatched_at: r.dispatched_at,
            signed_at: r.signed_at,
            replied_at: r.replied_at,
            visited_at: r.visited_at,
            closed_at: r.closed_at,
            suspended_at: r.suspended_at,
            sign_deadline: r.sign_deadline,
            handle_deadline: r.handle_deadline,
            return_deadline: r.return_deadline,
            created_by: r.created_by,
            version: r.version,
            updated_at: r.updated_at,
            erasure_requested: r.erasure_requested,
            erased_at: r.erased_at,
            supervision_count: r.supervision_count,
            escalated_unit_id: r.escalated_unit_id,
            visit_deadline: r.visit_deadline,
            claimed_by: r.claimed_by,
            claimed_at: r.claimed_at,
        }
    }
}

/// An event row; `seq` is filled in by the writer, in the order the rows commit.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = events, treat_none_as_default_value = false)]
pub struct EventOut {
    pub seq: Option<i64>,
    pub ticket_id: String,
    pub version: i32,
    pub kind: String,
    pub actor_id: Option<String>,
    pub actor_role: String,
    pub actor_unit_id: Option<String>,
    pub occurred_at: chrono::NaiveDateTime,
    pub payload: String,
    pub reason: Option<String>,
}

impl EventOut {
    /// The row `store::events::append` would write for `e` (same payload encoding, same reason).
    pub fn new(e: &Event) -> serde_json::Result<Self> {
        Ok(Self {
            seq: None,
            ticket_id: e.ticket_id.to_string(),
            version: e.version,
            kind: e.change.kind().to_owned(),
            actor_id: e.actor_id.map(|u| u.to_string()),
            actor_role: e.actor_role.clone(),
            actor_unit_id: e.actor_unit_id.map(|u| u.to_string()),
            occurred_at: to_db(e.occurred_at),
            payload: serde_json::to_string(&e.change)?,
            reason: e.change.reason().map(str::to_owned),
        })
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = ticket_units, treat_none_as_default_value = false)]
pub struct TicketUnitOut {
    pub ticket_id: String,
    pub unit_id: String,
}

/// One ticket's units and events, kept together until the batch is put in order.
#[derive(Debug)]
pub struct Group {
    pub ticket_id: String,
    pub units: Vec<TicketUnitOut>,
    pub events: Vec<EventOut>,
}

/// One transaction's worth of seeded tickets.
#[derive(Debug, Default)]
pub struct Batch {
    pub tickets: Vec<TicketOut>,
    pub units: Vec<TicketUnitOut>,
    pub events: Vec<EventOut>,
}

impl Batch {
    /// The tickets in arrival order (their time indexes grow at the end), their units and events
    /// in ticket-id order: each page of the (ticket id, …) indexes is then visited once, in
    /// sequence, instead of in the random order of random UUIDs. Each ticket's events stay in
    /// version order, and so get their `seq` in order. Groups are sorted, not the rows, so each
    /// row is moved once.
    pub fn new(tickets: Vec<TicketOut>, mut groups: Vec<Group>) -> Self {
        groups.sort_unstable_by(|a, b| a.ticket_id.cmp(&b.ticket_id));
        let units = groups.iter().map(|g| g.units.len()).sum();
        let events = groups.iter().map(|g| g.events.len()).sum();
        let mut batch = Self {
            tickets,
            units: Vec::with_capacity(units),
            events: Vec::with_capacity(events),
        };
        for mut g in groups {
            g.units.sort_unstable_by(|a, b| a.unit_id.cmp(&b.unit_id));
            batch.units.append(&mut g.units);
            batch.events.append(&mut g.events);
        }
        batch
    }
}
