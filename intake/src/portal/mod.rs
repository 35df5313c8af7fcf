//! The citizen portal (Simplified Chinese, phone first): lodge an appeal with photos and an optional
//! position, get a receipt with the ticket number and the query code, follow the appeal by number +
//! code, rate the reply (不满意 sends it back for redo), withdraw it before dispatch, and exercise
//! the data rights (see, correct contact details, ask for deletion). Care mode (large type, high
//! contrast) is remembered in a cookie.
//!
//! There is no session: a citizen proves a ticket is theirs with its number and query code, sent
//! again with every form and checked every time (in constant time; a wrong pair gets one generic
//! answer, whatever was wrong). Every POST must come from this site (`Origin`), and is rate-limited
//! per address. Pages run only the portal's own script file (`script-src 'self'`, no inline script
//! or handlers) and every citizen's text is escaped by the templates.

mod appeal;
pub mod page;
pub mod timeline;
mod track;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

pub use page::{CARE_COOKIE, CSP};

/// The largest appeal form: nine photos of 10 MiB each, plus the text fields (64 KiB) and the
/// multipart framing (64 KiB). Enforced while reading, before anything is parsed.
pub const APPEAL_BODY_LIMIT: usize = crate::attachments::multipart::MAX_BODY_BYTES;
/// The largest of the portal's other forms (tracking, rating, contact details).
pub const SMALL_BODY_LIMIT: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/portal", web::get().to(page::home))
        .route("/portal/", web::get().to(to_home))
        .service(
            web::resource("/portal/appeal")
                .route(web::get().to(appeal::form))
                .route(web::post().to(appeal::submit)),
        )
        .service(
            web::resource("/portal/track")
                .route(web::get().to(track::form))
                .route(web::post().to(track::show)),
        )
        .route("/portal/track/{action}", web::post().to(track::act))
        .route("/portal/care", web::post().to(page::care))
        .route("/portal/static/{file}", web::get().to(static_file));
}

async fn to_home() -> HttpResponse {
    page::see_other("/portal")
}

const SCRIPT: &str = include_str!("static/portal.js");
const STYLE: &str = include_str!("static/portal.css");

/// The portal's script and style, shipped inside the binary.
async fn static_file(req: HttpRequest, file: web::Path<String>) -> HttpResponse {
    let (body, content_type) = match file.as_str() {
        "portal.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        "portal.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return page::not_found(&req),
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}
