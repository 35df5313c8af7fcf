//! How alike two appeals' texts are, without training data: character unigrams and bigrams of the
//! normalised text, TF-IDF weighted, cosine similarity.
//!
//! - **Normalisation.** NFKC (full-width letters and digits to half-width), ASCII lower case; a run
//!   of digits becomes one `0` (dates, amounts and house numbers differ between two accounts of the
//!   same matter); anything that is not a letter or a digit (punctuation, spaces, line breaks)
//!   breaks the text into segments, and no bigram spans a break.
//! - **Features.** Every character and every pair of neighbouring characters in a segment. Chinese
//!   has no spaces, and bigrams catch most words (油烟, 噪音, 实习) without a dictionary. The title
//!   counts twice: it is the citizen's own summary.
//! - **Places are cut out.** The places recognised in the text (see `places`) are no features:
//!   two texts that name the same 小区 are not called similar for the place's bigrams alone. Where
//!   the appeal is, is the place rule's business; the text similarity says what it is about.
//! - **Weights.** `(1 + ln tf) × idf`, with the document frequencies of a fixed background corpus:
//!   the 514 real appeals of `demo/appeals/messages.csv` and `replies.csv` (their text only; no
//!   labels are used). Fixed weights keep a pair's score the same whatever else arrived that week
//!   (weights taken from the window itself would make a hot issue's own words common, and so
//!   lower the score of exactly the repeats we look for), and they work when the window holds one
//!   ticket. Features the background never saw get the highest weight.
//! - **Cosine** of the L2-normalised vectors: 1 for identical texts, 0 for texts with no feature in
//!   common, symmetric.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// How much of a detail is read: enough for any account of a matter, and a bound on the cost.
pub const MAX_DETAIL_CHARS: usize = 2000;

/// NFKC and ASCII lower case, at most `max_chars` characters: the place recogniser and the
/// features read the same characters, so a place's positions mask its features.
pub fn prepare(s: &str, max_chars: usize) -> Vec<char> {
    s.nfkc()
        .take(max_chars)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// The character a feature is made of, or None for a break.
fn unit(c: char) -> Option<char> {
    if c.is_ascii_digit() {
        Some('0')
    } else if is_han(c) || c.is_alphabetic() {
        Some(c)
    } else {
        None
    }
}

/// Features are already 64-bit hashes: the map uses them as they are.
#[derive(Default)]
pub struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(FNV_PRIME);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
}

/// Feature counts or frequencies, keyed by feature.
pub type Features<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(h: u64, x: u32) -> u64 {
    let mut h = h;
    for b in x.to_le_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

fn gram1(a: char) -> u64 {
    fnv(fnv(FNV_OFFSET, 1), a as u32)
}

fn gram2(a: char, b: char) -> u64 {
    fnv(fnv(fnv(FNV_OFFSET, 2), a as u32), b as u32)
}

/// Adds the features of `chars` (skipping masked positions) `times` times to `counts`.
pub fn count_features(chars: &[char], masked: &[bool], times: u32, counts: &mut Features<u32>) {
    let mut prev: Option<char> = None;
    let mut prev_digit = false;
    for (i, &c) in chars.iter().enumerate() {
        let u = if masked.get(i).copied().unwrap_or(false) {
            None
        } else {
            unit(c)
        };
        let Some(u) = u else {
            prev = None;
            prev_digit = false;
            continue;
        };
        let digit = c.is_ascii_digit();
        if digit && prev_digit {
            // A run of digits is one `0`.
            continue;
        }
        *counts.entry(gram1(u)).or_default() += times;
        if let Some(p) = prev {
            *counts.entry(gram2(p, u)).or_default() += times;
        }
        prev = Some(u);
        prev_digit = digit;
    }
}

/// A sparse, L2-normalised TF-IDF vector, sorted by feature.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextVector {
    items: Vec<(u64, f64)>,
}

impl TextVector {
    /// Weights raw feature counts with the background's IDF and normalises.
    pub fn from_counts(counts: &Features<u32>) -> Self {
        let idf = background();
        let mut items: Vec<(u64, f64)> = counts
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(g, n)| (*g, (1.0 + f64::from(*n).ln()) * idf.idf(*g)))
            .collect();
        items.sort_unstable_by_key(|(g, _)| *g);
        let norm = items.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        if norm > 0.0 {
            for (_, w) in &mut items {
                *w /= norm;
            }
        }
        Self { items }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Cosine similarity, in [0, 1] (weights are never negative).
    pub fn cosine(&self, other: &Self) -> f64 {
        let (a, b) = (&self.items, &other.items);
        let (mut i, mut j, mut dot) = (0, 0, 0.0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += a[i].1 * b[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        dot.clamp(0.0, 1.0)
    }
}

/// Document frequencies of the background corpus.
pub struct Background {
    df: Features<u32>,
    docs: u32,
}

impl Background {
    pub fn idf(&self, g: u64) -> f64 {
        let df = self.df.get(&g).copied().unwrap_or(0);
        ((f64::from(self.docs) + 1.0) / (f64::from(df) + 1.0)).ln() + 1.0
    }

    pub fn docs(&self) -> u32 {
        self.docs
    }
}

const MESSAGES_CSV: &str = include_str!("../../../demo/appeals/messages.csv");
const REPLIES_CSV: &str = include_str!("../../../demo/appeals/replies.csv");

/// The background corpus's texts (title, detail), each appeal once.
pub fn background_texts() -> Vec<(String, String)> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for csv_text in [MESSAGES_CSV, REPLIES_CSV] {
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let headers = match reader.headers() {
            Ok(h) => h.clone(),
            Err(_) => continue,
        };
        let col = |name: &str| headers.iter().position(|h| h == name);
        let (Some(id), Some(title), Some(detail)) = (col("id"), col("title"), col("detail")) else {
            continue;
        };
        for record in reader.records().flatten() {
            let (Some(i), Some(t), Some(d)) =
                (record.get(id), record.get(title), record.get(detail))
            else {
                continue;
            };
            if seen.insert(i.to_owned()) {
                out.push((t.to_owned(), d.to_owned()));
            }
        }
    }
    out
}

/// The background's document frequencies, computed once per process. Places are not cut out of
/// the background (it needs no gazetteer): a place's characters then only get a little less weight.
pub fn background() -> &'static Background {
    static BG: OnceLock<Background> = OnceLock::new();
    BG.get_or_init(|| {
        let mut df: Features<u32> = Features::default();
        let texts = background_texts();
        for (title, detail) in &texts {
            let mut counts = Features::default();
            let t = prepare(title, usize::MAX);
            let d = prepare(detail, MAX_DETAIL_CHARS);
            count_features(&t, &[], 1, &mut counts);
            count_features(&d, &[], 1, &mut counts);
            for g in counts.keys() {
                *df.entry(*g).or_default() += 1;
            }
        }
        Background {
            df,
            docs: u32::try_from(texts.len()).unwrap_or(u32::MAX),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(s: &str) -> TextVector {
        let p = prepare(s, usize::MAX);
        let mut counts = Features::default();
        count_features(&p, &[], 1, &mut counts);
        TextVector::from_counts(&counts)
    }

    #[test]
    fn the_background_is_the_shipped_appeals() {
        // 394 labelled appeals (one listed twice) and 120 with replies.
        assert!(background().docs() > 500, "{}", background().docs());
    }

    #[test]
    fn digits_runs_and_punctuation_are_normalised() {
        assert!((vector("路灯２０１９年坏了！").cosine(&vector("路灯7年坏了")) - 1.0).abs() < 1e-9);
        // Punctuation breaks bigrams: 灯坏 is not a feature of the first.
        assert!(vector("路灯，坏了").cosine(&vector("路灯坏了")) < 1.0);
    }

    #[test]
    fn identical_disjoint_and_empty() {
        let a = vector("小区楼下烧烤店油烟扰民");
        assert!((a.cosine(&a) - 1.0).abs() < 1e-9);
        assert_eq!(a.cosine(&vector("驾驶证期满换证无人受理")), 0.0);
        assert_eq!(a.cosine(&vector("，。！")), 0.0);
        assert!(vector("？？").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn cosine_is_symmetric_bounded_and_one_on_itself(
            a in "[烟油噪音扰民小区路灯实习学校a-c0-9，。 ]{0,40}",
            b in "[烟油噪音扰民小区路灯实习学校a-c0-9，。 ]{0,40}",
        ) {
            let (va, vb) = (vector(&a), vector(&b));
            let ab = va.cosine(&vb);
            proptest::prop_assert!((ab - vb.cosine(&va)).abs() < 1e-12);
            proptest::prop_assert!((0.0..=1.0).contains(&ab));
            if !va.is_empty() {
                proptest::prop_assert!((va.cosine(&va) - 1.0).abs() < 1e-9);
            }
        }

        #[test]
        fn texts_with_no_character_in_common_score_zero(
            a in "[烟油噪音扰民]{1,30}",
            b in "[路灯实习学校]{1,30}",
        ) {
            proptest::prop_assert_eq!(vector(&a).cosine(&vector(&b)), 0.0);
        }
    }
}
