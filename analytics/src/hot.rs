//! Hot-issue mining (热点问题挖掘): groups of recent appeals about the same matter at the same
//! place, ranked by how many there are, how fast they are coming in and how much the public
//! backs them.
//!
//! How it works, in order:
//! 1. Only appeals inside the window `[now − window, now]` are considered; they are sorted by id
//!    so that the result does not depend on the caller's order.
//! 2. Each appeal is segmented with jieba. Stop words and appeal boilerplate (您好, 领导, 希望,
//!    问题, 相关部门...) are dropped, and place names that jieba cuts into fragments are rebuilt
//!    (魅力|之|城|小区 → 魅力之城小区, A|市 → A市) from their endings (小区, 苑, 园, 路, 学院, 村,
//!    区, 县...).
//! 3. Every appeal becomes a TF-IDF vector; a title word counts `title_weight` times.
//! 4. Pairs sharing a distinctive term (found through an inverted index, not all pairs) get the
//!    similarity `cosine + place_bonus` when they name the same fine place (compound, road,
//!    school...), `+ unit_bonus` when they were located in the same area unit.
//! 5. Two appeals that name incompatible places (different compounds, districts or cities, or
//!    different known area units) can never be in one cluster: the same matter at two places is
//!    two issues.
//! 6. Average-linkage agglomerative clustering merges groups while their mean pairwise
//!    similarity is at least `threshold`.
//! 7. Clusters with at least `min_members` appeals become hot issues, ranked by
//!    [`score`]: `ln(1 + volume) + growth_weight · ln(growth) + reaction_weight · ln(1 + likes)`,
//!    with [`growth`] the smoothed ratio of the recent half of the window to the earlier half.

mod cluster;
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
    /// A detail word `lead_chars` characters in counts half, one twice as far a third (see the
    /// term weights in `vectors`). Default 150.
    pub lead_chars: f64,
    /// How much a dictionary word inside a longer word counts (油烟 inside 油烟味), against the
    /// word itself. Default 0.5.
    pub inner_weight: f64,
    /// Added to the similarity of two appeals that name the same fine place. Default 0.2.
    pub place_bonus: f64,
    /// Added to the similarity of two appeals located in the same area unit. Default 0.05.
    pub unit_bonus: f64,
    /// Only the first this many characters of a detail are read: the matter is stated early and
    /// long complaints would otherwise dominate the time. Default 1000.
    pub detail_chars: usize,
    /// Candidate pairs are appeals sharing one of their this many heaviest terms. Default 12.
    pub block_terms: usize,
    /// A term among the heaviest of more than this share of the appeals is not used to find
    /// candidate pairs (it still counts in the cosine). Default 0.2.
    pub max_df_share: f64,
    /// ...unless it is among the heaviest of at most this many appeals, which keeps small
    /// batches exact. Default 200.
    pub min_df_cap: usize,
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
            lead_chars: 150.0,
            inner_weight: 0.5,
            place_bonus: 0.2,
            unit_bonus: 0.05,
            detail_chars: 1000,
            block_terms: 12,
            max_df_share: 0.2,
            min_df_cap: 200,
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
    let mut recent: Vec<&Appeal> =
        appeals.iter().filter(|a| a.at >= start && a.at <= now).collect();
    recent.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.at.cmp(&b.at)));
    if recent.len() < params.min_members.max(1) {
        return Vec::new();
    }
    let t0 = std::time::Instant::now();
    let corpus = vectors::build(&recent, params);
    eprintln!("build {:?}", t0.elapsed());
    let docs = &corpus.docs;
    let compatible = |i: usize, j: usize| {
        let units_differ =
            matches!((&recent[i].place, &recent[j].place), (Some(a), Some(b)) if a != b);
        !units_differ && !docs[i].keys.conflict(&docs[j].keys)
    };
    let neighbours: Vec<(usize, usize)> = vectors::candidate_pairs(&corpus, params)
        .into_iter()
        .filter(|&(i, j)| compatible(i, j))
        .collect();
    eprintln!("pairs {} {:?}", neighbours.len(), t0.elapsed());
    if std::env::var("HOTDBG").is_ok() {
        for (i, j) in (0..docs.len()).flat_map(|i| (i + 1..docs.len()).map(move |j| (i, j))) {
            let t = vectors::dot(&docs[i].text, &docs[j].text);
            let all = vectors::dot(&docs[i].joint, &docs[j].joint);
            if all > -1.0 { eprintln!("{} {} text {:.3} all {:.3}", recent[i].id, recent[j].id, t, all); }
        }
        for (a, d) in recent.iter().zip(docs) { eprintln!("{} {:?} {:?}", a.id, d.places.iter().map(|p| &p.name).collect::<Vec<_>>(), d.keys); }
    }
    let joint: Vec<&[(u32, f64)]> = docs.iter().map(|d| d.joint.as_slice()).collect();
    let clusters = cluster::average_linkage(&joint, &neighbours, params.threshold, compatible);
    eprintln!("cluster {:?}", t0.elapsed());
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
