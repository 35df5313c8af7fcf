//! The appeals as vectors whose dot product is their similarity, and the candidate pairs worth
//! comparing.
//!
//! similarity(a, b) = cos(tfidf a, tfidf b) + place_bonus · cos(places a, places b)
//!                    + unit_bonus · [same area unit]
//!
//! Each part is a dot product of normalised vectors, so the whole is one dot product of the
//! concatenated vectors (the bonuses folded in as √weight). That makes the similarity of two
//! clusters summed over all their cross pairs the dot product of the clusters' sum vectors:
//! average linkage stays exact at the cost of one sparse dot product per comparison.

use rustc_hash::{FxHashMap, FxHashSet};

use super::places::{self, Keys};
use super::text::{Analysed, Level, Place, analyse, background_idf};
use super::{Appeal, Params};

/// A sparse vector: (dimension, weight), sorted by dimension.
pub(crate) type Sparse = Vec<(u32, f64)>;

/// One appeal as the clustering sees it.
#[derive(Debug)]
pub(crate) struct Doc {
    /// TF-IDF of the words, L2-normalised; term ids index [`Corpus::vocab`].
    pub(crate) text: Sparse,
    /// `text`, then the places, then the area unit (see the module doc).
    pub(crate) joint: Sparse,
    /// Places named anywhere in the appeal, title places first.
    pub(crate) places: Vec<Place>,
    /// Places named in the title; the label prefers them.
    pub(crate) title_places: Vec<Place>,
    pub(crate) keys: Keys,
}

/// The documents and the vocabulary their term ids index.
#[derive(Debug, Default)]
pub(crate) struct Corpus {
    pub(crate) docs: Vec<Doc>,
    pub(crate) vocab: Vec<String>,
}

/// How much naming the same road counts against naming the same site (compound, school...):
/// roads are long and named on the way ("A5区劳动东路魅力之城小区").
const ROAD_WEIGHT: f64 = 0.3;

/// Segments and weighs every appeal. Term weight is (1 + ln tf) · idf, where tf counts a title
/// occurrence `title_weight` times (titles state the matter; details wander). The idf is taken
/// from general Chinese (jieba's dictionary, see [`background_idf`]), not from the batch: a hot
/// issue's own words (油烟, 实习) are frequent in the batch precisely because it is hot, and a
/// batch idf would discount exactly the words its appeals share.
pub(crate) fn build(appeals: &[&Appeal], params: &Params) -> Corpus {
    let mut ids: FxHashMap<String, u32> = FxHashMap::default();
    let mut vocab: Vec<String> = Vec::new();
    let mut raw: Vec<FxHashMap<u32, f64>> = Vec::with_capacity(appeals.len());
    let mut mentions: Vec<(Vec<Place>, Vec<Place>)> = Vec::with_capacity(appeals.len());
    for (title, detail) in segment_all(appeals, params) {
        let mut tf: FxHashMap<u32, f64> = FxHashMap::default();
        for (terms, weight) in [(&title.terms, params.title_weight), (&detail.terms, 1.0)] {
            for term in terms {
                let next = u32::try_from(vocab.len()).unwrap_or(u32::MAX);
                let id = *ids.entry(term.clone()).or_insert_with(|| {
                    vocab.push(term.clone());
                    next
                });
                *tf.entry(id).or_insert(0.0) += weight;
            }
        }
        raw.push(tf);
        let mut all = title.places.clone();
        for place in detail.places {
            if !all.contains(&place) {
                all.push(place);
            }
        }
        mentions.push((all, title.places));
    }
    let idf: Vec<f64> = vocab.iter().map(|w| background_idf(w)).collect();
    let place_ids = places::assign(
        &mentions
            .iter()
            .map(|(all, _)| all.as_slice())
            .collect::<Vec<_>>(),
    );
    // How many appeals name each place: one named by a single appeal matches nothing and would
    // only dilute the place vector.
    let mut place_df: FxHashMap<u32, usize> = FxHashMap::default();
    for ((all, _), ids) in mentions.iter().zip(&place_ids) {
        let mut fine: Vec<u32> = all
            .iter()
            .zip(ids)
            .filter(|(p, _)| p.level.is_fine())
            .filter_map(|(_, id)| *id)
            .collect();
        fine.sort_unstable();
        fine.dedup();
        for id in fine {
            *place_df.entry(id).or_insert(0) += 1;
        }
    }
    let place_base = u32::try_from(vocab.len()).unwrap_or(u32::MAX);
    let place_count = place_ids
        .iter()
        .flatten()
        .flatten()
        .max()
        .map_or(0, |m| m + 1);
    let unit_base = place_base.saturating_add(place_count);
    let mut units: FxHashMap<&str, u32> = FxHashMap::default();
    let docs = raw
        .into_iter()
        .zip(mentions)
        .zip(place_ids)
        .zip(appeals)
        .map(|(((tf, (places, title_places)), ids), appeal)| {
            let mut text: Sparse = tf
                .into_iter()
                .map(|(id, count)| (id, (1.0 + count.ln().max(0.0)) * idf[id as usize]))
                .collect();
            text.sort_by_key(|(id, _)| *id);
            normalise(&mut text);
            let mut joint = text.clone();
            let shared = |id: &u32| place_df.get(id).is_some_and(|n| *n >= 2);
            let mut place_part = place_vector(&places, &ids, &title_places, shared, params);
            for (id, w) in &mut place_part {
                *id = place_base.saturating_add(*id);
                *w *= params.place_bonus.max(0.0).sqrt();
            }
            joint.extend(place_part);
            if let Some(unit) = appeal.place.as_deref() {
                let next = u32::try_from(units.len()).unwrap_or(u32::MAX);
                let index = *units.entry(unit).or_insert(next);
                joint.push((
                    unit_base.saturating_add(index),
                    params.unit_bonus.max(0.0).sqrt(),
                ));
            }
            let keys = Keys::new(&places, &ids);
            Doc {
                text,
                joint,
                places,
                title_places,
                keys,
            }
        })
        .collect();
    Corpus { docs, vocab }
}

/// Segmentation is most of the work; it runs on all cores for larger batches (each appeal on its
/// own, so the result does not depend on the split).
fn segment_all(appeals: &[&Appeal], params: &Params) -> Vec<(Analysed, Analysed)> {
    let one = |appeal: &&Appeal| {
        let detail: String = appeal.detail.chars().take(params.detail_chars).collect();
        (analyse(&appeal.title), analyse(&detail))
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(8);
    if threads < 2 || appeals.len() < 64 {
        return appeals.iter().map(one).collect();
    }
    let chunk = appeals.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = appeals
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
            .collect();
        // A panicking worker (there is no panic path in `analyse`) falls back to this thread.
        handles
            .into_iter()
            .zip(appeals.chunks(chunk))
            .flat_map(|(handle, part)| {
                handle
                    .join()
                    .unwrap_or_else(|_| part.iter().map(one).collect())
            })
            .collect()
    })
}

/// The sites and roads of one appeal that other appeals name too, as a normalised vector over
/// place ids; a title mention counts `title_weight`, a road [`ROAD_WEIGHT`].
fn place_vector(
    places: &[Place],
    ids: &[Option<u32>],
    title: &[Place],
    shared: impl Fn(&u32) -> bool,
    params: &Params,
) -> Sparse {
    let mut weights: FxHashMap<u32, f64> = FxHashMap::default();
    for (place, id) in places.iter().zip(ids) {
        let Some(id) = id.filter(|id| place.level.is_fine() && shared(id)) else {
            continue;
        };
        let kind = if place.level == Level::Road {
            ROAD_WEIGHT
        } else {
            1.0
        };
        let mention = if title.contains(place) {
            params.title_weight
        } else {
            1.0
        };
        *weights.entry(id).or_insert(0.0) += kind * mention;
    }
    let mut vector: Sparse = weights.into_iter().collect();
    vector.sort_by_key(|(id, _)| *id);
    normalise(&mut vector);
    vector
}

fn normalise(vector: &mut [(u32, f64)]) {
    let norm = vector.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
    if norm > 0.0 {
        for (_, w) in vector.iter_mut() {
            *w /= norm;
        }
    }
}

/// Dot product of two sorted sparse vectors.
pub(crate) fn dot(a: &[(u32, f64)], b: &[(u32, f64)]) -> f64 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

/// Pairs (i < j) worth comparing, found through an inverted index instead of the all-pairs loop:
/// those sharing one of their `block_terms` heaviest words that some other appeal uses too, or a
/// site or road (shared place is evidence of its own, even when an appeal's rarer words outweigh
/// the compound's name). An appeal is paired with at most the `block_window` appeals that follow
/// it in a key's list (ordered by id), so that a key shared by thousands of appeals stays linear;
/// clusters still grow across the window because a merged cluster keeps all its members' links.
pub(crate) fn candidate_pairs(corpus: &Corpus, params: &Params) -> Vec<(usize, usize)> {
    let docs = &corpus.docs;
    let mut df = vec![0usize; corpus.vocab.len()];
    for doc in docs {
        for (id, _) in &doc.text {
            df[*id as usize] += 1;
        }
    }
    let mut postings: FxHashMap<u32, Vec<usize>> = FxHashMap::default();
    // Place keys live above the word ids.
    let place_base = u32::try_from(corpus.vocab.len()).unwrap_or(u32::MAX);
    for (i, doc) in docs.iter().enumerate() {
        let mut heaviest: Vec<&(u32, f64)> = doc
            .text
            .iter()
            .filter(|(id, _)| df[*id as usize] >= 2)
            .collect();
        heaviest.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut keys: Vec<u32> = heaviest
            .into_iter()
            .take(params.block_terms)
            .map(|(id, _)| *id)
            .collect();
        keys.extend(doc.keys.fine().map(|id| place_base.saturating_add(id)));
        keys.sort_unstable();
        keys.dedup();
        for id in keys {
            postings.entry(id).or_default().push(i);
        }
    }
    let mut pairs: FxHashSet<(usize, usize)> = FxHashSet::default();
    for list in postings.values() {
        for (k, &i) in list.iter().enumerate() {
            for &j in list.iter().skip(k + 1).take(params.block_window) {
                pairs.insert((i, j));
            }
        }
    }
    let mut pairs: Vec<(usize, usize)> = pairs.into_iter().collect();
    pairs.sort_unstable();
    pairs
}
