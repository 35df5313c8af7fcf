//! How a model is trained: the model family, its regularisation, and how strongly the official
//! category tree counts.

use serde::{Deserialize, Serialize};

/// The linear model of each class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// One linear SVM per class against the rest (squared hinge loss).
    Svm,
    /// One multinomial logistic regression (softmax over the classes).
    Logistic,
    /// Both, their calibrated log-probabilities added (a product of the two).
    Both,
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub family: Family,
    /// The SVM's cost of a margin violation (larger: fits the training data more closely).
    pub c: f32,
    /// The logistic regression's L2 penalty per example (λ in `λ/2 ‖w‖²` over the mean loss).
    pub lambda: f32,
    /// The size of the category tree's evidence features (0: none); see [`crate::prior`].
    pub prior_scale: f32,
    /// The weight of each of the category tree's names as a training document, against an
    /// appeal of its class (0: the names are not documents).
    pub taxonomy_weight: f32,
    /// Stop when no projected gradient exceeds this.
    pub tolerance: f32,
    pub max_passes: usize,
    /// The seed of the folds and of the training order.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            family: Family::Svm,
            c: 0.1,
            lambda: 1e-3,
            prior_scale: 0.1,
            taxonomy_weight: 2.0,
            tolerance: 0.01,
            max_passes: 1000,
            seed: 12345,
        }
    }
}
