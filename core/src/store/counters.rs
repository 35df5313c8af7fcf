//! The daily ticket counter, reserved in blocks. Each node takes a block of numbers in a short
//! transaction of its own, so concurrent intake never queues on one counter row; numbers stay
//! unique across nodes, and a restart leaves at most one block's gap.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::{DbConn, StoreError};

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

/// Reserves `size` numbers of `day`; returns the first and last reserved counter values.
pub fn reserve_block(
    conn: &mut DbConn,
    day: NaiveDate,
    size: i64,
) -> Result<(i64, i64), StoreError> {
    let key = day.format("%Y%m%d").to_string();
    // Both backends speak this upsert; only the placeholders differ.
    let sql = match conn {
        DbConn::Pg(_) => {
            "INSERT INTO ticket_counters (day, value) VALUES ($1, $2) \
             ON CONFLICT (day) DO UPDATE SET value = ticket_counters.value + $2 RETURNING value"
        }
        DbConn::Sqlite(_) => {
            "INSERT INTO ticket_counters (day, value) VALUES (?1, ?2) \
             ON CONFLICT (day) DO UPDATE SET value = ticket_counters.value + ?2 RETURNING value"
        }
    };
    let end = diesel::sql_query(sql)
        .bind::<Text, _>(key)
        .bind::<BigInt, _>(size)
        .get_result::<Value>(conn)?
        .value;
    Ok((end - size + 1, end))
}
