//! 知识库: search the published answers (everyone), and for unit admins and the centre's
//! reviewers the articles of their scope, a form to write one, each article's workflow buttons,
//! versions and the difference between two of them. Every page calls the API's functions
//! (`routes::knowledge`), so the checks are the API's own.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use hotline_core::auth::{Permission, role_permits};
use hotline_core::http::page::see_other;
use hotline_core::http::{Caller, CsrfForm, FormFields, PageCaller, PageError, PageUser};
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, ErrorCode};
use hotline_knowledge::article::{ArticleFields, ArticleId};
use hotline_knowledge::store::articles::NewArticle;
use hotline_knowledge::workflow::{ArticleState, Step};
use minijinja::context;
use serde::Serialize;
use strum::IntoEnumIterator;

use super::{FieldError, OrPage, Pages};
use crate::knowledge_base::KnowledgeBase;
use crate::routes::knowledge::{
    self as api, ARTICLE_BODY_LIMIT, ListParams, SearchParams, StepBody,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/knowledge", web::get().to(home))
        .service(
            web::resource("/knowledge/new")
                .app_data(hotline_core::http::BodyLimit(ARTICLE_BODY_LIMIT))
                .route(web::get().to(new_form))
                .route(web::post().to(create)),
        )
        .route("/knowledge/by-slug/{slug}", web::get().to(by_slug))
        .route("/knowledge/stats", web::get().to(stats_page))
        .route("/knowledge/{id}", web::get().to(article))
        .service(
            web::resource("/knowledge/{id}/edit")
                .app_data(hotline_core::http::BodyLimit(ARTICLE_BODY_LIMIT))
                .route(web::get().to(edit_form))
                .route(web::post().to(edit)),
        )
        .route("/knowledge/{id}/step", web::post().to(step))
        .route("/knowledge/{id}/diff", web::get().to(diff));
}

#[derive(Debug, Serialize)]
struct StateTab {
    id: String,
    name: &'static str,
}

fn is_editor(caller: &Caller) -> bool {
    let role = caller.user.role;
    role_permits(role, Permission::WriteKnowledge)
        || role_permits(role, Permission::ReviewKnowledge)
}

/// The search box with its answers, and for editors the articles of their scope.
pub async fn home(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    kb: web::Data<KnowledgeBase>,
    pages: web::Data<Pages>,
    caller: PageCaller,
) -> Result<HttpResponse, PageError> {
    let f = FormFields::parse(req.query_string().as_bytes());
    let q = f.one("q").unwrap_or_default().trim().to_owned();
    let results = if q.is_empty() {
        None
    } else {
        let p = SearchParams {
            q: q.clone(),
            category: None,
            limit: Some(10),
            facets: Some(true),
        };
        Some(
            api::run_search(&hotline, &kb, &caller, &p)
                .await
                .or_page(&caller)?,
        )
    };
    let state = f.one("state").and_then(|s| s.parse::<ArticleState>().ok());
    let editor = is_editor(&caller);
    let articles = if editor || q.is_empty() {
        let p = ListParams {
            state,
            title: None,
            limit: Some(200),
            offset: None,
        };
        api::list_articles(&hotline, &caller, p)
            .await
            .or_page(&caller)?
    } else {
        Vec::new()
    };
    let tabs: Vec<StateTab> = ArticleState::iter()
        .map(|s| StateTab {
            id: s.as_ref().to_owned(),
            name: s.label_zh(),
        })
        .collect();
    pages.render(
        StatusCode::OK,
        "knowledge.html",
        context! {
            me => PageUser::of(&caller),
            q,
            results,
            articles => articles.iter().map(|a| context! {
                id => a.id.to_string(),
                title => a.title,
                category => a.category,
                state => a.state.label_zh(),
                version => a.version,
                published_version => a.published_version,
                updated_at => a.updated_at,
            }).collect::<Vec<_>>(),
            editor,
            tabs,
            state => state.map(|s| s.as_ref().to_owned()),
            may_write => role_permits(caller.user.role, Permission::WriteKnowledge),
        },
    )
}

/// The form's values: what was sent, or the article's latest text.
fn form_values(f: &FormFields) -> minijinja::Value {
    let get = |k: &str| f.one(k).unwrap_or_default().to_owned();
    context! {
        slug => get("slug"), title => get("title"), body => get("body"),
        category => get("category"), tags => get("tags"), areas => get("areas"),
        valid_from => get("valid_from"), valid_to => get("valid_to"),
        source => get("source"), note => get("note"), version => get("version"),
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(['、', '，', ',', ' ', '\u{3000}', '\n'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn date(f: &FormFields, name: &'static str) -> Result<Option<chrono::NaiveDate>, ApiError> {
    match f.one(name).map(str::trim) {
        None | Some("") => Ok(None),
        Some(d) => d
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(name, "a date is YYYY-MM-DD")),
    }
}

/// The article's text as the form sends it: lists separated by 、，, commas or spaces.
fn fields_of(f: &FormFields) -> Result<ArticleFields, ApiError> {
    let text = |name: &str| f.one(name).unwrap_or_default().to_owned();
    Ok(ArticleFields {
        title: text("title"),
        body: text("body"),
        category: text("category"),
        tags: split_list(f.one("tags").unwrap_or_default()),
        areas: split_list(f.one("areas").unwrap_or_default()),
        valid_from: date(f, "valid_from")?,
        valid_to: date(f, "valid_to")?,
        source: opt(f, "source"),
    })
}

fn opt(f: &FormFields, name: &str) -> Option<String> {
    f.one(name)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

async fn render_form(
    pages: &Pages,
    caller: &Caller,
    id: Option<String>,
    v: minijinja::Value,
    error: Option<&ApiError>,
) -> Result<HttpResponse, PageError> {
    let status = error.map_or(StatusCode::OK, |e| e.code.status());
    pages.render(
        status,
        "knowledge_form.html",
        context! { me => PageUser::of(caller), id, v, error => error.map(FieldError::of) },
    )
}

pub async fn new_form(
    pages: web::Data<Pages>,
    caller: PageCaller,
) -> Result<HttpResponse, PageError> {
    caller
        .require(Permission::WriteKnowledge)
        .or_page(&caller)?;
    render_form(&pages, &caller, None, context! {}, None).await
}

fn refusable(e: &ApiError) -> bool {
    matches!(
        e.code,
        ErrorCode::InvalidField | ErrorCode::VersionConflict | ErrorCode::AlreadyExists
    )
}

pub async fn create(
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    form: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let caller = &form.caller;
    let f = &form.fields;
    let made = match fields_of(f) {
        Ok(fields) => {
            let new = NewArticle {
                slug: opt(f, "slug"),
                owner_unit_id: None,
                fields,
                note: opt(f, "note"),
            };
            api::create_article(&hotline, caller, new).await
        }
        Err(e) => Err(e),
    };
    match made {
        Ok(a) => Ok(see_other(&format!("/knowledge/{}?done=created", a.id))),
        Err(e) if refusable(&e) => {
            render_form(&pages, caller, None, form_values(f), Some(&e)).await
        }
        Err(e) => Err(e).or_page(caller),
    }
}

fn path_id(raw: &str, caller: &Caller) -> Result<ArticleId, PageError> {
    api::path_id(raw).or_page(caller)
}

async fn render_article(
    hotline: &Hotline,
    pages: &Pages,
    caller: &Caller,
    id: ArticleId,
    done: Option<&str>,
    error: Option<&ApiError>,
) -> Result<HttpResponse, PageError> {
    let view = api::view(hotline, caller, id).await.or_page(caller)?;
    // The view has already said whether this caller is one of the article's editors; read the
    // versions and the trail in one go rather than asking that again for each.
    let (versions, log) = if view.editor {
        hotline
            .db
            .run(move |c| {
                use hotline_knowledge::store::read;
                Ok::<_, hotline_core::StoreError>((read::versions(c, id)?, read::log(c, id)?))
            })
            .await
            .map_err(ApiError::from)
            .or_page(caller)?
    } else {
        (Vec::new(), Vec::new())
    };
    let may_edit = view.editor
        && view.article.state != ArticleState::Archived
        && role_permits(caller.user.role, Permission::WriteKnowledge);
    let steps: Vec<_> = view
        .steps
        .iter()
        .map(|s| context! { id => s.as_ref(), name => s.label_zh(), needs_note => *s == Step::Reject })
        .collect();
    let log: Vec<_> = log
        .iter()
        .map(|e| {
            context! {
                at => e.occurred_at, action => e.label_zh(), version => e.version,
                who => e.actor_name.clone().unwrap_or_else(|| "系统".into()),
                role => hotline_knowledge::store::articles::role_label(&e.actor_role),
                note => e.note,
            }
        })
        .collect();
    let status = error.map_or(StatusCode::OK, |e| e.code.status());
    pages.render(
        status,
        "knowledge_article.html",
        context! {
            me => PageUser::of(caller),
            id => id.to_string(),
            a => view.article,
            state => view.article.state.label_zh(),
            shown => view.shown,
            shown_version => view.shown_version,
            body_html => view.body_html,
            valid_today => view.valid_today,
            editor => view.editor,
            may_edit,
            steps,
            versions,
            log,
            done,
            error => error.map(FieldError::of),
        },
    )
}

pub async fn article(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    caller: PageCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&path, &caller)?;
    let q = FormFields::parse(req.query_string().as_bytes());
    let done = q
        .one("done")
        .filter(|d| ["created", "edited", "stepped"].contains(d))
        .map(str::to_owned);
    render_article(&hotline, &pages, &caller, id, done.as_deref(), None).await
}

pub async fn edit_form(
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    caller: PageCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    caller
        .require(Permission::WriteKnowledge)
        .or_page(&caller)?;
    let id = path_id(&path, &caller)?;
    let view = api::view(&hotline, &caller, id).await.or_page(&caller)?;
    let a = &view.article;
    let l = &a.latest;
    let v = context! {
        slug => a.slug, title => l.title, body => l.body, category => l.category,
        tags => l.tags.join("、"), areas => l.areas.join("、"),
        valid_from => l.valid_from.map(|d| d.to_string()).unwrap_or_default(),
        valid_to => l.valid_to.map(|d| d.to_string()).unwrap_or_default(),
        source => l.source.clone().unwrap_or_default(), note => "", version => a.version,
    };
    render_form(&pages, &caller, Some(id.to_string()), v, None).await
}

fn version_of(f: &FormFields) -> Result<i32, ApiError> {
    f.one("version")
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ApiError::invalid("version", "missing; reload the page"))
}

pub async fn edit(
    hotline: web::Data<Hotline>,
    kb: web::Data<KnowledgeBase>,
    pages: web::Data<Pages>,
    form: CsrfForm,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let caller = &form.caller;
    let f = &form.fields;
    let id = path_id(&path, caller)?;
    let made = match (version_of(f), fields_of(f)) {
        (Ok(expected), Ok(fields)) => {
            api::edit_article(&hotline, &kb, caller, id, expected, fields, opt(f, "note")).await
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match made {
        Ok(_) => Ok(see_other(&format!("/knowledge/{id}?done=edited"))),
        Err(e) if refusable(&e) => {
            render_form(
                &pages,
                caller,
                Some(id.to_string()),
                form_values(f),
                Some(&e),
            )
            .await
        }
        Err(e) => Err(e).or_page(caller),
    }
}

pub async fn step(
    hotline: web::Data<Hotline>,
    kb: web::Data<KnowledgeBase>,
    pages: web::Data<Pages>,
    form: CsrfForm,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let caller = &form.caller;
    let f = &form.fields;
    let id = path_id(&path, caller)?;
    let step = f
        .one("step")
        .and_then(|s| s.parse::<Step>().ok())
        .ok_or_else(|| ApiError::invalid("step", "unknown step"))
        .or_page(caller)?;
    let taken = match version_of(f) {
        Ok(expected_version) => {
            let body = StepBody {
                step,
                expected_version,
                note: opt(f, "note"),
            };
            api::take_step(&hotline, &kb, caller, id, body).await
        }
        Err(e) => Err(e),
    };
    match taken {
        Ok(_) => Ok(see_other(&format!("/knowledge/{id}?done=stepped"))),
        Err(e) if refusable(&e) || e.code == ErrorCode::InvalidTransition => {
            render_article(&hotline, &pages, caller, id, None, Some(&e)).await
        }
        Err(e) => Err(e).or_page(caller),
    }
}

pub async fn diff(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    caller: PageCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&path, &caller)?;
    let q = FormFields::parse(req.query_string().as_bytes());
    let n = |k: &'static str| {
        q.one(k)
            .and_then(|v| v.parse::<i32>().ok())
            .ok_or_else(|| ApiError::invalid(k, "a version number"))
    };
    let (from, to) = (n("from").or_page(&caller)?, n("to").or_page(&caller)?);
    let d = api::versions_diff(&hotline, &caller, id, from, to)
        .await
        .or_page(&caller)?;
    pages.render(
        StatusCode::OK,
        "knowledge_diff.html",
        context! { me => PageUser::of(&caller), id => id.to_string(), d },
    )
}

/// A search hit's link: the article of this slug (readers: only a live one, checked there).
pub async fn by_slug(
    hotline: web::Data<Hotline>,
    caller: PageCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let slug = path.into_inner();
    let now = hotline.now.get();
    // Opened from a search: counted as a use of the answer (for the statistics).
    let found = hotline
        .db
        .write(move |c| {
            let a = hotline_knowledge::store::read::by_slug(c, &slug)?;
            if a.is_some() {
                hotline_knowledge::store::stats::record_use(c, &slug, now)?;
            }
            Ok::<_, hotline_core::StoreError>(a)
        })
        .await
        .map_err(ApiError::from)
        .or_page(&caller)?;
    match found {
        Some(a) => Ok(see_other(&format!("/knowledge/{}", a.id))),
        None => Err(ApiError::not_found("article")).or_page(&caller),
    }
}

/// 搜索统计: top queries, queries with no answer, answers used (the last 30 days, or `days`).
pub async fn stats_page(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    caller: PageCaller,
) -> Result<HttpResponse, PageError> {
    let q = FormFields::parse(req.query_string().as_bytes());
    let days = q
        .one("days")
        .and_then(|d| d.trim().parse::<i64>().ok())
        .unwrap_or(30);
    let stats = api::search_stats(&hotline, &caller, Some(days))
        .await
        .or_page(&caller)?;
    pages.render(
        StatusCode::OK,
        "knowledge_stats.html",
        context! { me => PageUser::of(&caller), s => stats, days },
    )
}
