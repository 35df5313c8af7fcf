//! The appeal category catalogue: the official three-level tree (一级/二级/三级分类).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::categories;
use crate::db::{DbConn, StoreError, from_db, to_db};
use crate::ids::CategoryId;
use crate::store::{parse_col, parse_opt};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = categories)]
pub struct CategoryRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub level: i32,
    pub name: String,
    pub full_name: String,
    pub active: bool,
    pub sort_order: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Category {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    /// 1, 2 or 3.
    pub level: i32,
    pub name: String,
    /// The names from the top, joined by '/': 城乡建设/安全生产/事故处理.
    pub full_name: String,
    pub active: bool,
    pub sort_order: i32,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<CategoryRow> for Category {
    type Error = StoreError;
    fn try_from(r: CategoryRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_col("categories.id", &r.id)?,
            parent_id: parse_opt("categories.parent_id", r.parent_id.as_deref())?,
            level: r.level,
            name: r.name,
            full_name: r.full_name,
            active: r.active,
            sort_order: r.sort_order,
            updated_at: from_db(r.updated_at),
        })
    }
}

pub fn list(conn: &mut DbConn) -> Result<Vec<Category>, StoreError> {
    categories::table
        .select(CategoryRow::as_select())
        .order((categories::level.asc(), categories::sort_order.asc()))
        .load(conn)?
        .into_iter()
        .map(Category::try_from)
        .collect()
}

pub fn get(conn: &mut DbConn, id: CategoryId) -> Result<Category, StoreError> {
    categories::table
        .find(id.to_string())
        .select(CategoryRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound("category"))?
        .try_into()
}

fn by_full_name(conn: &mut DbConn, full_name: &str) -> Result<Option<CategoryRow>, StoreError> {
    Ok(categories::table
        .filter(categories::full_name.eq(full_name))
        .select(CategoryRow::as_select())
        .first(conn)
        .optional()?)
}

/// Ensures every level of `names` (1 to 3 names from the top) exists, creating what is missing and
/// re-activating what was retired. Returns the id of the deepest category and how many were new.
pub fn ensure_path(
    conn: &mut DbConn,
    names: &[&str],
    sort_order: i32,
    now: DateTime<Utc>,
) -> Result<(CategoryId, usize), StoreError> {
    let mut parent: Option<String> = None;
    let mut created = 0;
    let mut full = String::new();
    let mut last = None;
    for (depth, name) in names.iter().enumerate() {
        if !full.is_empty() {
            full.push('/');
        }
        full.push_str(name);
        let id = match by_full_name(conn, &full)? {
            Some(row) => {
                if !row.active {
                    diesel::update(categories::table.find(&row.id))
                        .set((
                            categories::active.eq(true),
                            categories::updated_at.eq(to_db(now)),
                        ))
                        .execute(conn)?;
                }
                row.id
            }
            None => {
                let row = CategoryRow {
                    id: CategoryId::new().to_string(),
                    parent_id: parent.clone(),
                    level: i32::try_from(depth + 1).unwrap_or(3),
                    name: (*name).to_owned(),
                    full_name: full.clone(),
                    active: true,
                    sort_order,
                    created_at: to_db(now),
                    updated_at: to_db(now),
                };
                diesel::insert_into(categories::table)
                    .values(&row)
                    .execute(conn)?;
                created += 1;
                row.id
            }
        };
        last = Some(id.clone());
        parent = Some(id);
    }
    let id = last.ok_or_else(|| StoreError::invalid("level1", "a category needs a name"))?;
    Ok((parse_col("categories.id", &id)?, created))
}

pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(categories::table.count().get_result(conn)?)
}

/// Retires or restores a category (tickets keep theirs; pickers hide retired ones).
pub fn set_active(
    conn: &mut DbConn,
    id: CategoryId,
    active: bool,
    now: DateTime<Utc>,
) -> Result<Category, StoreError> {
    let n = diesel::update(categories::table.find(id.to_string()))
        .set((
            categories::active.eq(active),
            categories::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound("category"));
    }
    get(conn, id)
}
