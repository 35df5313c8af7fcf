//! Signing in and out with the session cookie.

use actix_web::cookie::time::Duration as CookieAge;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use hotline_core::http::page::{is_local_path, see_other};
use hotline_core::http::page_text;
use hotline_core::http::{Caller, CsrfForm, FormFields, PageError, PublicForm, SESSION_COOKIE};
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, ErrorCode};
use minijinja::context;

use super::Pages;
use crate::login::{self, LoginPolicy, SessionKind};

/// Where a sign-in may lead: a path of this site, else the ticket list.
fn destination(next: Option<&str>) -> String {
    next.filter(|n| is_local_path(n))
        .unwrap_or("/tickets")
        .to_owned()
}

/// `/`: staff with a session go to their tickets (knowledge reviewers, who read no tickets, to
/// the knowledge base); everyone else is a citizen, who goes to the portal (which links to the
/// staff login).
pub async fn home(caller: Option<Caller>) -> HttpResponse {
    see_other(match caller {
        Some(c) if c.user.role == hotline_core::domain::Role::Reviewer => "/knowledge",
        Some(_) => "/tickets",
        None => "/portal",
    })
}

pub async fn form(
    req: HttpRequest,
    pages: web::Data<Pages>,
    caller: Option<Caller>,
) -> Result<HttpResponse, PageError> {
    let query = FormFields::parse(req.query_string().as_bytes());
    let next = query.one("next").filter(|n| is_local_path(n));
    if caller.is_some() {
        return Ok(see_other(&destination(next)));
    }
    pages.render(
        StatusCode::OK,
        "login.html",
        context! { next, username => "" },
    )
}

/// What a refused sign-in tells the person at the keyboard.
fn refusal(e: &ApiError) -> String {
    match e.code {
        ErrorCode::Unauthenticated => "用户名或密码错误。".to_owned(),
        ErrorCode::AccountLocked => {
            let until = e
                .details
                .as_ref()
                .and_then(|d| d.get("locked_until"))
                .and_then(|v| v.as_str())
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|t| {
                    t.with_timezone(&chrono_tz::Asia::Shanghai)
                        .format("%H:%M")
                        .to_string()
                });
            match until {
                Some(t) => format!("连续登录失败次数过多，账号已锁定至 {t}，请稍后再试。"),
                None => "连续登录失败次数过多，账号已临时锁定，请稍后再试。".to_owned(),
            }
        }
        _ => page_text::message(e),
    }
}

fn session_cookie(value: String, age: CookieAge, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(secure)
        .max_age(age)
        .finish()
}

pub async fn submit(
    hotline: web::Data<Hotline>,
    policy: web::Data<LoginPolicy>,
    pages: web::Data<Pages>,
    form: PublicForm,
) -> Result<HttpResponse, PageError> {
    let f = &form.0;
    let next = f.one("next").filter(|n| is_local_path(n));
    let username = f.one("username").unwrap_or_default().trim();
    let password = f.one("password").unwrap_or_default();
    let refused = |status: StatusCode, error: String| {
        pages.render(status, "login.html", context! { next, username, error })
    };
    if username.is_empty() || password.is_empty() {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "请输入用户名和密码。".to_owned(),
        );
    }
    match login::login(&hotline, **policy, username, password, SessionKind::Cookie).await {
        Ok(l) => {
            let age = CookieAge::seconds(policy.session_for.num_seconds());
            let mut res = see_other(&destination(next));
            res.add_cookie(&session_cookie(l.token, age, pages.cookie_secure))
                .map_err(ApiError::internal)?;
            Ok(res)
        }
        Err(e)
            if matches!(
                e.code,
                ErrorCode::Unauthenticated | ErrorCode::AccountLocked
            ) =>
        {
            refused(e.code.status(), refusal(&e))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn logout(
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    form: CsrfForm,
) -> Result<HttpResponse, PageError> {
    login::logout(&hotline, form.caller.token_hash.clone()).await?;
    let mut res = see_other("/login");
    res.add_cookie(&session_cookie(
        String::new(),
        CookieAge::ZERO,
        pages.cookie_secure,
    ))
    .map_err(ApiError::internal)?;
    Ok(res)
}
