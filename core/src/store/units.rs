//! The org tree.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::org_units;
use crate::db::{DbConn, StoreError, from_db, to_db};
use crate::domain::{Level, UnitKind, UnitRef};
use crate::ids::UnitId;
use crate::store::{parse_col, parse_opt};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = org_units)]
pub struct UnitRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub level: String,
    pub kind: String,
    pub parent_id: Option<String>,
    pub division_code: Option<String>,
    pub email: Option<String>,
    pub path: String,
    pub active: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// An org unit as the rest of the system sees it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Unit {
    pub id: UnitId,
    pub code: String,
    pub name: String,
    pub level: Level,
    pub kind: UnitKind,
    pub parent_id: Option<UnitId>,
    pub division_code: Option<String>,
    pub email: Option<String>,
    #[serde(skip)]
    pub path: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Unit {
    pub fn as_ref(&self) -> UnitRef {
        UnitRef {
            id: self.id,
            level: self.level,
            kind: self.kind,
            path: self.path.clone(),
        }
    }
}

impl TryFrom<UnitRow> for Unit {
    type Error = StoreError;
    fn try_from(r: UnitRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_col("org_units.id", &r.id)?,
            code: r.code,
            name: r.name,
            level: parse_col("org_units.level", &r.level)?,
            kind: parse_col("org_units.kind", &r.kind)?,
            parent_id: parse_opt("org_units.parent_id", r.parent_id.as_deref())?,
            division_code: r.division_code,
            email: r.email,
            path: r.path,
            active: r.active,
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
        })
    }
}

/// What an importer or administrator gives for a unit.
#[derive(Debug, Clone)]
pub struct UnitSpec {
    pub code: String,
    pub name: String,
    pub level: Level,
    pub kind: UnitKind,
    pub parent_id: Option<UnitId>,
    pub division_code: Option<String>,
    pub email: Option<String>,
}

fn rows_to_units(rows: Vec<UnitRow>) -> Result<Vec<Unit>, StoreError> {
    rows.into_iter().map(Unit::try_from).collect()
}

pub fn get(conn: &mut DbConn, id: UnitId) -> Result<Unit, StoreError> {
    org_units::table
        .find(id.to_string())
        .select(UnitRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound("org unit"))?
        .try_into()
}

pub fn by_code(conn: &mut DbConn, code: &str) -> Result<Option<Unit>, StoreError> {
    org_units::table
        .filter(org_units::code.eq(code))
        .select(UnitRow::as_select())
        .first(conn)
        .optional()?
        .map(Unit::try_from)
        .transpose()
}

/// Resolves a unit a request names; `field` names the request field in the error.
pub fn resolve(conn: &mut DbConn, id: UnitId, field: &'static str) -> Result<UnitRef, StoreError> {
    match get(conn, id) {
        Ok(u) if u.active => Ok(u.as_ref()),
        Ok(_) => Err(StoreError::invalid(field, "the unit is inactive")),
        Err(StoreError::NotFound(_)) => Err(StoreError::invalid(field, "no such unit")),
        Err(e) => Err(e),
    }
}

/// Filters for the unit list.
#[derive(Debug, Default, Clone)]
pub struct UnitFilter {
    pub parent_id: Option<UnitId>,
    pub level: Option<Level>,
    pub kind: Option<UnitKind>,
    /// Only units at or below this path.
    pub within_path: Option<String>,
}

pub fn list(conn: &mut DbConn, f: &UnitFilter) -> Result<Vec<Unit>, StoreError> {
    let mut q = org_units::table.select(UnitRow::as_select()).into_boxed();
    if let Some(p) = f.parent_id {
        q = q.filter(org_units::parent_id.eq(p.to_string()));
    }
    if let Some(l) = f.level {
        q = q.filter(org_units::level.eq(l.as_ref().to_owned()));
    }
    if let Some(k) = f.kind {
        q = q.filter(org_units::kind.eq(k.as_ref().to_owned()));
    }
    if let Some(path) = &f.within_path {
        q = q.filter(org_units::path.like(format!("{}%", escape_like(path))));
    }
    rows_to_units(q.order(org_units::path.asc()).load(conn)?)
}

/// The ids of a unit and everything below it.
pub fn subtree_ids(conn: &mut DbConn, path: &str) -> Result<Vec<UnitId>, StoreError> {
    org_units::table
        .filter(org_units::path.like(format!("{}%", escape_like(path))))
        .select(org_units::id)
        .load::<String>(conn)?
        .iter()
        .map(|id| parse_col("org_units.id", id))
        .collect()
}

/// Our paths hold only UUIDs and slashes, but escape anyway so a LIKE never over-matches.
fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Inserts a unit, or updates the one with the same code (re-imports never duplicate). Returns
/// the unit and whether it was new. A unit that moves to another parent takes its subtree along.
pub fn upsert(
    conn: &mut DbConn,
    spec: &UnitSpec,
    now: DateTime<Utc>,
) -> Result<(Unit, bool), StoreError> {
    let parent = spec.parent_id.map(|p| get(conn, p)).transpose()?;
    let existing = by_code(conn, &spec.code)?;
    let id = existing.as_ref().map_or_else(UnitId::new, |u| u.id);
    if let Some(p) = &parent
        && p.path.contains(&format!("/{id}/"))
    {
        return Err(StoreError::invalid(
            "parent_code",
            "a unit cannot be placed below itself",
        ));
    }
    let path = format!("{}{id}/", parent.as_ref().map_or("/", |p| p.path.as_str()));
    let row = UnitRow {
        id: id.to_string(),
        code: spec.code.clone(),
        name: spec.name.clone(),
        level: spec.level.as_ref().to_owned(),
        kind: spec.kind.as_ref().to_owned(),
        parent_id: spec.parent_id.map(|p| p.to_string()),
        division_code: spec.division_code.clone(),
        email: spec.email.clone(),
        path: path.clone(),
        active: true,
        created_at: existing
            .as_ref()
            .map_or(to_db(now), |u| to_db(u.created_at)),
        updated_at: to_db(now),
    };
    match existing {
        None => {
            diesel::insert_into(org_units::table)
                .values(&row)
                .execute(conn)?;
            Ok((row.try_into()?, true))
        }
        Some(old) => {
            diesel::update(org_units::table.find(&row.id))
                .set(&row)
                .execute(conn)?;
            if old.path != path {
                move_subtree(conn, &old.path, &path)?;
            }
            Ok((row.try_into()?, false))
        }
    }
}

fn move_subtree(conn: &mut DbConn, old: &str, new: &str) -> Result<(), StoreError> {
    let below: Vec<(String, String)> = org_units::table
        .filter(org_units::path.like(format!("{}%", escape_like(old))))
        .filter(org_units::path.ne(old))
        .select((org_units::id, org_units::path))
        .load(conn)?;
    for (id, path) in below {
        let moved = format!("{new}{}", &path[old.len()..]);
        diesel::update(org_units::table.find(id))
            .set(org_units::path.eq(moved))
            .execute(conn)?;
    }
    Ok(())
}

pub fn set_active(
    conn: &mut DbConn,
    id: UnitId,
    active: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let n = diesel::update(org_units::table.find(id.to_string()))
        .set((
            org_units::active.eq(active),
            org_units::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound("org unit"));
    }
    Ok(())
}

pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(org_units::table.count().get_result(conn)?)
}
