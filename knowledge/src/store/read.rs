//! Reading articles: one with its latest text, lists, versions, the trail, and what the search
//! indexes (the published version of every live article).

use chrono::NaiveDate;
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::schema::{org_units, users};
use hotline_core::db::{DbConn, from_db};
use hotline_core::ids::UnitId;
use hotline_core::scope::Scope;

use super::{parse, parse_list};
use crate::article::{Article, ArticleFields, ArticleId, ArticleSummary, ArticleVersion, LogEntry};
use crate::demo::plain_text;
use crate::engine::SearchDoc;
use crate::schema::{kb_article_log, kb_article_versions, kb_articles};
use crate::workflow::ArticleState;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = kb_articles)]
pub(super) struct ArticleRow {
    pub id: String,
    pub slug: String,
    pub state: String,
    pub version: i32,
    pub published_version: Option<i32>,
    pub owner_unit_id: String,
    pub title: String,
    pub category: String,
    pub review_note: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = kb_article_versions)]
pub(super) struct VersionRow {
    pub article_id: String,
    pub version: i32,
    pub title: String,
    pub body: String,
    pub category: String,
    pub tags: String,
    pub areas: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub source: Option<String>,
    pub author_id: Option<String>,
    pub note: Option<String>,
    pub created_at: chrono::NaiveDateTime,
}

impl VersionRow {
    pub(super) fn fields(&self) -> Result<ArticleFields, StoreError> {
        Ok(ArticleFields {
            title: self.title.clone(),
            body: self.body.clone(),
            category: self.category.clone(),
            tags: parse_list("kb_article_versions.tags", &self.tags)?,
            areas: parse_list("kb_article_versions.areas", &self.areas)?,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            source: self.source.clone(),
        })
    }
}

pub(super) fn article_row(conn: &mut DbConn, id: ArticleId) -> Result<ArticleRow, StoreError> {
    kb_articles::table
        .find(id.to_string())
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound("article"))
}

pub(super) fn version_row(
    conn: &mut DbConn,
    id: ArticleId,
    version: i32,
) -> Result<VersionRow, StoreError> {
    kb_article_versions::table
        .find((id.to_string(), version))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound("article version"))
}

fn unit_name(conn: &mut DbConn, id: &str) -> Result<String, StoreError> {
    Ok(org_units::table
        .find(id)
        .select(org_units::name)
        .first(conn)
        .optional()?
        .unwrap_or_default())
}

fn user_name(conn: &mut DbConn, id: Option<&str>) -> Result<Option<String>, StoreError> {
    let Some(id) = id else { return Ok(None) };
    Ok(users::table
        .find(id)
        .select(users::display_name)
        .first(conn)
        .optional()?)
}

fn article_of(conn: &mut DbConn, row: ArticleRow) -> Result<Article, StoreError> {
    let id: ArticleId = parse("kb_articles.id", &row.id)?;
    let latest = version_row(conn, id, row.version)?;
    Ok(Article {
        id,
        slug: row.slug,
        state: parse("kb_articles.state", &row.state)?,
        version: row.version,
        published_version: row.published_version,
        owner_unit_name: unit_name(conn, &row.owner_unit_id)?,
        owner_unit_id: parse("kb_articles.owner_unit_id", &row.owner_unit_id)?,
        review_note: row.review_note,
        latest: latest.fields()?,
        latest_author_id: latest
            .author_id
            .as_deref()
            .map(|a| parse("kb_article_versions.author_id", a))
            .transpose()?,
        created_at: from_db(row.created_at),
        updated_at: from_db(row.updated_at),
    })
}

pub fn get(conn: &mut DbConn, id: ArticleId) -> Result<Article, StoreError> {
    let row = article_row(conn, id)?;
    article_of(conn, row)
}

pub fn by_slug(conn: &mut DbConn, slug: &str) -> Result<Option<Article>, StoreError> {
    let row = kb_articles::table
        .filter(kb_articles::slug.eq(slug))
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?;
    row.map(|r| article_of(conn, r)).transpose()
}

/// Which articles a list shows.
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    /// Only these states; empty: any.
    pub states: Vec<ArticleState>,
    /// Only articles owned by these units; `None`: any owner.
    pub owners: Option<Scope>,
    /// Only titles containing this text.
    pub title: Option<String>,
    /// Only articles readers see: published and not archived.
    pub live_only: bool,
    pub limit: i64,
    pub offset: i64,
}

/// The articles of `filter`, the most recently changed first.
pub fn list(conn: &mut DbConn, f: &ArticleFilter) -> Result<Vec<ArticleSummary>, StoreError> {
    let mut q = kb_articles::table
        .select(ArticleRow::as_select())
        .order((kb_articles::updated_at.desc(), kb_articles::id.asc()))
        .limit(f.limit.clamp(1, 500))
        .offset(f.offset.max(0))
        .into_boxed();
    if !f.states.is_empty() {
        q = q.filter(kb_articles::state.eq_any(f.states.iter().map(|s| s.to_string())));
    }
    if f.live_only {
        q = q
            .filter(kb_articles::published_version.is_not_null())
            .filter(kb_articles::state.ne(ArticleState::Archived.as_ref()));
    }
    if let Some(Scope::Units(ids)) = &f.owners {
        q = q.filter(kb_articles::owner_unit_id.eq_any(ids.iter().map(UnitId::to_string)));
    }
    if let Some(t) = f.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let escaped = t
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        q = q.filter(kb_articles::title.like(format!("%{escaped}%")).escape('\\'));
    }
    q.load(conn)?
        .into_iter()
        .map(|r| {
            Ok(ArticleSummary {
                id: parse("kb_articles.id", &r.id)?,
                slug: r.slug,
                title: r.title,
                category: r.category,
                state: parse("kb_articles.state", &r.state)?,
                version: r.version,
                published_version: r.published_version,
                owner_unit_id: parse("kb_articles.owner_unit_id", &r.owner_unit_id)?,
                updated_at: from_db(r.updated_at),
            })
        })
        .collect()
}

fn version_of(conn: &mut DbConn, r: VersionRow) -> Result<ArticleVersion, StoreError> {
    Ok(ArticleVersion {
        version: r.version,
        fields: r.fields()?,
        author_name: user_name(conn, r.author_id.as_deref())?,
        author_id: r
            .author_id
            .as_deref()
            .map(|a| parse("kb_article_versions.author_id", a))
            .transpose()?,
        note: r.note,
        created_at: from_db(r.created_at),
    })
}

/// Every version, the newest first.
pub fn versions(conn: &mut DbConn, id: ArticleId) -> Result<Vec<ArticleVersion>, StoreError> {
    let rows: Vec<VersionRow> = kb_article_versions::table
        .filter(kb_article_versions::article_id.eq(id.to_string()))
        .order(kb_article_versions::version.desc())
        .select(VersionRow::as_select())
        .load(conn)?;
    rows.into_iter().map(|r| version_of(conn, r)).collect()
}

pub fn version(conn: &mut DbConn, id: ArticleId, n: i32) -> Result<ArticleVersion, StoreError> {
    let r = version_row(conn, id, n)?;
    version_of(conn, r)
}

/// The trail, oldest first.
pub fn log(conn: &mut DbConn, id: ArticleId) -> Result<Vec<LogEntry>, StoreError> {
    let rows: Vec<LogRow> = kb_article_log::table
        .filter(kb_article_log::article_id.eq(id.to_string()))
        .order(kb_article_log::id.asc())
        .select(LogRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            Ok(LogEntry {
                action: r.action,
                version: r.version,
                actor_name: user_name(conn, r.actor_id.as_deref())?,
                actor_id: r
                    .actor_id
                    .as_deref()
                    .map(|a| parse("kb_article_log.actor_id", a))
                    .transpose()?,
                actor_role: r.actor_role,
                note: r.note,
                occurred_at: from_db(r.occurred_at),
            })
        })
        .collect()
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = kb_article_log)]
struct LogRow {
    action: String,
    version: i32,
    actor_id: Option<String>,
    actor_role: String,
    note: Option<String>,
    occurred_at: chrono::NaiveDateTime,
}

fn search_doc(slug: String, v: &VersionRow) -> Result<SearchDoc, StoreError> {
    let f = v.fields()?;
    Ok(SearchDoc {
        id: slug,
        title: f.title,
        body: plain_text(&f.body),
        tags: f.tags,
        category: f.category,
        areas: f.areas,
        valid_from: f.valid_from,
        valid_to: f.valid_to,
    })
}

/// What the search should hold for one article: its slug and its published version's
/// document, or `None` when it has none or is archived.
pub fn live_doc(
    conn: &mut DbConn,
    id: ArticleId,
) -> Result<(String, Option<SearchDoc>), StoreError> {
    let row = article_row(conn, id)?;
    let live = row.state != ArticleState::Archived.as_ref();
    match row.published_version.filter(|_| live) {
        Some(n) => {
            let v = version_row(conn, id, n)?;
            let doc = search_doc(row.slug.clone(), &v)?;
            Ok((row.slug, Some(doc)))
        }
        None => Ok((row.slug, None)),
    }
}

/// The published version of live articles after `after_slug` in slug order, at most `limit`:
/// what a full index build reads, page by page.
pub fn published_docs(
    conn: &mut DbConn,
    after_slug: Option<&str>,
    limit: i64,
) -> Result<Vec<SearchDoc>, StoreError> {
    let mut q = kb_articles::table
        .inner_join(
            kb_article_versions::table.on(kb_article_versions::article_id
                .eq(kb_articles::id)
                .and(kb_articles::published_version.eq(kb_article_versions::version.nullable()))),
        )
        .filter(kb_articles::state.ne(ArticleState::Archived.as_ref()))
        .order(kb_articles::slug.asc())
        .limit(limit)
        .select((kb_articles::slug, VersionRow::as_select()))
        .into_boxed();
    if let Some(after) = after_slug {
        q = q.filter(kb_articles::slug.gt(after.to_owned()));
    }
    let rows: Vec<(String, VersionRow)> = q.load(conn)?;
    rows.into_iter()
        .map(|(slug, v)| search_doc(slug, &v))
        .collect()
}

/// How many live articles have a published version.
pub fn count_published(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(kb_articles::table
        .filter(kb_articles::state.ne(ArticleState::Archived.as_ref()))
        .filter(kb_articles::published_version.is_not_null())
        .count()
        .get_result(conn)?)
}

/// How many articles are in each state.
pub fn count_by_state(conn: &mut DbConn) -> Result<Vec<(ArticleState, i64)>, StoreError> {
    let rows: Vec<(String, i64)> = kb_articles::table
        .group_by(kb_articles::state)
        .select((kb_articles::state, diesel::dsl::count_star()))
        .load(conn)?;
    rows.into_iter()
        .map(|(s, n)| Ok((parse("kb_articles.state", &s)?, n)))
        .collect()
}

/// Every tag of the published articles (words the analyzer keeps whole).
pub fn published_tags(conn: &mut DbConn) -> Result<Vec<String>, StoreError> {
    let lists: Vec<String> = kb_articles::table
        .inner_join(
            kb_article_versions::table.on(kb_article_versions::article_id
                .eq(kb_articles::id)
                .and(kb_articles::published_version.eq(kb_article_versions::version.nullable()))),
        )
        .select(kb_article_versions::tags)
        .load(conn)?;
    let mut tags = Vec::new();
    for l in lists {
        tags.extend(parse_list("kb_article_versions.tags", &l)?);
    }
    tags.sort();
    tags.dedup();
    Ok(tags)
}

/// A live article's published text, as citizens and agents read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub id: ArticleId,
    pub slug: String,
    pub version: i32,
    pub fields: ArticleFields,
    /// The same, as the engines index it.
    pub doc: SearchDoc,
}

/// The published version of the live article `slug`, if there is one.
pub fn published(conn: &mut DbConn, slug: &str) -> Result<Option<Published>, StoreError> {
    let row = kb_articles::table
        .filter(kb_articles::slug.eq(slug))
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    if row.state == ArticleState::Archived.as_ref() {
        return Ok(None);
    }
    let Some(n) = row.published_version else {
        return Ok(None);
    };
    let id: ArticleId = parse("kb_articles.id", &row.id)?;
    let v = version_row(conn, id, n)?;
    Ok(Some(Published {
        id,
        doc: search_doc(row.slug.clone(), &v)?,
        fields: v.fields()?,
        slug: row.slug,
        version: n,
    }))
}

/// [`published`] for each of `slugs`, in their order (`None` where there is none).
pub fn published_each(
    conn: &mut DbConn,
    slugs: &[String],
) -> Result<Vec<Option<Published>>, StoreError> {
    slugs.iter().map(|s| published(conn, s)).collect()
}
