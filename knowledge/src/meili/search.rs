//! A query on Meilisearch: every kind of term the analyzer finds is its own search (one
//! request holds them all), and the answers are ranked here, as the embedded engine ranks
//! them: each term's match counts its weight × how rare the term is (from the server's count
//! of its matches) × how well it matched (the server's ranking score: which field, where,
//! how exactly). One search of all the words together would make the server's first words
//! mandatory and rank by how many words match, which a long spoken sentence defeats.

use std::collections::HashMap;

use meilisearch_sdk::search::{
    FederationOptions, MatchingStrategies, MergeFacets, SearchResults as Found, Selectors,
};
use serde::Deserialize;

use super::{MeiliEngine, error, fields, not_found, rarity};
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

    /// Sends some of a query's probes in one request (with a count of all articles first when
    /// `size`); `None` when there is no index yet.
    async fn send(
        &self,
        probes: &[fields::Probe],
        filters: &[&str],
        depth: usize,
        size: bool,
    ) -> Result<Option<(Option<usize>, Vec<Found<Keyed>>)>, SearchError> {
        if probes.is_empty() && !size {
            return Ok(Some((None, Vec::new())));
        }
        let index = self.client.index(&self.uid);
        let mut multi = self.client.multi_search();
        if size {
            let mut s = index.search();
            s.with_limit(0);
            multi.with_search_query(s);
        }
        for p in probes {
            let mut s = index.search();
            s.with_query(&p.text)
                .with_attributes_to_search_on(p.on)
                .with_limit(depth)
                .with_attributes_to_retrieve(Selectors::Some(&fields::RETRIEVE_KEY[..]))
                .with_show_ranking_score(true)
                .with_matching_strategy(MatchingStrategies::ALL);
            if !filters.is_empty() {
                s.with_array_filter(filters.to_vec());
            }
            multi.with_search_query(s);
        }
        let mut results = match multi.execute::<Keyed>().await {
            Ok(r) => r.results,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(error(e)),
        };
        let n = if size && !results.is_empty() {
            Some(results.remove(0).estimated_total_hits.unwrap_or(0))
        } else {
            None
        };
        Ok(Some((n, results)))
    }

    /// Searches the index.
    pub async fn search_now(&self, q: &SearchQuery) -> Result<SearchResults, SearchError> {
        let terms = self.analyzer.query(&q.text);
        let probes = self
            .rarity
            .choose(fields::probes(&terms, &q.text), fields::MAX_PROBES);
        if probes.is_empty() {
            return Ok(SearchResults::default());
        }
        let filters = fields::filters(q);
        let filter_refs: Vec<&str> = filters.iter().map(String::as_str).collect();
        let limit = q.limit.clamp(1, 100);
        let depth = (limit * 3).max(DEPTH);
        let known = self.rarity.size();
        // Two requests at once: the server runs the searches of one request one after another.
        let (first, second) = probes.split_at(probes.len().div_ceil(2));
        let (a, b) = tokio::join!(
            self.send(first, &filter_refs, depth, known.is_none()),
            self.send(second, &filter_refs, depth, false)
        );
        let (Some((size, mut results)), Some((_, more))) = (a?, b?) else {
            return Ok(SearchResults::default());
        };
        results.extend(more);
        let n = size.or(known).unwrap_or(0).max(1);
        if let Some(size) = size {
            self.rarity.note_size(size);
        }
        let mut scores: HashMap<String, f32> = HashMap::new();
        let mut kept = Vec::new();
        for (p, r) in probes.iter().zip(results) {
            let df = r.estimated_total_hits.unwrap_or(r.hits.len());
            if filters.is_empty() {
                self.rarity.note(p, df);
            }
            // A term in more than a quarter of the articles tells them apart little (as in
            // the embedded engine).
            if df == 0 || rarity::common(df, n) {
                continue;
            }
            kept.push(p);
            let idf = rarity::idf(df, n);
            for h in r.hits {
                // Squared: a title match counts well above a body match of the same term.
                let s = (h.ranking_score.unwrap_or_default() as f32).powi(2);
                *scores.entry(h.result.key).or_default() += p.weight * idf * s;
            }
        }
        let mut ranked: Vec<(String, f32)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(limit);
        let index = self.client.index(&self.uid);
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
