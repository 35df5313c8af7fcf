//! The knowledge answers beside the agent's work (知识库答案): `GET /console/answers?q=` renders
//! the published answers matching what the agent has typed so far, as a fragment `live.js` puts
//! into the console's panel (escaped here, the matched words in `<mark>`), each with the text a
//! "用此答复" button copies into the answer form and the article it cites.
//! These searches are not counted in the editors' statistics: a query typed letter by letter
//! would count every prefix; the answer actually given is counted when it is cited.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use hotline_core::auth::Permission;
use hotline_core::http::{FormFields, PageCaller, PageError};
use hotline_core::workflow::Hotline;
use hotline_knowledge::demo::plain_text;
use hotline_knowledge::engine::SearchQuery;
use hotline_knowledge::store::read;
use minijinja::context;
use serde::Serialize;

use super::{OrPage, Pages};
use crate::knowledge_base::KnowledgeBase;
use crate::routes::knowledge::today;

/// How many answers the panel shows.
const SHOWN: usize = 5;
/// The longest answer text copied into the form (the answer field's limit).
const ANSWER_CHARS: usize = 5000;

#[derive(Debug, Serialize)]
struct Shown {
    slug: String,
    title: String,
    title_html: String,
    snippet_html: String,
    /// The article's text, for the answer form.
    text: String,
    source: Option<String>,
}

pub async fn fragment(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    kb: web::Data<KnowledgeBase>,
    pages: web::Data<Pages>,
    caller: PageCaller,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    caller.require(Permission::ReadKnowledge).or_page(&caller)?;
    let q = FormFields::parse(req.query_string().as_bytes());
    // What was typed, cut to what a query may be: the beginning of a long account says most.
    let text: String = q
        .one("q")
        .unwrap_or_default()
        .trim()
        .chars()
        .take(200)
        .collect();
    let mut shown = Vec::new();
    if !text.is_empty() {
        let query = SearchQuery {
            text: text.clone(),
            areas: crate::routes::knowledge::area_filter(&hotline, &caller)
                .await
                .or_page(&caller)?,
            valid_on: Some(today(&hotline)),
            limit: SHOWN,
            ..SearchQuery::default()
        };
        let hits = kb.search(&query).await.or_page(&caller)?.hits;
        let slugs: Vec<String> = hits.iter().map(|h| h.id.clone()).collect();
        let published = hotline
            .db
            .run(move |c| read::published_each(c, &slugs))
            .await
            .or_page(&caller)?;
        for (h, p) in hits.into_iter().zip(published) {
            let Some(p) = p else { continue };
            let body = plain_text(&p.fields.body);
            shown.push(Shown {
                slug: h.id,
                title: h.title,
                title_html: h.title_html,
                snippet_html: h.snippet_html,
                text: body.chars().take(ANSWER_CHARS).collect(),
                source: p.fields.source,
            });
        }
    }
    pages.render(
        StatusCode::OK,
        "knowledge_answers.html",
        context! { hits => shown, asked => !text.is_empty() },
    )
}
