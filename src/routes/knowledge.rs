//! The knowledge base's API: search the published answers (every signed-in user), and the
//! articles' workflow (unit admins write, the centre's reviewers publish). The pages call these
//! same functions.

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use hotline_core::ApiError;
use hotline_core::auth::{Permission, role_permits};
use hotline_core::error::ErrorBody;
use hotline_core::http::{ApiJson, ApiQuery, BodyLimit, Caller};
use hotline_core::ids::UnitId;
use hotline_core::store::units;
use hotline_core::workflow::Hotline;
use hotline_knowledge::article::{
    Article, ArticleFields, ArticleId, ArticleSummary, ArticleVersion, LogEntry,
};
use hotline_knowledge::diff::{self, ArticleDiff};
use hotline_knowledge::engine::{SearchQuery, SearchResults};
use hotline_knowledge::error::KnowledgeError;
use hotline_knowledge::markdown::to_safe_html;
use hotline_knowledge::store::Editor;
use hotline_knowledge::store::articles::{self, NewArticle};
use hotline_knowledge::store::read::{self, ArticleFilter};
use hotline_knowledge::store::stats::{self, SearchStats};
use hotline_knowledge::workflow::{ArticleState, Step, next};
use serde::{Deserialize, Serialize};
use strum::IntoEnumIterator;
use utoipa::{IntoParams, ToSchema};

use crate::knowledge_base::KnowledgeBase;

/// Article bodies are up to 20,000 characters: more than the default body limit once encoded.
pub const ARTICLE_BODY_LIMIT: usize = 512 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/knowledge/search").route(web::get().to(search)))
        .service(web::resource("/knowledge/stats").route(web::get().to(stats_of)))
        .service(
            web::resource("/knowledge/articles")
                .app_data(BodyLimit(ARTICLE_BODY_LIMIT))
                .route(web::get().to(list))
                .route(web::post().to(create)),
        )
        .service(
            web::resource("/knowledge/articles/{id}")
                .app_data(BodyLimit(ARTICLE_BODY_LIMIT))
                .route(web::get().to(get))
                .route(web::put().to(edit)),
        )
        .service(web::resource("/knowledge/articles/{id}/steps").route(web::post().to(step)))
        .service(web::resource("/knowledge/articles/{id}/versions").route(web::get().to(versions)))
        .service(web::resource("/knowledge/articles/{id}/diff").route(web::get().to(diff_of)))
        .service(web::resource("/knowledge/articles/{id}/log").route(web::get().to(log)));
}

pub fn editor(caller: &Caller) -> Editor {
    Editor {
        user_id: caller.user.id,
        role: caller.user.role,
        unit: caller.unit.clone(),
        scope: caller.scope.clone(),
    }
}

/// Today in China: the day the validity of answers is judged by.
pub fn today(hotline: &Hotline) -> NaiveDate {
    hotline
        .now
        .get()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What the agent or citizen typed.
    pub q: String,
    /// Only this category or below it (its full name, or a prefix of whole names).
    pub category: Option<String>,
    /// How many answers (1–50, default 10).
    pub limit: Option<usize>,
    /// Also count all matches by top-level category.
    pub facets: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHitView {
    pub slug: String,
    pub title: String,
    pub category: String,
    pub score: f32,
    /// HTML-escaped, the matched words in `<mark>`.
    pub title_html: String,
    pub snippet_html: String,
}

/// How many matches fall in one top-level category.
#[derive(Debug, Serialize, ToSchema)]
pub struct Facet {
    pub category: String,
    pub count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchAnswer {
    pub hits: Vec<SearchHitView>,
    /// All matches (with `facets=true`; otherwise the hits returned).
    pub total: usize,
    /// By top-level category, most first (with `facets=true`).
    pub facets: Vec<Facet>,
}

impl From<SearchResults> for SearchAnswer {
    fn from(r: SearchResults) -> Self {
        Self {
            hits: r
                .hits
                .into_iter()
                .map(|h| SearchHitView {
                    slug: h.id,
                    title: h.title,
                    category: h.category,
                    score: h.score,
                    title_html: h.title_html,
                    snippet_html: h.snippet_html,
                })
                .collect(),
            total: r.total,
            facets: r
                .facets
                .into_iter()
                .map(|(category, count)| Facet { category, count })
                .collect(),
        }
    }
}

/// The areas a caller's answers must apply to: a handling unit's staff get the answers for their
/// unit and the units above it (a street's handler sees the street's, the district's and the
/// city's answers, not another district's); the centres' staff answer callers from every
/// district, and editors manage every answer, so their searches are not narrowed.
pub async fn area_filter(hotline: &Hotline, caller: &Caller) -> Result<Vec<String>, ApiError> {
    if !caller.user.role.is_unit_staff() {
        return Ok(Vec::new());
    }
    let start = caller.unit.id;
    Ok(hotline
        .db
        .run(move |c| {
            let mut codes = Vec::new();
            let mut at = Some(start);
            // The tree has five levels; the bound only guards against a cycle in bad data.
            while let Some(id) = at.filter(|_| codes.len() < 8) {
                let u = units::get(c, id)?;
                codes.push(u.code);
                at = u.parent_id;
            }
            Ok::<_, hotline_core::StoreError>(codes)
        })
        .await?)
}

/// Writes one row of the editors' statistics off the answer's path: a failure only loses a
/// count (logged as `what`), never the answer.
pub fn count_later<F>(hotline: &Hotline, what: &'static str, write: F)
where
    F: FnOnce(
            &mut hotline_core::db::DbConn,
            chrono::DateTime<chrono::Utc>,
        ) -> Result<(), hotline_core::StoreError>
        + Send
        + 'static,
{
    let (db, now) = (hotline.db.clone(), hotline.now.get());
    tokio::spawn(async move {
        if let Err(e) = db.write(move |c| write(c, now)).await {
            tracing::warn!(error = %e, "{what} not counted");
        }
    });
}

/// Counts a search and what it found.
pub fn count_search(hotline: &Hotline, text: &str, hits: &[hotline_knowledge::engine::SearchHit]) {
    let (text, found, top) = (
        text.to_owned(),
        hits.len(),
        hits.first().map(|h| h.id.clone()),
    );
    count_later(hotline, "search", move |c, now| {
        stats::record_search(c, &text, found, top.as_deref(), now)
    });
}

/// Counts an answer used (given by the robot, cited by an agent).
pub fn count_use(hotline: &Hotline, slug: String) {
    count_later(hotline, "answer use", move |c, now| {
        stats::record_use(c, &slug, now)
    });
}

/// Whether a published answer is valid today (China time).
pub fn valid_today(hotline: &Hotline, p: &hotline_knowledge::store::read::Published) -> bool {
    let day = today(hotline);
    p.fields.valid_from.is_none_or(|f| f <= day) && p.fields.valid_to.is_none_or(|t| t >= day)
}

/// Searches the published answers valid today.
pub async fn run_search(
    hotline: &Hotline,
    kb: &KnowledgeBase,
    caller: &Caller,
    p: &SearchParams,
) -> Result<SearchAnswer, ApiError> {
    caller.require(Permission::ReadKnowledge)?;
    let text = super::text::<200>("q", &p.q)?;
    let limit = p.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 50"));
    }
    let q = SearchQuery {
        text: text.into_string(),
        category: super::opt_text::<200>("category", p.category.as_deref())?
            .map(|c| c.into_string()),
        areas: area_filter(hotline, caller).await?,
        valid_on: Some(today(hotline)),
        limit,
        facets: p.facets.unwrap_or(false),
    };
    let results = kb.search(&q).await?;
    count_search(hotline, &q.text, &results.hits);
    Ok(results.into())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// The last this many days (1–366, default 30).
    pub days: Option<i64>,
}

/// The search statistics, for the knowledge base's writers and reviewers.
pub async fn search_stats(
    hotline: &Hotline,
    caller: &Caller,
    days: Option<i64>,
) -> Result<SearchStats, ApiError> {
    let role = caller.user.role;
    if !(role_permits(role, Permission::WriteKnowledge)
        || role_permits(role, Permission::ReviewKnowledge))
    {
        return Err(ApiError::forbidden(
            "the search statistics are for the knowledge base's writers and reviewers",
        ));
    }
    let days = days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::invalid("days", "must be 1 to 366"));
    }
    let since = hotline.now.get() - chrono::Duration::days(days);
    Ok(hotline.db.run(move |c| stats::since(c, since, 30)).await?)
}

#[utoipa::path(get, path = "/api/v1/knowledge/stats", tag = "knowledge", params(StatsParams),
    responses((status = 200, body = SearchStats)), security(("bearer" = [])))]
pub async fn stats_of(
    hotline: web::Data<Hotline>,
    caller: Caller,
    p: ApiQuery<StatsParams>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(search_stats(&hotline, &caller, p.days).await?))
}

#[utoipa::path(get, path = "/api/v1/knowledge/search", tag = "knowledge", params(SearchParams),
    responses((status = 200, body = SearchAnswer), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn search(
    hotline: web::Data<Hotline>,
    kb: web::Data<KnowledgeBase>,
    caller: Caller,
    p: ApiQuery<SearchParams>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(run_search(&hotline, &kb, &caller, &p).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this state (writers and reviewers; readers see published articles only).
    pub state: Option<ArticleState>,
    /// Only titles containing this text.
    pub title: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Writers and reviewers see every article in their scope; everyone else the published ones.
pub async fn list_articles(
    hotline: &Hotline,
    caller: &Caller,
    p: ListParams,
) -> Result<Vec<ArticleSummary>, ApiError> {
    caller.require(Permission::ReadKnowledge)?;
    let role = caller.user.role;
    let editor = role_permits(role, Permission::WriteKnowledge)
        || role_permits(role, Permission::ReviewKnowledge);
    let f = ArticleFilter {
        states: if editor {
            p.state.into_iter().collect()
        } else {
            Vec::new()
        },
        live_only: !editor,
        owners: editor.then(|| caller.scope.clone()),
        title: p.title,
        limit: p.limit.unwrap_or(50),
        offset: p.offset.unwrap_or(0),
    };
    Ok(hotline.db.run(move |c| read::list(c, &f)).await?)
}

#[utoipa::path(get, path = "/api/v1/knowledge/articles", tag = "knowledge", params(ListParams),
    responses((status = 200, body = Vec<ArticleSummary>)), security(("bearer" = [])))]
pub async fn list(
    hotline: web::Data<Hotline>,
    caller: Caller,
    p: ApiQuery<ListParams>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(list_articles(&hotline, &caller, p.0).await?))
}

/// The text fields of a request, as `ArticleFields` (spelled out here rather than flattened:
/// serde cannot refuse unknown fields of a flattened struct).
macro_rules! text_fields {
    ($name:ident { $($extra:tt)* }) => {
        #[derive(Debug, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($extra)*
            /// The question as citizens ask it: 4–120 characters.
            pub title: String,
            /// The answer in Markdown: at most 20,000 characters.
            pub body: String,
            /// The full name of a catalogue category: 劳动和社会保障/社会保险.
            pub category: String,
            #[serde(default)]
            pub tags: Vec<String>,
            /// Codes of the org units the answer applies to; the owner's when empty.
            #[serde(default)]
            pub areas: Vec<String>,
            pub valid_from: Option<NaiveDate>,
            /// The last day the answer holds.
            pub valid_to: Option<NaiveDate>,
            pub source: Option<String>,
            /// Why (kept with the version).
            pub note: Option<String>,
        }

        impl $name {
            pub fn fields(&self) -> ArticleFields {
                ArticleFields {
                    title: self.title.clone(),
                    body: self.body.clone(),
                    category: self.category.clone(),
                    tags: self.tags.clone(),
                    areas: self.areas.clone(),
                    valid_from: self.valid_from,
                    valid_to: self.valid_to,
                    source: self.source.clone(),
                }
            }
        }
    };
}

text_fields!(CreateArticle {
    /// Its URL key (a-z, 0-9, '-'); made up when absent.
    pub slug: Option<String>,
    /// The owning unit; the writer's own when absent.
    pub owner_unit_id: Option<UnitId>,
});

/// Creates a draft and tells this node's search keeper (nothing is searchable until published).
pub async fn create_article(
    hotline: &Hotline,
    caller: &Caller,
    new: NewArticle,
) -> Result<Article, ApiError> {
    caller.require(Permission::WriteKnowledge)?;
    let editor = editor(caller);
    let now = hotline.now.get();
    Ok(hotline
        .db
        .write(move |c| articles::create(c, &editor, new, now))
        .await?)
}

#[utoipa::path(post, path = "/api/v1/knowledge/articles", tag = "knowledge", request_body = CreateArticle,
    responses((status = 201, body = Article), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    hotline: web::Data<Hotline>,
    caller: Caller,
    body: ApiJson<CreateArticle>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let new = NewArticle {
        fields: body.fields(),
        slug: body.slug,
        owner_unit_id: body.owner_unit_id,
        note: body.note,
    };
    let a = create_article(&hotline, &caller, new).await?;
    Ok(HttpResponse::Created().json(a))
}

pub fn path_id(raw: &str) -> Result<ArticleId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("article"))
}

/// What a reader may do with an article now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleView {
    pub article: Article,
    /// The text readers see (the published version; for writers and reviewers of an
    /// unpublished article, the latest).
    pub shown: ArticleFields,
    pub shown_version: i32,
    /// `shown.body` rendered as safe HTML.
    pub body_html: String,
    /// Whether the shown text is valid today.
    pub valid_today: bool,
    /// The steps this reader may take now.
    pub steps: Vec<Step>,
    /// May this reader see drafts, versions and the trail?
    pub editor: bool,
}

/// One article as `caller` may see it: readers only the published version of a live article.
pub async fn view(
    hotline: &Hotline,
    caller: &Caller,
    id: ArticleId,
) -> Result<ArticleView, ApiError> {
    caller.require(Permission::ReadKnowledge)?;
    let editor = editor(caller);
    let day = today(hotline);
    Ok(hotline
        .db
        .run(move |c| {
            let article = read::get(c, id)?;
            let owner = units::get(c, article.owner_unit_id)?.as_ref();
            let sees = editor.sees_drafts_of(&owner);
            let live = article.state != ArticleState::Archived;
            let shown_version = match (sees, article.published_version.filter(|_| live)) {
                (true, _) => article.version,
                (false, Some(p)) => p,
                (false, None) => return Err(KnowledgeError::NotFound("article")),
            };
            let shown = read::version(c, id, shown_version)?.fields;
            let duty = editor.duty(&owner, article.latest_author_id);
            let steps = Step::iter()
                .filter(|s| *s != Step::Edit && next(article.state, *s, duty).is_ok())
                .collect();
            let mut article = article;
            if !sees {
                // Readers never see a draft's text.
                article.latest = shown.clone();
                article.review_note = None;
            }
            Ok(ArticleView {
                body_html: to_safe_html(&shown.body),
                valid_today: shown.valid_on(day),
                shown,
                shown_version,
                steps,
                editor: sees,
                article,
            })
        })
        .await?)
}

#[utoipa::path(get, path = "/api/v1/knowledge/articles/{id}", tag = "knowledge", params(("id" = String, Path, description = "The article's id (UUID)")),
    responses((status = 200, body = ArticleView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    hotline: web::Data<Hotline>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path)?;
    Ok(HttpResponse::Ok().json(view(&hotline, &caller, id).await?))
}

text_fields!(EditArticle {
    /// The version the edit was made from (409 with the current one when another came first).
    pub expected_version: i32,
});

pub async fn edit_article(
    hotline: &Hotline,
    kb: &KnowledgeBase,
    caller: &Caller,
    id: ArticleId,
    expected_version: i32,
    fields: ArticleFields,
    note: Option<String>,
) -> Result<Article, ApiError> {
    caller.require(Permission::WriteKnowledge)?;
    let editor = editor(caller);
    let now = hotline.now.get();
    let a = hotline
        .db
        .write(move |c| articles::edit(c, &editor, id, expected_version, fields, note, now))
        .await?;
    kb.changed();
    Ok(a)
}

#[utoipa::path(put, path = "/api/v1/knowledge/articles/{id}", tag = "knowledge", params(("id" = String, Path, description = "The article's id (UUID)")), request_body = EditArticle,
    responses((status = 200, body = Article), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn edit(
    hotline: web::Data<Hotline>,
    kb: web::Data<KnowledgeBase>,
    caller: Caller,
    path: web::Path<String>,
    body: ApiJson<EditArticle>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path)?;
    let body = body.0;
    let fields = body.fields();
    let a = edit_article(
        &hotline,
        &kb,
        &caller,
        id,
        body.expected_version,
        fields,
        body.note,
    )
    .await?;
    Ok(HttpResponse::Ok().json(a))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// submit, publish, reject, archive or restore.
    pub step: Step,
    pub expected_version: i32,
    /// Why (required to send an article back).
    pub note: Option<String>,
}

pub async fn take_step(
    hotline: &Hotline,
    kb: &KnowledgeBase,
    caller: &Caller,
    id: ArticleId,
    body: StepBody,
) -> Result<Article, ApiError> {
    caller.require(Permission::ReadKnowledge)?;
    let editor = editor(caller);
    let now = hotline.now.get();
    let a = hotline
        .db
        .write(move |c| {
            articles::step(
                c,
                &editor,
                id,
                body.expected_version,
                body.step,
                body.note,
                now,
            )
        })
        .await?;
    kb.changed();
    Ok(a)
}

#[utoipa::path(post, path = "/api/v1/knowledge/articles/{id}/steps", tag = "knowledge", params(("id" = String, Path, description = "The article's id (UUID)")), request_body = StepBody,
    responses((status = 200, body = Article), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn step(
    hotline: web::Data<Hotline>,
    kb: web::Data<KnowledgeBase>,
    caller: Caller,
    path: web::Path<String>,
    body: ApiJson<StepBody>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path)?;
    let a = take_step(&hotline, &kb, &caller, id, body.0).await?;
    Ok(HttpResponse::Ok().json(a))
}

/// Versions, diffs and the trail are for the article's writers and reviewers.
async fn require_editor(hotline: &Hotline, caller: &Caller, id: ArticleId) -> Result<(), ApiError> {
    let v = view(hotline, caller, id).await?;
    if v.editor {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the article's writers and reviewers see its versions",
        ))
    }
}

pub async fn all_versions(
    hotline: &Hotline,
    caller: &Caller,
    id: ArticleId,
) -> Result<Vec<ArticleVersion>, ApiError> {
    require_editor(hotline, caller, id).await?;
    Ok(hotline.db.run(move |c| read::versions(c, id)).await?)
}

#[utoipa::path(get, path = "/api/v1/knowledge/articles/{id}/versions", tag = "knowledge", params(("id" = String, Path, description = "The article's id (UUID)")),
    responses((status = 200, body = Vec<ArticleVersion>)), security(("bearer" = [])))]
pub async fn versions(
    hotline: web::Data<Hotline>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path)?;
    Ok(HttpResponse::Ok().json(all_versions(&hotline, &caller, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    pub from: i32,
    pub to: i32,
}

pub async fn versions_diff(
    hotline: &Hotline,
    caller: &Caller,
    id: ArticleId,
    from: i32,
    to: i32,
) -> Result<ArticleDiff, ApiError> {
    require_editor(hotline, caller, id).await?;
    let (a, b) = hotline
        .db
        .run(move |c| {
            let a = read::version(c, id, from)
                .map_err(|_| KnowledgeError::invalid("from", "no such version"))?;
            let b = read::version(c, id, to)
                .map_err(|_| KnowledgeError::invalid("to", "no such version"))?;
            Ok::<_, KnowledgeError>((a, b))
        })
        .await?;
    Ok(diff::diff((a.version, &a.fields), (b.version, &b.fields)))
}

#[utoipa::path(get, path = "/api/v1/knowledge/articles/{id}/diff", tag = "knowledge", params(("id" = String, Path, description = "The article's id (UUID)"), DiffParams),
    responses((status = 200, body = ArticleDiff)), security(("bearer" = [])))]
pub async fn diff_of(
    hotline: web::Data<Hotline>,
    caller: Caller,
    path: web::Path<String>,
    p: ApiQuery<DiffParams>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path)?;
    Ok(HttpResponse::Ok().json(versions_diff(&hotline, &caller, id, p.from, p.to).await?))
}

pub async fn trail(
    hotline: &Hotline,
    caller: &Caller,
    id: ArticleId,
) -> Result<Vec<LogEntry>, ApiError> {
    require_editor(hotline, caller, id).await?;
    Ok(hotline.db.run(move |c| read::log(c, id)).await?)
}

#[utoipa::path(get, path = "/api/v1/knowledge/articles/{id}/log", tag = "knowledge", params(("id" = String, Path, description = "The article's id (UUID)")),
    responses((status = 200, body = Vec<LogEntry>)), security(("bearer" = [])))]
pub async fn log(
    hotline: web::Data<Hotline>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path)?;
    Ok(HttpResponse::Ok().json(trail(&hotline, &caller, id).await?))
}
