//! A query on Meilisearch: every kind of term the analyzer finds is its own search (one
//! request holds them all), and the answers are ranked here, as the embedded engine ranks
//! them: each term's match counts its weight × how rare the term is (from the server's count
//! of its matches) × how well it matched (the server's ranking score: which field, where,
//! how exactly). One search of all the words together would make the server's first words
//! mandatory and rank by how many words match, which a long spoken sentence defeats.

use std::collections::HashMap;

use meilisearch_sdk::search::{FederationOptions, MatchingStrategies, MergeFacets, Selectors};
use serde::Deserialize;

use super::{MeiliEngine, error, fields, not_found};
use crate::engine::{SearchError, SearchHit, SearchQuery, SearchResults};
use crate::snippet;

/// How many matches of each term are ranked (at least; more for a larger `limit`).
const DEPTH: usize = 50;

#[derive(Debug, Deserialize)]
struct Keyed {
    key: String,
}

impl MeiliEngine {
    /// The searches a query sends (for tuning and the logs).
    pub fn query_probes(&self, text: &str) -> Vec<(String, f32)> {
        fields::probes(&self.analyzer.query(text), text)
            .into_iter()
            .map(|p| (p.text, p.weight))
            .collect()
    }

    /// Searches the index.
    pub async fn search_now(&self, q: &SearchQuery) -> Result<SearchResults, SearchError> {
        let terms = self.analyzer.query(&q.text);
        let probes = fields::probes(&terms, &q.text);
        if probes.is_empty() {
            return Ok(SearchResults::default());
        }
        let filters = fields::filters(q);
        let filter_refs: Vec<&str> = filters.iter().map(String::as_str).collect();
        let limit = q.limit.clamp(1, 100);
        let depth = (limit * 3).max(DEPTH);
        let index = self.client.index(&self.uid);
        let mut multi = self.client.multi_search();
        // First the index's size, for how rare each term is.
        let mut size = index.search();
        size.with_limit(0);
        multi.with_search_query(size);
        for p in &probes {
            let mut s = index.search();
            s.with_query(&p.text)
                .with_attributes_to_search_on(p.on)
                .with_limit(depth)
                .with_attributes_to_retrieve(Selectors::Some(&fields::RETRIEVE_KEY[..]))
                .with_show_ranking_score(true)
                .with_matching_strategy(MatchingStrategies::ALL);
            if !filter_refs.is_empty() {
                s.with_array_filter(filter_refs.clone());
            }
            multi.with_search_query(s);
        }
        let res = match multi.execute::<Keyed>().await {
            Ok(r) => r,
            Err(e) if not_found(&e) => return Ok(SearchResults::default()),
            Err(e) => return Err(error(e)),
        };
        let mut results = res.results.into_iter();
        let n = results
            .next()
            .and_then(|r| r.estimated_total_hits)
            .unwrap_or(0)
            .max(1);
        let mut scores: HashMap<String, f32> = HashMap::new();
        let mut kept = Vec::new();
        for (p, r) in probes.iter().zip(results) {
            let df = r.estimated_total_hits.unwrap_or(r.hits.len());
            // A term in more than a quarter of the articles tells them apart little (as in
            // the embedded engine).
            if df == 0 || (df * 4 > n && n >= 20) {
                continue;
            }
            kept.push(p);
            let idf = (1.0 + n.saturating_sub(df) as f32 / (df as f32 + 0.5)).ln();
            for h in r.hits {
                let pow: f32 = std::env::var("MEILI_POW")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1.0);
                let s = (h.ranking_score.unwrap_or_default() as f32).powf(pow);
                *scores.entry(h.result.key).or_default() += p.weight * idf * s;
            }
        }
        let mut ranked: Vec<(String, f32)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(limit);
        let marks = snippet::Marks::new(&self.analyzer, &terms);
        let keys: Vec<String> = ranked.iter().map(|(k, _)| fields::quoted(k)).collect();
        let by_key = format!("key IN [{}]", keys.join(", "));
        let fetch = async {
            if ranked.is_empty() {
                return Ok(Vec::new());
            }
            let mut s = index.search();
            s.with_filter(&by_key)
                .with_limit(ranked.len())
                .with_attributes_to_retrieve(Selectors::Some(&fields::RETRIEVE[..]));
            let found = s.execute::<fields::Found>().await.map_err(error)?;
            let mut found: HashMap<String, fields::Found> = found
                .hits
                .into_iter()
                .map(|h| (h.result.key.clone(), h.result))
                .collect();
            Ok::<_, SearchError>(
                ranked
                    .iter()
                    .filter_map(|(k, score)| {
                        let f = found.remove(k)?;
                        Some(SearchHit {
                            score: *score,
                            title_html: marks.whole(&f.title),
                            snippet_html: marks.passage(&f.body, 90),
                            id: f.id,
                            title: f.title,
                            category: f.category,
                        })
                    })
                    .collect(),
            )
        };
        let count = async {
            if !q.facets || kept.is_empty() {
                return Ok(None);
            }
            self.count(&kept, &filter_refs).await.map(Some)
        };
        let (hits, counted) = tokio::join!(fetch, count);
        let hits: Vec<SearchHit> = hits?;
        let (total, facets) = counted?.unwrap_or_else(|| (hits.len(), Vec::new()));
        Ok(SearchResults {
            hits,
            total,
            facets,
        })
    }

    /// How many articles match any kept term, and how they fall into the top-level
    /// categories: one federated search, which counts each article once.
    async fn count(
        &self,
        kept: &[&fields::Probe],
        filters: &[&str],
    ) -> Result<(usize, Vec<(String, u64)>), SearchError> {
        let index = self.client.index(&self.uid);
        let mut multi = self.client.multi_search();
        for p in kept {
            let mut s = index.search();
            s.with_query(&p.text)
                .with_attributes_to_search_on(p.on)
                .with_matching_strategy(MatchingStrategies::ALL);
            if !filters.is_empty() {
                s.with_array_filter(filters.to_vec());
            }
            multi.with_search_query(s);
        }
        let federation = FederationOptions {
            limit: Some(0),
            facets_by_index: Some(HashMap::from([(
                self.uid.clone(),
                vec![fields::FACET.to_owned()],
            )])),
            merge_facets: Some(MergeFacets::default()),
            ..FederationOptions::default()
        };
        let res = multi
            .with_federation(federation)
            .execute::<Keyed>()
            .await
            .map_err(error)?;
        let mut facets: Vec<(String, u64)> = res
            .facet_distribution
            .and_then(|mut d| d.remove(fields::FACET))
            .unwrap_or_default()
            .into_iter()
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, n)| (name, n as u64))
            .collect();
        facets.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok((res.estimated_total_hits, facets))
    }
}
