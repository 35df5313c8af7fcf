//! The embedded engine at scale: builds an index of 100,000 generated articles (override with
//! `KNOWLEDGE_BENCH_ARTICLES`) and times the build and a few thousand queries (p50, p99, max).
//!
//! The articles are realistic text over the real vocabulary: each takes a demo article's title
//! and category, a place of the demo's city, and a body of sentences from the demo articles of
//! its category and from real citizens' appeals (`demo/appeals/messages.csv`). The queries are
//! the shipped evaluation set's, so they are the queries a centre's agents and citizens type.
//!
//! `cargo bench -p hotline-knowledge --bench scale`

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_knowledge::demo;
use hotline_knowledge::embedded::EmbeddedEngine;
use hotline_knowledge::engine::{SearchDoc, SearchQuery};
use hotline_knowledge::eval;
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
    let dir = tempfile::tempdir()?;
    let engine = EmbeddedEngine::open(Some(dir.path()), analyzer)?;
    let started = Instant::now();
    engine.replace_blocking(docs)?;
    let build = started.elapsed();
    let size: u64 = std::fs::read_dir(dir.path())?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "build: {n} articles ({:.1} M characters) in {:.1} s, index {:.0} MiB",
        chars as f64 / 1e6,
        build.as_secs_f64(),
        size as f64 / 1048576.0
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
            let r = engine.search_now(&q)?;
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
