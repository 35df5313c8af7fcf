//! What the live pages share: their script (`/static/live.js`, this site's only staff script,
//! allowed by the pages' CSP) and the sequence number a page's data is as of, from which the script
//! resumes the event stream so nothing committed after the page was read goes unnoticed.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use hotline_core::ApiError;
use hotline_core::http::{Caller, FormFields, PageError};
use hotline_core::store::events;
use hotline_core::workflow::Hotline;

use super::OrPage;

const SCRIPT: &str = include_str!("static/live.js");

/// The script's ETag: a hash of its text (fixed keys, so every node of a build agrees), so any
/// change to it is a new tag.
static ETAG: LazyLock<String> = LazyLock::new(|| {
    let mut h = DefaultHasher::new();
    SCRIPT.hash(&mut h);
    format!("\"{:016x}\"", h.finish())
});

/// `GET /static/live.js`. Revalidated on each page load (`no-cache` with an ETag of this
/// build), so a new release's script is never mixed with an old one's pages.
pub async fn script(req: HttpRequest) -> HttpResponse {
    let etag = ETAG.as_str();
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag);
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::ETAG, etag))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if fresh {
        res.finish()
    } else {
        res.body(SCRIPT)
    }
}

/// The last sequence number given out, read before the page's data: the script resumes after
/// it, so an event committed while the page was being rendered still refreshes it.
pub async fn seq(hotline: &Hotline) -> Result<i64, ApiError> {
    let seq: Result<i64, hotline_core::StoreError> = hotline.db.run(events::last_seq).await;
    Ok(seq?)
}

/// What a live page does first: refuses a caller it is not for (403 naming `why`), and reads the
/// page's query and the sequence number its data is as of.
pub async fn open(
    req: &HttpRequest,
    hotline: &Hotline,
    caller: &Caller,
    allowed: bool,
    why: &str,
) -> Result<(FormFields, i64), PageError> {
    if !allowed {
        return Err(ApiError::forbidden(why)).or_page(caller);
    }
    let q = FormFields::parse(req.query_string().as_bytes());
    let seq = seq(hotline).await.or_page(caller)?;
    Ok((q, seq))
}
