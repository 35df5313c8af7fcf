//! What can go wrong at the door, said as error codes (core maps them to HTTP statuses).

use hotline_core::error::ErrorCode;
use hotline_core::workflow::WorkflowError;
use hotline_core::{ApiError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// A field of the appeal is refused.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The same Idempotency-Key came with a different request.
    #[error("this Idempotency-Key was used for a different request")]
    KeyReused,
    /// The request's signature, timestamp or nonce is not acceptable.
    #[error("{0}")]
    Unsigned(&'static str),
    #[error("too many requests: retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("intake is not configured: {0}")]
    NotConfigured(String),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<StoreError> for IntakeError {
    fn from(e: StoreError) -> Self {
        Self::Workflow(e.into())
    }
}

impl From<diesel::result::Error> for IntakeError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Workflow(e.into())
    }
}

impl IntakeError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Invalid { field, reason } => ApiError::invalid(field, reason),
            IntakeError::KeyReused => ApiError::field(
                ErrorCode::InvalidField,
                "Idempotency-Key",
                "this key was used for a different request",
            ),
            IntakeError::Unsigned(why) => ApiError::new(ErrorCode::Unauthenticated, why),
            IntakeError::RateLimited { retry_after_secs } => ApiError::new(
                ErrorCode::TooManyRequests,
                format!("too many requests: retry after {retry_after_secs} s"),
            )
            .with_details(serde_json::json!({ "retry_after": retry_after_secs })),
            IntakeError::NotConfigured(why) => ApiError::new(
                ErrorCode::Unavailable,
                format!("intake is not configured: {why}"),
            ),
            IntakeError::Workflow(w) => w.into(),
            IntakeError::Api(a) => a,
        }
    }
}
