//! The JSON API under `/api/v1`, one module per resource.

pub mod actions;
pub mod analytics;
pub mod auth;
pub mod catalogue;
pub mod claims;
pub mod dispatch;
pub mod events;
pub mod knowledge;
pub mod ops;
pub mod queues;
pub mod robot;
pub mod tickets;
pub mod time_rules;
pub mod users;

use actix_web::web;
use hotline_core::ApiError;
use hotline_core::domain::text::BoundedText;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .configure(auth::configure)
            .configure(analytics::configure)
            .configure(tickets::configure)
            .configure(queues::configure)
            .configure(time_rules::configure)
            .configure(actions::configure)
            .configure(claims::configure)
            .configure(events::configure)
            .configure(catalogue::configure)
            .configure(dispatch::configure)
            .configure(knowledge::configure)
            .configure(robot::configure)
            .configure(users::configure),
    )
    .configure(ops::configure);
}

/// Validates a required text field, naming it in the error.
pub fn text<const MAX: usize>(field: &str, value: &str) -> Result<BoundedText<MAX>, ApiError> {
    BoundedText::parse(value).map_err(|reason| ApiError::invalid(field, reason))
}

/// Validates an optional text field; blank counts as absent.
pub fn opt_text<const MAX: usize>(
    field: &str,
    value: Option<&str>,
) -> Result<Option<BoundedText<MAX>>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v).map(Some),
    }
}
