//! How good the classifier is: stratified, seeded k-fold cross-validation or a train/test pair,
//! reported per class (precision, recall, F1), as a confusion matrix, and as the macro-F1 (the
//! mean of the classes' F1, so a small class counts as much as a large one).

use std::fmt;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::model::{Example, Model, ModelError};
use crate::prior::CategoryPath;
use crate::settings::Settings;

/// The fold of each example: each class is shuffled (seeded) and dealt round the folds in turn,
/// so every fold has about the same share of every class.
pub fn stratified_folds(examples: &[Example], k: usize, seed: u64) -> Vec<usize> {
    let mut classes: Vec<&str> = examples.iter().map(|e| e.category.as_str()).collect();
    classes.sort_unstable();
    classes.dedup();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut fold = vec![0; examples.len()];
    let mut next = 0;
    for c in classes {
        let mut members: Vec<usize> = (0..examples.len())
            .filter(|i| examples[*i].category == c)
            .collect();
        members.shuffle(&mut rng);
        for i in members {
            fold[i] = next % k.max(1);
            next += 1;
        }
    }
    fold
}

/// The examples outside fold `k` (to train on) and inside it (to test on).
pub fn split(examples: &[Example], folds: &[usize], k: usize) -> (Vec<Example>, Vec<Example>) {
    let (test, train): (Vec<_>, Vec<_>) = examples.iter().zip(folds).partition(|(_, f)| **f == k);
    (
        train.into_iter().map(|(e, _)| e.clone()).collect(),
        test.into_iter().map(|(e, _)| e.clone()).collect(),
    )
}

/// Counts of (true class, predicted class).
#[derive(Debug, Clone)]
pub struct Report {
    pub classes: Vec<String>,
    /// `confusion[truth][predicted]`.
    pub confusion: Vec<Vec<usize>>,
}

/// One class's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassFigures {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl Report {
    fn new() -> Self {
        Self {
            classes: Vec::new(),
            confusion: Vec::new(),
        }
    }

    fn class(&mut self, name: &str) -> usize {
        if let Some(i) = self.classes.iter().position(|c| c == name) {
            return i;
        }
        self.classes.push(name.to_owned());
        for row in &mut self.confusion {
            row.push(0);
        }
        self.confusion.push(vec![0; self.classes.len()]);
        self.classes.len() - 1
    }

    fn count(&mut self, truth: &str, predicted: &str) {
        let (t, p) = (self.class(truth), self.class(predicted));
        self.confusion[t][p] += 1;
    }

    fn sort(&mut self) {
        let mut order: Vec<usize> = (0..self.classes.len()).collect();
        order.sort_by(|a, b| self.classes[*a].cmp(&self.classes[*b]));
        self.classes = order.iter().map(|i| self.classes[*i].clone()).collect();
        self.confusion = order
            .iter()
            .map(|t| order.iter().map(|p| self.confusion[*t][*p]).collect())
            .collect();
    }

    pub fn figures(&self, class: usize) -> ClassFigures {
        let tp = self.confusion[class][class];
        let support: usize = self.confusion[class].iter().sum();
        let predicted: usize = self.confusion.iter().map(|row| row[class]).sum();
        let (precision, recall) = (ratio(tp, predicted), ratio(tp, support));
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        ClassFigures {
            precision,
            recall,
            f1,
            support,
        }
    }

    /// The mean F1 of the classes that have test appeals.
    pub fn macro_f1(&self) -> f64 {
        let f1s: Vec<f64> = (0..self.classes.len())
            .map(|c| self.figures(c))
            .filter(|f| f.support > 0)
            .map(|f| f.f1)
            .collect();
        if f1s.is_empty() {
            0.0
        } else {
            f1s.iter().sum::<f64>() / f1s.len() as f64
        }
    }

    pub fn accuracy(&self) -> f64 {
        let right: usize = (0..self.classes.len()).map(|c| self.confusion[c][c]).sum();
        let all: usize = self.confusion.iter().flatten().sum();
        ratio(right, all)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "class\tprecision\trecall\tf1\tsupport")?;
        for (c, name) in self.classes.iter().enumerate() {
            let x = self.figures(c);
            writeln!(
                f,
                "{name}\t{:.4}\t{:.4}\t{:.4}\t{}",
                x.precision, x.recall, x.f1, x.support
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "confusion (rows: true class, columns: predicted, in the order above)"
        )?;
        for (c, row) in self.confusion.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(ToString::to_string).collect();
            writeln!(f, "{}\t{}", self.classes[c], cells.join("\t"))?;
        }
        writeln!(f)?;
        writeln!(f, "accuracy: {:.4}", self.accuracy())?;
        write!(f, "macro_f1: {:.4}", self.macro_f1())
    }
}

/// Stratified k-fold cross-validation: each fold is predicted by a model trained on the others.
pub fn cross_validate(
    examples: &[Example],
    tree: &[CategoryPath],
    k: usize,
    settings: &Settings,
) -> Result<Report, ModelError> {
    if k < 2 {
        return Err(ModelError::Data("--folds must be at least 2".into()));
    }
    let folds = stratified_folds(examples, k, settings.seed);
    let mut report = Report::new();
    for fold in 0..k {
        let (train, test) = split(examples, &folds, fold);
        let model = Model::train(&train, tree, settings)?;
        for e in &test {
            report.count(&e.category, model.classify(&e.title, &e.detail).category());
        }
    }
    report.sort();
    Ok(report)
}

/// Trains on `train` and tests on `test` (a class the training data lacks counts as missed).
pub fn train_test(
    train: &[Example],
    test: &[Example],
    tree: &[CategoryPath],
    settings: &Settings,
) -> Result<Report, ModelError> {
    let model = Model::train(train, tree, settings)?;
    Ok(test_model(&model, test))
}

/// How `model` does on `test`.
pub fn test_model(model: &Model, test: &[Example]) -> Report {
    report_of(
        test,
        test.iter()
            .map(|e| model.classify(&e.title, &e.detail).category().to_owned()),
    )
}

/// The report of the `predicted` classes of `test`, in order.
pub fn report_of<S: AsRef<str>>(
    test: &[Example],
    predicted: impl IntoIterator<Item = S>,
) -> Report {
    let mut report = Report::new();
    for (e, p) in test.iter().zip(predicted) {
        report.count(&e.category, p.as_ref());
    }
    report.sort();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(category: &str, n: usize) -> Vec<Example> {
        (0..n)
            .map(|i| Example {
                title: format!("{category}{i}"),
                detail: String::new(),
                category: category.to_owned(),
            })
            .collect()
    }

    #[test]
    fn folds_are_stratified_and_seeded() {
        let mut all = ex("甲", 10);
        all.extend(ex("乙", 5));
        let folds = stratified_folds(&all, 5, 7);
        for k in 0..5 {
            let (_, test) = split(&all, &folds, k);
            assert_eq!(test.iter().filter(|e| e.category == "甲").count(), 2);
            assert_eq!(test.iter().filter(|e| e.category == "乙").count(), 1);
        }
        assert_eq!(folds, stratified_folds(&all, 5, 7), "same seed, same folds");
        assert_ne!(folds, stratified_folds(&all, 5, 8));
    }

    #[test]
    fn figures_by_hand() {
        // 甲: 3 true, 2 found, 1 乙 taken for 甲. 乙: 2 true, 1 found.
        let mut r = Report::new();
        for (t, p) in [
            ("甲", "甲"),
            ("甲", "甲"),
            ("甲", "乙"),
            ("乙", "乙"),
            ("乙", "甲"),
        ] {
            r.count(t, p);
        }
        r.sort();
        assert_eq!(r.classes, ["乙", "甲"], "in code point order");
        let a = r.figures(1);
        assert!((a.precision - 2.0 / 3.0).abs() < 1e-9);
        assert!((a.recall - 2.0 / 3.0).abs() < 1e-9);
        let b = r.figures(0);
        assert!((b.precision - 0.5).abs() < 1e-9 && (b.recall - 0.5).abs() < 1e-9);
        assert!((r.macro_f1() - (2.0 / 3.0 + 0.5) / 2.0).abs() < 1e-9);
        assert!(r.to_string().ends_with("macro_f1: 0.5833"));
    }
}
