//! Server-rendered pages: one template environment (minijinja, HTML-escaped by default for `.html`
//! names) to which every crate adds its templates, the base layout and error page, the signed-in
//! page caller, and `PageError`, which answers a failure with an error page in Chinese (or, when
//! nobody is signed in, a redirect to the login page).

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::LazyLock;

use actix_web::http::{Method, StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload};
use minijinja::{Environment, Error, Output, State, Value, context};
use serde::Serialize;

use crate::auth::{Permission, role_permits};
use crate::domain::{AppealType, Channel, Level, Role, UnitKind, Urgency};
use crate::error::{ApiError, ErrorCode};
use crate::http::caller::Caller;
use crate::http::page_text;
use crate::ticket::{ActionKind, Rating, Status};
use crate::time_limit::WarningLevel;

const LAYOUT: &str = include_str!("templates/layout.html");
const ERROR: &str = include_str!("templates/error.html");

/// The Content-Security-Policy of every page: scripts only from this site's files (never inline
/// scripts or event handlers, so text that got into a page can never run), connections (the live
/// pages' websocket and fragments) only to this site, inline styles, forms only to us.
pub const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
    style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// A fraction as a percentage with one decimal (`75.0%`), or `—` when there is none.
fn percent(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{:.1}%", x * 100.0),
        _ => "—".to_owned(),
    }
}

/// The templates of every page, compiled once at start-up.
pub struct PageEnv {
    env: Environment<'static>,
}

impl PageEnv {
    /// An environment holding `layout.html` and `error.html` and the shared filters:
    /// `time` (Asia/Shanghai, `YYYY-MM-DD HH:MM`) and the Chinese labels (`status_label`,
    /// `appeal_type_label`, `urgency_label`, `channel_label`, `role_label`, `rating_label`,
    /// `warning_label`, `level_label`, `action_label`).
    pub fn new() -> Result<Self, Error> {
        let mut env = Environment::new();
        env.set_formatter(format_value);
        env.add_filter("time", time);
        env.add_filter("percent", percent);
        env.add_filter("status_label", label::<Status>(Status::label_zh));
        env.add_filter(
            "appeal_type_label",
            label::<AppealType>(AppealType::label_zh),
        );
        env.add_filter("urgency_label", label::<Urgency>(Urgency::label_zh));
        env.add_filter("channel_label", label::<Channel>(Channel::label_zh));
        env.add_filter("rating_label", label::<Rating>(Rating::label_zh));
        env.add_filter(
            "warning_label",
            label::<WarningLevel>(WarningLevel::label_zh),
        );
        env.add_filter("level_label", label::<Level>(Level::label_zh));
        env.add_filter("action_label", label::<ActionKind>(ActionKind::label_zh));
        env.add_filter("role_label", role_label);
        env.add_template("layout.html", LAYOUT)?;
        env.add_template("error.html", ERROR)?;
        Ok(Self { env })
    }

    /// Registers a template (usually `include_str!`-ed beside the routes that render it).
    pub fn add(&mut self, name: &'static str, source: &'static str) -> Result<(), Error> {
        self.env.add_template(name, source)
    }

    pub fn render<S: Serialize>(&self, name: &str, ctx: S) -> Result<String, ApiError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| ApiError::internal(format!("template {name}: {e:#}")))
    }

    /// One `{% block %}` of a template, alone (a live page's fragment, fetched to refresh it).
    pub fn render_block<S: Serialize>(
        &self,
        name: &str,
        block: &str,
        ctx: S,
    ) -> Result<String, ApiError> {
        self.env
            .get_template(name)
            .and_then(|t| {
                t.render_captured_to(ctx, std::io::sink())?
                    .with_state_mut(|state| state.render_block(block))
            })
            .map_err(|e| ApiError::internal(format!("template {name}, block {block}: {e:#}")))
    }
}

/// Like the default formatter (HTML-escaping), but `none` prints nothing rather than "none".
fn format_value(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if value.is_none() {
        return Ok(());
    }
    minijinja::escape_formatter(out, state, value)
}

/// An RFC 3339 instant shown in China time: `2026-03-02 09:30`. Empty for none.
fn time(v: Value) -> String {
    let Some(s) = v.as_str() else {
        return if v.is_none() || v.is_undefined() {
            String::new()
        } else {
            v.to_string()
        };
    };
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) => t
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => s.to_owned(),
    }
}

fn label<T: FromStr + 'static>(
    zh: fn(T) -> &'static str,
) -> impl Fn(Value) -> String + Send + Sync + 'static {
    move |v: Value| match v.as_str() {
        Some(s) => s
            .parse::<T>()
            .map_or_else(|_| s.to_owned(), |t| zh(t).to_owned()),
        None if v.is_none() || v.is_undefined() => String::new(),
        None => v.to_string(),
    }
}

/// Role names of events also include the citizen and the system.
fn role_label(v: Value) -> String {
    match v.as_str() {
        Some("citizen") => "群众".into(),
        Some("system") => "系统".into(),
        _ => label::<Role>(Role::label_zh)(v),
    }
}

/// The signed-in user as the page header shows them.
#[derive(Debug, Clone, Serialize)]
pub struct PageUser {
    pub name: String,
    pub role: Role,
    pub role_label: &'static str,
    pub unit_name: String,
    /// Every form of the page sends it back as `csrf_token`.
    pub csrf_token: String,
    pub can_read_tickets: bool,
    /// Registers appeals: agents and dispatchers of a 12345 centre.
    pub can_register: bool,
    /// Edits the time limits and working hours: administrators.
    pub can_manage_time_rules: bool,
    /// Reads the routing rules (the 派单规则 pages).
    pub can_read_rules: bool,
    /// Watches the dispatcher's wallboard (调度大屏): dispatchers and leaders.
    pub can_watch_wallboard: bool,
    /// Works a handling unit's queues (单位工作台): unit handlers and unit administrators.
    pub works_in_unit: bool,
    /// Reads the leaders' dashboard (领导驾驶舱).
    pub can_read_analytics: bool,
}

impl PageUser {
    pub fn of(c: &Caller) -> Self {
        let role = c.user.role;
        Self {
            name: c.user.display_name.clone(),
            role,
            role_label: role.label_zh(),
            unit_name: c.unit_name.clone(),
            csrf_token: c.csrf_token.clone(),
            can_read_tickets: role_permits(role, Permission::ReadTickets),
            can_register: role_permits(role, Permission::CreateTickets)
                && c.unit.kind == UnitKind::Centre,
            can_manage_time_rules: role_permits(role, Permission::ManageTimeRules),
            can_read_rules: role_permits(role, Permission::ReadRoutingRules),
            can_watch_wallboard: matches!(role, Role::Dispatcher | Role::Leader),
            works_in_unit: matches!(role, Role::UnitHandler | Role::UnitAdmin),
            can_read_analytics: role_permits(role, Permission::ReadAnalytics),
        }
    }
}

/// A failure answered as a page: an error page in Chinese with the error's status, or for a
/// missing or ended session a 303 to `/login?next=…`. Boxed: handlers pass it around a lot.
#[derive(Debug)]
pub struct PageError(Box<Failure>);

#[derive(Debug)]
pub struct Failure {
    pub error: ApiError,
    /// For the header of the error page.
    pub user: Option<PageUser>,
    /// Where to come back to after signing in.
    pub next: Option<String>,
}

impl PageError {
    pub fn new(error: ApiError) -> Self {
        Self(Box::new(Failure {
            error,
            user: None,
            next: None,
        }))
    }

    pub fn error(&self) -> &ApiError {
        &self.0.error
    }

    pub fn with_user(mut self, c: &Caller) -> Self {
        self.0.user = Some(PageUser::of(c));
        self
    }

    pub fn with_next(mut self, next: Option<String>) -> Self {
        self.0.next = next;
        self
    }
}

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        Self::new(e.into())
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.error.fmt(f)
    }
}

static ERROR_PAGES: LazyLock<Result<PageEnv, Error>> = LazyLock::new(PageEnv::new);

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        if self.0.error.code == ErrorCode::Unauthenticated {
            StatusCode::SEE_OTHER
        } else {
            self.0.error.code.status()
        }
    }

    fn error_response(&self) -> HttpResponse {
        let Failure {
            error: e,
            user,
            next,
        } = &*self.0;
        if let Some(cause) = &e.cause {
            tracing::error!(code = e.code.as_str(), cause = %cause, "page failed");
        }
        if e.code == ErrorCode::Unauthenticated {
            return see_other(&login_url(next.as_deref()));
        }
        let status = e.code.status();
        let ctx = context! {
            me => user,
            status => status.as_u16(),
            code => e.code.as_str(),
            heading => page_text::heading(e.code),
            message => page_text::message(e),
        };
        let body = match ERROR_PAGES.as_ref() {
            Ok(env) => env.render("error.html", ctx).ok(),
            Err(_) => None,
        };
        html(
            status,
            body.unwrap_or_else(|| {
                format!(
                    "<!doctype html><meta charset=utf-8><p>{}</p>",
                    page_text::heading(e.code)
                )
            }),
        )
    }
}

/// An HTML answer: not cached (pages carry personal data), only this site's scripts allowed.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .body(body)
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// `/login`, with `next` when there is somewhere to come back to.
pub fn login_url(next: Option<&str>) -> String {
    match next.filter(|n| is_local_path(n)) {
        Some(n) => format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>()
        ),
        None => "/login".to_owned(),
    }
}

/// A path on this site: starts with one '/', and nothing a browser could read as another host.
pub fn is_local_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.contains('\\')
        && !p.chars().any(char::is_control)
}

/// The page to come back to after signing in: the one asked for, if it was a plain read.
fn return_path(req: &HttpRequest) -> Option<String> {
    matches!(*req.method(), Method::GET | Method::HEAD)
        .then(|| req.uri().path_and_query().map(|p| p.as_str().to_owned()))
        .flatten()
}

/// The signed-in caller of a page; without a live session the page redirects to the login.
pub struct PageCaller(pub Caller);

impl std::ops::Deref for PageCaller {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl FromRequest for PageCaller {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        let next = return_path(req);
        Box::pin(async move {
            caller
                .await
                .map(PageCaller)
                .map_err(|e| PageError::new(e).with_next(next))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_by_default_and_formats_time() {
        let mut env = PageEnv::new().unwrap();
        env.add(
            "t.html",
            "{{ s }}|{{ n }}|{{ at | time }}|{{ st | status_label }}",
        )
        .unwrap();
        let out = env
            .render(
                "t.html",
                context! { s => "<script>alert(1)</script>", n => None::<i32>,
                at => "2026-03-02T01:30:00Z", st => "dispatched" },
            )
            .unwrap();
        assert_eq!(
            out,
            "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;||2026-03-02 09:30|待签收"
        );
    }

    #[test]
    fn only_local_paths_come_back() {
        assert!(is_local_path("/tickets?status=received"));
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "tickets",
            "",
        ] {
            assert!(!is_local_path(bad), "{bad}");
        }
        assert_eq!(login_url(Some("/tickets/x")), "/login?next=%2Ftickets%2Fx");
        assert_eq!(login_url(Some("//x")), "/login");
    }
}
