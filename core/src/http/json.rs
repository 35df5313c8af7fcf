//! `ApiJson<T>`: a JSON body extractor whose every refusal is a 4xx that names the field.
//! Wrong Content-Type → 415; too large → 413; not JSON → 400 `malformed_body`; missing, unknown
//! or mistyped fields → 422 `invalid_field` with the field's path (`co_unit_ids[1]`).

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web::BytesMut};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// The largest JSON body a route accepts (app data; default 64 KiB).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

impl Default for BodyLimit {
    fn default() -> Self {
        Self(64 * 1024)
    }
}

pub struct ApiJson<T>(pub T);

/// Pulls the field name out of serde's messages ("missing field `title`", "unknown field `x`…").
fn field_in_message(message: &str) -> Option<&str> {
    for prefix in ["missing field `", "unknown field `", "duplicate field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return rest.split('`').next();
        }
    }
    None
}

fn join_path(path: &str, field: Option<&str>) -> String {
    let path = if path == "." { "" } else { path };
    // For an unknown field the path already ends at the field itself.
    let field = field.filter(|f| path != *f && !path.ends_with(&format!(".{f}")));
    match (path.is_empty(), field) {
        (true, Some(f)) => f.to_owned(),
        (false, Some(f)) => format!("{path}.{f}"),
        (false, None) => path.to_owned(),
        (true, None) => "body".to_owned(),
    }
}

/// Turns a deserialization failure into the API's error.
pub fn deserialize_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let message = inner.to_string();
    match inner.classify() {
        serde_json::error::Category::Data => {
            // serde's message ends with " at line L column C": useless for a field error.
            let clean = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m);
            let field = join_path(&path, field_in_message(clean));
            ApiError::invalid(field, clean.to_owned())
        }
        _ => ApiError::new(
            ErrorCode::MalformedBody,
            format!("malformed JSON: {message}"),
        ),
    }
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(deserialize_error)?;
    de.end()
        .map_err(|e| ApiError::new(ErrorCode::MalformedBody, format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// The app's body limit and the length the request declares.
pub fn body_limits(req: &HttpRequest) -> (usize, Option<usize>) {
    let limit = req.app_data::<BodyLimit>().copied().unwrap_or_default().0;
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    (limit, declared)
}

/// Reads a whole body of at most `limit` bytes: 413 beyond, before reading when the declared
/// length already says so.
pub async fn read_body(
    mut payload: Payload,
    limit: usize,
    declared: Option<usize>,
) -> Result<BytesMut, ApiError> {
    let too_large = || {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body must be at most {limit} bytes"),
        )
    };
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(ErrorCode::MalformedBody, format!("cannot read body: {e}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (limit, declared) = body_limits(req);
        let json = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
        let payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "send the body as Content-Type: application/json",
                ));
            }
            let body = read_body(payload, limit, declared).await?;
            parse_json(&body).map(ApiJson)
        })
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        days: u32,
        units: Option<Vec<u32>>,
    }

    fn field_of(json: &str) -> (ErrorCode, Option<String>) {
        let e = parse_json::<Body>(json.as_bytes()).unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn every_refusal_names_the_field() {
        assert_eq!(
            field_of(r#"{"days": 1}"#),
            (ErrorCode::InvalidField, Some("title".into()))
        );
        assert_eq!(
            field_of(r#"{"title": "a", "days": 1, "extra": 2}"#),
            (ErrorCode::InvalidField, Some("extra".into()))
        );
        assert_eq!(
            field_of(r#"{"title": 5, "days": 1}"#),
            (ErrorCode::InvalidField, Some("title".into()))
        );
        assert_eq!(
            field_of(r#"{"title": "a", "days": -1}"#),
            (ErrorCode::InvalidField, Some("days".into()))
        );
        assert_eq!(
            field_of(r#"{"title": "a", "days": 1, "units": [1, "x"]}"#),
            (ErrorCode::InvalidField, Some("units[1]".into()))
        );
        assert_eq!(
            field_of(r#""text""#),
            (ErrorCode::InvalidField, Some("body".into()))
        );
        // serde reads a struct from an array too, so the first element is what is wrong.
        assert_eq!(
            field_of(r#"[1]"#),
            (ErrorCode::InvalidField, Some("[0]".into()))
        );
        assert_eq!(field_of(r#"{"title": "#).0, ErrorCode::MalformedBody);
        assert_eq!(
            field_of(r#"{"title": "a", "days": 1} x"#).0,
            ErrorCode::MalformedBody
        );
    }
}
