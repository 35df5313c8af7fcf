//! The knowledge base's commands: `hotline eval search`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use hotline_knowledge::demo;
use hotline_knowledge::engine::SearchEngine;
use hotline_knowledge::eval::{self, Figures};
use hotline_knowledge::meili::MeiliEngine;

/// Where `--engine meilisearch` evaluates.
#[derive(Debug, Clone, Args)]
pub struct MeiliArgs {
    /// Meilisearch's address, e.g. `http://127.0.0.1:7700`.
    #[arg(long, env = "HOTLINE_MEILI_URL")]
    pub meili_url: Option<String>,
    /// Meilisearch's API key (its master key, or one allowed to manage the index).
    #[arg(long, env = "HOTLINE_MEILI_KEY", hide_env_values = true)]
    pub meili_key: Option<String>,
    /// The index the demo articles are put in (replaced; not the articles' own index).
    #[arg(long, default_value = "hotline-eval")]
    pub meili_index: String,
}

/// `hotline eval search`: the shipped query set (or `queries`) against the demo articles.
pub fn eval_search(
    queries: Option<&PathBuf>,
    engine: &str,
    meili: &MeiliArgs,
    misses: bool,
) -> anyhow::Result<()> {
    let text = match queries {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        None => demo::QUERIES.to_owned(),
    };
    let queries = eval::parse_queries(&text).map_err(anyhow::Error::msg)?;
    let articles = demo::articles()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let engine: Box<dyn SearchEngine> = match engine {
        "embedded" => Box::new(demo::index(&articles)?),
        "meilisearch" => {
            let url = meili
                .meili_url
                .as_deref()
                .filter(|u| !u.trim().is_empty())
                .context("--engine meilisearch needs --meili-url (or HOTLINE_MEILI_URL)")?;
            let key = meili.meili_key.as_deref().filter(|k| !k.is_empty());
            let analyzer = Arc::new(demo::analyzer(&articles)?);
            let e = MeiliEngine::new(url, key, &meili.meili_index, analyzer)?;
            let docs = articles.iter().map(demo::DemoArticle::search_doc).collect();
            rt.block_on(e.replace_all(docs))
                .with_context(|| format!("cannot index the demo articles in {url}"))?;
            Box::new(e)
        }
        other => anyhow::bail!("--engine: unknown engine {other} (embedded or meilisearch)"),
    };
    let report = rt.block_on(eval::evaluate(engine.as_ref(), &queries))?;
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
