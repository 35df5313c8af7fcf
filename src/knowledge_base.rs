//! The knowledge base as the server runs it: the search engine the settings choose, the keeper
//! that holds it current with the database, the demo's articles, and `hotline knowledge
//! reindex`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use hotline_core::db::Db;
use hotline_core::workflow::Hotline;
use hotline_knowledge::analyze::{Analyzer, parse_synonyms};
use hotline_knowledge::article::ArticleFields;
use hotline_knowledge::demo;
use hotline_knowledge::engine::{SearchEngine, SearchQuery, SearchResults};
use hotline_knowledge::error::KnowledgeError;
use hotline_knowledge::keeper::{self, IndexKeeper, Place};
use hotline_knowledge::store::{articles, read};

use crate::config::{SearchSettings, Settings};

/// The search as the routes and pages use it.
#[derive(Debug)]
pub struct KnowledgeBase {
    pub keeper: Arc<IndexKeeper>,
    /// The analysis both engines use (the robot measures its confidence with it).
    pub analyzer: Arc<Analyzer>,
}

impl KnowledgeBase {
    pub fn engine(&self) -> &Arc<dyn SearchEngine> {
        self.keeper.engine()
    }

    pub async fn search(&self, q: &SearchQuery) -> Result<SearchResults, KnowledgeError> {
        Ok(self.engine().search(q).await?)
    }

    /// Brings the engine up to date before the node serves: a missing, thrown-away or outdated
    /// index is rebuilt from the database, a current one catches up with the change log.
    pub async fn bring_current(&self) {
        match self.keeper.catch_up().await {
            Ok(n) if n > 0 => tracing::info!(changes = n, "search index caught up"),
            Ok(_) => {}
            // The node serves anyway (tickets do not need the search); the keeper retries.
            Err(e) => {
                tracing::warn!(error = %e, "search index not current yet; retrying in the background")
            }
        }
    }

    /// Tells this node's keeper that an article changed here.
    pub fn changed(&self) {
        self.keeper.wake();
    }
}

/// Where the embedded index lives.
pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("knowledge").join("index")
}

/// The synonym list the settings name (or the shipped one) and the published articles' tags:
/// what the analyzer is made of.
async fn analyzer(s: &SearchSettings, db: &Db) -> anyhow::Result<(Analyzer, String)> {
    let synonyms = match s.synonyms_file.trim() {
        "" => demo::SYNONYMS.to_owned(),
        file => std::fs::read_to_string(file)
            .with_context(|| format!("search.synonyms_file: cannot read {file}"))?,
    };
    let groups = parse_synonyms(&synonyms).map_err(|e| anyhow::anyhow!("synonyms: {e}"))?;
    let tags = db
        .run(read::published_tags)
        .await
        .context("cannot read the articles' tags")?;
    let print = keeper::fingerprint(&synonyms, &tags);
    Ok((Analyzer::new(groups, &tags), print))
}

/// Opens the engine the settings choose and its keeper. An unreadable embedded index is thrown
/// away here (and rebuilt by [`KnowledgeBase::bring_current`]).
pub async fn open(settings: &Settings, db: &Db) -> anyhow::Result<KnowledgeBase> {
    let s = &settings.search;
    let (analyzer, print) = analyzer(s, db).await?;
    let analyzer = Arc::new(analyzer);
    let keeper = match s.engine.trim() {
        "" | "embedded" => {
            let dir = index_dir(&settings.data_dir);
            let open_dir = dir.clone();
            let for_engine = analyzer.clone();
            let (engine, thrown) =
                tokio::task::spawn_blocking(move || keeper::open_embedded(&open_dir, for_engine))
                    .await??;
            if thrown {
                tracing::warn!(dir = %dir.display(), "search index was unreadable: rebuilding");
            }
            let place = Place::File {
                path: dir.join(keeper::PLACE_FILE),
                fingerprint: print,
            };
            IndexKeeper::new(db.clone(), Arc::new(engine), place)
        }
        "meilisearch" => {
            let url = s.meili_url.trim();
            anyhow::ensure!(
                !url.is_empty(),
                "search.meili_url: Meilisearch needs its address (--meili-url)"
            );
            let key = Some(s.meili_key.trim()).filter(|k| !k.is_empty());
            let uid = s.meili_index.trim();
            let engine =
                hotline_knowledge::meili::MeiliEngine::new(url, key, uid, analyzer.clone())
                    .map_err(|e| anyhow::anyhow!("search.meili_url: {e}"))?;
            // One shared engine for every node: its place is a row of the database, keyed by
            // the index and the analyzer (another synonym list rebuilds it).
            let place = Place::Shared(format!("meilisearch:{uid}:{print}"));
            IndexKeeper::new(db.clone(), Arc::new(engine), place)
        }
        other => anyhow::bail!("search.engine: unknown engine {other:?} (embedded or meilisearch)"),
    };
    Ok(KnowledgeBase { keeper, analyzer })
}

/// Loads the demo's articles as published (once: an article whose slug exists stays as it is).
pub fn seed_demo(db: &Db) -> anyhow::Result<usize> {
    let all = demo::articles()?;
    let now = hotline_core::db::now();
    db.write_blocking(|c| {
        let mut created = 0;
        for a in &all {
            let fields = ArticleFields {
                title: a.title.clone(),
                body: a.body.clone(),
                category: a.category.clone(),
                tags: a.tags.clone(),
                areas: a.areas.clone(),
                valid_from: a.valid_from,
                valid_to: a.valid_to,
                source: Some(a.source.clone()),
            };
            let made = articles::import_published(c, &a.slug, &a.owner, fields, now)
                .map_err(|e| anyhow::anyhow!("demo article {}: {e}", a.slug))?;
            created += usize::from(made);
        }
        Ok::<_, anyhow::Error>(created)
    })
}

/// `hotline knowledge reindex`: rebuilds the configured engine from the database, with a
/// progress bar on a terminal.
pub async fn reindex(settings: &Settings, hotline: &Hotline) -> anyhow::Result<()> {
    let kb = open(settings, &hotline.db).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} articles ({elapsed})",
        )
        .context("progress template")?
        .progress_chars("=> "),
    );
    bar.set_message("reading");
    let progress = {
        let bar = bar.clone();
        move |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
            if done >= total {
                bar.set_message("indexing");
            }
        }
    };
    let n = kb.keeper.rebuild_with(&progress).await?;
    bar.finish_and_clear();
    println!(
        "search index rebuilt: {n} published articles in the {} engine",
        kb.engine().name()
    );
    Ok(())
}
