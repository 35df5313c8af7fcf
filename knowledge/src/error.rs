//! What can go wrong in the knowledge base, said as error codes (core maps them to HTTP statuses).

use hotline_core::StoreError;
use hotline_core::error::{ErrorCode, HasErrorCode};

use crate::engine::SearchError;
use crate::workflow::WorkflowError;

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    /// A field of a request is refused; `field` names it (`title`, `tags[2]`).
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("the article changed meanwhile: it is now at version {current}")]
    VersionConflict { current: i32 },
    #[error("{0}")]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl KnowledgeError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<diesel::result::Error> for KnowledgeError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(e.into())
    }
}

impl HasErrorCode for KnowledgeError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid { .. } => ErrorCode::InvalidField,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Forbidden(_) | Self::Workflow(WorkflowError::NotAllowed(_)) => {
                ErrorCode::Forbidden
            }
            Self::Workflow(WorkflowError::WrongState { .. }) => ErrorCode::InvalidTransition,
            Self::VersionConflict { .. } => ErrorCode::VersionConflict,
            Self::Search(SearchError::Unavailable(_)) => ErrorCode::Unavailable,
            Self::Search(SearchError::Index(_)) => ErrorCode::Internal,
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
