//! `multipart/form-data` with files: the citizen portal's forms (read from the network with
//! [`read_multipart`]) and the app API's signed uploads (parsed from the body already read, with
//! [`parse_multipart`]). Text parts become [`FormFields`]; file parts become [`Upload`]s. Every
//! limit refuses as soon as it is passed, without reading on: the declared length (413), the
//! whole body (413), the text parts together (413), one file (422) and the number of files (422).

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpMessage, HttpRequest, mime};
use futures_util::{Stream, StreamExt};
use hotline_core::ApiError;
use hotline_core::error::ErrorCode;
use hotline_core::http::FormFields;

use super::content::MAX_FILE_BYTES;
use crate::error::IntakeError;

/// At most this many files in one request (and one appeal).
pub const MAX_FILES: usize = 9;
/// The text parts together at most (64 KiB).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// The largest multipart body: nine whole files, the text parts and the framing around them.
pub const MAX_BODY_BYTES: usize = MAX_FILES * MAX_FILE_BYTES + MAX_TEXT_BYTES + 64 * 1024;
/// At most this many parts of any kind.
const MAX_PARTS: usize = 64;

/// An uploaded file, by the name of its part. The file name the client sent is not kept.
#[derive(Debug, Clone)]
pub struct Upload {
    pub field: String,
    pub bytes: Bytes,
}

/// A parsed multipart form.
#[derive(Debug, Clone, Default)]
pub struct MultipartForm {
    pub fields: FormFields,
    pub files: Vec<Upload>,
}

/// Whether the request says it is `multipart/form-data`.
pub fn is_multipart(req: &HttpRequest) -> bool {
    req.content_type()
        .eq_ignore_ascii_case("multipart/form-data")
}

fn too_large(what: &str, limit: usize) -> IntakeError {
    IntakeError::Api(ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("{what} must be at most {limit} bytes"),
    ))
}

fn malformed(e: impl std::fmt::Display) -> IntakeError {
    IntakeError::Api(ApiError::new(
        ErrorCode::MalformedBody,
        format!("malformed multipart body: {e}"),
    ))
}

fn refused(e: MultipartError) -> IntakeError {
    match e {
        MultipartError::Payload(PayloadError::Overflow) => too_large("the body", MAX_BODY_BYTES),
        e => malformed(e),
    }
}

/// Reads a `multipart/form-data` request (415 for another type). A part is a file when it
/// carries a file name or its name is one of `file_fields`; a browser's empty file input (no
/// name, no bytes) is skipped.
pub async fn read_multipart(
    req: &HttpRequest,
    payload: Payload,
    file_fields: &[&str],
) -> Result<MultipartForm, IntakeError> {
    if !is_multipart(req) {
        return Err(IntakeError::Api(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the form as multipart/form-data",
        )));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large("the body", MAX_BODY_BYTES));
    }
    let mut total = 0usize;
    let counted = payload.map(move |chunk| {
        let chunk = chunk?;
        total += chunk.len();
        if total > MAX_BODY_BYTES {
            Err(PayloadError::Overflow)
        } else {
            Ok(chunk)
        }
    });
    parse(req.headers(), counted, file_fields).await
}

/// Parses a whole `multipart/form-data` body already read (a signed request, whose signature
/// covers the raw bytes), with the headers it came with.
pub async fn parse_multipart(
    headers: &HeaderMap,
    body: Bytes,
    file_fields: &[&str],
) -> Result<MultipartForm, IntakeError> {
    let stream = futures_util::stream::once(async move { Ok::<_, PayloadError>(body) });
    parse(headers, stream, file_fields).await
}

async fn parse<S>(
    headers: &HeaderMap,
    stream: S,
    file_fields: &[&str],
) -> Result<MultipartForm, IntakeError>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + 'static,
{
    let form_data = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.type_() == mime::MULTIPART && m.subtype() == mime::FORM_DATA);
    if !form_data {
        return Err(IntakeError::Api(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the form as multipart/form-data",
        )));
    }
    let mut multipart = Multipart::new(headers, stream);
    let mut text = Vec::new();
    let mut text_bytes = 0usize;
    let mut files = Vec::new();
    let mut parts = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(refused)?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(malformed(format!("more than {MAX_PARTS} parts")));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(malformed("every part needs a name of 1 to 100 characters"));
        }
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        if file_name.is_some() || file_fields.contains(&name.as_str()) {
            let bytes = collect(&mut field, MAX_FILE_BYTES, || {
                IntakeError::invalid(
                    &name,
                    format!("a file may be at most 10 MiB ({MAX_FILE_BYTES} bytes)"),
                )
            })
            .await?;
            if bytes.is_empty() && file_name.as_deref().is_some_and(str::is_empty) {
                continue; // a file input left empty
            }
            if files.len() == MAX_FILES {
                return Err(IntakeError::invalid(
                    &name,
                    format!("at most {MAX_FILES} files in one appeal"),
                ));
            }
            files.push(Upload { field: name, bytes });
        } else {
            let bytes = collect(&mut field, MAX_TEXT_BYTES - text_bytes, || {
                too_large("the text parts together", MAX_TEXT_BYTES)
            })
            .await?;
            text_bytes += bytes.len();
            let value = String::from_utf8(bytes.to_vec())
                .map_err(|_| IntakeError::invalid(&name, "must be UTF-8 text"))?;
            text.push((name, value));
        }
    }
    Ok(MultipartForm {
        fields: text.into_iter().collect(),
        files,
    })
}

/// A part's bytes, refused with `over()` as soon as they pass `limit`.
async fn collect(
    field: &mut Field,
    limit: usize,
    over: impl FnOnce() -> IntakeError,
) -> Result<Bytes, IntakeError> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(refused)?;
        if buf.len() + chunk.len() > limit {
            return Err(over());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    pub(crate) fn body(parts: &[(&str, Option<&str>, &[u8])]) -> (HeaderMap, Bytes) {
        let boundary = "XyZzY-boundary-1234";
        let mut b = Vec::new();
        for (name, file, bytes) in parts {
            b.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => b.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                ),
                None => b.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            b.extend_from_slice(bytes);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}")).unwrap(),
        );
        (h, Bytes::from(b))
    }

    #[tokio::test]
    async fn text_and_files() {
        let (h, b) = body(&[
            ("title", None, "路灯不亮".as_bytes()),
            ("co", None, b"a"),
            ("co", None, b"b"),
            ("photo", Some("a.jpg"), b"\xff\xd8\xff"),
            ("audio", None, b"#!AMR\n"),
            ("photo", Some(""), b""),
        ]);
        let form = parse_multipart(&h, b, &["audio"]).await.unwrap();
        assert_eq!(form.fields.one("title"), Some("路灯不亮"));
        assert_eq!(form.fields.all("co"), vec!["a", "b"]);
        let names: Vec<_> = form.files.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, vec!["photo", "audio"]);
        assert_eq!(&form.files[1].bytes[..], b"#!AMR\n");
    }

    #[tokio::test]
    async fn limits() {
        let code = |e: IntakeError| ApiError::from(e).code;
        let ten: Vec<(&str, Option<&str>, &[u8])> = (0..10)
            .map(|_| ("photo", Some("p.jpg"), &b"x"[..]))
            .collect();
        let (h, b) = body(&ten);
        let e = parse_multipart(&h, b, &[]).await.unwrap_err();
        assert!(
            matches!(&e, IntakeError::Invalid { field, .. } if field == "photo"),
            "{e}"
        );
        let big = vec![0u8; MAX_FILE_BYTES + 1];
        let (h, b) = body(&[("photo", Some("p.jpg"), &big)]);
        let e = parse_multipart(&h, b, &[]).await.unwrap_err();
        assert_eq!(code(e), ErrorCode::InvalidField);
        let text = vec![b'a'; MAX_TEXT_BYTES + 1];
        let (h, b) = body(&[("detail", None, &text)]);
        let e = parse_multipart(&h, b, &[]).await.unwrap_err();
        assert_eq!(code(e), ErrorCode::PayloadTooLarge);
        let (h, b) = body(&[("detail", None, b"\xff\xfe")]);
        let e = parse_multipart(&h, b, &[]).await.unwrap_err();
        assert_eq!(code(e), ErrorCode::InvalidField);
        let (_, b) = body(&[("detail", None, b"x")]);
        let e = parse_multipart(&HeaderMap::new(), b, &[])
            .await
            .unwrap_err();
        assert_eq!(code(e), ErrorCode::UnsupportedMediaType);
        let (h, _) = body(&[]);
        let e = parse_multipart(&h, Bytes::from_static(b"--nope\r\n\r\n"), &[])
            .await
            .unwrap_err();
        assert_eq!(code(e), ErrorCode::MalformedBody);
    }
}
