//! Text → sparse TF-IDF vector: Chinese words from jieba and character unigrams and bigrams, so a
//! word jieba does not know (a place, a new term) still counts through its characters.

use std::collections::HashMap;
use std::sync::OnceLock;

use jieba_rs::Jieba;
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
    let mut term = String::with_capacity(32);
    for w in jieba().cut(text, true) {
        if w.chars().count() >= 2 && w.chars().all(is_content) {
            term.clear();
            term.push_str("w:");
            term.push_str(w);
            f(&term);
        }
    }
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if !is_content(c) {
            continue;
        }
        term.clear();
        term.push_str("c:");
        term.push(c);
        f(&term);
        if let Some(next) = chars.peek().filter(|n| is_content(**n)) {
            term.clear();
            term.push_str("b:");
            term.push(c);
            term.push(*next);
            f(&term);
        }
    }
}

/// The vocabulary and its inverse document frequencies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vocabulary {
    pub terms: Vec<String>,
    pub idf: Vec<f32>,
    #[serde(skip)]
    index: HashMap<String, u32>,
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
            index: HashMap::new(),
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
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Sublinear TF (1 + ln tf) × IDF, L2-normalised; unknown terms are dropped.
    pub fn vector(&self, terms: &[String]) -> Sparse {
        let mut tf: HashMap<u32, f32> = HashMap::new();
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
        let mut tf: HashMap<u32, f32> = HashMap::new();
        for_each_normalised_term(text, |t| self.count(t, &mut tf));
        self.weigh(tf)
    }

    fn count(&self, term: &str, tf: &mut HashMap<u32, f32>) {
        if let Some(i) = self.index.get(term) {
            *tf.entry(*i).or_default() += 1.0;
        }
    }

    fn weigh(&self, tf: HashMap<u32, f32>) -> Sparse {
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
}
