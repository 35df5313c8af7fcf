//! Storage functions, one module per resource. Feature crates and handlers call these, never
//! diesel directly. Each module has its row struct (what the table holds), the insert/update forms,
//! and the queries.

pub mod board;
pub mod calendar;
pub mod categories;
pub mod counters;
pub mod events;
pub mod presence;
pub mod sessions;
pub mod tickets;
pub mod time_rules;
pub mod units;
pub mod users;

use std::str::FromStr;

use crate::db::StoreError;

/// Parses a stored text column into its domain type; a failure means the row was written by
/// something other than this code.
pub(crate) fn parse_col<T: FromStr>(column: &'static str, value: &str) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{column} holds unexpected value {value:?}")))
}

pub(crate) fn parse_opt<T: FromStr>(
    column: &'static str,
    value: Option<&str>,
) -> Result<Option<T>, StoreError> {
    value.map(|v| parse_col(column, v)).transpose()
}

pub(crate) fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
