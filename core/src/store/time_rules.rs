//! The time rules an administrator edits: the time limits of every appeal type and urgency, the
//! return and return-visit windows, and the daily working hours. Stored as one versioned
//! document (row id 1), with every change kept beside it; every node polls the version and
//! reloads its live rules when it moves.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::calendar::{Span, WorkingHours};
use crate::db::schema::{time_rule_changes, time_rules};
use crate::db::{DbConn, StoreError, from_db, to_db};
use crate::ids::UserId;
use crate::store::{is_unique_violation, parse_opt};
use crate::time_limit::{TimeLimitRule, TimeLimitTable, TimeLimitTableError};

/// The editable document, as the API reads and writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeRulesDoc {
    /// One rule per appeal type × urgency (12 in all), each counted from dispatch.
    #[schema(value_type = Vec<Object>)]
    pub limits: Vec<TimeLimitRule>,
    /// How long after dispatch a unit may return a wrongly routed ticket.
    #[schema(value_type = Object)]
    pub return_window: Span,
    /// How long after the reply the return visit is due.
    #[schema(value_type = Object)]
    pub return_visit_window: Span,
    /// The daily working periods, e.g. `09:00-12:00,13:30-18:00`.
    #[schema(value_type = String)]
    pub working_hours: WorkingHours,
}

impl Default for TimeRulesDoc {
    /// The defaults of DESIGN.md, "Time limits", and 09:00–12:00, 13:30–18:00.
    fn default() -> Self {
        Self::from_parts(&TimeLimitTable::default(), &WorkingHours::default())
    }
}

/// Why a document was refused; `field` names the part (`limits[3].handle`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct RulesError {
    pub field: String,
    pub reason: String,
}

fn positive(field: String, span: Span) -> Result<(), RulesError> {
    let value = match span {
        Span::CalendarHours(v) | Span::WorkingHours(v) | Span::WorkingDays(v) => v,
    };
    if value == 0 {
        return Err(RulesError {
            field,
            reason: "must be at least 1".into(),
        });
    }
    if value > 1000 {
        return Err(RulesError {
            field,
            reason: "must be at most 1000".into(),
        });
    }
    Ok(())
}

impl TimeRulesDoc {
    pub fn from_parts(table: &TimeLimitTable, hours: &WorkingHours) -> Self {
        Self {
            limits: table.rules(),
            return_window: table.return_window(),
            return_visit_window: table.return_visit_window(),
            working_hours: hours.clone(),
        }
    }

    /// The limits as a table, every span checked: each combination exactly once, every span
    /// from 1 to 1000, and no extension on urgent tickets counted in calendar hours.
    pub fn table(&self) -> Result<TimeLimitTable, RulesError> {
        for (i, rule) in self.limits.iter().enumerate() {
            positive(format!("limits[{i}].sign_for"), rule.sign_for)?;
            positive(format!("limits[{i}].handle"), rule.handle)?;
            if let Some(ext) = rule.max_extension {
                positive(format!("limits[{i}].max_extension"), ext)?;
            }
        }
        positive("return_window".into(), self.return_window)?;
        positive("return_visit_window".into(), self.return_visit_window)?;
        TimeLimitTable::from_rules(
            self.limits.iter().copied(),
            self.return_window,
            self.return_visit_window,
        )
        .map_err(|e| RulesError {
            field: "limits".into(),
            reason: match e {
                TimeLimitTableError::Missing { .. } | TimeLimitTableError::Duplicate { .. } => {
                    e.to_string()
                }
            },
        })
    }
}

/// The stored document and its version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRules {
    pub doc: TimeRulesDoc,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<UserId>,
}

/// One past change.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RulesChange {
    pub version: i32,
    pub changed_at: DateTime<Utc>,
    pub changed_by: Option<UserId>,
    /// The document before (the defaults for the first version), as JSON text.
    pub before: Option<String>,
    pub after: String,
    pub note: Option<String>,
}

fn parse_doc(column: &'static str, body: &str) -> Result<TimeRulesDoc, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// The stored rules, or None while nobody has edited the defaults.
pub fn load(conn: &mut DbConn) -> Result<Option<StoredRules>, StoreError> {
    let row: Option<(String, i32, chrono::NaiveDateTime, Option<String>)> = time_rules::table
        .find(1)
        .select((
            time_rules::body,
            time_rules::version,
            time_rules::updated_at,
            time_rules::updated_by,
        ))
        .first(conn)
        .optional()?;
    row.map(|(body, version, at, by)| {
        Ok(StoredRules {
            doc: parse_doc("time_rules.body", &body)?,
            version,
            updated_at: from_db(at),
            updated_by: parse_opt("time_rules.updated_by", by.as_deref())?,
        })
    })
    .transpose()
}

/// The version of the stored rules (0 while none): what nodes poll.
pub fn version(conn: &mut DbConn) -> Result<i32, StoreError> {
    Ok(time_rules::table
        .find(1)
        .select(time_rules::version)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// Replaces the rules if they are still at `expected` (0: never edited) and records the change.
/// Returns the new version; a stale `expected` is a version conflict.
pub fn save(
    conn: &mut DbConn,
    doc: &TimeRulesDoc,
    expected: i32,
    by: Option<UserId>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i32, StoreError> {
    let body = serde_json::to_string(doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let before = load(conn)?;
    let current = before.as_ref().map_or(0, |b| b.version);
    if current != expected {
        return Err(StoreError::VersionConflict { current });
    }
    let next = current + 1;
    let by_text = by.map(|u| u.to_string());
    if current == 0 {
        diesel::insert_into(time_rules::table)
            .values((
                time_rules::id.eq(1),
                time_rules::body.eq(&body),
                time_rules::version.eq(next),
                time_rules::updated_at.eq(to_db(now)),
                time_rules::updated_by.eq(&by_text),
            ))
            .execute(conn)
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::VersionConflict { current: 1 }
                } else {
                    e.into()
                }
            })?;
    } else {
        let n = diesel::update(
            time_rules::table
                .find(1)
                .filter(time_rules::version.eq(current)),
        )
        .set((
            time_rules::body.eq(&body),
            time_rules::version.eq(next),
            time_rules::updated_at.eq(to_db(now)),
            time_rules::updated_by.eq(&by_text),
        ))
        .execute(conn)?;
        if n == 0 {
            return Err(StoreError::VersionConflict { current: next });
        }
    }
    // Before the first edit the defaults were in force.
    let before_doc = before.map(|b| b.doc).unwrap_or_default();
    let before_body =
        Some(serde_json::to_string(&before_doc).map_err(|e| StoreError::Corrupt(e.to_string()))?);
    diesel::insert_into(time_rule_changes::table)
        .values((
            time_rule_changes::version.eq(next),
            time_rule_changes::changed_at.eq(to_db(now)),
            time_rule_changes::changed_by.eq(&by_text),
            time_rule_changes::before_body.eq(before_body),
            time_rule_changes::after_body.eq(&body),
            time_rule_changes::note.eq(note),
        ))
        .execute(conn)?;
    Ok(next)
}

/// The latest changes, newest first.
pub fn changes(conn: &mut DbConn, limit: i64) -> Result<Vec<RulesChange>, StoreError> {
    type Row = (
        i32,
        chrono::NaiveDateTime,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
    );
    let rows: Vec<Row> = time_rule_changes::table
        .order(time_rule_changes::version.desc())
        .limit(limit)
        .select((
            time_rule_changes::version,
            time_rule_changes::changed_at,
            time_rule_changes::changed_by,
            time_rule_changes::before_body,
            time_rule_changes::after_body,
            time_rule_changes::note,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(version, at, by, before, after, note)| {
            Ok(RulesChange {
                version,
                changed_at: from_db(at),
                changed_by: parse_opt("time_rule_changes.changed_by", by.as_deref())?,
                before,
                after,
                note,
            })
        })
        .collect()
}

/// What a node compares to see whether its live rules are stale: the rules' version and the
/// calendar years with their load times.
pub fn fingerprint(
    conn: &mut DbConn,
) -> Result<(i32, Vec<(i32, chrono::NaiveDateTime)>), StoreError> {
    use crate::db::schema::calendar_years;
    let years = calendar_years::table
        .select((calendar_years::year, calendar_years::loaded_at))
        .order(calendar_years::year)
        .load(conn)?;
    Ok((version(conn)?, years))
}
