//! The knowledge base's commands: `hotline eval search`.

use anyhow::Context;
use hotline_knowledge::demo;
use hotline_knowledge::engine::SearchEngine;
use hotline_knowledge::eval::{self, Figures};
use std::path::PathBuf;

/// `hotline eval search`: the shipped query set (or `queries`) against the demo articles.
pub fn eval_search(queries: Option<&PathBuf>, engine: &str, misses: bool) -> anyhow::Result<()> {
    if engine != "embedded" {
        anyhow::bail!("--engine: unknown engine {engine} (embedded is the one this build has)");
    }
    let text = match queries {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        None => demo::QUERIES.to_owned(),
    };
    let queries = eval::parse_queries(&text).map_err(anyhow::Error::msg)?;
    let articles = demo::articles()?;
    let engine = demo::index(&articles)?;
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let report = rt.block_on(eval::evaluate(&engine, &queries))?;
    let line = |name: &str, f: &Figures| {
        println!(
            "{name:<12} {:>4} queries  hit@1 {:.3}  hit@3 {:.3}  mrr {:.3}",
            f.queries, f.hit1, f.hit3, f.mrr
        );
    };
    println!("engine: {} ({} articles)", engine.name(), articles.len());
    for (kind, f) in &report.by_kind {
        line(kind, f);
    }
    line("all", &report.all);
    if misses {
        for m in &report.misses {
            println!(
                "miss [{}] {} → want {} got {:?}",
                m.kind, m.query, m.expected, m.got
            );
        }
    }
    println!("hit@1: {:.4}", report.all.hit1);
    println!("hit@3: {:.4}", report.all.hit3);
    println!("mrr: {:.4}", report.all.mrr);
    Ok(())
}
