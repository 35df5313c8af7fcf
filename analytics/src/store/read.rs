//! Reading the rollups: sums over a filter, grouped by one dimension. Every dashboard query reads
//! rollup rows, never tickets.

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use hotline_core::StoreError;
use hotline_core::db::DbConn;

use crate::facts::Measures;
use crate::schema::{analytics_cells as c, analytics_rollups as r};

/// Which rollup rows a query sums. `None` is no restriction; `scope` is the caller's units (a
/// row counts when its unit or its area is one of them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub from: Option<NaiveDate>,
    /// Inclusive.
    pub to: Option<NaiveDate>,
    pub categories: Option<Vec<String>>,
    pub appeal_type: Option<String>,
    pub channel: Option<String>,
    pub units: Option<Vec<String>>,
    pub areas: Option<Vec<String>>,
    pub scope: Option<Vec<String>>,
}

/// The sums, in the order of [`Measures`]' fields. PostgreSQL sums BIGINT as NUMERIC, so each is
/// cast back.
const SUMS: &str = "CAST(SUM(tickets) AS BIGINT), CAST(SUM(dispatched) AS BIGINT), \
    CAST(SUM(signed) AS BIGINT), CAST(SUM(signed_in_time) AS BIGINT), \
    CAST(SUM(replied) AS BIGINT), CAST(SUM(replied_in_time) AS BIGINT), \
    CAST(SUM(closed) AS BIGINT), CAST(SUM(resolved) AS BIGINT), CAST(SUM(rated) AS BIGINT), \
    CAST(SUM(satisfied) AS BIGINT), CAST(SUM(returned) AS BIGINT), CAST(SUM(redone) AS BIGINT), \
    CAST(SUM(extended) AS BIGINT), CAST(SUM(handled) AS BIGINT), \
    CAST(SUM(handling_minutes) AS BIGINT), CAST(SUM(negative) AS BIGINT), \
    CAST(SUM(sentiment_milli) AS BIGINT)";

type Sums = (
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);
type SumsSql = (
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
    diesel::sql_types::Nullable<BigInt>,
);

fn measures(s: Sums) -> Measures {
    let v = |x: Option<i64>| x.unwrap_or(0);
    Measures {
        tickets: v(s.0),
        dispatched: v(s.1),
        signed: v(s.2),
        signed_in_time: v(s.3),
        replied: v(s.4),
        replied_in_time: v(s.5),
        closed: v(s.6),
        resolved: v(s.7),
        rated: v(s.8),
        satisfied: v(s.9),
        returned: v(s.10),
        redone: v(s.11),
        extended: v(s.12),
        handled: v(s.13),
        handling_minutes: v(s.14),
        negative: v(s.15),
        sentiment_milli: v(s.16),
    }
}

macro_rules! filtered {
    ($q:expr, $f:expr) => {{
        let f: &Filter = $f;
        let mut q = $q;
        if let Some(d) = f.from {
            q = q.filter(r::day.ge(d.to_string()));
        }
        if let Some(d) = f.to {
            q = q.filter(r::day.le(d.to_string()));
        }
        if let Some(c) = &f.categories {
            q = q.filter(r::category_id.eq_any(c.clone()));
        }
        if let Some(t) = &f.appeal_type {
            q = q.filter(r::appeal_type.eq(t.clone()));
        }
        if let Some(ch) = &f.channel {
            q = q.filter(r::channel.eq(ch.clone()));
        }
        if let Some(u) = &f.units {
            q = q.filter(r::unit_id.eq_any(u.clone()));
        }
        if let Some(a) = &f.areas {
            q = q.filter(r::area_id.eq_any(a.clone()));
        }
        if let Some(s) = &f.scope {
            q = q.filter(
                r::unit_id
                    .eq_any(s.clone())
                    .or(r::area_id.eq_any(s.clone())),
            );
        }
        q
    }};
}

/// The sums over everything the filter selects.
pub fn totals(conn: &mut DbConn, f: &Filter) -> Result<Measures, StoreError> {
    let q = filtered!(r::table.select(sql::<SumsSql>(SUMS)).into_boxed(), f);
    Ok(measures(q.first::<Sums>(conn)?))
}

macro_rules! grouped_by {
    ($name:ident, $col:expr, $doc:literal) => {
        #[doc = $doc]
        pub fn $name(conn: &mut DbConn, f: &Filter) -> Result<Vec<(String, Measures)>, StoreError> {
            let q = filtered!(
                r::table
                    .group_by($col)
                    .select(($col, sql::<SumsSql>(SUMS)))
                    .order_by($col)
                    .into_boxed(),
                f
            );
            Ok(q.load::<(String, Sums)>(conn)?
                .into_iter()
                .map(|(k, s)| (k, measures(s)))
                .collect())
        }
    };
}

grouped_by!(
    by_day,
    r::day,
    "The sums per day (`YYYY-MM-DD`), oldest first."
);
grouped_by!(by_unit, r::unit_id, "The sums per handling unit.");
grouped_by!(
    by_area,
    r::area_id,
    "The sums per area (street or district)."
);
grouped_by!(by_category, r::category_id, "The sums per category.");
grouped_by!(by_status, r::status, "The sums per status.");
grouped_by!(by_channel, r::channel, "The sums per channel.");

/// Daily ticket counts per (category, area) over the filter: `(category, area, day, tickets)`.
pub fn series(
    conn: &mut DbConn,
    f: &Filter,
) -> Result<Vec<(String, String, String, i64)>, StoreError> {
    let q = filtered!(
        r::table
            .group_by((r::category_id, r::area_id, r::day))
            .select((
                r::category_id,
                r::area_id,
                r::day,
                sql::<BigInt>("CAST(SUM(tickets) AS BIGINT)"),
            ))
            .into_boxed(),
        f
    );
    Ok(q.load(conn)?)
}

/// Ticket counts per heat-map cell (H3 resolution 9) over the days, categories, type and
/// scope (a cell counts for the areas it lies in).
pub fn cells(conn: &mut DbConn, f: &Filter) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut q = c::table
        .group_by(c::cell)
        .select((c::cell, sql::<BigInt>("CAST(SUM(tickets) AS BIGINT)")))
        .into_boxed();
    if let Some(d) = f.from {
        q = q.filter(c::day.ge(d.to_string()));
    }
    if let Some(d) = f.to {
        q = q.filter(c::day.le(d.to_string()));
    }
    if let Some(cs) = &f.categories {
        q = q.filter(c::category_id.eq_any(cs.clone()));
    }
    if let Some(t) = &f.appeal_type {
        q = q.filter(c::appeal_type.eq(t.clone()));
    }
    if let Some(s) = &f.scope {
        q = q.filter(c::area_id.eq_any(s.clone()));
    }
    Ok(q.load(conn)?)
}
