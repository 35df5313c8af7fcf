//! hotline-knowledge: the knowledge base's search (analysis, engines, evaluation) and its demo
//! articles.

pub mod analyze;
pub mod demo;
pub mod embedded;
pub mod engine;
pub mod eval;
pub mod markdown;
pub mod snippet;
