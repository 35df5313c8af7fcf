//! Turning a cluster into a hot issue: its members in order of centrality, its keywords and
//! label, and its growth and score.

use chrono::{DateTime, Duration, Utc};
use rustc_hash::FxHashMap;

use super::text::{Level, Place};
use super::vectors::{Corpus, dot};
use super::{Appeal, HotIssue, Params};

/// How fast an issue is rising: (r + 1) / (e + 1), where r counts the appeals in the recent half
/// of the window, (now − window/2, now], and e those in the earlier half, [now − window,
/// now − window/2]. 1 means steady, above 1 rising, below 1 fading. The +1 keeps a brand-new
/// issue finite and stops two appeals from looking like an explosion. Times outside the window
/// are ignored.
pub fn growth(times: &[DateTime<Utc>], now: DateTime<Utc>, window: Duration) -> f64 {
    let start = now - window;
    let middle = now - window / 2;
    let recent = times.iter().filter(|t| **t > middle && **t <= now).count();
    let earlier = times
        .iter()
        .filter(|t| **t >= start && **t <= middle)
        .count();
    (recent as f64 + 1.0) / (earlier as f64 + 1.0)
}

/// score = ln(1 + volume) + growth_weight · ln(growth) + reaction_weight · ln(1 + likes).
/// Logarithms because a matter raised 40 times is not 20 times as hot as one raised twice, and
/// a viral post's likes should not drown the volume.
pub fn score(volume: usize, growth: f64, likes: i64, params: &Params) -> f64 {
    (1.0 + volume as f64).ln()
        + params.growth_weight * growth.max(f64::MIN_POSITIVE).ln()
        + params.reaction_weight * (1.0 + likes.max(0) as f64).ln()
}

/// Describes one cluster (indices into `appeals` and `corpus.docs`).
pub(crate) fn describe(
    cluster: &[usize],
    appeals: &[&Appeal],
    corpus: &Corpus,
    now: DateTime<Utc>,
    params: &Params,
) -> HotIssue {
    let mut centroid: FxHashMap<u32, f64> = FxHashMap::default();
    for &i in cluster {
        for &(id, w) in &corpus.docs[i].text {
            *centroid.entry(id).or_insert(0.0) += w;
        }
    }
    let mut centre: Vec<(u32, f64)> = centroid.into_iter().collect();
    centre.sort_unstable_by_key(|(id, _)| *id);
    // Most central first: the member closest to the cluster's mean says best what it is about.
    let mut order: Vec<(usize, f64)> = cluster
        .iter()
        .map(|&i| (i, dot(&corpus.docs[i].text, &centre)))
        .collect();
    order.sort_by(|x, y| {
        y.1.total_cmp(&x.1)
            .then_with(|| appeals[x.0].id.cmp(&appeals[y.0].id))
    });
    centre.sort_by(|x, y| {
        y.1.total_cmp(&x.1)
            .then_with(|| corpus.vocab[x.0 as usize].cmp(&corpus.vocab[y.0 as usize]))
    });
    let ranked: Vec<&str> = centre
        .iter()
        .map(|(id, _)| corpus.vocab[*id as usize].as_str())
        .collect();
    let keywords: Vec<String> = ranked
        .iter()
        .take(params.keywords)
        .map(|s| (*s).to_owned())
        .collect();

    let places = label_places(cluster, corpus);
    let mut label_parts = places.clone();
    let mut matter = 0;
    for word in &ranked {
        if matter >= params.label_words {
            break;
        }
        // A word inside the label's place (a place jieba did not cut apart) says nothing new.
        if !label_parts.iter().any(|p| p.contains(word)) {
            label_parts.push((*word).to_owned());
            matter += 1;
        }
    }

    let times: Vec<DateTime<Utc>> = cluster.iter().map(|&i| appeals[i].at).collect();
    let growth = growth(&times, now, params.window);
    let reaction: i64 = cluster.iter().map(|&i| appeals[i].likes.max(0)).sum();
    let volume = cluster.len();
    HotIssue {
        label: label_parts.join(" "),
        keywords,
        members: order.iter().map(|(i, _)| appeals[*i].id.clone()).collect(),
        volume,
        growth,
        reaction,
        score: score(volume, growth, reaction, params),
        place: majority_unit(cluster, appeals),
        place_name: (!places.is_empty()).then(|| places.join(" ")),
        first_at: times.iter().min().copied().unwrap_or(now),
        last_at: times.iter().max().copied().unwrap_or(now),
    }
}

/// The place words of the label: the most specific coarse place (街道, district, city) and the
/// site or road most members name, each only when at least half of the members name it.
fn label_places(cluster: &[usize], corpus: &Corpus) -> Vec<String> {
    let half = cluster.len().div_ceil(2);
    let mut out = Vec::new();
    for level in [Level::Town, Level::County, Level::City] {
        if let Some(name) = best_place(cluster, corpus, level, half) {
            out.push(name);
            break;
        }
    }
    // The site (compound, school) if most members name one, else the road.
    if let Some(name) = [Level::Site, Level::Road]
        .into_iter()
        .find_map(|level| best_place(cluster, corpus, level, half))
    {
        out.push(name);
    }
    out
}

/// Among the names at `level`, the one the most members agree with (variants of one compound
/// count together), then the one most often written exactly so, title mentions counting twice.
fn best_place(
    cluster: &[usize],
    corpus: &Corpus,
    level: Level,
    min_support: usize,
) -> Option<String> {
    let mut candidates: Vec<&Place> = cluster
        .iter()
        .flat_map(|&i| corpus.docs[i].places.iter())
        .filter(|p| p.level == level)
        .collect();
    candidates.sort_by(|a, b| a.name.cmp(&b.name));
    candidates.dedup_by(|a, b| a.name == b.name);
    let mut best: Option<(usize, usize, &Place)> = None;
    for place in candidates {
        let mut support = 0;
        let mut exact = 0;
        for &i in cluster {
            let doc = &corpus.docs[i];
            if doc.places.iter().any(|p| p.same_as(place)) {
                support += 1;
            }
            exact += 2 * usize::from(doc.title_places.iter().any(|p| p.name == place.name));
            exact += usize::from(doc.places.iter().any(|p| p.name == place.name));
        }
        let better = match best {
            None => true,
            Some((s, e, _)) => (support, exact) > (s, e),
        };
        if better {
            best = Some((support, exact, place));
        }
    }
    best.filter(|(support, _, _)| *support >= min_support)
        .map(|(_, _, p)| p.name.clone())
}

/// The area unit most members were located in, if any was known (ties: the smallest id).
fn majority_unit(cluster: &[usize], appeals: &[&Appeal]) -> Option<String> {
    let mut counts: FxHashMap<&str, usize> = FxHashMap::default();
    for &i in cluster {
        if let Some(unit) = appeals[i].place.as_deref() {
            *counts.entry(unit).or_insert(0) += 1;
        }
    }
    let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    counts.first().map(|(unit, _)| (*unit).to_owned())
}
