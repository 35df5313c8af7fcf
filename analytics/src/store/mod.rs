//! The analytics tables: facts (what each ticket adds now), the rollups and the heat-map cells,
//! and the cursor that says how far they have followed the event stream. Rollups change only by
//! deltas (a fact's old contribution out, its new one in), so a key's row is always the sum of
//! its tickets' facts; a row that falls to zero tickets is deleted.

pub mod read;

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::{DbConn, to_db};
use hotline_core::ids::TicketId;

use crate::facts::{CellKey, Fact, Key, Measures};
use crate::schema::{analytics_cells, analytics_cursors, analytics_facts, analytics_rollups};

/// The cursor row of the rollups.
const CURSOR: &str = "rollups";

/// The deltas of one round: per rollup key and per cell key.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Deltas {
    pub rollups: BTreeMap<Key, Measures>,
    pub cells: BTreeMap<CellKey, i64>,
}

impl Deltas {
    /// Adds (`sign` 1) or takes out (`sign` -1) one fact's contribution.
    pub fn add(&mut self, fact: &Fact, sign: i64) {
        self.rollups
            .entry(fact.key.clone())
            .or_default()
            .add(&fact.measures, sign);
        if let Some(k) = fact.cell_key() {
            *self.cells.entry(k).or_default() += sign;
        }
    }

    /// Leaves out keys whose deltas cancelled.
    pub fn prune(&mut self) {
        self.rollups.retain(|_, m| !m.is_zero());
        self.cells.retain(|_, n| *n != 0);
    }
}

/// Takes the cursor for this transaction (a row lock on PostgreSQL, so one node at a time moves
/// the rollups; SQLite has one writer anyway) and returns where it stands.
pub fn lock_cursor(conn: &mut DbConn) -> Result<i64, StoreError> {
    let n = diesel::update(analytics_cursors::table.find(CURSOR))
        .set(analytics_cursors::seq.eq(analytics_cursors::seq))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(analytics_cursors::table)
            .values((
                analytics_cursors::name.eq(CURSOR),
                analytics_cursors::seq.eq(0_i64),
                analytics_cursors::updated_at.eq(to_db(hotline_core::db::now())),
            ))
            .execute(conn)?;
    }
    cursor(conn)
}

/// How far the rollups have followed the event stream.
pub fn cursor(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(analytics_cursors::table
        .find(CURSOR)
        .select(analytics_cursors::seq)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

pub fn set_cursor(conn: &mut DbConn, seq: i64) -> Result<(), StoreError> {
    diesel::update(analytics_cursors::table.find(CURSOR))
        .set((
            analytics_cursors::seq.eq(seq),
            analytics_cursors::updated_at.eq(to_db(hotline_core::db::now())),
        ))
        .execute(conn)?;
    Ok(())
}

/// The tickets changed by the events after `after` (at most `limit` events), and the last
/// sequence number read.
pub fn changed_after(
    conn: &mut DbConn,
    after: i64,
    limit: i64,
) -> Result<(Vec<TicketId>, Option<i64>), StoreError> {
    use hotline_core::db::schema::events;
    let rows: Vec<(Option<i64>, String)> = events::table
        .filter(events::seq.gt(after))
        .order(events::seq.asc())
        .limit(limit)
        .select((events::seq, events::ticket_id))
        .load(conn)?;
    let last = rows.iter().filter_map(|(s, _)| *s).max();
    let mut ids: Vec<TicketId> = rows
        .into_iter()
        .filter_map(|(_, id)| id.parse().ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok((ids, last))
}

#[derive(Debug, Queryable, Insertable)]
#[diesel(table_name = analytics_facts)]
struct FactRow {
    ticket_id: String,
    version: i32,
    day: String,
    category_id: String,
    unit_id: String,
    area_id: String,
    channel: String,
    appeal_type: String,
    status: String,
    cell: Option<i64>,
    measures: String,
}

impl FactRow {
    fn of(f: &Fact) -> Result<Self, StoreError> {
        Ok(Self {
            ticket_id: f.ticket_id.to_string(),
            version: f.version,
            day: f.key.day.clone(),
            category_id: f.key.category_id.clone(),
            unit_id: f.key.unit_id.clone(),
            area_id: f.key.area_id.clone(),
            channel: f.key.channel.clone(),
            appeal_type: f.key.appeal_type.clone(),
            status: f.key.status.clone(),
            cell: f.cell,
            measures: serde_json::to_string(&f.measures)
                .map_err(|e| StoreError::Corrupt(format!("measures: {e}")))?,
        })
    }

    fn into_fact(self) -> Result<Fact, StoreError> {
        Ok(Fact {
            ticket_id: self
                .ticket_id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("fact of {}", self.ticket_id)))?,
            version: self.version,
            key: Key {
                day: self.day,
                category_id: self.category_id,
                unit_id: self.unit_id,
                area_id: self.area_id,
                channel: self.channel,
                appeal_type: self.appeal_type,
                status: self.status,
            },
            cell: self.cell,
            measures: serde_json::from_str(&self.measures)
                .map_err(|e| StoreError::Corrupt(format!("fact measures: {e}")))?,
        })
    }
}

/// The stored facts of `ids`.
pub fn facts_of(
    conn: &mut DbConn,
    ids: &[TicketId],
) -> Result<HashMap<TicketId, Fact>, StoreError> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let keys: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        let rows: Vec<FactRow> = analytics_facts::table
            .filter(analytics_facts::ticket_id.eq_any(keys))
            .load(conn)?;
        for r in rows {
            let f = r.into_fact()?;
            out.insert(f.ticket_id, f);
        }
    }
    Ok(out)
}

/// Stores `facts`, replacing those of the same tickets.
pub fn save_facts(conn: &mut DbConn, facts: &[Fact]) -> Result<(), StoreError> {
    for chunk in facts.chunks(200) {
        let keys: Vec<String> = chunk.iter().map(|f| f.ticket_id.to_string()).collect();
        diesel::delete(analytics_facts::table.filter(analytics_facts::ticket_id.eq_any(keys)))
            .execute(conn)?;
        insert_facts(conn, chunk)?;
    }
    Ok(())
}

/// Inserts facts of tickets that have none (a rebuild, after clearing).
pub fn insert_facts(conn: &mut DbConn, facts: &[Fact]) -> Result<(), StoreError> {
    for chunk in facts.chunks(200) {
        let rows = chunk
            .iter()
            .map(FactRow::of)
            .collect::<Result<Vec<_>, _>>()?;
        hotline_core::insert_all!(&mut *conn, analytics_facts::table, rows)?;
    }
    Ok(())
}

/// Empties the facts, rollups and cells (before a rebuild).
pub fn clear(conn: &mut DbConn) -> Result<(), StoreError> {
    diesel::delete(analytics_facts::table).execute(conn)?;
    diesel::delete(analytics_rollups::table).execute(conn)?;
    diesel::delete(analytics_cells::table).execute(conn)?;
    Ok(())
}

mod rows;
pub use rows::{apply, insert_all};
