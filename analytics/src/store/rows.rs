//! Writing rollup and cell rows: deltas in place (a round), or every row at once (a rebuild).

use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::DbConn;

use super::Deltas;
use crate::facts::{Key, Measures};
use crate::schema::{analytics_cells as c, analytics_rollups as r};

#[derive(Debug, Insertable)]
#[diesel(table_name = r)]
struct RollupRow<'a> {
    day: &'a str,
    category_id: &'a str,
    unit_id: &'a str,
    area_id: &'a str,
    channel: &'a str,
    appeal_type: &'a str,
    status: &'a str,
    tickets: i64,
    dispatched: i64,
    signed: i64,
    signed_in_time: i64,
    replied: i64,
    replied_in_time: i64,
    closed: i64,
    resolved: i64,
    rated: i64,
    satisfied: i64,
    returned: i64,
    redone: i64,
    extended: i64,
    handled: i64,
    handling_minutes: i64,
    negative: i64,
    sentiment_milli: i64,
}

impl<'a> RollupRow<'a> {
    fn of(k: &'a Key, m: &Measures) -> Self {
        Self {
            day: &k.day,
            category_id: &k.category_id,
            unit_id: &k.unit_id,
            area_id: &k.area_id,
            channel: &k.channel,
            appeal_type: &k.appeal_type,
            status: &k.status,
            tickets: m.tickets,
            dispatched: m.dispatched,
            signed: m.signed,
            signed_in_time: m.signed_in_time,
            replied: m.replied,
            replied_in_time: m.replied_in_time,
            closed: m.closed,
            resolved: m.resolved,
            rated: m.rated,
            satisfied: m.satisfied,
            returned: m.returned,
            redone: m.redone,
            extended: m.extended,
            handled: m.handled,
            handling_minutes: m.handling_minutes,
            negative: m.negative,
            sentiment_milli: m.sentiment_milli,
        }
    }
}

macro_rules! key_filter {
    ($k:expr) => {
        r::table
            .filter(r::day.eq(&$k.day))
            .filter(r::category_id.eq(&$k.category_id))
            .filter(r::unit_id.eq(&$k.unit_id))
            .filter(r::area_id.eq(&$k.area_id))
            .filter(r::channel.eq(&$k.channel))
            .filter(r::appeal_type.eq(&$k.appeal_type))
            .filter(r::status.eq(&$k.status))
    };
}

fn apply_rollup(conn: &mut DbConn, k: &Key, d: &Measures) -> Result<(), StoreError> {
    let n = diesel::update(key_filter!(k))
        .set((
            r::tickets.eq(r::tickets + d.tickets),
            r::dispatched.eq(r::dispatched + d.dispatched),
            r::signed.eq(r::signed + d.signed),
            r::signed_in_time.eq(r::signed_in_time + d.signed_in_time),
            r::replied.eq(r::replied + d.replied),
            r::replied_in_time.eq(r::replied_in_time + d.replied_in_time),
            r::closed.eq(r::closed + d.closed),
            r::resolved.eq(r::resolved + d.resolved),
            r::rated.eq(r::rated + d.rated),
            r::satisfied.eq(r::satisfied + d.satisfied),
            r::returned.eq(r::returned + d.returned),
            r::redone.eq(r::redone + d.redone),
            r::extended.eq(r::extended + d.extended),
            r::handled.eq(r::handled + d.handled),
            r::handling_minutes.eq(r::handling_minutes + d.handling_minutes),
            r::negative.eq(r::negative + d.negative),
            r::sentiment_milli.eq(r::sentiment_milli + d.sentiment_milli),
        ))
        .execute(conn)?;
    if n == 0 {
        if d.tickets <= 0 {
            return Err(StoreError::Corrupt(format!(
                "rollup of {k:?} would fall below zero"
            )));
        }
        diesel::insert_into(r::table)
            .values(RollupRow::of(k, d))
            .execute(conn)?;
    } else if d.tickets < 0 {
        diesel::delete(key_filter!(k).filter(r::tickets.le(0_i64))).execute(conn)?;
    }
    Ok(())
}

/// Applies one round's deltas (in the caller's transaction, which holds the cursor).
pub fn apply(conn: &mut DbConn, deltas: &Deltas) -> Result<(), StoreError> {
    for (k, d) in &deltas.rollups {
        apply_rollup(conn, k, d)?;
    }
    for (k, d) in &deltas.cells {
        let row = c::table
            .filter(c::day.eq(&k.day))
            .filter(c::cell.eq(k.cell))
            .filter(c::category_id.eq(&k.category_id))
            .filter(c::appeal_type.eq(&k.appeal_type))
            .filter(c::area_id.eq(&k.area_id));
        let n = diesel::update(row)
            .set(c::tickets.eq(c::tickets + *d))
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(c::table)
                .values((
                    c::day.eq(&k.day),
                    c::cell.eq(k.cell),
                    c::category_id.eq(&k.category_id),
                    c::appeal_type.eq(&k.appeal_type),
                    c::area_id.eq(&k.area_id),
                    c::tickets.eq(*d),
                ))
                .execute(conn)?;
        } else if *d < 0 {
            diesel::delete(row.filter(c::tickets.le(0_i64))).execute(conn)?;
        }
    }
    Ok(())
}

/// Inserts every row of `all` into empty tables (a rebuild).
pub fn insert_all(conn: &mut DbConn, all: &Deltas) -> Result<(), StoreError> {
    let rows: Vec<RollupRow<'_>> = all
        .rollups
        .iter()
        .filter(|(_, m)| m.tickets > 0)
        .map(|(k, m)| RollupRow::of(k, m))
        .collect();
    // 24 values a row: well inside both backends' limits on bound parameters.
    for chunk in rows.chunks(400) {
        hotline_core::insert_all!(&mut *conn, r::table, chunk)?;
    }
    let cells: Vec<_> = all
        .cells
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| {
            (
                c::day.eq(&k.day),
                c::cell.eq(k.cell),
                c::category_id.eq(&k.category_id),
                c::appeal_type.eq(&k.appeal_type),
                c::area_id.eq(&k.area_id),
                c::tickets.eq(*n),
            )
        })
        .collect();
    for chunk in cells.chunks(1000) {
        hotline_core::insert_all!(&mut *conn, c::table, chunk)?;
    }
    Ok(())
}
