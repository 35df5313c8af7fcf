//! Rules in the database: list, create, update, delete, each change written with its audit
//! entry (who, when, the rule before and after) in one transaction. A change also clears the
//! stored suggestions, which were made under the old rules (see [`super::marks`]).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::{DbConn, from_db, to_db};
use hotline_core::domain::{Level, UnitKind};
use hotline_core::ids::{UnitId, UserId};
use hotline_core::scope::Scope;
use hotline_core::store::{categories, units};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::rule::{Rule, RuleInput, RulePatch, check_shape};
use crate::error::DispatchError;
use crate::schema::{dispatch_rule_audit, dispatch_rules};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = dispatch_rules, treat_none_as_null = true)]
struct RuleRow {
    id: String,
    kind: String,
    category_id: Option<String>,
    area_unit_id: Option<String>,
    keywords: String,
    target: String,
    unit_id: Option<String>,
    priority: i32,
    position: i32,
    active: bool,
    note: Option<String>,
    version: i32,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

fn corrupt(column: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("dispatch_rules.{column} holds {value:?}"))
}

fn parse<T: std::str::FromStr>(column: &str, v: &str) -> Result<T, StoreError> {
    v.parse().map_err(|_| corrupt(column, v))
}

fn parse_opt<T: std::str::FromStr>(column: &str, v: Option<&str>) -> Result<Option<T>, StoreError> {
    v.map(|v| parse(column, v)).transpose()
}

impl TryFrom<RuleRow> for Rule {
    type Error = StoreError;
    fn try_from(r: RuleRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse("id", &r.id)?,
            kind: parse("kind", &r.kind)?,
            category_id: parse_opt("category_id", r.category_id.as_deref())?,
            area_unit_id: parse_opt("area_unit_id", r.area_unit_id.as_deref())?,
            keywords: serde_json::from_str(&r.keywords)
                .map_err(|_| corrupt("keywords", &r.keywords))?,
            target: parse("target", &r.target)?,
            unit_id: parse_opt("unit_id", r.unit_id.as_deref())?,
            priority: r.priority,
            position: r.position,
            active: r.active,
            note: r.note,
            version: r.version,
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
        })
    }
}

impl From<&Rule> for RuleRow {
    fn from(r: &Rule) -> Self {
        Self {
            id: r.id.to_string(),
            kind: r.kind.to_string(),
            category_id: r.category_id.map(|c| c.to_string()),
            area_unit_id: r.area_unit_id.map(|u| u.to_string()),
            keywords: serde_json::to_string(&r.keywords).unwrap_or_else(|_| "[]".into()),
            target: r.target.to_string(),
            unit_id: r.unit_id.map(|u| u.to_string()),
            priority: r.priority,
            position: r.position,
            active: r.active,
            note: r.note.clone(),
            version: r.version,
            created_at: to_db(r.created_at),
            updated_at: to_db(r.updated_at),
        }
    }
}

/// Who changes rules, for the checks and the audit trail. `user_id` None: the system (the demo's
/// default rules).
#[derive(Debug, Clone)]
pub struct Editor {
    pub user_id: Option<UserId>,
    pub role: String,
    pub unit_id: Option<UnitId>,
    /// The units the editor may route to.
    pub scope: Scope,
}

impl Editor {
    pub fn system() -> Self {
        Self {
            user_id: None,
            role: "system".into(),
            unit_id: None,
            scope: Scope::All,
        }
    }
}

/// Every rule, in the order they are tried: priority (higher first), then position, then age.
pub fn list(conn: &mut DbConn) -> Result<Vec<Rule>, StoreError> {
    dispatch_rules::table
        .select(RuleRow::as_select())
        .order((
            dispatch_rules::priority.desc(),
            dispatch_rules::position.asc(),
            dispatch_rules::created_at.asc(),
            dispatch_rules::id.asc(),
        ))
        .load(conn)?
        .into_iter()
        .map(Rule::try_from)
        .collect()
}

pub fn get(conn: &mut DbConn, id: Uuid) -> Result<Rule, DispatchError> {
    dispatch_rules::table
        .find(id.to_string())
        .select(RuleRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(DispatchError::NotFound("rule"))?
        .try_into()
        .map_err(DispatchError::from)
}

/// The database checks: the category exists; the area is a local government below the
/// province; the unit is an active handling unit; both lie in the editor's scope.
fn check(conn: &mut DbConn, i: &RuleInput, editor: &Editor) -> Result<RuleInput, DispatchError> {
    let (keywords, note) = check_shape(i).map_err(|(f, m)| DispatchError::invalid(f, m))?;
    if let Some(c) = i.category_id {
        match categories::get(conn, c) {
            Ok(_) => {}
            Err(StoreError::NotFound(_)) => {
                return Err(DispatchError::invalid("category_id", "no such category"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let unit = |conn: &mut DbConn, id: UnitId, field: &str| match units::get(conn, id) {
        Ok(u) if !editor.scope.contains(u.id) => Err(DispatchError::invalid(
            field,
            "outside the units you may route to",
        )),
        Ok(u) => Ok(u),
        Err(StoreError::NotFound(_)) => Err(DispatchError::invalid(field, "no such unit")),
        Err(e) => Err(e.into()),
    };
    if let Some(a) = i.area_unit_id {
        let u = unit(conn, a, "area_unit_id")?;
        if u.kind != UnitKind::Government || u.level == Level::Province {
            return Err(DispatchError::invalid(
                "area_unit_id",
                "an area is a local government below the province (city, district, street, community)",
            ));
        }
    }
    if let Some(t) = i.unit_id {
        let u = unit(conn, t, "unit_id")?;
        if !u.active {
            return Err(DispatchError::invalid("unit_id", "the unit is inactive"));
        }
        if u.kind == UnitKind::Centre {
            return Err(DispatchError::invalid(
                "unit_id",
                "a 12345 centre handles no tickets",
            ));
        }
    }
    Ok(RuleInput {
        keywords,
        note,
        ..i.clone()
    })
}

/// The position after the last rule of `priority`.
fn next_position(conn: &mut DbConn, priority: i32) -> Result<i32, StoreError> {
    let max: Option<i32> = dispatch_rules::table
        .filter(dispatch_rules::priority.eq(priority))
        .select(diesel::dsl::max(dispatch_rules::position))
        .first(conn)?;
    Ok(max.map_or(0, |m| (m + 1).min(super::rule::MAX_POSITION)))
}

fn audit(
    conn: &mut DbConn,
    rule_id: Uuid,
    action: &str,
    editor: &Editor,
    now: DateTime<Utc>,
    before: Option<&Rule>,
    after: Option<&Rule>,
) -> Result<(), StoreError> {
    let json = |r: Option<&Rule>| r.and_then(|r| serde_json::to_string(r).ok());
    diesel::insert_into(dispatch_rule_audit::table)
        .values((
            dispatch_rule_audit::rule_id.eq(rule_id.to_string()),
            dispatch_rule_audit::action.eq(action),
            dispatch_rule_audit::actor_id.eq(editor.user_id.map(|u| u.to_string())),
            dispatch_rule_audit::actor_role.eq(&editor.role),
            dispatch_rule_audit::actor_unit_id.eq(editor.unit_id.map(|u| u.to_string())),
            dispatch_rule_audit::occurred_at.eq(to_db(now)),
            dispatch_rule_audit::before.eq(json(before)),
            dispatch_rule_audit::after.eq(json(after)),
        ))
        .execute(conn)?;
    super::marks::clear(conn)?;
    Ok(())
}

/// A rule the editor may change: one that routes only inside their scope.
fn editable(rule: &Rule, editor: &Editor) -> Result<(), DispatchError> {
    if rule.units().all(|u| editor.scope.contains(u)) {
        Ok(())
    } else {
        Err(DispatchError::Forbidden(
            "the rule routes outside the units you may route to".into(),
        ))
    }
}

/// The rule `i` (checked) makes, on top of `base` (its id, version and times, and the priority
/// and active flag when `i` gives none). A rule without a position goes after the last one of
/// its priority.
fn assemble(conn: &mut DbConn, i: RuleInput, base: Rule) -> Result<Rule, StoreError> {
    let priority = i.priority.unwrap_or(base.priority);
    let position = match i.position {
        Some(p) => p,
        None => next_position(conn, priority)?,
    };
    Ok(Rule {
        kind: i.kind,
        category_id: i.category_id,
        area_unit_id: i.area_unit_id,
        keywords: i.keywords,
        target: i.target,
        unit_id: i.unit_id,
        priority,
        position,
        active: i.active.unwrap_or(base.active),
        note: i.note,
        ..base
    })
}

/// Creates a rule (call inside a transaction).
pub fn create(
    conn: &mut DbConn,
    input: &RuleInput,
    editor: &Editor,
    now: DateTime<Utc>,
) -> Result<Rule, DispatchError> {
    let i = check(conn, input, editor)?;
    let base = Rule {
        id: Uuid::new_v4(),
        priority: i.kind.default_priority(),
        active: true,
        version: 1,
        created_at: now,
        updated_at: now,
        ..Rule::from_input(&i)
    };
    let rule = assemble(conn, i, base)?;
    diesel::insert_into(dispatch_rules::table)
        .values(RuleRow::from(&rule))
        .execute(conn)?;
    audit(conn, rule.id, "created", editor, now, None, Some(&rule))?;
    Ok(rule)
}

fn check_version(rule: &Rule, expected: Option<i32>) -> Result<(), DispatchError> {
    match expected {
        Some(v) if v != rule.version => Err(DispatchError::VersionConflict {
            current: rule.version,
        }),
        _ => Ok(()),
    }
}

/// Applies a change to a rule (call inside a transaction).
pub fn update(
    conn: &mut DbConn,
    id: Uuid,
    patch: RulePatch,
    editor: &Editor,
    now: DateTime<Utc>,
) -> Result<Rule, DispatchError> {
    let before = get(conn, id)?;
    editable(&before, editor)?;
    check_version(&before, patch.expected_version)?;
    // A rule moved to another priority without a position goes to the end of it.
    let moved = patch.position.is_none() && patch.priority.is_some_and(|p| p != before.priority);
    let mut i = check(conn, &patch.apply(before.input()), editor)?;
    if moved {
        i.position = None;
    }
    let base = Rule {
        version: before.version + 1,
        updated_at: now,
        ..before.clone()
    };
    let after = assemble(conn, i, base)?;
    let n = diesel::update(
        dispatch_rules::table
            .filter(dispatch_rules::id.eq(id.to_string()))
            .filter(dispatch_rules::version.eq(before.version)),
    )
    .set(RuleRow::from(&after))
    .execute(conn)?;
    if n == 0 {
        let current = get(conn, id)?.version;
        return Err(DispatchError::VersionConflict { current });
    }
    audit(
        conn,
        id,
        "updated",
        editor,
        now,
        Some(&before),
        Some(&after),
    )?;
    Ok(after)
}

/// Deletes a rule (call inside a transaction); its audit trail stays.
pub fn delete(
    conn: &mut DbConn,
    id: Uuid,
    expected_version: Option<i32>,
    editor: &Editor,
    now: DateTime<Utc>,
) -> Result<Rule, DispatchError> {
    let before = get(conn, id)?;
    editable(&before, editor)?;
    check_version(&before, expected_version)?;
    diesel::delete(dispatch_rules::table.find(id.to_string())).execute(conn)?;
    audit(conn, id, "deleted", editor, now, Some(&before), None)?;
    Ok(before)
}

/// One change of a rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub rule_id: Uuid,
    /// `created`, `updated` or `deleted`.
    pub action: String,
    /// The user who changed it; none for the system (the demo's default rules).
    pub actor_id: Option<UserId>,
    pub actor_role: String,
    pub actor_unit_id: Option<UnitId>,
    pub occurred_at: DateTime<Utc>,
    /// The rule before the change (none when created).
    pub before: Option<Rule>,
    /// The rule after the change (none when deleted).
    pub after: Option<Rule>,
}

type AuditRow = (
    i64,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    chrono::NaiveDateTime,
    Option<String>,
    Option<String>,
);

/// The latest changes, newest first: of one rule, or of all; `before_id` pages back.
pub fn audit_trail(
    conn: &mut DbConn,
    rule_id: Option<Uuid>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut q = dispatch_rule_audit::table.into_boxed();
    if let Some(r) = rule_id {
        q = q.filter(dispatch_rule_audit::rule_id.eq(r.to_string()));
    }
    if let Some(b) = before_id {
        q = q.filter(dispatch_rule_audit::id.lt(b));
    }
    let rows: Vec<AuditRow> = q
        .order(dispatch_rule_audit::id.desc())
        .limit(limit)
        .select((
            dispatch_rule_audit::id,
            dispatch_rule_audit::rule_id,
            dispatch_rule_audit::action,
            dispatch_rule_audit::actor_id,
            dispatch_rule_audit::actor_role,
            dispatch_rule_audit::actor_unit_id,
            dispatch_rule_audit::occurred_at,
            dispatch_rule_audit::before,
            dispatch_rule_audit::after,
        ))
        .load(conn)?;
    let rule = |s: Option<String>| -> Result<Option<Rule>, StoreError> {
        s.map(|s| {
            serde_json::from_str(&s).map_err(|_| {
                StoreError::Corrupt("dispatch_rule_audit holds an unreadable rule".into())
            })
        })
        .transpose()
    };
    rows.into_iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.0,
                rule_id: r.1.parse().map_err(|_| corrupt("audit rule_id", &r.1))?,
                action: r.2,
                actor_id: r
                    .3
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|_| corrupt("audit actor_id", ""))?,
                actor_role: r.4,
                actor_unit_id: r
                    .5
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|_| corrupt("audit actor_unit_id", ""))?,
                occurred_at: from_db(r.6),
                before: rule(r.7)?,
                after: rule(r.8)?,
            })
        })
        .collect()
}

/// The latest audit id: changes whenever any rule does (a cache key).
pub fn revision(conn: &mut DbConn) -> Result<i64, StoreError> {
    let max: Option<i64> = dispatch_rule_audit::table
        .select(diesel::dsl::max(dispatch_rule_audit::id))
        .first(conn)?;
    Ok(max.unwrap_or(0))
}
