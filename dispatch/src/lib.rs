//! hotline-dispatch: where a ticket goes. So far the category classifier: appeal text → the
//! first-level category, with a calibrated confidence and the terms that weighed most, trained
//! on real appeals (`hotline train dispatch`) and evaluated by stratified cross-validation
//! (`hotline eval dispatch`).

pub mod eval;
pub mod features;
pub mod model;
pub mod svm;

pub use model::{Example, Model, ModelError, Suggestion};
pub use svm::Settings;
