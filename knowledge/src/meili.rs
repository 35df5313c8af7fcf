//! The external engine: a Meilisearch index (through the official client) for deployments that
//! run several nodes or hold more articles than one node should index. It filters, facets and
//! snippets as the embedded engine does; the helper fields and the query's terms come from our
//! analyzer ([`fields`]); each term is its own search and the answers are ranked here, by how
//! rare each term is ([`search`], [`rarity`]); the highlighting comes from our snippet module
//! (the server's own does not escape HTML).
//!
//! Every write waits for the server's task: `Unavailable` when the server cannot be reached
//! (retry later), `Index` when it refused the task. A full rebuild fills a fresh index and
//! swaps it in, so nothing stale survives it and searches meanwhile see the old contents.

mod fields;
mod rarity;
mod search;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use meilisearch_sdk::client::{Client, SwapIndexes};
use meilisearch_sdk::errors::{Error as MeiliError, ErrorCode, ErrorType};
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::settings::{PaginationSetting, Settings, TypoToleranceSettings};
use meilisearch_sdk::task_info::TaskInfo;
use meilisearch_sdk::tasks::Task;
use tokio::sync::Mutex;

use crate::analyze::Analyzer;
use crate::engine::{
    SearchDoc, SearchEngine, SearchError, SearchFuture, SearchQuery, SearchResults,
};

pub use fields::{concept_token, key};

/// Documents sent in one request (and one task).
const CHUNK: usize = 10_000;
/// How long a task may take before the write counts as not done (the server goes on with it;
/// a retry is harmless).
const TASK_TIMEOUT: Duration = Duration::from_secs(900);
const POLL: Duration = Duration::from_millis(25);
/// The most matches counted for `total` (the server's default, 1,000, would cap it).
const MAX_TOTAL_HITS: usize = 1_000_000;
/// The server's ranking of one term's matches: the field first (the searchable attributes'
/// order), then where in it and how exactly; a term searched alone has no proximity.
const RANKING_RULES: [&str; 6] = [
    "words",
    "typo",
    "attributeRank",
    "proximity",
    "wordPosition",
    "exactness",
];

/// The Meilisearch engine over one index.
pub struct MeiliEngine {
    client: Client,
    uid: String,
    analyzer: Arc<Analyzer>,
    /// The index exists with our settings (checked once per process, again after a failure).
    ready: AtomicBool,
    /// Writes one at a time: a full rebuild swaps indexes, and an update sent meanwhile to the
    /// old one would be lost.
    writes: Mutex<()>,
    rarity: rarity::Rarity,
}

impl std::fmt::Debug for MeiliEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeiliEngine")
            .field("url", &self.client.get_host())
            .field("index", &self.uid)
            .finish_non_exhaustive()
    }
}

/// What a client error means to the caller: the server not there (or failing inside) is worth
/// a retry; a refusal is not.
fn error(e: MeiliError) -> SearchError {
    match e {
        MeiliError::Meilisearch(m) if m.error_type == ErrorType::Internal => {
            SearchError::Unavailable(m.to_string())
        }
        MeiliError::Meilisearch(m) => SearchError::Index(m.to_string()),
        MeiliError::HttpError(_)
        | MeiliError::MeilisearchCommunication(_)
        | MeiliError::Timeout => SearchError::Unavailable(e.to_string()),
        other => SearchError::Index(other.to_string()),
    }
}

fn not_found(e: &MeiliError) -> bool {
    matches!(e, MeiliError::Meilisearch(m) if m.error_code == ErrorCode::IndexNotFound)
}

impl MeiliEngine {
    /// An engine for the index `index_uid` on the server at `url` (nothing is sent yet: the
    /// index is created and configured on first use, or by [`MeiliEngine::prepare`]).
    pub fn new(
        url: &str,
        api_key: Option<&str>,
        index_uid: &str,
        analyzer: Arc<Analyzer>,
    ) -> Result<Self, SearchError> {
        let client = Client::new(url.trim_end_matches('/'), api_key).map_err(error)?;
        Ok(Self {
            client,
            uid: index_uid.to_owned(),
            analyzer,
            ready: AtomicBool::new(false),
            writes: Mutex::new(()),
            rarity: rarity::Rarity::default(),
        })
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Creates the index when there is none and sets its settings.
    pub async fn prepare(&self) -> Result<(), SearchError> {
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        self.configure(&self.uid).await?;
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    /// How many articles the index holds.
    pub async fn len(&self) -> Result<usize, SearchError> {
        match self.client.index(&self.uid).get_stats().await {
            Ok(s) => Ok(s.number_of_documents),
            Err(e) if not_found(&e) => Ok(0),
            Err(e) => Err(error(e)),
        }
    }

    /// Whether the index holds no article.
    pub async fn is_empty(&self) -> Result<bool, SearchError> {
        Ok(self.len().await? == 0)
    }

    fn settings(&self) -> Settings {
        let typos = TypoToleranceSettings {
            disable_on_attributes: Some(fields::NO_TYPOS.iter().map(|s| (*s).into()).collect()),
            ..TypoToleranceSettings::default()
        };
        Settings::new()
            .with_ranking_rules(RANKING_RULES)
            .with_searchable_attributes(fields::SEARCHABLE)
            .with_filterable_attributes(fields::FILTERABLE)
            .with_typo_tolerance(typos)
            .with_pagination(PaginationSetting {
                max_total_hits: MAX_TOTAL_HITS,
            })
            // Each term is searched alone: how near two words are is never asked, and
            // indexing only by field is much lighter.
            .with_proximity_precision("byAttribute")
    }

    /// Waits for a task; `Index` when it failed.
    async fn wait(&self, task: TaskInfo) -> Result<(), SearchError> {
        match self
            .client
            .wait_for_task(task, Some(POLL), Some(TASK_TIMEOUT))
            .await
            .map_err(error)?
        {
            Task::Failed { content } => Err(SearchError::Index(content.error.to_string())),
            _ => Ok(()),
        }
    }

    async fn configure(&self, uid: &str) -> Result<(), SearchError> {
        match self.client.get_index(uid).await {
            Ok(_) => {}
            Err(e) if not_found(&e) => {
                let t = self
                    .client
                    .create_index(uid, Some(fields::PRIMARY_KEY))
                    .await
                    .map_err(error)?;
                match self.wait(t).await {
                    // Another node created it meanwhile.
                    Err(SearchError::Index(m)) if m.contains("index_already_exists") => {}
                    other => other?,
                }
            }
            Err(e) => return Err(error(e)),
        }
        let t = self
            .client
            .index(uid)
            .set_settings(&self.settings())
            .await
            .map_err(error)?;
        self.wait(t).await?;
        // Searching within facet values is not used; without it indexing is lighter.
        let t = self
            .client
            .index(uid)
            .set_facet_search(false)
            .await
            .map_err(error)?;
        self.wait(t).await
    }

    /// Sends the documents in chunks, then waits for every chunk's task (the server batches
    /// consecutive additions into one indexing run).
    async fn add(&self, index: &Index, docs: &[SearchDoc]) -> Result<(), SearchError> {
        let mut tasks = Vec::new();
        for chunk in docs.chunks(CHUNK) {
            let stored = chunk
                .iter()
                .map(|d| fields::stored(&self.analyzer, d))
                .collect::<Result<Vec<_>, _>>()?;
            let t = index
                .add_or_replace(&stored, Some(fields::PRIMARY_KEY))
                .await
                .map_err(error)?;
            tasks.push(t);
        }
        for t in tasks {
            self.wait(t).await?;
        }
        Ok(())
    }

    async fn delete_index(&self, uid: &str) -> Result<(), SearchError> {
        match self.client.index(uid).delete().await {
            Ok(t) => match self.wait(t).await {
                Err(SearchError::Index(m)) if m.contains("index_not_found") => Ok(()),
                other => other,
            },
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(error(e)),
        }
    }

    /// Builds the new contents in a fresh index and swaps it in: searches see the old
    /// contents until the swap, and nothing stale after it.
    async fn rebuild(&self, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        let _one = self.writes.lock().await;
        let done = self.rebuild_now(docs).await;
        self.settle(done)
    }

    /// After a write: the terms' counts have changed; and when the server was away it may
    /// come back without the index, so it is checked again.
    fn settle(&self, done: Result<(), SearchError>) -> Result<(), SearchError> {
        self.rarity.forget();
        if let Err(SearchError::Unavailable(_)) = &done {
            self.ready.store(false, Ordering::Release);
        }
        done
    }

    async fn rebuild_now(&self, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        self.prepare().await?;
        let next = format!("{}__next", self.uid);
        self.delete_index(&next).await?;
        self.configure(&next).await?;
        self.add(&self.client.index(&next), &docs).await?;
        let swap = SwapIndexes {
            indexes: (self.uid.clone(), next.clone()),
            rename: None,
        };
        let t = self.client.swap_indexes([&swap]).await.map_err(error)?;
        self.wait(t).await?;
        self.delete_index(&next).await
    }

    async fn write(&self, docs: Vec<SearchDoc>, remove: Vec<String>) -> Result<(), SearchError> {
        let _one = self.writes.lock().await;
        let done = self.write_now(docs, remove).await;
        self.settle(done)
    }

    async fn write_now(
        &self,
        docs: Vec<SearchDoc>,
        remove: Vec<String>,
    ) -> Result<(), SearchError> {
        self.prepare().await?;
        let index = self.client.index(&self.uid);
        if !remove.is_empty() {
            let keys = remove
                .iter()
                .map(|id| key(id))
                .collect::<Result<Vec<_>, _>>()?;
            let t = index.delete_documents(&keys).await.map_err(error)?;
            self.wait(t).await?;
        }
        self.add(&index, &docs).await
    }
}

impl SearchEngine for MeiliEngine {
    fn name(&self) -> &'static str {
        "meilisearch"
    }

    fn replace_all(&self, docs: Vec<SearchDoc>) -> SearchFuture<'_, ()> {
        Box::pin(self.rebuild(docs))
    }

    fn upsert(&self, docs: Vec<SearchDoc>) -> SearchFuture<'_, ()> {
        Box::pin(self.write(docs, Vec::new()))
    }

    fn remove(&self, ids: Vec<String>) -> SearchFuture<'_, ()> {
        Box::pin(self.write(Vec::new(), ids))
    }

    fn search<'a>(&'a self, query: &'a SearchQuery) -> SearchFuture<'a, SearchResults> {
        Box::pin(self.search_now(query))
    }
}
