//! The search evaluation: queries with the articles that answer them, and how well an engine
//! ranks those answers (hit@1, hit@3, mean reciprocal rank over the first ten).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::engine::{SearchEngine, SearchError, SearchQuery};

/// One query of the set.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EvalQuery {
    pub query: String,
    pub kind: String,
    /// The articles that answer it, `|`-separated, best first.
    pub slugs: String,
}

impl EvalQuery {
    pub fn answers(&self) -> impl Iterator<Item = &str> {
        self.slugs
            .split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// Reads a query set (CSV with the header `query,kind,slugs`).
pub fn parse_queries(csv_text: &str) -> Result<Vec<EvalQuery>, String> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let mut out = Vec::new();
    for (i, row) in r.deserialize::<EvalQuery>().enumerate() {
        let q = row.map_err(|e| format!("queries line {}: {e}", i + 2))?;
        if q.query.trim().is_empty() || q.answers().next().is_none() {
            return Err(format!(
                "queries line {}: a query and its answers are needed",
                i + 2
            ));
        }
        out.push(q);
    }
    Ok(out)
}

/// The figures of one group of queries.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    pub queries: usize,
    pub hit1: f64,
    pub hit3: f64,
    pub mrr: f64,
}

/// A query whose answer was not in the first three.
#[derive(Debug, Clone, PartialEq)]
pub struct Miss {
    pub query: String,
    pub kind: String,
    pub expected: String,
    pub got: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub all: Figures,
    pub by_kind: BTreeMap<String, Figures>,
    pub misses: Vec<Miss>,
}

#[derive(Default)]
struct Sums {
    n: usize,
    h1: usize,
    h3: usize,
    rr: f64,
}

impl Sums {
    fn add(&mut self, rank: Option<usize>) {
        self.n += 1;
        if let Some(r) = rank {
            self.h1 += usize::from(r == 1);
            self.h3 += usize::from(r <= 3);
            self.rr += 1.0 / r as f64;
        }
    }
    fn figures(&self) -> Figures {
        let n = self.n.max(1) as f64;
        Figures {
            queries: self.n,
            hit1: self.h1 as f64 / n,
            hit3: self.h3 as f64 / n,
            mrr: self.rr / n,
        }
    }
}

/// Runs every query against the engine (the first ten answers of each, no filters).
pub async fn evaluate(
    engine: &dyn SearchEngine,
    queries: &[EvalQuery],
) -> Result<Report, SearchError> {
    let mut all = Sums::default();
    let mut kinds: BTreeMap<String, Sums> = BTreeMap::new();
    let mut misses = Vec::new();
    for q in queries {
        let sq = SearchQuery {
            text: q.query.clone(),
            limit: 10,
            ..SearchQuery::default()
        };
        let res = engine.search(&sq).await?;
        let got: Vec<String> = res.hits.into_iter().map(|h| h.id).collect();
        let rank = got
            .iter()
            .position(|id| q.answers().any(|a| a == id))
            .map(|i| i + 1);
        all.add(rank);
        kinds.entry(q.kind.clone()).or_default().add(rank);
        if rank.is_none_or(|r| r > 3) {
            misses.push(Miss {
                query: q.query.clone(),
                kind: q.kind.clone(),
                expected: q.slugs.clone(),
                got: got.into_iter().take(3).collect(),
            });
        }
    }
    Ok(Report {
        all: all.figures(),
        by_kind: kinds.into_iter().map(|(k, s)| (k, s.figures())).collect(),
        misses,
    })
}
