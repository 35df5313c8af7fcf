//! hotline-dispatch: where a ticket goes and when. The category classifier (appeal text → the
//! first-level category, calibrated and explained, trained on real appeals and the official
//! category tree; `hotline train/eval dispatch`), the routing rules, the places of appeals
//! (gazetteer and GeoJSON areas), and the suggestion that puts them together. The durable
//! scheduler (`scheduler`): deadline warnings, overdue supervision, return-visit reminders and the
//! daily digest, exactly once across nodes. E-mail notices (`mail`): an outbox written with the
//! event, sent through lettre.

pub mod error;
pub mod eval;
pub mod features;
pub mod logistic;
pub mod mail;
pub mod model;
pub mod places;
pub mod prior;
pub mod routing;
pub mod scheduler;
pub mod schema;
pub mod settings;
pub mod svm;
mod training;

pub use error::DispatchError;
pub use mail::{MailConfig, Notices};
pub use model::{Example, Model, ModelError, Suggestion};
pub use prior::CategoryPath;
pub use settings::{Family, Settings};

/// The hook that keeps each ticket's due work and notices in its command's transaction.
pub fn ticket_hook(
    time: hotline_core::clock::TimeRules,
    notices: Option<std::sync::Arc<mail::Notices>>,
) -> std::sync::Arc<dyn hotline_core::hooks::EventHook> {
    std::sync::Arc::new(scheduler::hook::TicketHook { time, notices })
}
