//! Errors: every crate says *what* went wrong as an [`ErrorCode`]; this module alone says which
//! HTTP status that is and how the body looks: `{"error": {"code", "message", "field"}}`.
//! Unexpected failures become an opaque 500 whose cause chain goes to the log, never to the client.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// The stable, documented error codes of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::EnumIter)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not well-formed JSON or form data.
    MalformedBody,
    /// A field is missing, unknown, of the wrong type, or its value is refused.
    InvalidField,
    /// The body is larger than the route accepts.
    PayloadTooLarge,
    /// The Content-Type is not one the route accepts.
    UnsupportedMediaType,
    /// No valid session or token.
    Unauthenticated,
    /// Signed in, but the role may not do this.
    Forbidden,
    /// The CSRF token is missing or wrong.
    CsrfRejected,
    /// The account is locked after repeated failed logins.
    AccountLocked,
    /// Nothing here, or nothing this caller may see.
    NotFound,
    /// The ticket's state does not allow the action.
    InvalidTransition,
    /// The ticket changed since the caller read it.
    VersionConflict,
    /// Another user has claimed the ticket; `details.claimed_by` names them.
    Claimed,
    /// A unique value is already taken.
    AlreadyExists,
    TooManyRequests,
    /// A dependency (the database) is unavailable.
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The one table from error code to HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Self::MalformedBody => StatusCode::BAD_REQUEST,
            Self::InvalidField => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::CsrfRejected => StatusCode::FORBIDDEN,
            Self::AccountLocked => StatusCode::LOCKED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::InvalidTransition
            | Self::VersionConflict
            | Self::Claimed
            | Self::AlreadyExists => StatusCode::CONFLICT,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Implemented by each crate's error enum.
pub trait HasErrorCode: std::error::Error {
    fn code(&self) -> ErrorCode;
    /// The request field the error is about, when there is one.
    fn field(&self) -> Option<&str> {
        None
    }
    /// Extra machine-readable facts (e.g. the current status and version on a conflict).
    fn details(&self) -> Option<serde_json::Value> {
        None
    }
}

/// The error every handler returns. Built from any crate error via [`HasErrorCode`].
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    pub details: Option<serde_json::Value>,
    /// What went wrong inside, for the log; never shown to the client.
    pub cause: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable code such as `invalid_field`, `not_found`, `invalid_transition`.
    pub code: String,
    pub message: String,
    /// The request field the error is about (dotted path for nested values).
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            details: None,
            cause: None,
        }
    }

    pub fn field(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::new(code, message)
        }
    }

    /// A 422 naming the field and why its value is refused.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::field(ErrorCode::InvalidField, field, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, "sign in first")
    }

    /// An unexpected failure: the client sees only "internal error"; the cause is logged.
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self {
            cause: Some(cause.to_string()),
            ..Self::new(ErrorCode::Internal, "internal error")
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str().to_owned(),
                message: self.message.clone(),
                field: self.field.clone(),
                details: self.details.clone(),
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)?;
        if let Some(cause) = &self.cause {
            write!(f, " ({cause})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl<E: HasErrorCode> From<E> for ApiError {
    fn from(e: E) -> Self {
        let code = e.code();
        let mut chain = String::new();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        if code == ErrorCode::Internal || code == ErrorCode::Unavailable {
            let message = if code == ErrorCode::Internal {
                "internal error"
            } else {
                "service unavailable"
            };
            return Self {
                cause: Some(format!("{e}{chain}")),
                ..Self::new(code, message)
            };
        }
        Self {
            code,
            message: e.to_string(),
            field: e.field().map(str::to_owned),
            details: e.details(),
            cause: None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(cause) = &self.cause {
            tracing::error!(code = self.code.as_str(), cause = %cause, "request failed");
        }
        let mut res = HttpResponse::build(self.status_code());
        if self.code == ErrorCode::TooManyRequests
            && let Some(secs) = self
                .details
                .as_ref()
                .and_then(|d| d.get("retry_after"))
                .and_then(serde_json::Value::as_u64)
        {
            res.insert_header((actix_web::http::header::RETRY_AFTER, secs.to_string()));
        }
        res.json(self.body())
    }
}

impl HasErrorCode for crate::ticket::TransitionError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidState { .. } => ErrorCode::InvalidTransition,
            Self::Forbidden { .. } => ErrorCode::Forbidden,
            Self::Invalid { .. } => ErrorCode::InvalidField,
            Self::Claimed { .. } => ErrorCode::Claimed,
            Self::ClaimState { .. } => ErrorCode::InvalidTransition,
            Self::ClaimForbidden { .. } => ErrorCode::Forbidden,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    fn details(&self) -> Option<serde_json::Value> {
        match self {
            Self::InvalidState { action, status, .. } => Some(serde_json::json!({
                "status": status,
                "action": action,
            })),
            Self::Claimed { holder, version } => Some(serde_json::json!({
                "version": version,
                "claimed_by": {"id": holder},
            })),
            Self::ClaimState { status, .. } => Some(serde_json::json!({ "status": status })),
            _ => None,
        }
    }
}
