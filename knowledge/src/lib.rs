//! hotline-knowledge: the knowledge base: articles with their versions and review workflow,
//! the search (analysis, engines, evaluation, the keeper that holds an engine current), and the
//! demo articles.

pub mod analyze;
pub mod article;
pub mod demo;
pub mod diff;
pub mod embedded;
pub mod engine;
pub mod error;
pub mod eval;
pub mod keeper;
pub mod markdown;
pub mod meili;
pub mod robot;
pub mod schema;
pub mod snippet;
pub mod store;
pub mod workflow;
