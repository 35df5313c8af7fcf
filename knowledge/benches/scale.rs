//! The embedded engine at scale: builds an index of 100,000 generated articles (override with
//! `KNOWLEDGE_BENCH_ARTICLES`) and times the build and a few thousand queries (p50, p99, max).
//!
//! The articles are realistic text over the real vocabulary: each takes a demo article's title
//! and category, a place of the demo's city, and a body of sentences from the demo articles of
//! its category and from real citizens' appeals (`demo/appeals/messages.csv`). The queries are
//! the shipped evaluation set's, so they are the queries a centre's agents and citizens type.
//!
//! `KNOWLEDGE_BENCH_ENGINE=meilisearch` runs the same against the Meilisearch engine: on the
//! server at `KNOWLEDGE_BENCH_MEILI_URL` (key `KNOWLEDGE_BENCH_MEILI_KEY`), or else on one it
//! starts (`HOTLINE_MEILISEARCH`, or the tool shipped in `shared/tools`) with a fresh data dir.
//!
//! `cargo bench -p hotline-knowledge --bench scale`

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_knowledge::demo;
use hotline_knowledge::embedded::EmbeddedEngine;
use hotline_knowledge::engine::{SearchDoc, SearchEngine, SearchError, SearchQuery, SearchResults};
use hotline_knowledge::eval;
use hotline_knowledge::meili::MeiliEngine;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

const MESSAGES: &str = include_str!("../../demo/appeals/messages.csv");
const PLACES: &[&str] = &[
    "A1区",
    "A2区",
    "A3区",
    "A4区",
    "A5区",
    "A6区",
    "A7区",
    "A8区",
    "A9区",
    "桂花坪街道",
    "洋湖街道",
    "书院路",
    "湘江路",
    "火车站",
    "高新区",
    "开发区",
];

#[path = "../tests/support/mod.rs"]
mod support;

/// The engine under test, and what it keeps (a server it started, its data dir).
enum Bench {
    Embedded(EmbeddedEngine, tempfile::TempDir),
    Meili(MeiliEngine, tokio::runtime::Runtime, Option<support::Meili>),
}

impl Bench {
    fn open(
        analyzer: Arc<hotline_knowledge::analyze::Analyzer>,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        if std::env::var("KNOWLEDGE_BENCH_ENGINE").as_deref() != Ok("meilisearch") {
            let dir = tempfile::tempdir()?;
            return Ok(Self::Embedded(
                EmbeddedEngine::open(Some(dir.path()), analyzer)?,
                dir,
            ));
        }
        let (url, key, server) = match std::env::var("KNOWLEDGE_BENCH_MEILI_URL") {
            Ok(url) => (url, std::env::var("KNOWLEDGE_BENCH_MEILI_KEY").ok(), None),
            Err(_) => {
                let m = support::Meili::start();
                (m.url.clone(), Some(support::KEY.to_owned()), Some(m))
            }
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let engine = MeiliEngine::new(&url, key.as_deref(), "bench", analyzer)?;
        Ok(Self::Meili(engine, rt, server))
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Embedded(e, _) => e.name(),
            Self::Meili(e, ..) => e.name(),
        }
    }

    fn build(&self, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        match self {
            Self::Embedded(e, _) => e.replace_blocking(docs),
            Self::Meili(e, rt, _) => rt.block_on(e.replace_all(docs)),
        }
    }

    fn search(&self, q: &SearchQuery) -> Result<SearchResults, SearchError> {
        match self {
            Self::Embedded(e, _) => e.search_now(q),
            Self::Meili(e, rt, _) => rt.block_on(e.search_now(q)),
        }
    }

    /// The bytes the index takes on disk, where this process can see them.
    fn size(&self) -> Option<u64> {
        let dir = match self {
            Self::Embedded(_, dir) => dir.path().to_owned(),
            Self::Meili(_, _, server) => server.as_ref()?.data_dir(),
        };
        Some(du(&dir))
    }
}

fn du(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => du(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    })
}

fn sentences(text: &str) -> Vec<String> {
    text.split(['。', '！', '？', '\n'])
        .map(str::trim)
        .filter(|s| s.chars().count() >= 8)
        .map(|s| format!("{s}。"))
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::var("KNOWLEDGE_BENCH_ARTICLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let articles = demo::articles()?;
    let analyzer = Arc::new(demo::analyzer(&articles)?);
    let mut by_category: std::collections::HashMap<&str, Vec<String>> = Default::default();
    for a in &articles {
        by_category
            .entry(a.category.as_str())
            .or_default()
            .extend(sentences(&demo::plain_text(&a.body)));
    }
    let mut appeals = Vec::new();
    let mut r = csv::Reader::from_reader(MESSAGES.as_bytes());
    for row in r.records() {
        let row = row?;
        appeals.extend(sentences(row.get(4).unwrap_or_default()));
    }
    let mut rng = StdRng::seed_from_u64(12345);
    let docs: Vec<SearchDoc> = (0..n)
        .map(|i| {
            let t = &articles[i % articles.len()];
            let own = &by_category[t.category.as_str()];
            let mut body = String::new();
            for _ in 0..rng.random_range(3..8) {
                if let Some(s) = own.choose(&mut rng) {
                    body.push_str(s);
                }
            }
            for _ in 0..rng.random_range(1..4) {
                if let Some(s) = appeals.choose(&mut rng) {
                    body.push_str(s);
                }
            }
            let place = PLACES.choose(&mut rng).copied().unwrap_or("A市");
            let mut d = t.search_doc();
            d.id = format!("gen-{i}");
            d.title = format!("{place}{}", t.title);
            d.body = body;
            d
        })
        .collect();
    let chars: usize = docs
        .iter()
        .map(|d| d.body.chars().count() + d.title.chars().count())
        .sum();
    let engine = Bench::open(analyzer)?;
    let started = Instant::now();
    engine.build(docs)?;
    let build = started.elapsed();
    let size = engine.size().map_or_else(String::new, |s| {
        format!(", index {:.0} MiB", s as f64 / 1048576.0)
    });
    println!(
        "engine: {}\nbuild: {n} articles ({:.1} M characters) in {:.1} s{size}",
        engine.name(),
        chars as f64 / 1e6,
        build.as_secs_f64(),
    );
    let queries = eval::parse_queries(demo::QUERIES)?;
    let mut times: Vec<Duration> = Vec::new();
    for round in 0..5 {
        for q in &queries {
            let q = SearchQuery {
                text: q.query.clone(),
                limit: 10,
                ..SearchQuery::default()
            };
            let t = Instant::now();
            let r = engine.search(&q)?;
            let took = t.elapsed();
            if round > 0 {
                times.push(took);
            }
            std::hint::black_box(r);
        }
    }
    times.sort_unstable();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "query: {} searches (top 10 with snippets, no filters): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    Ok(())
}
