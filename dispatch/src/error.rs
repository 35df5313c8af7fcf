//! What can go wrong in dispatch, said as error codes (core maps them to HTTP statuses).

use hotline_core::StoreError;
use hotline_core::error::{ErrorCode, HasErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// A field of a request is refused; `field` names it (`keywords[2]`, `unit_id`).
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("the rule changed meanwhile: it is now at version {current}")]
    VersionConflict { current: i32 },
    #[error("the classifier model cannot be loaded: {0}")]
    Model(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DispatchError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<diesel::result::Error> for DispatchError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(e.into())
    }
}

impl HasErrorCode for DispatchError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid { .. } => ErrorCode::InvalidField,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::VersionConflict { .. } => ErrorCode::VersionConflict,
            Self::Model(_) => ErrorCode::Internal,
            Self::Store(e) => e.code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            Self::Store(e) => e.field(),
            _ => None,
        }
    }

    fn details(&self) -> Option<serde_json::Value> {
        match self {
            Self::VersionConflict { current } => Some(serde_json::json!({ "version": current })),
            Self::Store(e) => e.details(),
            _ => None,
        }
    }
}
