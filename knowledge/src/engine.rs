//! What a search engine is to the knowledge base: it holds the published articles' search
//! documents and answers queries with filters and facets. The embedded engine (tantivy, under
//! the data dir) is one; an external engine for large or multi-node deployments is the other.

use std::future::Future;
use std::pin::Pin;

use chrono::NaiveDate;

/// A published article as the engines index it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDoc {
    /// The article's key (its slug).
    pub id: String,
    pub title: String,
    /// The body as plain text (Markdown stripped).
    pub body: String,
    pub tags: Vec<String>,
    /// The category path: 劳动和社会保障/社会保险.
    pub category: String,
    /// The org units the answer applies to (their codes).
    pub areas: Vec<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

/// A query with its filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchQuery {
    pub text: String,
    /// Only articles in this category or below it (a path prefix of whole names).
    pub category: Option<String>,
    /// Only articles that apply to one of these units (the caller's unit and the units above
    /// it); empty: any.
    pub areas: Vec<String>,
    /// Only articles valid on this day; `None`: any.
    pub valid_on: Option<NaiveDate>,
    pub limit: usize,
    /// Also count all matches and their categories (a search page); without it (an agent's
    /// search as they type) the engine only ranks the first `limit`, which is faster.
    pub facets: bool,
}

/// One answer found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub id: String,
    pub score: f32,
    pub title: String,
    pub category: String,
    /// The title, HTML-escaped, with the matched words in `<mark>`.
    pub title_html: String,
    /// The best passage of the body, HTML-escaped, with the matched words in `<mark>`.
    pub snippet_html: String,
}

/// The answers and how the matches fall into the top-level categories.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// How many articles matched in all (with `facets`; otherwise how many hits there are).
    pub total: usize,
    /// (top-level category, matching articles), most first.
    pub facets: Vec<(String, u64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(String),
    #[error("search engine unavailable: {0}")]
    Unavailable(String),
}

pub type SearchFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SearchError>> + Send + 'a>>;

/// A search engine over the published articles.
pub trait SearchEngine: Send + Sync {
    /// `embedded` or `meilisearch`.
    fn name(&self) -> &'static str;
    /// Replaces everything the engine holds with `docs`.
    fn replace_all(&self, docs: Vec<SearchDoc>) -> SearchFuture<'_, ()>;
    /// Adds or replaces these documents (by id).
    fn upsert(&self, docs: Vec<SearchDoc>) -> SearchFuture<'_, ()>;
    /// Removes these documents.
    fn remove(&self, ids: Vec<String>) -> SearchFuture<'_, ()>;
    fn search<'a>(&'a self, query: &'a SearchQuery) -> SearchFuture<'a, SearchResults>;
}
