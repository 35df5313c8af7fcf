//! Server-rendered pages (Simplified Chinese) for the staff of the centres and the handling units:
//! signing in, the ticket list, registering a phone appeal, and a ticket with its history and one
//! form per action its reader may take now. Templates sit beside the routes in `templates/` and
//! are compiled into the binary; the shared layout and error page come from `hotline_core::http`.
//! Pages call the same functions as the JSON API (`routes::tickets`, `routes::actions`), so the
//! permission, scope and state-machine checks are the API's own.

mod act;
mod agent_console;
mod answers;
mod dashboard;
mod detail;
mod knowledge;
mod list;
mod live;
mod login;
mod lookup;
mod queues;
mod register;
mod reveal;
mod robot;
mod rules;
mod suggest;
mod time_rules;
mod wallboard;
mod workbench;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use hotline_core::ApiError;
use hotline_core::http::page::html;
use hotline_core::http::{Caller, PageEnv, PageError};
use serde::Serialize;
use strum::IntoEnumIterator;

use lookup::Choice;

/// The page templates and the cookie settings (app data).
pub struct Pages {
    pub cookie_secure: bool,
    env: PageEnv,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("login.html", include_str!("templates/login.html")),
    (
        "knowledge_answers.html",
        include_str!("templates/knowledge_answers.html"),
    ),
    (
        "knowledge_panel.html",
        include_str!("templates/knowledge_panel.html"),
    ),
    ("tickets.html", include_str!("templates/tickets.html")),
    ("ticket_new.html", include_str!("templates/ticket_new.html")),
    ("ticket.html", include_str!("templates/ticket.html")),
    (
        "ticket_history.html",
        include_str!("templates/ticket_history.html"),
    ),
    (
        "ticket_actions.html",
        include_str!("templates/ticket_actions.html"),
    ),
    ("queues.html", include_str!("templates/queues.html")),
    ("time_rules.html", include_str!("templates/time_rules.html")),
    (
        "ticket_suggest.html",
        include_str!("templates/ticket_suggest.html"),
    ),
    (
        "rule_fields.html",
        include_str!("templates/rule_fields.html"),
    ),
    ("rules.html", include_str!("templates/rules.html")),
    ("rule.html", include_str!("templates/rule.html")),
    (
        "ticket_body.html",
        include_str!("templates/ticket_body.html"),
    ),
    (
        "ticket_form.html",
        include_str!("templates/ticket_form.html"),
    ),
    (
        "queue_sections.html",
        include_str!("templates/queue_sections.html"),
    ),
    ("console.html", include_str!("templates/console.html")),
    ("wallboard.html", include_str!("templates/wallboard.html")),
    ("dashboard.html", include_str!("templates/dashboard.html")),
    (
        "dashboard_today.html",
        include_str!("templates/dashboard_today.html"),
    ),
    ("workbench.html", include_str!("templates/workbench.html")),
    ("knowledge.html", include_str!("templates/knowledge.html")),
    (
        "knowledge_form.html",
        include_str!("templates/knowledge_form.html"),
    ),
    (
        "knowledge_article.html",
        include_str!("templates/knowledge_article.html"),
    ),
    (
        "knowledge_diff.html",
        include_str!("templates/knowledge_diff.html"),
    ),
    (
        "knowledge_stats.html",
        include_str!("templates/knowledge_stats.html"),
    ),
];

impl Pages {
    pub fn new(cookie_secure: bool) -> anyhow::Result<Self> {
        let mut env = PageEnv::new()?;
        for (name, source) in TEMPLATES {
            env.add(name, source)?;
        }
        Ok(Self { cookie_secure, env })
    }

    pub fn render<S: Serialize>(
        &self,
        status: StatusCode,
        name: &str,
        ctx: S,
    ) -> Result<HttpResponse, PageError> {
        Ok(html(status, self.env.render(name, ctx)?))
    }

    /// A live page, or with `part` one of its `parts` alone (the `{% block %}` of that name: the
    /// fragment its script fetches when an event says it changed). Any other part is a 404.
    pub fn render_live<S: Serialize>(
        &self,
        status: StatusCode,
        name: &str,
        parts: &[&str],
        part: Option<&str>,
        ctx: S,
    ) -> Result<HttpResponse, PageError> {
        match part {
            None => self.render(status, name, ctx),
            Some(p) if parts.contains(&p) => Ok(html(status, self.env.render_block(name, p, ctx)?)),
            Some(_) => Err(ApiError::not_found("part").into()),
        }
    }
}

/// Where an action's form may send the browser back to: the agent console.
pub(crate) fn is_live_page(path: &str) -> bool {
    hotline_core::http::page::is_local_path(path)
        && (path == "/console" || path.starts_with("/console?"))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(login::home))
        .service(
            web::resource("/login")
                .route(web::get().to(login::form))
                .route(web::post().to(login::submit)),
        )
        .route("/logout", web::post().to(login::logout))
        .route("/tickets", web::get().to(list::page))
        .route("/queues", web::get().to(queues::page))
        .route("/console", web::get().to(agent_console::page))
        .route("/console/answers", web::get().to(answers::fragment))
        .route("/wallboard", web::get().to(wallboard::page))
        .route("/dashboard", web::get().to(dashboard::page))
        .route("/workbench", web::get().to(workbench::page))
        .route("/static/live.js", web::get().to(live::script))
        .service(
            web::resource("/admin/time-rules")
                .route(web::get().to(time_rules::page))
                .route(web::post().to(time_rules::submit)),
        )
        .service(
            web::resource("/tickets/new")
                .route(web::get().to(register::form))
                .route(web::post().to(register::submit)),
        )
        .configure(rules::configure)
        .configure(knowledge::configure)
        .configure(robot::configure)
        .route("/tickets/{id}", web::get().to(detail::page))
        .route("/tickets/{id}/act/{action}", web::post().to(act::submit))
        .route(
            "/tickets/{id}/reveal/{field}",
            web::post().to(reveal::submit),
        );
}

pub fn not_found_page(_req: &HttpRequest) -> HttpResponse {
    PageError::new(ApiError::not_found("page")).error_response()
}

/// Attaches the signed-in user to a failure, so its error page keeps the header.
pub(crate) trait OrPage<T> {
    fn or_page(self, caller: &Caller) -> Result<T, PageError>;
}

impl<T, E: Into<ApiError>> OrPage<T> for Result<T, E> {
    fn or_page(self, caller: &Caller) -> Result<T, PageError> {
        self.map_err(|e| PageError::new(e.into()).with_user(caller))
    }
}

/// A refused form field, shown above the form it came from.
#[derive(Debug, Serialize)]
pub(crate) struct FieldError {
    pub field: Option<String>,
    pub message: String,
}

impl FieldError {
    pub fn of(e: &ApiError) -> Self {
        Self {
            field: e.field.clone(),
            message: hotline_core::http::page_text::message(e),
        }
    }
}

/// The options of a select over an enum: its code and its Chinese label.
pub(crate) fn options<T: IntoEnumIterator + AsRef<str>>(
    label: fn(T) -> &'static str,
) -> Vec<Choice> {
    T::iter()
        .map(|t| Choice {
            id: t.as_ref().to_owned(),
            name: label(t).to_owned(),
        })
        .collect()
}
