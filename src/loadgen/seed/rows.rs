//! The rows the seeder writes, in forms both bulk paths take (PostgreSQL's binary COPY needs every
//! column bound: no DEFAULT for a None). Tickets are core's own `TicketRow`, which binds every
//! column, so their encoding is exactly the one `hotline rebuild` compares with.

use diesel::prelude::*;
use hotline_core::db::schema::{events, ticket_units};
use hotline_core::db::to_db;
use hotline_core::store::tickets::TicketRow;
use hotline_core::ticket::Event;

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
    pub tickets: Vec<TicketRow>,
    pub units: Vec<TicketUnitOut>,
    pub events: Vec<EventOut>,
}

impl Batch {
    /// The tickets in arrival order (their time indexes grow at the end), their units and events
    /// in ticket-id order: each page of the (ticket id, …) indexes is then visited once, in
    /// sequence, instead of in the random order of random UUIDs. Each ticket's events stay in
    /// version order, and so get their `seq` in order. Groups are sorted, not the rows, so each
    /// row is moved once.
    pub fn new(tickets: Vec<TicketRow>, mut groups: Vec<Group>) -> Self {
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
