//! `hotline import org FILE.csv`: the org tree.
//!
//! Columns: `code,name,level,kind,parent_code,division_code,email`
//! - `code`: the unit's unique key (ASCII letters, digits, '-', '_'); re-imports update by it.
//! - `level`: province, city, district, street, community (or 省, 市, 区县, 镇街, 村居).
//! - `kind`: centre, department, government (or 12345中心, 职能部门, 属地政府).
//! - `parent_code`: the parent's code, in this file (earlier) or already imported; empty for a root.
//! - `division_code`: GB/T 2260 code (6 digits; streets 9 or 12, communities 12); optional for
//!   departments and centres, which carry their government's 6-digit code.
//! - `email`: the unit's mailbox for notices; optional.

use std::collections::HashMap;

use hotline_core::domain::org::{ParentFacts, check_placement};
use hotline_core::domain::{Level, UnitKind};
use hotline_core::store::units::{self, UnitSpec};
use hotline_core::{Db, StoreError};

use super::{Report, read_csv};
use crate::routes::catalogue::{check_code, check_email};

pub const COLUMNS: [&str; 7] = [
    "code",
    "name",
    "level",
    "kind",
    "parent_code",
    "division_code",
    "email",
];

struct Line {
    code: String,
    name: String,
    level: Level,
    kind: UnitKind,
    parent_code: Option<String>,
    division_code: Option<String>,
    email: Option<String>,
}

#[derive(Clone)]
struct Known {
    level: Level,
    kind: UnitKind,
    division_code: Option<String>,
}

fn check(text: &str, db_known: &HashMap<String, Known>, report: &mut Report) -> Vec<Line> {
    let mut known = db_known.clone();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut lines = Vec::new();
    for (line, r) in read_csv(text, &COLUMNS, report) {
        report.lines += 1;
        let get = |i: usize| r.get(i).unwrap_or("").trim().to_owned();
        let before = report.errors.len();
        let code = match check_code("code", &get(0)) {
            Ok(c) => c,
            Err(e) => {
                report.error(line, "code", e.message);
                continue;
            }
        };
        if let Some(first) = seen.insert(code.clone(), line) {
            report.error(line, "code", format!("{code} is already on line {first}"));
            continue;
        }
        let name = get(1);
        if name.is_empty() || name.chars().count() > 100 {
            report.error(line, "name", "must be 1 to 100 characters");
        }
        let level = Level::parse_any(&get(2));
        if level.is_none() {
            report.error(
                line,
                "level",
                format!(
                    "unknown level {:?}: province, city, district, street or community",
                    get(2)
                ),
            );
        }
        let kind = UnitKind::parse_any(&get(3));
        if kind.is_none() {
            report.error(
                line,
                "kind",
                format!(
                    "unknown kind {:?}: centre, department or government",
                    get(3)
                ),
            );
        }
        let parent_code = Some(get(4)).filter(|p| !p.is_empty());
        let parent = match &parent_code {
            Some(p) => match known.get(p) {
                Some(k) => Some(k.clone()),
                None => {
                    report.error(
                        line,
                        "parent_code",
                        format!("no unit {p} before this line or in the database"),
                    );
                    None
                }
            },
            None => None,
        };
        let division_code = Some(get(5)).filter(|d| !d.is_empty());
        let email = match check_email("email", Some(&get(6))) {
            Ok(e) => e,
            Err(e) => {
                report.error(line, "email", e.message);
                None
            }
        };
        let (Some(level), Some(kind)) = (level, kind) else {
            continue;
        };
        if parent_code.is_none() || parent.is_some() {
            let facts = parent.as_ref().map(|p| ParentFacts {
                level: p.level,
                kind: p.kind,
                division_code: p.division_code.as_deref(),
            });
            if let Err((field, message)) =
                check_placement(level, kind, division_code.as_deref(), facts)
            {
                report.error(line, field, message);
            }
        }
        if report.errors.len() == before {
            known.insert(
                code.clone(),
                Known {
                    level,
                    kind,
                    division_code: division_code
                        .clone()
                        .or_else(|| parent.and_then(|p| p.division_code)),
                },
            );
            lines.push(Line {
                code,
                name,
                level,
                kind,
                parent_code,
                division_code,
                email,
            });
        }
    }
    lines
}

/// Imports an org CSV (see the module docs). Writes nothing when any line is wrong.
pub fn import(db: &Db, text: &str) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let existing = {
        let mut conn = db.get()?;
        units::list(&mut conn, &units::UnitFilter::default())?
    };
    let db_known: HashMap<String, Known> = existing
        .iter()
        .map(|u| {
            (
                u.code.clone(),
                Known {
                    level: u.level,
                    kind: u.kind,
                    division_code: u.division_code.clone(),
                },
            )
        })
        .collect();
    let lines = check(text, &db_known, &mut report);
    if !report.is_ok() {
        return Ok(report);
    }
    let (created, updated) = db.write_blocking(|c| {
        let now = hotline_core::db::now();
        let mut ids: HashMap<String, hotline_core::ids::UnitId> =
            existing.iter().map(|u| (u.code.clone(), u.id)).collect();
        let (mut created, mut updated) = (0, 0);
        for l in &lines {
            let spec = UnitSpec {
                code: l.code.clone(),
                name: l.name.clone(),
                level: l.level,
                kind: l.kind,
                parent_id: l.parent_code.as_ref().and_then(|p| ids.get(p).copied()),
                division_code: l.division_code.clone(),
                email: l.email.clone(),
            };
            let (unit, new) = units::upsert(c, &spec, now)?;
            ids.insert(unit.code.clone(), unit.id);
            if new {
                created += 1;
            } else {
                updated += 1;
            }
        }
        Ok::<_, StoreError>((created, updated))
    })?;
    report.created = created;
    report.updated = updated;
    Ok(report)
}
