//! Keeping a search engine current with the database. A keeper follows the change log
//! ([`crate::store::changes`]) from the place it last applied, loads each changed article's
//! published version and upserts it (or removes it), then records its new place. Its place is
//! a file beside the embedded index on each node, or a row of `kb_sync_cursors` for a shared
//! external engine, where it is the outbox's cursor: it moves only after the engine confirmed,
//! so nothing is lost while the engine is down.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use hotline_core::db::Db;
use tokio::sync::Notify;

use crate::engine::SearchEngine;
use crate::error::KnowledgeError;
use crate::store::{changes, read};

/// Changes applied per round at most.
const BATCH: i64 = 500;
/// How often a keeper looks for changes nobody told it about (other nodes' edits).
const POLL: Duration = Duration::from_secs(1);

/// Where a keeper records how far it has applied the log.
#[derive(Debug, Clone)]
pub enum Place {
    /// A file (beside the embedded index), with the analyzer's fingerprint: an index built by
    /// another analyzer (an edited synonym list) is rebuilt.
    File { path: PathBuf, fingerprint: String },
    /// A row of `kb_sync_cursors` (a shared external engine).
    Shared(String),
}

impl Place {
    fn load_file(path: &Path, fingerprint: &str) -> Option<i64> {
        let text = std::fs::read_to_string(path).ok()?;
        let (seq, print) = text.trim().split_once(' ')?;
        (print == fingerprint).then(|| seq.parse().ok()).flatten()
    }

    /// The place recorded, or `None` when the engine must be rebuilt.
    async fn load(&self, db: &Db) -> Result<Option<i64>, KnowledgeError> {
        match self {
            Self::File { path, fingerprint } => Ok(Self::load_file(path, fingerprint)),
            Self::Shared(engine) => {
                let engine = engine.clone();
                let seq = db.run(move |c| changes::cursor(c, &engine)).await?;
                Ok((seq > 0).then_some(seq))
            }
        }
    }

    async fn save(&self, db: &Db, seq: i64) -> Result<(), KnowledgeError> {
        match self {
            Self::File { path, fingerprint } => {
                let tmp = path.with_extension("tmp");
                let write = std::fs::write(&tmp, format!("{seq} {fingerprint}\n"))
                    .and_then(|()| std::fs::rename(&tmp, path));
                write.map_err(|e| {
                    KnowledgeError::Search(crate::engine::SearchError::Index(format!(
                        "cannot record the index's place in {}: {e}",
                        path.display()
                    )))
                })
            }
            Self::Shared(engine) => {
                let engine = engine.clone();
                db.write(move |c| changes::set_cursor(c, &engine, seq, hotline_core::db::now()))
                    .await
                    .map_err(KnowledgeError::Store)
            }
        }
    }
}

pub struct IndexKeeper {
    db: Db,
    engine: Arc<dyn SearchEngine>,
    place: Place,
    wake: Notify,
    applied: AtomicI64,
}

impl std::fmt::Debug for IndexKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexKeeper")
            .field("engine", &self.engine.name())
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}

impl IndexKeeper {
    pub fn new(db: Db, engine: Arc<dyn SearchEngine>, place: Place) -> Arc<Self> {
        Arc::new(Self {
            db,
            engine,
            place,
            wake: Notify::new(),
            applied: AtomicI64::new(-1),
        })
    }

    pub fn engine(&self) -> &Arc<dyn SearchEngine> {
        &self.engine
    }

    /// The last change applied (-1 before the first round).
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::Acquire)
    }

    /// Tells the keeper that this node changed the knowledge base.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Rebuilds the engine from every published article; returns how many it holds.
    pub async fn rebuild(&self) -> Result<usize, KnowledgeError> {
        self.rebuild_with(&|_, _| {}).await
    }

    /// [`Self::rebuild`], telling `progress` (articles read, articles in all) as it reads.
    pub async fn rebuild_with(
        &self,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<usize, KnowledgeError> {
        const PAGE: i64 = 2_000;
        // The place first: a change committed while the documents are read is applied again
        // by the next round, which is harmless (an upsert of the same document).
        let (seq, total) = self
            .db
            .run(|c| Ok::<_, KnowledgeError>((changes::last(c)?, read::count_published(c)?)))
            .await?;
        let total = u64::try_from(total).unwrap_or(0);
        let mut docs: Vec<crate::engine::SearchDoc> = Vec::new();
        loop {
            let after = docs.last().map(|d| d.id.clone());
            let page = self
                .db
                .run(move |c| read::published_docs(c, after.as_deref(), PAGE))
                .await?;
            let last_page = page.len() < usize::try_from(PAGE).unwrap_or(usize::MAX);
            docs.extend(page);
            progress(docs.len() as u64, total.max(docs.len() as u64));
            if last_page {
                break;
            }
        }
        let n = docs.len();
        self.engine.replace_all(docs).await?;
        self.place.save(&self.db, seq).await?;
        self.applied.store(seq, Ordering::Release);
        tracing::info!(
            engine = self.engine.name(),
            articles = n,
            seq,
            "search index rebuilt"
        );
        Ok(n)
    }

    /// Applies every change after the recorded place (rebuilding when there is none); returns
    /// how many changes were applied.
    pub async fn catch_up(&self) -> Result<usize, KnowledgeError> {
        let mut from = match self.applied() {
            -1 => match self.place.load(&self.db).await? {
                Some(seq) => seq,
                None => {
                    self.rebuild().await?;
                    return Ok(0);
                }
            },
            seq => seq,
        };
        let mut total = 0;
        loop {
            let batch = self.db.run(move |c| changes::after(c, from, BATCH)).await?;
            let Some(&(last, _)) = batch.last() else {
                self.applied.store(from, Ordering::Release);
                return Ok(total);
            };
            let mut ids: Vec<_> = batch.iter().map(|(_, a)| *a).collect();
            ids.sort_unstable();
            ids.dedup();
            let docs = self
                .db
                .run(move |c| {
                    ids.into_iter()
                        .map(|id| read::live_doc(c, id))
                        .collect::<Result<Vec<_>, _>>()
                })
                .await?;
            let (mut upserts, mut removals) = (Vec::new(), Vec::new());
            for (slug, doc) in docs {
                match doc {
                    Some(d) => upserts.push(d),
                    None => removals.push(slug),
                }
            }
            if !removals.is_empty() {
                self.engine.remove(removals).await?;
            }
            if !upserts.is_empty() {
                self.engine.upsert(upserts).await?;
            }
            self.place.save(&self.db, last).await?;
            self.applied.store(last, Ordering::Release);
            total += batch.len();
            from = last;
        }
    }

    /// Follows the log until the task is dropped; a failed round (the engine down) is retried
    /// with a growing pause and loses nothing.
    pub async fn run(self: Arc<Self>) {
        let mut pause = POLL;
        loop {
            match self.catch_up().await {
                Ok(n) => {
                    if n > 0 {
                        tracing::debug!(
                            engine = self.engine.name(),
                            changes = n,
                            "search index updated"
                        );
                    }
                    pause = POLL;
                }
                Err(e) => {
                    tracing::warn!(engine = self.engine.name(), error = %e, "search index update failed; retrying");
                    pause = (pause * 2).min(Duration::from_secs(30));
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}

/// The file beside (inside) the embedded index that records its place.
pub const PLACE_FILE: &str = "applied-changes";

/// Opens the embedded index in `dir`. One that cannot be opened or searched (a crash mid-write
/// on a failing disk, files deleted by hand) is removed and created empty; its place file goes
/// with it, so the keeper rebuilds it from the database. Returns the engine and whether the
/// index was thrown away.
pub fn open_embedded(
    dir: &Path,
    analyzer: Arc<crate::analyze::Analyzer>,
) -> Result<(crate::embedded::EmbeddedEngine, bool), crate::engine::SearchError> {
    use crate::embedded::EmbeddedEngine;
    use crate::engine::SearchQuery;
    let probe = |e: &EmbeddedEngine| {
        e.search_now(&SearchQuery {
            text: "社保".into(),
            limit: 1,
            ..SearchQuery::default()
        })
        .map(|_| ())
    };
    let opened =
        EmbeddedEngine::open(Some(dir), analyzer.clone()).and_then(|e| probe(&e).map(|()| e));
    match opened {
        Ok(e) => Ok((e, false)),
        Err(err @ crate::engine::SearchError::Unavailable(_)) => Err(err),
        Err(err) => {
            tracing::warn!(dir = %dir.display(), error = %err, "the search index is unreadable; rebuilding it from the database");
            std::fs::remove_dir_all(dir).map_err(|e| {
                crate::engine::SearchError::Index(format!("cannot remove {}: {e}", dir.display()))
            })?;
            let e = EmbeddedEngine::open(Some(dir), analyzer)?;
            Ok((e, true))
        }
    }
}

/// A fingerprint of what the analyzer makes of text (its synonyms and extra words): an index
/// built under another one is rebuilt.
pub fn fingerprint(synonyms: &str, extra_words: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    // The analysis itself changes with releases of this crate.
    h.update(env!("CARGO_PKG_VERSION"));
    h.update([0]);
    h.update(synonyms);
    for w in extra_words {
        h.update([0]);
        h.update(w);
    }
    let digest = h.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}
