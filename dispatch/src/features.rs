//! Text → sparse TF-IDF vector: Chinese words from jieba and character unigrams and bigrams, so a
//! word jieba does not know (a place, a new term) still counts through its characters.

use std::collections::HashMap;
use std::sync::OnceLock;

use jieba_rs::Jieba;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// A sparse vector: (feature index, value), indices ascending.
pub type Sparse = Vec<(u32, f32)>;

/// The shared segmenter (its dictionary loads once).
pub(crate) fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// Letters, digits and Han characters carry meaning; punctuation and spaces do not.
fn is_content(c: char) -> bool {
    c.is_alphanumeric()
}

/// The terms of a text, with repeats: `w:` words of two or more characters (jieba), `c:`
/// single characters and `b:` pairs of adjacent characters (within a run of content
/// characters). Text is NFKC-normalised and lower-cased first (全角 → half width).
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_term(text, |t| out.push(t.to_owned()));
    out
}

/// NFKC-normalised (全角 → half width) and lower-cased.
pub fn normalise(text: &str) -> String {
    text.nfkc().flat_map(char::to_lowercase).collect()
}

/// Calls `f` with each term of [`terms`], without allocating one string per term.
pub fn for_each_term(text: &str, f: impl FnMut(&str)) {
    for_each_normalised_term(&normalise(text), f);
}

/// [`for_each_term`] of a text already [`normalise`]d.
pub fn for_each_normalised_term(text: &str, mut f: impl FnMut(&str)) {
    let mut key = String::with_capacity(32);
    visit_terms(text, |t| {
        t.spell(&mut key);
        f(&key);
    });
}

/// One term of a text, before it is spelt as a vocabulary key.
#[derive(Clone, Copy)]
enum Term<'a> {
    /// `w:` a jieba word of two or more content characters.
    Word(&'a str),
    /// `c:` one content character.
    Char(char),
    /// `b:` two adjacent content characters.
    Pair(char, char),
}

impl Term<'_> {
    /// The term as its vocabulary key (`w:…`, `c:…`, `b:…`), into `key`.
    fn spell(self, key: &mut String) {
        key.clear();
        match self {
            Term::Word(w) => {
                key.push_str("w:");
                key.push_str(w);
            }
            Term::Char(c) => {
                key.push_str("c:");
                key.push(c);
            }
            Term::Pair(a, b) => {
                key.push_str("b:");
                key.push(a);
                key.push(b);
            }
        }
    }
}

/// The terms of a normalised text, in the order of [`terms`].
fn visit_terms<'a>(text: &'a str, mut f: impl FnMut(Term<'a>)) {
    for w in jieba().cut(text, true) {
        if w.chars().count() >= 2 && w.chars().all(is_content) {
            f(Term::Word(w));
        }
    }
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if !is_content(c) {
            continue;
        }
        f(Term::Char(c));
        if let Some(next) = chars.peek().filter(|n| is_content(**n)) {
            f(Term::Pair(c, *next));
        }
    }
}

/// Two characters as one integer key.
fn pair_key(a: char, b: char) -> u64 {
    (u64::from(u32::from(a)) << 32) | u64::from(u32::from(b))
}

/// The vocabulary and its inverse document frequencies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vocabulary {
    pub terms: Vec<String>,
    pub idf: Vec<f32>,
    /// Term → index, for the words (and whatever else a key spells).
    #[serde(skip)]
    index: FxHashMap<String, u32>,
    /// The `c:` and `b:` terms by their characters: integer keys, looked up without building
    /// or comparing a string (most of a text's terms are these).
    #[serde(skip)]
    chars: FxHashMap<char, u32>,
    #[serde(skip)]
    pairs: FxHashMap<u64, u32>,
}

impl Vocabulary {
    /// Terms found in at least `min_df` documents, with smoothed IDF `ln((1+n)/(1+df)) + 1`.
    pub fn fit(docs: &[Vec<String>], min_df: usize) -> Self {
        let mut df: HashMap<&str, usize> = HashMap::new();
        for d in docs {
            let mut seen: Vec<&str> = d.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for t in seen {
                *df.entry(t).or_default() += 1;
            }
        }
        let mut kept: Vec<(&str, usize)> = df.into_iter().filter(|(_, n)| *n >= min_df).collect();
        kept.sort_unstable();
        let n = docs.len() as f32;
        let mut v = Self {
            terms: kept.iter().map(|(t, _)| (*t).to_owned()).collect(),
            idf: kept
                .iter()
                .map(|(_, d)| ((1.0 + n) / (1.0 + *d as f32)).ln() + 1.0)
                .collect(),
            index: FxHashMap::default(),
            chars: FxHashMap::default(),
            pairs: FxHashMap::default(),
        };
        v.reindex();
        v
    }

    /// Rebuilds the term index (after deserialising).
    pub fn reindex(&mut self) {
        self.index = self
            .terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        self.chars.clear();
        self.pairs.clear();
        for (i, t) in self.terms.iter().enumerate() {
            let mut cs = t.chars().skip(2);
            match (t.get(..2), cs.next(), cs.next(), cs.next()) {
                (Some("c:"), Some(c), None, _) => {
                    self.chars.insert(c, i as u32);
                }
                (Some("b:"), Some(a), Some(b), None) => {
                    self.pairs.insert(pair_key(a, b), i as u32);
                }
                _ => {}
            }
        }
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Sublinear TF (1 + ln tf) × IDF, L2-normalised; unknown terms are dropped.
    pub fn vector(&self, terms: &[String]) -> Sparse {
        let mut tf: FxHashMap<u32, f32> = FxHashMap::default();
        for t in terms {
            self.count(t, &mut tf);
        }
        self.weigh(tf)
    }

    /// [`Vocabulary::vector`] of a text's terms, straight from the text.
    pub fn vector_of_text(&self, text: &str) -> Sparse {
        self.vector_of_normalised(&normalise(text))
    }

    /// [`Vocabulary::vector_of_text`] of a text already [`normalise`]d.
    pub fn vector_of_normalised(&self, text: &str) -> Sparse {
        let mut tf: FxHashMap<u32, f32> = FxHashMap::default();
        let mut word = String::with_capacity(32);
        visit_terms(text, |t| {
            let i = match t {
                Term::Word(_) => {
                    t.spell(&mut word);
                    self.index.get(&word)
                }
                Term::Char(c) => self.chars.get(&c),
                Term::Pair(a, b) => self.pairs.get(&pair_key(a, b)),
            };
            if let Some(i) = i {
                *tf.entry(*i).or_default() += 1.0;
            }
        });
        self.weigh(tf)
    }

    fn count(&self, term: &str, tf: &mut FxHashMap<u32, f32>) {
        if let Some(i) = self.index.get(term) {
            *tf.entry(*i).or_default() += 1.0;
        }
    }

    fn weigh(&self, tf: FxHashMap<u32, f32>) -> Sparse {
        let mut v: Sparse = tf
            .into_iter()
            .map(|(i, n)| (i, (1.0 + n.ln()) * self.idf[i as usize]))
            .collect();
        v.sort_unstable_by_key(|(i, _)| *i);
        let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, x) in &mut v {
                *x /= norm;
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_characters_and_pairs() {
        let t = terms("拖欠工资，路灯不亮！ＡＢ");
        assert!(t.contains(&"w:拖欠工资".to_owned()), "{t:?}");
        assert!(t.contains(&"c:灯".to_owned()));
        assert!(t.contains(&"b:灯不".to_owned()));
        assert!(t.contains(&"b:ab".to_owned()), "full width folded: {t:?}");
        assert!(
            !t.iter().any(|x| x.contains('！')),
            "punctuation is no term"
        );
    }

    #[test]
    fn vectors_are_unit_length_and_skip_unknown_terms() {
        let docs = vec![
            terms("拖欠工资"),
            terms("拖欠工资三个月"),
            terms("路灯不亮"),
        ];
        let v = Vocabulary::fit(&docs, 2);
        assert!(
            v.terms.iter().all(|t| !t.contains('灯')),
            "df 1 terms are dropped"
        );
        let x = v.vector(&terms("公司拖欠工资"));
        let norm: f32 = x.iter().map(|(_, a)| a * a).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(v.vector(&terms("路灯")).is_empty());
    }

    #[test]
    fn the_fast_path_gives_the_vector_of_the_terms() {
        let texts = [
            "拖欠工资三个月，公司老板联系不上",
            "路灯不亮！ＡＢ小区门口abc123",
            "A2区桂花坪街道景蓉华苑物业乱收停车费",
            "学校周边交通拥堵，早晚高峰",
        ];
        let docs: Vec<Vec<String>> = texts.iter().map(|t| terms(t)).collect();
        let v = Vocabulary::fit(&docs, 1);
        for text in texts.iter().chain(&["工资拖欠，路灯 不亮 ab", "无关的话"]) {
            let slow = v.vector(&terms(text));
            assert!(!slow.is_empty() || text.contains("无关"));
            assert_eq!(v.vector_of_text(text), slow, "{text}");
        }
    }
}
