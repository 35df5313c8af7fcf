//! hotline-dispatch: where a ticket goes. So far the category classifier: appeal text → the
//! first-level category, with a calibrated confidence and the terms that weighed most, trained
//! on real appeals and the official category tree (`hotline train dispatch`) and evaluated by
//! stratified cross-validation (`hotline eval dispatch`).

pub mod eval;
pub mod features;
pub mod logistic;
pub mod model;
pub mod prior;
pub mod settings;
pub mod svm;
mod training;

pub use model::{Example, Model, ModelError, Suggestion};
pub use prior::CategoryPath;
pub use settings::{Family, Settings};
