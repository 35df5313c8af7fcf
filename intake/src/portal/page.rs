//! The portal's pages: its own templates (the portal layout, not the staff one) in the shared page
//! environment, the headers every page gets, care mode, the same-site check for POSTs, and error
//! pages in plain words for citizens.

use std::sync::LazyLock;

use actix_web::cookie::time::Duration as CookieAge;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use hotline_core::http::page::is_local_path;
use hotline_core::http::{FormFields, PageEnv, page_text};
use hotline_core::{ApiError, ErrorCode};
use minijinja::{Value, context};
use serde::Serialize;

use crate::error::IntakeError;
use crate::routes::{Intake, client_ip, header as header_value};

/// The Content-Security-Policy of every portal page: scripts and styles only from this site (the
/// portal's own files; inline styles are allowed, inline scripts and event handlers are not),
/// images from here or `data:`, forms only to here, never framed.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'; object-src 'none'";

/// The care-mode cookie (`1`: large type, high contrast).
pub const CARE_COOKIE: &str = "care";
/// Care mode is remembered for 400 days (the longest a browser keeps a cookie).
const CARE_DAYS: i64 = 400;

const TEMPLATES: &[(&str, &str)] = &[
    ("portal/layout.html", include_str!("templates/layout.html")),
    ("portal/home.html", include_str!("templates/home.html")),
    ("portal/appeal.html", include_str!("templates/appeal.html")),
    (
        "portal/receipt.html",
        include_str!("templates/receipt.html"),
    ),
    ("portal/track.html", include_str!("templates/track.html")),
    ("portal/robot.html", include_str!("templates/robot.html")),
    ("portal/error.html", include_str!("templates/error.html")),
];

static ENV: LazyLock<Result<PageEnv, String>> = LazyLock::new(|| {
    let mut env = PageEnv::new().map_err(|e| format!("{e:#}"))?;
    for (name, source) in TEMPLATES {
        env.add(name, source)
            .map_err(|e| format!("{name}: {e:#}"))?;
    }
    Ok(env)
});

/// Whether the visitor chose care mode.
pub fn care_mode(req: &HttpRequest) -> bool {
    req.cookie(CARE_COOKIE).is_some_and(|c| c.value() == "1")
}

/// Where the care-mode toggle leads back to: the page shown, for pages a GET can show again.
fn back(req: &HttpRequest) -> String {
    let path = req.path();
    match path {
        "/portal/appeal" | "/portal/track" => path.to_owned(),
        _ if req.method() == actix_web::http::Method::GET => path.to_owned(),
        _ => "/portal".to_owned(),
    }
}

/// An HTML answer with the portal's headers. Pages may carry personal data: never cached.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((
            "Permissions-Policy",
            "geolocation=(self), camera=(), microphone=()",
        ))
        .body(body)
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Renders a portal template with the layout's own values (care mode, the way back).
pub fn render<S: Serialize>(
    req: &HttpRequest,
    status: StatusCode,
    name: &str,
    ctx: S,
) -> HttpResponse {
    let ctx = context! { care => care_mode(req), back => back(req), ..Value::from_serialize(&ctx) };
    let rendered = match ENV.as_ref() {
        Ok(env) => env.render(name, ctx).map_err(|e| format!("{e}")),
        Err(e) => Err(e.clone()),
    };
    match rendered {
        Ok(body) => html(status, body),
        Err(e) => {
            tracing::error!(template = name, error = %e, "portal page failed");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><meta charset=utf-8><p>系统出错了，请稍后再试，或拨打12345热线。</p>"
                    .to_owned(),
            )
        }
    }
}

/// The heading and sentence a citizen reads for a failure.
fn words(e: &ApiError) -> (&'static str, String) {
    match e.code {
        ErrorCode::NotFound => ("页面不存在", "您要找的页面不存在。".to_owned()),
        ErrorCode::Forbidden | ErrorCode::CsrfRejected => (
            "请求来源无法验证",
            "请从本网站的页面提交表单。如果您是通过其他网站的链接来到这里的，请直接打开本网站后重试。"
                .to_owned(),
        ),
        ErrorCode::TooManyRequests => {
            let secs = retry_after(e).unwrap_or(60);
            (
                "操作过于频繁",
                format!("您的操作过于频繁，请 {secs} 秒后再试。"),
            )
        }
        ErrorCode::PayloadTooLarge => (
            "提交的内容过大",
            "提交的内容超过了允许的大小：每张照片不超过10MB，最多9张。".to_owned(),
        ),
        ErrorCode::Unavailable => (
            "服务暂时不可用",
            "网上受理暂时不可用，请稍后再试，或拨打12345热线反映。".to_owned(),
        ),
        ErrorCode::Internal => (
            "系统出错了",
            "系统出错了，请稍后再试，或拨打12345热线反映。".to_owned(),
        ),
        code => (page_text::heading(code), page_text::message(e)),
    }
}

fn retry_after(e: &ApiError) -> Option<u64> {
    e.details
        .as_ref()
        .and_then(|d| d.get("retry_after"))
        .and_then(serde_json::Value::as_u64)
}

/// A failure as a portal page (with Retry-After when rate-limited).
pub fn error_page(req: &HttpRequest, e: ApiError) -> HttpResponse {
    if let Some(cause) = &e.cause {
        tracing::error!(code = e.code.as_str(), cause = %cause, "portal request failed");
    }
    let status = e.code.status();
    let (heading, message) = words(&e);
    let mut res = render(
        req,
        status,
        "portal/error.html",
        context! { heading, message },
    );
    if let Some(secs) = retry_after(&e)
        && let Ok(v) = header::HeaderValue::from_str(&secs.to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

pub fn not_found(req: &HttpRequest) -> HttpResponse {
    error_page(req, ApiError::not_found("page"))
}

/// A POST from another site (a form elsewhere that posts here) is refused. Browsers send `Origin`
/// with every POST; it must name this host. Without it (not a browser), `Sec-Fetch-Site` must not
/// say the request is cross-site.
pub fn same_site(req: &HttpRequest) -> Result<(), ApiError> {
    let refuse = || ApiError::forbidden("a portal form must be sent from the portal's own pages");
    let info = req.connection_info();
    let host = info.host();
    match header_value(req, "origin") {
        Some(origin) => {
            let origin_host = origin
                .split_once("://")
                .map(|(_, rest)| rest.trim_end_matches('/'));
            if origin_host.is_some_and(|h| h.eq_ignore_ascii_case(host)) {
                Ok(())
            } else {
                Err(refuse())
            }
        }
        None => match header_value(req, "sec-fetch-site") {
            Some("cross-site" | "same-site") => Err(refuse()),
            _ => Ok(()),
        },
    }
}

/// The checks every portal POST passes first: same site, then the per-address rate limit.
pub fn guard(req: &HttpRequest, intake: &Intake) -> Result<(), ApiError> {
    same_site(req)?;
    intake
        .limits
        .check_ip(&client_ip(req))
        .map_err(ApiError::from)
}

/// Reads a small urlencoded form (`SMALL_BODY_LIMIT`).
pub async fn small_form(req: &HttpRequest, payload: web::Payload) -> Result<FormFields, ApiError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the form as application/x-www-form-urlencoded",
        ));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let body = hotline_core::http::json::read_body(
        payload.into_inner(),
        super::SMALL_BODY_LIMIT,
        declared,
    )
    .await?;
    Ok(FormFields::parse(&body))
}

pub async fn home(req: HttpRequest) -> HttpResponse {
    render(&req, StatusCode::OK, "portal/home.html", context! {})
}

/// Turns care mode on or off (`on` = 1 or 0) and goes back to `back`. Without JavaScript the form
/// posts and the page comes back; the portal's script does the same in the background.
pub async fn care(req: HttpRequest, payload: web::Payload) -> HttpResponse {
    let result = async {
        same_site(&req)?;
        let f = small_form(&req, payload).await?;
        let on = f.one("on") == Some("1");
        let back = f
            .one("back")
            .filter(|b| is_local_path(b) && b.starts_with("/portal"))
            .unwrap_or("/portal")
            .to_owned();
        Ok::<_, ApiError>((on, back))
    }
    .await;
    match result {
        Ok((on, back)) => {
            let cookie = Cookie::build(CARE_COOKIE, if on { "1" } else { "0" })
                .path("/")
                .same_site(SameSite::Lax)
                .http_only(true)
                .max_age(CookieAge::days(CARE_DAYS))
                .finish();
            let mut res = see_other(&back);
            match res.add_cookie(&cookie) {
                Ok(()) => res,
                Err(e) => error_page(&req, ApiError::internal(e)),
            }
        }
        Err(e) => error_page(&req, e),
    }
}

impl From<IntakeError> for Refusal {
    fn from(e: IntakeError) -> Self {
        Refusal::Page(e.into())
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Page(e)
    }
}

impl From<hotline_core::StoreError> for Refusal {
    fn from(e: hotline_core::StoreError) -> Self {
        Refusal::Page(e.into())
    }
}

/// How a portal handler fails: a whole error page, or its own page again with a message (a form
/// with field errors, the tracking page with a refused action).
pub enum Refusal {
    Page(ApiError),
    Shown(Box<HttpResponse>),
}

/// Answers a handler's result.
pub fn answer(req: &HttpRequest, r: Result<HttpResponse, Refusal>) -> HttpResponse {
    match r {
        Ok(res) => res,
        Err(Refusal::Shown(res)) => *res,
        Err(Refusal::Page(e)) => error_page(req, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_raw(name: &str, ctx: Value) -> String {
        let env = ENV.as_ref().expect("templates compile");
        env.render(name, ctx).expect("renders")
    }

    #[test]
    fn every_page_renders_escaped_and_without_inline_script() {
        let script = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">";
        let step = serde_json::json!({"at": "2026-11-23T01:00:00Z", "step": "答复",
            "text": "A2区答复：", "quote": script});
        let ticket = serde_json::json!({
            "number": "20261123000001", "status": "replied", "status_label": "已答复",
            "appeal_type": "投诉", "category": null, "title": script, "detail": script,
            "address": script, "received_at": "2026-11-23T01:00:00Z", "handle_deadline": null,
            "reply": script, "rating": null, "rating_comment": null, "redo_count": 0,
            "timeline": [step],
        });
        let pages = [
            ("portal/home.html", context! {}),
            (
                "portal/appeal.html",
                context! { v => context!{ title => script, form_key => "k" },
                errors => vec![context!{ field => "consent", label => "说明", message => "请勾选" }],
                error_of => context!{ consent => "请勾选" },
                appeal_types => Vec::<Value>::new(), categories => Vec::<Value>::new(),
                purposes => Vec::<Value>::new(), max_photos => 9 },
            ),
            (
                "portal/receipt.html",
                context! { number => "20261123000001", code => "ABCDEF",
                received_at => "2026-11-23T01:00:00Z", replayed => false },
            ),
            (
                "portal/track.html",
                context! { number => script, error => "x" },
            ),
            (
                "portal/track.html",
                context! { number => "20261123000001", code => "ABCDEF", version => 3, ticket,
                mine => context!{ name => script, phone => "138****8000" },
                can => context!{ rate => true, withdraw => true, correct => true, erase => true } },
            ),
            (
                "portal/error.html",
                context! { heading => "x", message => script },
            ),
        ];
        for (name, ctx) in pages {
            let html = render_raw(name, context! { care => true, back => "/portal", ..ctx });
            assert!(!html.contains("<script>window"), "{name}: {html}");
            assert!(!html.contains("<img src=x"), "{name}");
            assert!(
                !html.contains("onclick=\"") && !html.contains("onerror=\""),
                "{name}"
            );
            // The only script is the portal's file.
            assert_eq!(html.matches("<script").count(), 1, "{name}");
            assert!(html.contains("<script src=\"/portal/static/portal.js\" defer></script>"));
            assert!(html.contains("class=\"portal care\""), "{name}");
        }
        let track = render_raw(
            "portal/track.html",
            context! { care => false, back => "/portal", number => "20261123000001",
            code => "ABCDEF", version => 3,
            ticket => context!{ number => "20261123000001", timeline => Vec::<Value>::new() },
            mine => context!{}, can => context!{ rate => true } },
        );
        // Every action form proves the ticket again.
        assert!(track.contains("name=\"code\" value=\"ABCDEF\""), "{track}");
        assert!(track.contains("name=\"version\" value=\"3\""), "{track}");
    }
}
