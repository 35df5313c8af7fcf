//! The working-day calendar as the operator loaded it.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;

use crate::calendar::{CalendarEntry, WorkCalendar};
use crate::db::schema::{calendar_days, calendar_years};
use crate::db::{DbConn, StoreError, to_db};
use crate::store::parse_col;

/// Replaces the stored calendar of `year` with `entries` (all of that year).
pub fn store_year(
    conn: &mut DbConn,
    year: i32,
    entries: &[CalendarEntry],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let from = format!("{year:04}-01-01");
    let to = format!("{year:04}-12-31");
    diesel::delete(calendar_days::table.filter(calendar_days::day.between(from, to)))
        .execute(conn)?;
    for e in entries {
        diesel::insert_into(calendar_days::table)
            .values((
                calendar_days::day.eq(e.date.format("%Y-%m-%d").to_string()),
                calendar_days::kind.eq(e.kind.to_string()),
                calendar_days::name.eq(&e.name),
            ))
            .execute(conn)?;
    }
    diesel::delete(calendar_years::table.find(year)).execute(conn)?;
    diesel::insert_into(calendar_years::table)
        .values((
            calendar_years::year.eq(year),
            calendar_years::loaded_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Loads every stored year into `calendar`.
pub fn load_into(conn: &mut DbConn, calendar: &mut WorkCalendar) -> Result<(), StoreError> {
    let years: Vec<i32> = calendar_years::table
        .select(calendar_years::year)
        .load(conn)?;
    let rows: Vec<(String, String, String)> = calendar_days::table
        .select((calendar_days::day, calendar_days::kind, calendar_days::name))
        .load(conn)?;
    let mut entries = Vec::with_capacity(rows.len());
    for (day, kind, name) in rows {
        let date = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .map_err(|_| StoreError::Corrupt(format!("calendar_days.day holds {day:?}")))?;
        entries.push(CalendarEntry {
            date,
            kind: parse_col("calendar_days.kind", &kind)?,
            name,
        });
    }
    for year in years {
        calendar.load_year(
            year,
            entries.iter().filter(|e| e.date.year() == year).cloned(),
        );
    }
    Ok(())
}
