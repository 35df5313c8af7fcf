//! Names the org tree does not hold: roads, estates and landmarks that citizens write, each in
//! one district, street or community (`hotline import places FILE.csv`, columns
//! `name,unit_code,source`; the demo's `demo/places.csv` was written by reading the shared real
//! appeals, `source` naming them). A re-import updates a name's unit and never duplicates it.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::{DbConn, to_db};
use hotline_core::domain::{Level, UnitKind};
use hotline_core::store::units;

use crate::schema::dispatch_place_names;

/// One line of a place-name file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceName {
    pub name: String,
    pub unit_code: String,
    pub source: Option<String>,
}

/// One refused line (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub field: &'static str,
    pub message: String,
}

/// Reads and checks a place-name CSV (without looking at the database).
pub fn parse(text: &str) -> Result<Vec<PlaceName>, Vec<LineError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut errors = Vec::new();
    let header: Vec<String> = match r.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_owned()).collect(),
        Err(e) => {
            return Err(vec![LineError {
                line: 1,
                field: "header",
                message: e.to_string(),
            }]);
        }
    };
    if header != ["name", "unit_code", "source"] {
        return Err(vec![LineError {
            line: 1,
            field: "header",
            message: "the columns must be name,unit_code,source".into(),
        }]);
    }
    let mut out: Vec<PlaceName> = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i as u64 + 2;
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                errors.push(LineError {
                    line,
                    field: "line",
                    message: e.to_string(),
                });
                continue;
            }
        };
        let get = |k: usize| rec.get(k).map(str::trim).unwrap_or_default();
        let (name, code, source) = (get(0), get(1), get(2));
        let chars = name.chars().count();
        if !(2..=30).contains(&chars) || name.chars().any(char::is_whitespace) {
            errors.push(LineError {
                line,
                field: "name",
                message: "2 to 30 characters without spaces".into(),
            });
        } else if out.iter().any(|p| p.name == name) {
            errors.push(LineError {
                line,
                field: "name",
                message: format!("{name} is listed twice"),
            });
        }
        if code.is_empty() {
            errors.push(LineError {
                line,
                field: "unit_code",
                message: "must not be empty".into(),
            });
        }
        out.push(PlaceName {
            name: name.to_owned(),
            unit_code: code.to_owned(),
            source: Some(source.to_owned()).filter(|s| !s.is_empty()),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Checks each line's unit (a local government at district, street or community level) and
/// stores every name. Returns (created, updated).
pub fn import(
    conn: &mut DbConn,
    names: &[PlaceName],
    now: DateTime<Utc>,
) -> Result<Result<(usize, usize), Vec<LineError>>, StoreError> {
    let mut errors = Vec::new();
    let mut ids = Vec::new();
    for (i, p) in names.iter().enumerate() {
        let line = i as u64 + 2;
        match units::by_code(conn, &p.unit_code)? {
            Some(u)
                if u.kind == UnitKind::Government
                    && matches!(u.level, Level::District | Level::Street | Level::Community) =>
            {
                ids.push(u.id.to_string());
            }
            Some(_) => errors.push(LineError {
                line,
                field: "unit_code",
                message: format!(
                    "{}: places lie in local governments at district, street or community level",
                    p.unit_code
                ),
            }),
            None => errors.push(LineError {
                line,
                field: "unit_code",
                message: format!("{}: no such unit", p.unit_code),
            }),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let (mut created, mut updated) = (0, 0);
    for (id, p) in ids.iter().zip(names) {
        let n = diesel::update(dispatch_place_names::table.find(&p.name))
            .set((
                dispatch_place_names::unit_id.eq(id),
                dispatch_place_names::source.eq(&p.source),
                dispatch_place_names::updated_at.eq(to_db(now)),
            ))
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(dispatch_place_names::table)
                .values((
                    dispatch_place_names::name.eq(&p.name),
                    dispatch_place_names::unit_id.eq(id),
                    dispatch_place_names::source.eq(&p.source),
                    dispatch_place_names::updated_at.eq(to_db(now)),
                ))
                .execute(conn)?;
            created += 1;
        } else {
            updated += 1;
        }
    }
    Ok(Ok((created, updated)))
}

/// Every stored name as (name, unit id).
pub fn load(conn: &mut DbConn) -> Result<Vec<(String, String)>, StoreError> {
    Ok(dispatch_place_names::table
        .select((dispatch_place_names::name, dispatch_place_names::unit_id))
        .order(dispatch_place_names::name.asc())
        .load(conn)?)
}

/// The names' count and latest update (a cache key).
pub fn fingerprint(conn: &mut DbConn) -> Result<(i64, Option<NaiveDateTime>), StoreError> {
    Ok(dispatch_place_names::table
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(dispatch_place_names::updated_at),
        ))
        .first(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_checked_before_anything_is_stored() {
        let ok = "name,unit_code,source\n魅力之城,990106003001,h360101\n杜鹃文苑,990104,\n";
        let names = parse(ok).expect("valid");
        assert_eq!(names.len(), 2);
        assert_eq!(names[1].source, None);
        let bad = "name,unit_code,source\n魅力之城,990106003001,x\n魅力之城,990104,y\n城,990104,\n黄谷 路,,\n";
        let e = parse(bad).expect_err("invalid");
        let got: Vec<(u64, &str)> = e.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(
            got,
            [(3, "name"), (4, "name"), (5, "name"), (5, "unit_code")]
        );
        let e = parse("name,code\n").expect_err("header");
        assert_eq!((e[0].line, e[0].field), (1, "header"));
    }
}
