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
use super::text::{Level, Place, Term, analyse};
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

/// Segments and weighs every appeal. Term weight is (1 + ln tf) · idf, where tf counts a title
/// occurrence `title_weight` times (titles state the matter; details wander), and idf is
/// ln(1 + N / df) over this batch, so that words every appeal uses (A市, 小区) count little.
/// The place vector weighs a fine place named in the title `title_weight` too.
pub(crate) fn build(appeals: &[&Appeal], params: &Params) -> Corpus {
    let mut ids: FxHashMap<String, u32> = FxHashMap::default();
    let mut vocab: Vec<String> = Vec::new();
    let mut raw: Vec<FxHashMap<u32, f64>> = Vec::with_capacity(appeals.len());
    let mut mentions: Vec<(Vec<Place>, Vec<Place>)> = Vec::with_capacity(appeals.len());
    for appeal in appeals {
        let title = analyse(&appeal.title);
        let detail_text: String = appeal.detail.chars().take(params.detail_chars).collect();
        let detail = analyse(&detail_text);
        let mut tf: FxHashMap<u32, f64> = FxHashMap::default();
        for (terms, in_title) in [(&title.terms, true), (&detail.terms, false)] {
            for term in terms {
                let next = u32::try_from(vocab.len()).unwrap_or(u32::MAX);
                let id = *ids.entry(term.word.clone()).or_insert_with(|| {
                    vocab.push(term.word.clone());
                    next
                });
                *tf.entry(id).or_insert(0.0) += term_weight(term, in_title, params);
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
    let place_ids =
        places::assign(&mentions.iter().map(|(all, _)| all.as_slice()).collect::<Vec<_>>());
    let mut df = vec![0usize; vocab.len()];
    for tf in &raw {
        for id in tf.keys() {
            df[*id as usize] += 1;
        }
    }
    let n = appeals.len() as f64;
    let mode = std::env::var("IDFMODE").unwrap_or_default();
    let bg: Vec<f64> = vocab.iter().map(|w| super::text::background_idf(w)).collect();
    let place_base = u32::try_from(vocab.len()).unwrap_or(u32::MAX);
    let place_count = place_ids.iter().flatten().flatten().max().map_or(0, |m| m + 1);
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
                .map(|(id, count)| {
                    let b = (1.0 + n / df[id as usize] as f64).ln();
                    let d = df[id as usize] as f64;
                    let idf = match mode.as_str() {
                        "bg" => bg[id as usize],
                        "bgxb" => bg[id as usize] * b,
                        "bgdamp" => bg[id as usize] * if d < 2.0 { 0.5 } else { 1.0 },
                        "bgsq" => bg[id as usize].powi(2),
                        "bgsqdamp" => bg[id as usize].powi(2) * if d < 2.0 { 0.5 } else { 1.0 },
                        _ => b,
                    };
                    (id, (1.0 + count.ln().max(0.0)) * idf)
                })
                .collect();
            text.sort_by_key(|(id, _)| *id);
            normalise(&mut text);
            let mut joint = text.clone();
            let mut place_part = place_vector(&places, &ids, &title_places, params);
            for (id, w) in &mut place_part {
                *id = place_base.saturating_add(*id);
                *w *= params.place_bonus.max(0.0).sqrt();
            }
            joint.extend(place_part);
            if let Some(unit) = appeal.place.as_deref() {
                let next = u32::try_from(units.len()).unwrap_or(u32::MAX);
                let index = *units.entry(unit).or_insert(next);
                joint.push((unit_base.saturating_add(index), params.unit_bonus.max(0.0).sqrt()));
            }
            let keys = Keys::new(&places, &ids);
            Doc { text, joint, places, title_places, keys }
        })
        .collect();
    Corpus { docs, vocab }
}

/// What one occurrence of a term adds to its count. A title word counts `title_weight`; a
/// detail word counts less the later it comes, 1 / (1 + offset / lead_chars): an appeal states
/// its matter first, and the tirade that may follow (laws quoted, officials addressed) would
/// otherwise outweigh it and hide the likeness of two appeals about one matter.
fn term_weight(term: &Term, in_title: bool, params: &Params) -> f64 {
    let place = if in_title {
        params.title_weight
    } else {
        1.0 / (1.0 + term.at as f64 / params.lead_chars.max(1.0))
    };
    if term.inner { place * params.inner_weight } else { place }
}

/// The fine places of one appeal as a normalised vector over place ids.
fn place_vector(places: &[Place], ids: &[Option<u32>], title: &[Place], params: &Params) -> Sparse {
    let mut weights: FxHashMap<u32, f64> = FxHashMap::default();
    for (place, id) in places.iter().zip(ids) {
        if let (Level::Fine, Some(id)) = (place.level, id) {
            let w = if title.contains(place) { params.title_weight } else { 1.0 };
            *weights.entry(*id).or_insert(0.0) += w;
        }
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
/// those sharing one of their `block_terms` heaviest words, or a fine place (shared place is
/// evidence of its own, even when an appeal's rarer words outweigh the compound's name). A key
/// held by more than `max_df_share` of the appeals (and by more than `min_df_cap`) is too common
/// to block on; it still counts in the similarity. Bounding both keeps the number of pairs near
/// linear in the number of appeals.
pub(crate) fn candidate_pairs(corpus: &Corpus, params: &Params) -> Vec<(usize, usize)> {
    let docs = &corpus.docs;
    let mut postings: FxHashMap<u32, Vec<usize>> = FxHashMap::default();
    // Place keys live above the word ids.
    let place_base = u32::try_from(corpus.vocab.len()).unwrap_or(u32::MAX);
    for (i, doc) in docs.iter().enumerate() {
        let mut heaviest: Vec<&(u32, f64)> = doc.text.iter().collect();
        heaviest.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut keys: Vec<u32> =
            heaviest.into_iter().take(params.block_terms).map(|(id, _)| *id).collect();
        keys.extend(doc.keys.fine().iter().map(|id| place_base.saturating_add(*id)));
        keys.sort_unstable();
        keys.dedup();
        for id in keys {
            postings.entry(id).or_default().push(i);
        }
    }
    let cap = ((docs.len() as f64 * params.max_df_share) as usize).max(params.min_df_cap);
    let mut pairs: FxHashSet<(usize, usize)> = FxHashSet::default();
    for list in postings.values() {
        if list.len() < 2 || list.len() > cap {
            continue;
        }
        for (k, &i) in list.iter().enumerate() {
            for &j in &list[k + 1..] {
                pairs.insert((i, j));
            }
        }
    }
    let mut pairs: Vec<(usize, usize)> = pairs.into_iter().collect();
    pairs.sort_unstable();
    pairs
}
