//! Search statistics for editors: what is searched most, what finds nothing (the gaps to fill),
//! and which answers are opened from a search.

use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::{DbConn, to_db};
use serde::Serialize;

use crate::analyze::normalise;
use crate::schema::{kb_answer_uses, kb_articles, kb_gaps, kb_searches};

/// Records one search and what it found.
pub fn record_search(
    conn: &mut DbConn,
    query: &str,
    hits: usize,
    top_slug: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(kb_searches::table)
        .values((
            kb_searches::query.eq(query),
            kb_searches::normalised.eq(normalise(query).trim()),
            kb_searches::hits.eq(i32::try_from(hits).unwrap_or(i32::MAX)),
            kb_searches::top_slug.eq(top_slug),
            kb_searches::searched_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a question the robot could not answer (`reason`: why it handed it off).
pub fn record_gap(
    conn: &mut DbConn,
    query: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(kb_gaps::table)
        .values((
            kb_gaps::query.eq(query),
            kb_gaps::normalised.eq(normalise(query).trim()),
            kb_gaps::reason.eq(reason),
            kb_gaps::asked_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records that an answer was opened from a search.
pub fn record_use(conn: &mut DbConn, slug: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::insert_into(kb_answer_uses::table)
        .values((
            kb_answer_uses::slug.eq(slug),
            kb_answer_uses::used_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueryCount {
    /// The query, normalised (the same text typed in different widths or scripts counts once).
    pub query: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AnswerUse {
    pub slug: String,
    pub title: Option<String>,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SearchStats {
    pub searches: i64,
    /// Searches that found nothing.
    pub empty: i64,
    pub top_queries: Vec<QueryCount>,
    /// The queries that found nothing, most asked first: the gaps to fill.
    pub no_result: Vec<QueryCount>,
    /// The questions the robot could not answer with confidence, most asked first: gaps too
    /// (a fuzzy search nearly always finds *something*, so "no result" alone misses them).
    pub unanswered: Vec<QueryCount>,
    /// The answers used (opened from a search, given by the robot, cited in a direct answer),
    /// most first.
    pub used: Vec<AnswerUse>,
}

fn grouped(
    conn: &mut DbConn,
    since: DateTime<Utc>,
    empty_only: bool,
    limit: i64,
) -> Result<Vec<QueryCount>, StoreError> {
    let mut q = kb_searches::table
        .filter(kb_searches::searched_at.ge(to_db(since)))
        .group_by(kb_searches::normalised)
        .select((kb_searches::normalised, count_star()))
        .order((count_star().desc(), kb_searches::normalised.asc()))
        .limit(limit)
        .into_boxed();
    if empty_only {
        q = q.filter(kb_searches::hits.eq(0));
    }
    Ok(q.load::<(String, i64)>(conn)?
        .into_iter()
        .map(|(query, count)| QueryCount { query, count })
        .collect())
}

/// The statistics since `since`, `limit` rows per list.
pub fn since(
    conn: &mut DbConn,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<SearchStats, StoreError> {
    let recent = kb_searches::table.filter(kb_searches::searched_at.ge(to_db(since)));
    let searches: i64 = recent.count().get_result(conn)?;
    let empty: i64 = recent
        .filter(kb_searches::hits.eq(0))
        .count()
        .get_result(conn)?;
    let used: Vec<(String, i64)> = kb_answer_uses::table
        .filter(kb_answer_uses::used_at.ge(to_db(since)))
        .group_by(kb_answer_uses::slug)
        .select((kb_answer_uses::slug, count_star()))
        .order((count_star().desc(), kb_answer_uses::slug.asc()))
        .limit(limit)
        .load(conn)?;
    let mut uses = Vec::with_capacity(used.len());
    for (slug, count) in used {
        let title = kb_articles::table
            .filter(kb_articles::slug.eq(&slug))
            .select(kb_articles::title)
            .first(conn)
            .optional()?;
        uses.push(AnswerUse { slug, title, count });
    }
    Ok(SearchStats {
        searches,
        empty,
        top_queries: grouped(conn, since, false, limit)?,
        no_result: grouped(conn, since, true, limit)?,
        unanswered: kb_gaps::table
            .filter(kb_gaps::asked_at.ge(to_db(since)))
            .group_by(kb_gaps::normalised)
            .select((kb_gaps::normalised, count_star()))
            .order((count_star().desc(), kb_gaps::normalised.asc()))
            .limit(limit)
            .load::<(String, i64)>(conn)?
            .into_iter()
            .map(|(query, count)| QueryCount { query, count })
            .collect(),
        used: uses,
    })
}
