//! Hot-issue mining (热点问题挖掘): groups of recent appeals about the same matter at the same
//! place, ranked by how many there are, how fast they are coming in and how much the public
//! backs them. Pure computation: no I/O, no database.
//!
//! How it works, in order:
//! 1. Only appeals inside the window `[now − window, now]` count; they are sorted by id so that
//!    the result does not depend on the caller's order.
//! 2. Each title and detail is segmented with jieba (one dictionary per process). Stop words and
//!    appeal boilerplate (您好, 领导, 希望, 问题, 相关部门, 市民...) are dropped. Place names that
//!    jieba cuts into fragments are rebuilt from their endings (魅力|之|城|小区 → 魅力之城小区,
//!    劳动|东路, A5|区), at five levels: site (小区, 苑, 园, 学院, 村...), road, 街道/镇, district
//!    and city. The words of a place are not text terms: the place is compared on its own.
//! 3. Similarity of two appeals a, b:
//!    `cos(tfidf a, tfidf b) + place_bonus · cos(places a, places b) + unit_bonus · [same unit]`.
//!    TF is sublinear, a title word counting `title_weight` times; IDF comes from general Chinese
//!    (jieba's dictionary frequencies), not from the batch, because a hot issue's own words are
//!    frequent in the batch precisely because it is hot. The place vector holds the sites and
//!    roads the appeal shares with other appeals (variants such as 万科魅力之城小区 and 魅力之城
//!    are one place; a road counts 0.3 of a site).
//! 4. Two appeals that name incompatible places (at some level both name places and none
//!    agree: different compounds, roads, districts or cities), or that were located in different
//!    area units, are never in one cluster: the same matter at two places is two issues. Pass
//!    area units of one level (e.g. the community), or leave them out.
//! 5. Candidate pairs come from an inverted index over each appeal's heaviest words and its
//!    places, not from all pairs. Average-linkage agglomerative clustering then merges groups
//!    while their exact mean pairwise similarity is at least `threshold`; since the similarity
//!    is a dot product, that mean is one dot product of the groups' summed vectors.
//! 6. Clusters with at least `min_members` (and at least 2) appeals become hot issues, ranked by
//!    [`score`]: `ln(1 + volume) + growth_weight · ln(growth) + reaction_weight · ln(1 + likes)`,
//!    [`growth`] being `(recent half + 1) / (earlier half + 1)` of the window.

mod cluster;
mod lexicon;
mod places;
mod rank;
mod text;
mod vectors;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub use rank::{growth, score};

/// One appeal as the miner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appeal {
    pub id: String,
    pub title: String,
    pub detail: String,
    /// The area unit (org unit id) the appeal was located in, when known.
    pub place: Option<String>,
    pub at: DateTime<Utc>,
    pub likes: i64,
    pub dislikes: i64,
}

/// Tuning of the miner. The defaults were chosen on the demo set of real messages
/// (`demo/appeals/hot_messages.csv`) and the synthetic cases in the tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Mean pairwise similarity two groups need to be merged. Default 0.25.
    pub threshold: f64,
    /// Smallest cluster reported as a hot issue. Default 2.
    pub min_members: usize,
    /// How far back appeals count, and the span growth compares the halves of. Default 30 days.
    pub window: Duration,
    /// How many times a title occurrence of a word counts against one in the detail. Default 3.
    pub title_weight: f64,
    /// Weight of the place part of the similarity (the cosine of the sites and roads two appeals
    /// name). Less than `threshold`, so that a shared place alone never makes an issue; 0.2
    /// means two appeals at one compound need a text similarity of only 0.05. Default 0.2.
    pub place_bonus: f64,
    /// Added to the similarity of two appeals located in the same area unit. Default 0.05.
    pub unit_bonus: f64,
    /// Only the first this many characters of a detail are read: the matter is stated early, and
    /// long complaints would otherwise dominate the time. Default 500.
    pub detail_chars: usize,
    /// Candidate pairs are appeals sharing one of their this many heaviest words (or a place).
    /// Default 8.
    pub block_terms: usize,
    /// An appeal is paired with at most this many others per shared word or place. Default 100.
    pub block_window: usize,
    /// Weight of ln(growth) in the score. Default 0.5.
    pub growth_weight: f64,
    /// Weight of ln(1 + likes) in the score. Default 0.5.
    pub reaction_weight: f64,
    /// Keywords listed per issue. Default 8.
    pub keywords: usize,
    /// Matter words in the label after the place words. Default 2.
    pub label_words: usize,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            threshold: 0.25,
            min_members: 2,
            window: Duration::days(30),
            title_weight: 3.0,
            place_bonus: 0.2,
            unit_bonus: 0.05,
            detail_chars: 500,
            block_terms: 8,
            block_window: 100,
            growth_weight: 0.5,
            reaction_weight: 0.5,
            keywords: 8,
            label_words: 2,
        }
    }
}

/// A group of appeals about one matter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotIssue {
    /// Place and matter words, e.g. "A5区 魅力之城小区 油烟 扰民".
    pub label: String,
    /// The cluster's heaviest terms, heaviest first.
    pub keywords: Vec<String>,
    /// Appeal ids, the one closest to the cluster's centroid first.
    pub members: Vec<String>,
    pub volume: usize,
    /// See [`growth`].
    pub growth: f64,
    /// Likes summed over the members (negative counts ignored).
    pub reaction: i64,
    /// See [`score`].
    pub score: f64,
    /// The area unit most members were located in, when any was known.
    pub place: Option<String>,
    /// The place named in the appeals' text (coarse then fine), when most members agree on it.
    pub place_name: Option<String>,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}

/// Mines the hot issues among `appeals` at `now`, best first.
pub fn mine(appeals: &[Appeal], now: DateTime<Utc>, params: &Params) -> Vec<HotIssue> {
    let start = now - params.window;
    let mut recent: Vec<&Appeal> = appeals
        .iter()
        .filter(|a| a.at >= start && a.at <= now)
        .collect();
    recent.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.at.cmp(&b.at)));
    if recent.len() < params.min_members.max(2) {
        return Vec::new();
    }
    let corpus = vectors::build(&recent, params);
    let docs = &corpus.docs;
    let compatible = |i: usize, j: usize| {
        let units_differ =
            matches!((&recent[i].place, &recent[j].place), (Some(a), Some(b)) if a != b);
        !units_differ && !docs[i].keys.conflict(&docs[j].keys)
    };
    // Two clusters whose average similarity reaches the threshold have at least one cross pair
    // that reaches it, so linking only those pairs loses no merge and keeps the graph sparse.
    let links: Vec<(usize, usize)> = vectors::candidate_pairs(&corpus, params)
        .into_iter()
        .filter(|&(i, j)| {
            compatible(i, j) && vectors::dot(&docs[i].joint, &docs[j].joint) >= params.threshold
        })
        .collect();
    let joint: Vec<&[(u32, f64)]> = docs.iter().map(|d| d.joint.as_slice()).collect();
    let clusters = cluster::average_linkage(&joint, &links, params.threshold, compatible);
    let mut issues: Vec<HotIssue> = clusters
        .iter()
        .filter(|c| c.len() >= params.min_members.max(2))
        .map(|c| rank::describe(c, &recent, &corpus, now, params))
        .collect();
    issues.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.volume.cmp(&a.volume))
            .then_with(|| b.last_at.cmp(&a.last_at))
            .then_with(|| a.members.cmp(&b.members))
    });
    issues
}
