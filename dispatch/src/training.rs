//! Training a [`Model`]: the appeals and the category tree's names as documents, the tree's words
//! as evidence features, a linear model per [`Family`], and the temperature of the confidence
//! from held-out folds of the training data.

use std::collections::HashMap;

use crate::features::{Sparse, Vocabulary, terms};
use crate::model::{Example, Model, ModelError, document, document_text, softmax};
use crate::prior::{CategoryPath, Prior};
use crate::settings::{Family, Settings};
use crate::{logistic, svm};

/// Terms kept only when this many documents have them: a term seen once says nothing about
/// appeals not yet seen.
const MIN_DF: usize = 2;
/// Folds of the training data used to calibrate the confidence.
const CALIBRATION_FOLDS: usize = 5;

/// Decision values of appeals a model did not see, with their true class.
type HeldOut = Vec<(Vec<f32>, usize)>;

/// A leaf's names as a short training document.
fn name_document(path: &CategoryPath) -> Vec<String> {
    terms(&format!("{} {}", path.level2, path.level3))
}

/// The temperature that makes held-out decision values the most likely (least log loss), on a
/// geometric grid from 0.05 to about 40.
fn calibrate(held_out: &[(Vec<f32>, usize)]) -> f32 {
    let loss = |t: f32| -> f32 {
        held_out
            .iter()
            .map(|(s, truth)| -softmax(s, t)[*truth].max(1e-9).ln())
            .sum()
    };
    (0..=140)
        .map(|k| 0.05 * 1.05f32.powi(k))
        .min_by(|a, b| loss(*a).total_cmp(&loss(*b)))
        .unwrap_or(1.0)
}

impl Model {
    /// Trains on `examples` and the category `tree`'s names of their classes.
    pub fn train(
        examples: &[Example],
        tree: &[CategoryPath],
        settings: &Settings,
    ) -> Result<Self, ModelError> {
        let one = |family| Self::calibrated(examples, tree, settings, family);
        match settings.family {
            Family::Svm | Family::Logistic => Ok(one(settings.family)?.0),
            Family::Both => {
                // Adding calibrated log-probabilities is one linear model again.
                let (mut a, held_a) = one(Family::Svm)?;
                let (b, held_b) = one(Family::Logistic)?;
                let (ta, tb) = (a.temperature, b.temperature);
                for (wa, wb) in a.weights.iter_mut().zip(&b.weights) {
                    for (x, y) in wa.iter_mut().zip(wb) {
                        *x = ta * *x + tb * y;
                    }
                }
                let held: HeldOut = held_a
                    .into_iter()
                    .zip(held_b)
                    .map(|((sa, truth), (sb, _))| {
                        let s = sa.iter().zip(&sb).map(|(x, y)| ta * x + tb * y).collect();
                        (s, truth)
                    })
                    .collect();
                a.temperature = calibrate(&held);
                Ok(a)
            }
        }
    }

    /// One family's model, its temperature fixed by the decision values of appeals it did not
    /// see (folds of the training data), and those values.
    fn calibrated(
        examples: &[Example],
        tree: &[CategoryPath],
        settings: &Settings,
        family: Family,
    ) -> Result<(Self, HeldOut), ModelError> {
        let mut model = Self::fit(examples, tree, settings, family)?;
        let folds = crate::eval::stratified_folds(examples, CALIBRATION_FOLDS, settings.seed);
        let mut held_out = Vec::new();
        for k in 0..CALIBRATION_FOLDS {
            let (train, test) = crate::eval::split(examples, &folds, k);
            if test.is_empty() || train.is_empty() {
                continue;
            }
            let m = Self::fit(&train, tree, settings, family)?;
            for e in &test {
                if let Some(truth) = m.classes.iter().position(|c| *c == e.category) {
                    held_out.push((m.scores(&m.vector(&e.title, &e.detail).0), truth));
                }
            }
        }
        model.temperature = calibrate(&held_out);
        Ok((model, held_out))
    }

    fn fit(
        examples: &[Example],
        tree: &[CategoryPath],
        settings: &Settings,
        family: Family,
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
        let appeals = docs.len();
        if settings.taxonomy_weight > 0.0 {
            for path in tree {
                if let Some(c) = class_of.get(path.level1.as_str()) {
                    docs.push(name_document(path));
                    labels.push(*c);
                }
            }
        }
        let vocabulary = Vocabulary::fit(&docs, MIN_DF);
        let texts: Vec<String> = examples
            .iter()
            .map(|e| document_text(&e.title, &e.detail))
            .collect();
        let prior = (settings.prior_scale > 0.0).then(|| {
            let mut p = Prior::fit(tree, &classes, settings.prior_scale);
            p.weigh_by_rarity(&texts);
            p
        });
        let mut xs: Vec<Sparse> = docs.iter().map(|d| vocabulary.vector(d)).collect();
        // The tree's evidence of the appeals; the names themselves get none, so its weights
        // say how far the tree's words tell the class of real appeals.
        if let Some(p) = &prior {
            for (x, t) in xs.iter_mut().zip(&texts) {
                let found = p.found(t);
                p.extend(x, &found, classes.len(), vocabulary.len());
            }
        }
        // Balanced: each class weighs as much in total, however many documents it has; a name
        // weighs `taxonomy_weight` times an appeal of its class.
        let mut count = vec![0usize; classes.len()];
        for l in &labels {
            count[*l] += 1;
        }
        let n = labels.len() as f32;
        let weight: Vec<f32> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let k = if i < appeals {
                    1.0
                } else {
                    settings.taxonomy_weight
                };
                k * n / (classes.len() as f32 * count[*l] as f32)
            })
            .collect();
        let mut model = Self {
            classes,
            vocabulary,
            weights: Vec::new(),
            temperature: 1.0,
            prior,
        };
        let dims = model.dims();
        let k = model.classes.len();
        model.weights = match family {
            Family::Logistic => logistic::train(&xs, &labels, &weight, k, dims, settings),
            Family::Svm | Family::Both => (0..k)
                .map(|c| {
                    let positive: Vec<bool> = labels.iter().map(|l| *l == c).collect();
                    svm::train_binary(&xs, &positive, &weight, dims, settings)
                })
                .collect(),
        };
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn appeal(title: &str, category: &str) -> Example {
        Example {
            title: title.into(),
            detail: String::new(),
            category: category.into(),
        }
    }

    fn path(a: &str, b: &str, c: &str) -> CategoryPath {
        CategoryPath {
            level1: a.into(),
            level2: b.into(),
            level3: c.into(),
        }
    }

    fn data() -> (Vec<Example>, Vec<CategoryPath>) {
        let mut examples = Vec::new();
        for i in 0..6 {
            examples.push(appeal(&format!("公司拖欠工资{i}个月"), "劳动和社会保障"));
            examples.push(appeal(&format!("小区路灯等公共设施坏了{i}天"), "城乡建设"));
        }
        let tree = vec![
            path("劳动和社会保障", "劳动保护", "工资福利"),
            path("劳动和社会保障", "劳动保护", "工伤"),
            path("城乡建设", "城市建设和市政管理", "城市公共设施"),
            path("城乡建设", "城市建设和市政管理", "冬季采暖"),
            path("政法", "治安管理", "其他"),
        ];
        (examples, tree)
    }

    #[test]
    fn the_tree_is_evidence_and_the_model_survives_json() {
        let (examples, tree) = data();
        let m = Model::train(&examples, &tree, &Settings::default()).unwrap();
        let prior = m.prior.as_ref().expect("the tree's evidence");
        assert!(prior.words.iter().any(|(w, _)| w == "采暖"));
        assert_eq!(m.weights[0].len(), m.vocabulary.len() + 2 + 1);
        // 采暖 is in no appeal (and in one name only, too few for a term): the tree's evidence,
        // whose weight the appeals naming 公共设施 taught, says 城乡建设, and the explanation
        // names the word.
        let s = m.classify("冬季采暖", "");
        assert_eq!(s.category(), "城乡建设", "{s:?}");
        assert!(s.terms.iter().any(|(t, _)| t == "采暖"), "{s:?}");
        let back = Model::from_json(&m.to_json().unwrap()).unwrap();
        assert_eq!(back.classify("冬季采暖", ""), s);
        assert_eq!(back.classify("拖欠工资", "").category(), "劳动和社会保障");

        let mut bad = m.clone();
        if let Some(p) = &mut bad.prior {
            p.words[0].1 = vec![(9, 1.0)];
        }
        assert!(
            Model::from_json(&bad.to_json().unwrap()).is_err(),
            "class 9 of 2"
        );
        let mut bad = m.clone();
        bad.prior = None;
        assert!(
            Model::from_json(&bad.to_json().unwrap()).is_err(),
            "weights for evidence features the model lacks"
        );
    }

    #[test]
    fn every_family_classifies() {
        let (examples, tree) = data();
        for family in [Family::Svm, Family::Logistic, Family::Both] {
            let s = Settings {
                family,
                ..Settings::default()
            };
            let m = Model::train(&examples, &tree, &s).unwrap();
            let g = m.classify("路灯坏了", "");
            assert_eq!(g.category(), "城乡建设", "{family:?}: {g:?}");
            let total: f32 = g.ranked.iter().map(|(_, p)| p).sum();
            assert!((total - 1.0).abs() < 1e-3, "{family:?}: {g:?}");
        }
        let none = Settings {
            prior_scale: 0.0,
            taxonomy_weight: 0.0,
            ..Settings::default()
        };
        let m = Model::train(&examples, &tree, &none).unwrap();
        assert!(m.prior.is_none());
        assert!(
            !m.vocabulary.terms.iter().any(|t| t.contains('暖')),
            "no names"
        );
    }
}
