//! The event log. Events are appended in the ticket's transaction with no sequence number; the
//! sequencer numbers committed events afterwards, one run at a time, so the global `seq` follows
//! commit order with no gaps and a consumer reading `after=SEQ` never misses a late commit.
//! (Taking the number inside the writing transaction would serialize every write on one counter
//! row: measured here, PostgreSQL intake fell from ~7,800 to ~1,200 inserts/s.)

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;

use crate::db::schema::{events, ticket_units};
use crate::db::{DbConn, StoreError, from_db, to_db};
use crate::ids::TicketId;
use crate::scope::Scope;
use crate::store::{parse_col, parse_opt};
use crate::ticket::{Change, Event};

/// Key of the advisory lock that makes sequencer runs take turns across nodes.
const SEQUENCER_LOCK: i64 = 0x3132_3334_3553_4551; // "12345SEQ"

/// The PostgreSQL `NOTIFY` channel on which a sequencer run announces the highest sequence number
/// it gave out (the payload), so every node's console hub reads the new rows at once.
pub const NOTIFY_CHANNEL: &str = "hotline_events";

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: i64,
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

#[derive(Debug, Insertable)]
#[diesel(table_name = events)]
struct NewEventRow<'a> {
    ticket_id: String,
    version: i32,
    kind: &'a str,
    actor_id: Option<String>,
    actor_role: &'a str,
    actor_unit_id: Option<String>,
    occurred_at: chrono::NaiveDateTime,
    payload: String,
    reason: Option<&'a str>,
}

/// An event as stored: its row id, its global sequence number once sequenced, and the event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: i64,
    pub seq: Option<i64>,
    pub event: Event,
}

/// The JSON form of an event in API answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub seq: Option<i64>,
    pub ticket_id: TicketId,
    pub version: i32,
    pub kind: String,
    pub kind_label: String,
    pub actor_id: Option<crate::ids::UserId>,
    pub actor_role: String,
    pub actor_unit_id: Option<crate::ids::UnitId>,
    pub occurred_at: DateTime<Utc>,
    pub reason: Option<String>,
    /// The change's own fields (see the README's event table).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

impl StoredEvent {
    pub fn view(&self) -> EventView {
        let e = &self.event;
        let mut payload = serde_json::to_value(&e.change).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(map) = &mut payload {
            map.remove("kind");
            // The citizen's secret and contact are not part of the shared event stream.
            map.remove("query_code");
            if let Some(serde_json::Value::String(p)) = map.get("citizen_phone") {
                let masked = crate::domain::text::mask_phone(p);
                map.insert("citizen_phone".into(), serde_json::Value::String(masked));
            }
            if let Some(serde_json::Value::String(p)) = map.get("citizen_id_number") {
                let masked = crate::domain::text::mask_id_number(p);
                map.insert(
                    "citizen_id_number".into(),
                    serde_json::Value::String(masked),
                );
            }
        }
        EventView {
            seq: self.seq,
            ticket_id: e.ticket_id,
            version: e.version,
            kind: e.change.kind().to_owned(),
            kind_label: e.change.label_zh().to_owned(),
            actor_id: e.actor_id,
            actor_role: e.actor_role.clone(),
            actor_unit_id: e.actor_unit_id,
            occurred_at: e.occurred_at,
            reason: e.change.reason().map(str::to_owned),
            payload,
        }
    }
}

impl TryFrom<EventRow> for StoredEvent {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        let change: Change = serde_json::from_str(&r.payload)
            .map_err(|e| StoreError::Corrupt(format!("event {} payload: {e}", r.id)))?;
        Ok(Self {
            id: r.id,
            seq: r.seq,
            event: Event {
                ticket_id: parse_col("events.ticket_id", &r.ticket_id)?,
                version: r.version,
                occurred_at: from_db(r.occurred_at),
                actor_id: parse_opt("events.actor_id", r.actor_id.as_deref())?,
                actor_role: r.actor_role,
                actor_unit_id: parse_opt("events.actor_unit_id", r.actor_unit_id.as_deref())?,
                change,
            },
        })
    }
}

fn rows(rows: Vec<EventRow>) -> Result<Vec<StoredEvent>, StoreError> {
    rows.into_iter().map(StoredEvent::try_from).collect()
}

/// Appends an event in the caller's transaction. The (ticket, version) uniqueness makes a second
/// append of the same version fail, whatever the caller believed.
pub fn append(conn: &mut DbConn, e: &Event) -> Result<(), StoreError> {
    append_all(conn, std::slice::from_ref(e))
}

/// Appends events, one statement on PostgreSQL.
pub fn append_all(conn: &mut DbConn, all: &[Event]) -> Result<(), StoreError> {
    let rows = all
        .iter()
        .map(|e| {
            let payload = serde_json::to_string(&e.change)
                .map_err(|err| StoreError::Corrupt(format!("cannot encode event: {err}")))?;
            Ok(NewEventRow {
                ticket_id: e.ticket_id.to_string(),
                version: e.version,
                kind: e.change.kind(),
                actor_id: e.actor_id.map(|u| u.to_string()),
                actor_role: &e.actor_role,
                actor_unit_id: e.actor_unit_id.map(|u| u.to_string()),
                occurred_at: to_db(e.occurred_at),
                payload,
                reason: e.change.reason(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    crate::insert_all!(conn, events::table, rows)?;
    Ok(())
}

/// A ticket's whole history, oldest first.
pub fn for_ticket(conn: &mut DbConn, ticket: TicketId) -> Result<Vec<StoredEvent>, StoreError> {
    rows(
        events::table
            .filter(events::ticket_id.eq(ticket.to_string()))
            .order(events::version.asc())
            .select(EventRow::as_select())
            .load(conn)?,
    )
}

/// The events of one kind (`Change::kind`) of these tickets, each ticket's oldest first (one
/// statement per 500 tickets).
pub fn of_kind_for(
    conn: &mut DbConn,
    kind: &str,
    tickets: &[TicketId],
) -> Result<Vec<StoredEvent>, StoreError> {
    let ids: Vec<String> = tickets.iter().map(ToString::to_string).collect();
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(rows(
            events::table
                .filter(events::kind.eq(kind))
                .filter(events::ticket_id.eq_any(chunk))
                .order((events::ticket_id.asc(), events::version.asc()))
                .select(EventRow::as_select())
                .load(conn)?,
        )?);
    }
    Ok(out)
}

/// Sequenced events after `after`, in sequence order, of tickets visible in `scope`.
pub fn after(
    conn: &mut DbConn,
    after: i64,
    limit: i64,
    scope: &Scope,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut q = events::table
        .filter(events::seq.gt(after))
        .select(EventRow::as_select())
        .into_boxed();
    if let Scope::Units(units) = scope {
        let units: Vec<String> = units.iter().map(ToString::to_string).collect();
        q = q.filter(
            events::ticket_id.eq_any(
                ticket_units::table
                    .filter(ticket_units::unit_id.eq_any(units))
                    .select(ticket_units::ticket_id),
            ),
        );
    }
    rows(q.order(events::seq.asc()).limit(limit).load(conn)?)
}

/// The highest sequence number given out so far (0 before any).
pub fn last_seq(conn: &mut DbConn) -> Result<i64, StoreError> {
    use diesel::dsl::max;
    Ok(events::table
        .select(max(events::seq))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// Numbers up to `batch` committed, unsequenced events, oldest first; returns them. Must run in
/// its own transaction ([`crate::Db::write_blocking`]): on PostgreSQL an advisory lock makes runs
/// on different nodes take turns, on SQLite the single writer does.
pub fn sequence_pending(conn: &mut DbConn, batch: i64) -> Result<Vec<StoredEvent>, StoreError> {
    let numbered = "WITH pending AS ( \
            SELECT id FROM events WHERE seq IS NULL ORDER BY id LIMIT {LIMIT} \
        ), numbered AS ( \
            SELECT id, row_number() OVER (ORDER BY id) \
                   + (SELECT COALESCE(MAX(seq), 0) FROM events) AS new_seq \
            FROM pending \
        ) \
        UPDATE events SET seq = numbered.new_seq FROM numbered WHERE events.id = numbered.id \
        RETURNING events.id, events.seq, events.ticket_id, events.version, events.kind, \
            events.actor_id, events.actor_role, events.actor_unit_id, events.occurred_at, \
            events.payload, events.reason";
    let sql = match conn {
        DbConn::Pg(_) => {
            // The partial index of unsequenced events holds an entry for every event numbered
            // since the last vacuum. A plain index scan marks those dead as it passes and skips
            // them next time; the bitmap scan the planner otherwise picks visits all of them,
            // every run, and under steady intake that made this statement the costliest of all.
            conn.batch_execute(&format!(
                "SELECT pg_advisory_xact_lock({SEQUENCER_LOCK}); SET LOCAL enable_bitmapscan = off"
            ))?;
            numbered.replace("{LIMIT}", "$1")
        }
        DbConn::Sqlite(_) => numbered.replace("{LIMIT}", "?1"),
    };
    let mut out = rows(
        diesel::sql_query(sql)
            .bind::<BigInt, _>(batch)
            .load::<EventRow>(conn)?,
    )?;
    out.sort_by_key(|e| e.seq);
    if matches!(conn, DbConn::Pg(_))
        && let Some(last) = out.last().and_then(|e| e.seq)
    {
        // Delivered when this transaction commits, so a listener never reads ahead of the rows.
        conn.batch_execute(&format!("SELECT pg_notify('{NOTIFY_CHANNEL}', '{last}')"))?;
    }
    Ok(out)
}

/// Every event, oldest first, for a rebuild.
pub fn all_for_rebuild(conn: &mut DbConn, ticket: TicketId) -> Result<Vec<Event>, StoreError> {
    Ok(for_ticket(conn, ticket)?
        .into_iter()
        .map(|e| e.event)
        .collect())
}

/// Every event of the tickets `ids`, by ticket and version (a batched rebuild: one statement per
/// 500 tickets).
pub fn for_tickets(conn: &mut DbConn, ids: &[TicketId]) -> Result<Vec<Event>, StoreError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let keys: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        let found = events::table
            .filter(events::ticket_id.eq_any(keys))
            .order((events::ticket_id.asc(), events::version.asc()))
            .select(EventRow::as_select())
            .load(conn)?;
        out.extend(rows(found)?.into_iter().map(|e| e.event));
    }
    Ok(out)
}
