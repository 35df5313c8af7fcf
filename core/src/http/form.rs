//! Page forms (`application/x-www-form-urlencoded`). `CsrfForm` is for signed-in users: it
//! requires the session and checks the form's `csrf_token` against it (a 403 page otherwise).
//! `PublicForm` is for the one form that comes before a session, the login. Both respect the app's
//! `BodyLimit` and hand the handler the fields as a multimap: a multi-select sends its name once
//! per chosen option.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};
use crate::http::caller::Caller;
use crate::http::json::{body_limits, read_body};
use crate::http::page::{PageCaller, PageError};
use crate::http::query::parse_urlencoded;

/// The field every signed-in form carries.
pub const CSRF_FIELD: &str = "csrf_token";

/// The fields of a submitted form, in the order sent.
#[derive(Debug, Clone, Default)]
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub fn parse(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`; None when absent or blank (an empty input or an unchosen select).
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    /// Every non-blank value of `name`, in order (multi-selects, checkbox groups).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Every pair as sent, blanks included.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Reads the non-blank fields, except those named in `skip`, into `T` the way a query string
    /// is read (so the error names the field at fault). Blank fields count as absent.
    pub fn parse_into<T: DeserializeOwned>(&self, skip: &[&str]) -> Result<T, ApiError> {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if !v.trim().is_empty() && !skip.contains(&k.as_str()) {
                s.append_pair(k, v);
            }
        }
        parse_urlencoded(&s.finish())
    }
}

/// Fields from elsewhere than a urlencoded body (the text parts of a multipart form).
impl FromIterator<(String, String)> for FormFields {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        Self(pairs.into_iter().collect())
    }
}

fn is_urlencoded(req: &HttpRequest) -> bool {
    req.content_type() == "application/x-www-form-urlencoded"
}

fn wrong_type() -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedMediaType,
        "send the form as application/x-www-form-urlencoded",
    )
}

/// A form posted by a signed-in user whose `csrf_token` matched the session.
pub struct CsrfForm {
    pub caller: Caller,
    pub fields: FormFields,
}

impl std::ops::Deref for CsrfForm {
    type Target = FormFields;
    fn deref(&self) -> &FormFields {
        &self.fields
    }
}

impl FromRequest for CsrfForm {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = PageCaller::from_request(req, payload);
        let (limit, declared) = body_limits(req);
        let urlencoded = is_urlencoded(req);
        let payload = payload.take();
        Box::pin(async move {
            let PageCaller(caller) = caller.await?;
            let refuse = |e: ApiError| PageError::new(e).with_user(&caller);
            if !caller.via_cookie {
                return Err(refuse(ApiError::forbidden(
                    "page forms are for browsers signed in with the session cookie",
                )));
            }
            if !urlencoded {
                return Err(refuse(wrong_type()));
            }
            let body = read_body(payload, limit, declared).await.map_err(refuse)?;
            let mut fields = FormFields::parse(&body);
            let sent = fields.one(CSRF_FIELD).unwrap_or_default().to_owned();
            caller.verify_csrf(&sent).map_err(refuse)?;
            fields.0.retain(|(k, _)| k != CSRF_FIELD);
            Ok(Self { caller, fields })
        })
    }
}

/// A form posted without a session (the login form).
pub struct PublicForm(pub FormFields);

impl FromRequest for PublicForm {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (limit, declared) = body_limits(req);
        let urlencoded = is_urlencoded(req);
        let payload = payload.take();
        Box::pin(async move {
            if !urlencoded {
                return Err(PageError::new(wrong_type()));
            }
            let body = read_body(payload, limit, declared).await?;
            Ok(Self(FormFields::parse(&body)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Filter {
        status: Option<String>,
        days: Option<u32>,
    }

    #[test]
    fn multimap_and_blanks() {
        let f = FormFields::parse(b"co=a&co=&co=b&note=+&days=3&csrf_token=x");
        assert_eq!(f.all("co"), vec!["a", "b"]);
        assert_eq!(f.one("note"), None);
        assert_eq!(f.one("days"), Some("3"));
        let parsed: Filter = f.parse_into(&["co", "note", "csrf_token"]).unwrap();
        assert_eq!((parsed.status, parsed.days), (None, Some(3)));
        let e = FormFields::parse(b"days=x")
            .parse_into::<Filter>(&[])
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("days"));
    }
}
