//! The category classifier: appeal text → first-level category, with a calibrated confidence and
//! the terms that weighed most. Trained on labelled appeals plus the official category tree
//! (each second- and third-level name is a short document of its first-level class), which
//! teaches the model the words of classes that have few examples.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::features::{Sparse, Vocabulary, terms};
use crate::svm::{self, Settings};

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
fn document_text(title: &str, detail: &str) -> String {
    let detail: String = detail.chars().take(DETAIL_CHARS).collect();
    format!("{title}。{title}。{detail}")
}

fn document(title: &str, detail: &str) -> Vec<String> {
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

/// The category tree's names as short documents of their first-level class.
pub fn taxonomy_documents(csv_text: &str) -> Result<Vec<(String, String)>, ModelError> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        let (Some(l1), Some(l2), Some(l3)) = (rec.get(0), rec.get(1), rec.get(2)) else {
            continue;
        };
        out.push((format!("{l2} {l3}"), l1.to_owned()));
    }
    Ok(out)
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
    /// Per class: a weight per term, then the bias.
    pub weights: Vec<Vec<f32>>,
    /// Probabilities are `softmax(temperature × decision values)`.
    pub temperature: f32,
}

/// Terms kept only when this many documents have them: a term seen once says nothing about
/// appeals not yet seen.
const MIN_DF: usize = 2;
/// Folds of the training data used to calibrate the confidence.
const CALIBRATION_FOLDS: usize = 5;

fn softmax(scores: &[f32], temperature: f32) -> Vec<f32> {
    let max = scores.iter().copied().fold(f32::MIN, f32::max);
    let e: Vec<f32> = scores
        .iter()
        .map(|s| ((s - max) * temperature).exp())
        .collect();
    let sum: f32 = e.iter().sum();
    e.into_iter().map(|x| x / sum).collect()
}

/// The temperature that makes held-out decision values the most likely (least log loss).
fn calibrate(held_out: &[(Vec<f32>, usize)]) -> f32 {
    let loss = |t: f32| -> f32 {
        held_out
            .iter()
            .map(|(s, truth)| -softmax(s, t)[*truth].max(1e-9).ln())
            .sum()
    };
    (1..=120)
        .map(|k| k as f32 * 0.25)
        .min_by(|a, b| loss(*a).total_cmp(&loss(*b)))
        .unwrap_or(1.0)
}

impl Model {
    /// Trains on `examples` and the category tree's documents of their classes.
    pub fn train(
        examples: &[Example],
        taxonomy: &[(String, String)],
        settings: &Settings,
    ) -> Result<Self, ModelError> {
        let mut model = Self::fit(examples, taxonomy, settings)?;
        // Confidence: decision values of appeals the model did not see, from folds of the
        // training data, fix the temperature.
        let folds = crate::eval::stratified_folds(examples, CALIBRATION_FOLDS, settings.seed);
        let mut held_out = Vec::new();
        for k in 0..CALIBRATION_FOLDS {
            let (train, test) = crate::eval::split(examples, &folds, k);
            if test.is_empty() || train.is_empty() {
                continue;
            }
            let m = Self::fit(&train, taxonomy, settings)?;
            for e in &test {
                if let Some(truth) = m.classes.iter().position(|c| *c == e.category) {
                    held_out.push((m.scores(&m.vector(&e.title, &e.detail)), truth));
                }
            }
        }
        model.temperature = calibrate(&held_out);
        Ok(model)
    }

    fn fit(
        examples: &[Example],
        taxonomy: &[(String, String)],
        settings: &Settings,
    ) -> Result<Self, ModelError> {
        let mut classes: Vec<String> = examples.iter().map(|e| e.category.clone()).collect();
        classes.sort();
        classes.dedup();
        if classes.len() < 2 {
            return Err(ModelError::Data(
                "training needs appeals of at least two categories".into(),
            ));
        }
        let class_of: HashMap<&str, usize> = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let mut docs: Vec<Vec<String>> = Vec::new();
        let mut labels: Vec<usize> = Vec::new();
        for e in examples {
            docs.push(document(&e.title, &e.detail));
            labels.push(class_of[e.category.as_str()]);
        }
        for (text, class) in taxonomy {
            if let Some(c) = class_of.get(class.as_str()) {
                docs.push(terms(text));
                labels.push(*c);
            }
        }
        let vocabulary = Vocabulary::fit(&docs, MIN_DF);
        let xs: Vec<Sparse> = docs.iter().map(|d| vocabulary.vector(d)).collect();
        // Balanced: each class weighs as much in total, however many appeals it has.
        let mut count = vec![0usize; classes.len()];
        for l in &labels {
            count[*l] += 1;
        }
        let n = labels.len() as f32;
        let weight: Vec<f32> = labels
            .iter()
            .map(|l| n / (classes.len() as f32 * count[*l] as f32))
            .collect();
        let weights = (0..classes.len())
            .map(|c| {
                let positive: Vec<bool> = labels.iter().map(|l| *l == c).collect();
                svm::train_binary(&xs, &positive, &weight, vocabulary.len(), settings)
            })
            .collect();
        Ok(Self {
            classes,
            vocabulary,
            weights,
            temperature: 1.0,
        })
    }

    fn vector(&self, title: &str, detail: &str) -> Sparse {
        self.vocabulary
            .vector_of_text(&document_text(title, detail))
    }

    fn scores(&self, x: &Sparse) -> Vec<f32> {
        svm::scores(&self.weights, x)
    }

    /// The categories of an appeal, most likely first, and why.
    pub fn classify(&self, title: &str, detail: &str) -> Suggestion {
        let x = self.vector(title, detail);
        let p = softmax(&self.scores(&x), self.temperature);
        let mut ranked: Vec<(String, f32)> = self.classes.iter().cloned().zip(p).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let best = self
            .classes
            .iter()
            .position(|c| Some(c) == ranked.first().map(|r| &r.0))
            .unwrap_or(0);
        let mut weighed: Vec<(u32, f32)> = x
            .iter()
            .map(|(i, v)| (*i, self.weights[best][*i as usize] * v))
            .filter(|(_, w)| *w > 0.0)
            .collect();
        weighed.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
        // Readable terms: a word, or a pair of characters; the same characters said once.
        let mut terms: Vec<(String, f32)> = Vec::new();
        for (i, w) in weighed {
            let t = &self.vocabulary.terms[i as usize];
            let text = t.split_once(':').map_or(t.as_str(), |(_, s)| s);
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
        Suggestion { ranked, terms }
    }

    pub fn to_json(&self) -> Result<String, ModelError> {
        Ok(serde_json::to_string(self)?)
    }

    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let mut m: Self = serde_json::from_str(text)?;
        m.vocabulary.reindex();
        let dims = m.vocabulary.len() + 1;
        if m.classes.len() != m.weights.len()
            || m.weights.iter().any(|w| w.len() != dims)
            || m.vocabulary.idf.len() != m.vocabulary.len()
        {
            return Err(ModelError::Data(
                "the model's classes, terms and weights do not match".into(),
            ));
        }
        Ok(m)
    }
}
