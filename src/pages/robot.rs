//! 智能问答, the Q&A robot on the citizens' portal: the conversation so far, a question box, the
//! clarifying question's choices as buttons, "转人工", and after a hand-off the ticket's number and
//! query code. The conversation is held in a cookie (its id and token), sent only to this page.
//! Forms only (post, then see the page again): no script needed.

use std::collections::HashMap;

use actix_web::cookie::time::Duration as CookieAge;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use hotline_core::ApiError;
use hotline_core::http::page_text;
use hotline_core::workflow::Hotline;
use hotline_intake::portal::page::{error_page, guard, render, see_other, small_form};
use hotline_intake::routes::{Intake, client_ip};
use hotline_knowledge::store::read;
use hotline_knowledge::store::robot::Turn;
use minijinja::context;

use crate::knowledge_base::KnowledgeBase;
use crate::robot::{self, ArticleAnswer, Question};

const COOKIE: &str = "robot";
const PATH: &str = "/portal/robot";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(PATH)
            .route(web::get().to(page))
            .route(web::post().to(submit)),
    )
    .route("/portal/robot/new", web::post().to(start_over));
}

/// The conversation the cookie holds: `id.token`.
fn held(req: &HttpRequest) -> Option<(String, String)> {
    let c = req.cookie(COOKIE)?;
    let (id, token) = c.value().split_once('.')?;
    Some((id.to_owned(), token.to_owned()))
}

fn cookie(value: String, age: CookieAge, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, value)
        .path(PATH)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(age)
        .finish()
}

fn secure(req: &HttpRequest) -> bool {
    req.app_data::<web::Data<super::Pages>>()
        .is_some_and(|p| p.cookie_secure)
}

/// The articles the transcript answered with, rendered (an answer withdrawn since shows its
/// title only, from the turn's text).
async fn articles(
    hotline: &Hotline,
    turns: &[Turn],
) -> Result<HashMap<String, ArticleAnswer>, ApiError> {
    let mut slugs: Vec<String> = turns
        .iter()
        .filter_map(|t| t.article_slug.clone())
        .collect();
    slugs.sort();
    slugs.dedup();
    let found = hotline
        .db
        .run(move |c| read::published_each(c, &slugs))
        .await?;
    Ok(found
        .into_iter()
        .flatten()
        .map(|p| (p.slug.clone(), robot::answer_of(&p)))
        .collect())
}

struct Shown<'a> {
    status: StatusCode,
    error: Option<String>,
    text: &'a str,
    phone: &'a str,
}

async fn show(req: &HttpRequest, hotline: &Hotline, how: Shown<'_>) -> HttpResponse {
    let mut forget = false;
    let (turns, handoff, state) = match held(req) {
        Some((id, token)) => match robot::show(hotline, id, token).await {
            Ok((conv, turns, handoff)) => (turns, handoff, conv.state.as_ref().to_owned()),
            Err(e) if e.code == hotline_core::ErrorCode::NotFound => {
                forget = true;
                (Vec::new(), None, "open".to_owned())
            }
            Err(e) => return error_page(req, e),
        },
        None => (Vec::new(), None, "open".to_owned()),
    };
    let articles = match articles(hotline, &turns).await {
        Ok(a) => a,
        Err(e) => return error_page(req, e),
    };
    let mut res = render(
        req,
        how.status,
        "portal/robot.html",
        context! {
            turns, handoff, state, articles,
            error => how.error, text => how.text, phone => how.phone,
        },
    );
    if forget {
        let _ = res.add_cookie(&cookie(String::new(), CookieAge::ZERO, secure(req)));
    }
    res
}

pub async fn page(req: HttpRequest, hotline: web::Data<Hotline>) -> HttpResponse {
    let how = Shown {
        status: StatusCode::OK,
        error: None,
        text: "",
        phone: "",
    };
    show(&req, &hotline, how).await
}

pub async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    hotline: web::Data<Hotline>,
    kb: web::Data<KnowledgeBase>,
    intake: web::Data<Intake>,
) -> HttpResponse {
    if let Err(e) = guard(&req, &intake) {
        return error_page(&req, e);
    }
    let f = match small_form(&req, payload).await {
        Ok(f) => f,
        Err(e) => return error_page(&req, e),
    };
    let text = f.one("text").unwrap_or_default().to_owned();
    let phone = f.one("citizen_phone").unwrap_or_default().to_owned();
    let q = Question {
        text: text.clone(),
        choice: f.one("choice").filter(|c| !c.is_empty()).map(str::to_owned),
        citizen_phone: Some(phone.clone()),
        remote_addr: Some(client_ip(&req)),
    };
    match robot::ask(&hotline, &kb, &intake, held(&req), q).await {
        Ok(asked) => {
            let mut res = see_other("/portal/robot#latest");
            if let Some(token) = asked.token {
                let value = format!("{}.{token}", asked.conversation);
                let _ = res.add_cookie(&cookie(value, CookieAge::days(1), secure(&req)));
            }
            res
        }
        Err(e) if e.field.is_some() => {
            let how = Shown {
                status: e.code.status(),
                error: Some(page_text::message(&e)),
                text: &text,
                phone: &phone,
            };
            show(&req, &hotline, how).await
        }
        Err(e) => error_page(&req, e),
    }
}

/// Forgets the conversation (it stays in the database, and with the agents if handed off).
pub async fn start_over(req: HttpRequest) -> HttpResponse {
    if let Err(e) = hotline_intake::portal::page::same_site(&req) {
        return error_page(&req, e);
    }
    let mut res = see_other(PATH);
    let _ = res.add_cookie(&cookie(String::new(), CookieAge::ZERO, secure(&req)));
    res
}
