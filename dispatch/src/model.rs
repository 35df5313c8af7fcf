//! The category classifier: appeal text → first-level category, with a calibrated confidence and
//! the terms that weighed most. Trained on labelled appeals plus the official category tree
//! (each second- and third-level name is a short document of its first-level class), which
//! teaches the model the words of classes that have few examples.

use serde::{Deserialize, Serialize};

use crate::features::{Sparse, Vocabulary, normalise, terms};
use crate::prior::{CategoryPath, Prior};
use crate::svm;

/// The official category tree shipped with the demo: (level1, level2, level3).
pub const TAXONOMY_CSV: &str = include_str!("../../demo/appeals/taxonomy.csv");

/// A labelled appeal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub title: String,
    pub detail: String,
    pub category: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{0}")]
    Data(String),
    #[error("cannot read the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("the model file is not valid: {0}")]
    Format(#[from] serde_json::Error),
}

/// The characters of a description read: citizens say what the matter is at the start, and the
/// time a suggestion takes grows with the text.
pub const DETAIL_CHARS: usize = 1000;

/// A title says most: it counts twice.
pub(crate) fn document_text(title: &str, detail: &str) -> String {
    let detail: String = detail.chars().take(DETAIL_CHARS).collect();
    format!("{title}。{title}。{detail}")
}

pub(crate) fn document(title: &str, detail: &str) -> Vec<String> {
    terms(&document_text(title, detail))
}

/// Reads labelled appeals from CSV with the columns of `messages.csv` (at least `title`,
/// `detail`, `category`; others are ignored). Rows without a category are skipped.
pub fn read_examples<R: std::io::Read>(r: R) -> Result<Vec<Example>, ModelError> {
    let mut r = csv::Reader::from_reader(r);
    let headers = r.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
            .ok_or_else(|| ModelError::Data(format!("the CSV has no `{name}` column")))
    };
    let (title, detail, category) = (col("title")?, col("detail")?, col("category")?);
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        let get = |i: usize| rec.get(i).unwrap_or("").trim().to_owned();
        if get(category).is_empty() {
            continue;
        }
        out.push(Example {
            title: get(title),
            detail: get(detail),
            category: get(category),
        });
    }
    Ok(out)
}

/// The leaves of the category tree's CSV (columns level1, level2, level3).
pub fn category_tree(csv_text: &str) -> Result<Vec<CategoryPath>, ModelError> {
    Ok(crate::prior::category_paths(csv_text)?)
}

/// What the classifier says about one appeal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// Every class with its probability, most likely first.
    pub ranked: Vec<(String, f32)>,
    /// The terms that weighed most for the first class, with their weight.
    pub terms: Vec<(String, f32)>,
}

impl Suggestion {
    pub fn category(&self) -> &str {
        self.ranked.first().map_or("", |(c, _)| c.as_str())
    }

    pub fn confidence(&self) -> f32 {
        self.ranked.first().map_or(0.0, |(_, p)| *p)
    }
}

/// A trained classifier, saved as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    pub classes: Vec<String>,
    pub vocabulary: Vocabulary,
    /// Per class: a weight per term, then one per class of the tree's evidence (when `prior`
    /// is there), then the bias.
    pub weights: Vec<Vec<f32>>,
    /// Probabilities are `softmax(temperature × decision values)`.
    pub temperature: f32,
    /// The category tree's words, as evidence features (models without it have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<Prior>,
}

pub(crate) fn softmax(scores: &[f32], temperature: f32) -> Vec<f32> {
    let max = scores.iter().copied().fold(f32::MIN, f32::max);
    let e: Vec<f32> = scores
        .iter()
        .map(|s| ((s - max) * temperature).exp())
        .collect();
    let sum: f32 = e.iter().sum();
    e.into_iter().map(|x| x / sum).collect()
}

impl Model {
    /// The features of an appeal: TF-IDF of its terms, then the category tree's evidence (one
    /// per class) when the model has it.
    pub(crate) fn vector(&self, title: &str, detail: &str) -> (Sparse, Vec<usize>) {
        let text = normalise(&document_text(title, detail));
        let mut x = self.vocabulary.vector_of_normalised(&text);
        let mut found = Vec::new();
        if let Some(prior) = &self.prior {
            found = prior.found_in_normalised(&text);
            prior.extend(&mut x, &found, self.classes.len(), self.vocabulary.len());
        }
        (x, found)
    }

    /// Features besides the bias: the terms, then the tree's evidence.
    pub(crate) fn dims(&self) -> usize {
        self.vocabulary.len() + self.prior.as_ref().map_or(0, |_| self.classes.len())
    }

    pub(crate) fn scores(&self, x: &Sparse) -> Vec<f32> {
        svm::scores(&self.weights, x)
    }

    /// The categories of an appeal, most likely first, and why.
    pub fn classify(&self, title: &str, detail: &str) -> Suggestion {
        let (x, found) = self.vector(title, detail);
        let p = softmax(&self.scores(&x), self.temperature);
        let mut ranked: Vec<(String, f32)> = self.classes.iter().cloned().zip(p).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let best = self
            .classes
            .iter()
            .position(|c| Some(c) == ranked.first().map(|r| &r.0))
            .unwrap_or(0);
        let terms = self.explain(best, &x, &found);
        Suggestion { ranked, terms }
    }

    /// The five readable terms that weighed most for class `best`: a word or a pair of
    /// characters, the same characters said once. The tree's evidence is shared out among the
    /// tree's words found, by their share in the class.
    fn explain(&self, best: usize, x: &Sparse, found: &[usize]) -> Vec<(String, f32)> {
        let weights = &self.weights[best];
        let n = self.vocabulary.len();
        let mut weighed: Vec<(&str, f32)> = Vec::new();
        for (i, v) in x {
            let w = weights[*i as usize] * v;
            if (*i as usize) < n {
                let t = &self.vocabulary.terms[*i as usize];
                weighed.push((t.split_once(':').map_or(t.as_str(), |(_, s)| s), w));
            } else if let Some(prior) = self.prior.as_ref().filter(|_| *i as usize == n + best) {
                let shares: Vec<(&str, f32)> = found
                    .iter()
                    .filter_map(|k| {
                        let (word, of) = &prior.words[*k];
                        let share = of.iter().find(|(c, _)| *c as usize == best)?.1;
                        Some((word.as_str(), share))
                    })
                    .collect();
                let total: f32 = shares.iter().map(|(_, s)| s).sum();
                weighed.extend(shares.iter().map(|(t, s)| (*t, w * s / total)));
            }
        }
        weighed.retain(|(_, w)| *w > 0.0);
        weighed.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
        let mut terms: Vec<(String, f32)> = Vec::new();
        for (text, w) in weighed {
            if !terms
                .iter()
                .any(|(k, _)| k.contains(text) || text.contains(k.as_str()))
            {
                terms.push((text.to_owned(), w));
            }
            if terms.len() == 5 {
                break;
            }
        }
        terms
    }

    pub fn to_json(&self) -> Result<String, ModelError> {
        Ok(serde_json::to_string(self)?)
    }

    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let mut m: Self = serde_json::from_str(text)?;
        m.vocabulary.reindex();
        if let Some(p) = &mut m.prior {
            p.rebuild();
        }
        let dims = m.dims() + 1;
        let classes = m.classes.len();
        if classes != m.weights.len()
            || m.weights.iter().any(|w| w.len() != dims)
            || m.vocabulary.idf.len() != m.vocabulary.len()
            || m.prior.as_ref().is_some_and(|p| {
                p.words
                    .iter()
                    .any(|(_, of)| of.iter().any(|(c, _)| *c as usize >= classes))
            })
        {
            return Err(ModelError::Data(
                "the model's classes, terms and weights do not match".into(),
            ));
        }
        Ok(m)
    }
}

/// The model trained on the shared real appeals, shipped inside the binary.
pub const SHIPPED_MODEL: &str = include_str!("../model/category.json");

/// The shipped model, parsed once per process.
pub fn shipped() -> Result<std::sync::Arc<Model>, ModelError> {
    static MODEL: std::sync::OnceLock<std::sync::Arc<Model>> = std::sync::OnceLock::new();
    if let Some(m) = MODEL.get() {
        return Ok(m.clone());
    }
    let m = std::sync::Arc::new(Model::from_json(SHIPPED_MODEL)?);
    Ok(MODEL.get_or_init(|| m).clone())
}
