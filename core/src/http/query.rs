//! `ApiQuery<T>` and `ApiForm<T>`: query strings and urlencoded forms whose refusals name the
//! field, like `ApiJson`.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct ApiQuery<T>(pub T);

impl<T> std::ops::Deref for ApiQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn field_in(message: &str) -> Option<&str> {
    for prefix in ["missing field `", "unknown field `", "duplicate field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return rest.split('`').next();
        }
    }
    None
}

/// Parses `a=1&b=x` text into `T`, naming the field at fault.
pub fn parse_urlencoded<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(text.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = match (path.as_str(), field_in(&message)) {
            (".", Some(f)) => f.to_owned(),
            (".", None) => "query".to_owned(),
            (p, _) => p.to_owned(),
        };
        ApiError::invalid(field, message)
    })
}

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_urlencoded(req.query_string()).map(ApiQuery))
    }
}
