//! The citizens' Q&A robot as the server runs it (the portal page and the app/mini-program API
//! both call [`ask`]): each question is searched, the robot's decision
//! ([`hotline_knowledge::robot`]) is said and kept in the conversation's transcript, and a
//! hand-off ("转人工", or no answer it trusts) registers the conversation as a consultation
//! ticket, with the transcript, in the agents' live queue — exactly once per conversation.

use hotline_core::ApiError;
use hotline_core::domain::Actor;
use hotline_core::domain::{AppealType, Channel};
use hotline_core::ids::TicketId;
use hotline_core::store::tickets;
use hotline_core::workflow::Hotline;
use hotline_intake::appeal::{AppealInput, validate};
use hotline_intake::routes::Intake;
use hotline_intake::{Answer, IdempotencyKey, Submission, submit_with};
use hotline_knowledge::engine::SearchQuery;
use hotline_knowledge::markdown::to_safe_html;
use hotline_knowledge::robot::{self, Candidate, Decision, HandoffReason, Policy};
use hotline_knowledge::store::read::{self, Published};
use hotline_knowledge::store::robot::{
    self as talk, Choice, Conversation, ConversationState, MAX_TURNS, NewTurn, Turn,
};
use hotline_knowledge::store::stats;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::knowledge_base::KnowledgeBase;
use crate::routes::knowledge::{count_later, count_search, count_use, today, valid_today};

/// The longest question the robot reads.
pub const MAX_QUESTION: usize = 500;
/// How many articles a question weighs.
const CANDIDATES: usize = 5;

/// What the citizen sends.
#[derive(Debug, Default, Clone)]
pub struct Question {
    /// The question typed; empty when `choice` answers a clarifying question.
    pub text: String,
    /// The slug of one of the answers the robot's last clarifying question offered.
    pub choice: Option<String>,
    /// A number to call back on, used only if the conversation goes to a person.
    pub citizen_phone: Option<String>,
    pub remote_addr: Option<String>,
}

/// The article the robot answers with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleAnswer {
    pub slug: String,
    pub title: String,
    /// The answer's body, rendered from Markdown and sanitised: safe to show as it is.
    pub body_html: String,
    pub source: Option<String>,
}

/// The ticket a hand-off registered.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HandedOff {
    /// The ticket number and query code: with them the citizen follows it on the portal.
    pub number: String,
    pub query_code: String,
    /// `asked`, `low_confidence`, `no_match` or `search_down`.
    pub reason: String,
}

/// The robot's reply to one question.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reply {
    /// `answer`, `clarify`, `handoff`, or `note` (the conversation is already with a person).
    pub kind: String,
    /// What the robot says, in Chinese.
    pub text: String,
    pub article: Option<ArticleAnswer>,
    /// With an answer: how sure the robot is, 0 to 1.
    pub confidence: Option<f32>,
    /// With a clarifying question: the answers to choose from.
    pub options: Vec<Choice>,
    pub handoff: Option<HandedOff>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Asked {
    pub conversation: String,
    /// The conversation's secret, given once when it starts: send it with every later question.
    pub token: Option<String>,
    pub reply: Reply,
}

fn no_conversation() -> ApiError {
    ApiError::not_found("conversation (unknown, or the token is wrong)")
}

/// Opens the conversation the citizen names, or starts one.
async fn conversation(
    hotline: &Hotline,
    held: Option<(String, String)>,
) -> Result<(Conversation, Option<String>), ApiError> {
    let now = hotline.now.get();
    match held {
        Some((id, token)) => {
            let c = hotline
                .db
                .run(move |c| talk::open(c, &id, &token))
                .await?
                .ok_or_else(no_conversation)?;
            Ok((c, None))
        }
        None => {
            let token = hotline_core::auth::token::random_token();
            let t = token.clone();
            let c = hotline.db.write(move |c| talk::start(c, &t, now)).await?;
            Ok((c, Some(token)))
        }
    }
}

/// Appends turns to the conversation `id`.
async fn keep(
    hotline: &Hotline,
    id: &str,
    turns: Vec<NewTurn>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let id = id.to_owned();
    hotline
        .db
        .write(move |c| talk::append(c, &id, &turns, now))
        .await?;
    Ok(())
}

fn citizen(kind: &'static str, text: &str) -> NewTurn {
    NewTurn {
        speaker: "citizen",
        kind,
        text: text.to_owned(),
        article_slug: None,
        confidence: None,
        options: Vec::new(),
    }
}

fn said(reply: &Reply) -> NewTurn {
    NewTurn {
        speaker: "robot",
        kind: match reply.kind.as_str() {
            "answer" => "answer",
            "clarify" => "clarify",
            "handoff" => "handoff",
            _ => "note",
        },
        text: match &reply.article {
            Some(a) => format!("{}\n《{}》", reply.text, a.title),
            None => reply.text.clone(),
        },
        article_slug: reply.article.as_ref().map(|a| a.slug.clone()),
        confidence: reply.confidence,
        options: reply.options.clone(),
    }
}

pub fn answer_of(p: &Published) -> ArticleAnswer {
    ArticleAnswer {
        slug: p.slug.clone(),
        title: p.fields.title.clone(),
        body_html: to_safe_html(&p.fields.body),
        source: p.fields.source.clone(),
    }
}

/// The published articles behind these slugs, in their order (an article unpublished since the
/// search found it is skipped).
async fn published(hotline: &Hotline, slugs: Vec<String>) -> Result<Vec<Published>, ApiError> {
    let found = hotline
        .db
        .run(move |c| read::published_each(c, &slugs))
        .await?;
    Ok(found
        .into_iter()
        .flatten()
        .filter(|p| valid_today(hotline, p))
        .collect())
}

fn answer_reply(p: &Published, confidence: Option<f32>) -> Reply {
    Reply {
        kind: "answer".into(),
        text: "为您找到以下答案。如果没有解决您的问题，可以点“转人工”。".into(),
        article: Some(answer_of(p)),
        confidence,
        options: Vec::new(),
        handoff: None,
    }
}

/// Answers one question of a conversation (`held`: its id and token; `None` starts one).
pub async fn ask(
    hotline: &Hotline,
    kb: &KnowledgeBase,
    intake: &Intake,
    held: Option<(String, String)>,
    q: Question,
) -> Result<Asked, ApiError> {
    let text = q.text.trim().to_owned();
    if q.choice.is_none() {
        if text.is_empty() {
            return Err(ApiError::invalid("text", "must not be empty"));
        }
        if text.chars().count() > MAX_QUESTION {
            return Err(ApiError::invalid(
                "text",
                format!("must be at most {MAX_QUESTION} characters"),
            ));
        }
    }
    if let Some(p) = q.citizen_phone.as_deref().filter(|p| !p.trim().is_empty()) {
        // Checked before anything is said, so a wrong number leaves no half-taken turn.
        validate(
            &handoff_input("-".into(), "-".into(), Some(p.to_owned())),
            Channel::Web,
        )?;
    }
    let (conv, token) = conversation(hotline, held).await?;
    if conv.turns >= MAX_TURNS {
        return Err(ApiError::field(
            hotline_core::ErrorCode::InvalidTransition,
            "conversation",
            "this conversation is full: start a new one",
        ));
    }
    let now = hotline.now.get();
    let reply = if conv.state == ConversationState::HandedOff {
        if text.is_empty() {
            return Err(ApiError::invalid(
                "choice",
                "the conversation is with a person now: write what to add instead",
            ));
        }
        let ticket = handed_off_ticket(hotline, &conv).await?;
        let reply = Reply {
            kind: "note".into(),
            text: "您的问题已转人工坐席，我们已记下您补充的内容，请耐心等待答复。".into(),
            article: None,
            confidence: None,
            options: Vec::new(),
            handoff: ticket,
        };
        keep(
            hotline,
            &conv.id,
            vec![citizen("question", &text), said(&reply)],
            now,
        )
        .await?;
        reply
    } else if let Some(choice) = q.choice.clone() {
        let reply = choose(hotline, &conv, &choice).await?;
        let title = reply
            .article
            .as_ref()
            .map(|a| a.title.clone())
            .unwrap_or_default();
        keep(
            hotline,
            &conv.id,
            vec![citizen("choice", &title), said(&reply)],
            now,
        )
        .await?;
        if let Some(a) = &reply.article {
            count_use(hotline, a.slug.clone());
        }
        reply
    } else {
        keep(hotline, &conv.id, vec![citizen("question", &text)], now).await?;
        match decide(hotline, kb, &text).await? {
            Decided::Answer(p, confidence) => {
                let reply = answer_reply(&p, Some(confidence));
                keep(hotline, &conv.id, vec![said(&reply)], now).await?;
                count_use(hotline, p.slug.clone());
                reply
            }
            Decided::Clarify(options) => {
                let reply = Reply {
                    kind: "clarify".into(),
                    text: "您想咨询的是下面哪一个问题？请点选。".into(),
                    article: None,
                    confidence: None,
                    options,
                    handoff: None,
                };
                keep(hotline, &conv.id, vec![said(&reply)], now).await?;
                reply
            }
            Decided::Handoff(reason) => {
                // A gap in the base, not a person asked for or the engine away.
                if matches!(
                    reason,
                    HandoffReason::LowConfidence | HandoffReason::NoMatch
                ) {
                    count_gap(hotline, &text, reason);
                }
                hand_off(
                    hotline,
                    intake,
                    &conv,
                    reason,
                    q.citizen_phone.as_deref(),
                    q.remote_addr,
                )
                .await?
            }
        }
    };
    Ok(Asked {
        conversation: conv.id,
        token,
        reply,
    })
}

enum Decided {
    Answer(Box<Published>, f32),
    Clarify(Vec<Choice>),
    Handoff(HandoffReason),
}

/// Searches the question and weighs what it found.
async fn decide(hotline: &Hotline, kb: &KnowledgeBase, text: &str) -> Result<Decided, ApiError> {
    if robot::asks_for_person(text) {
        return Ok(Decided::Handoff(HandoffReason::Asked));
    }
    let query = SearchQuery {
        text: text.to_owned(),
        valid_on: Some(today(hotline)),
        limit: CANDIDATES,
        ..SearchQuery::default()
    };
    let hits = match kb.search(&query).await {
        Ok(r) => r.hits,
        // The engine is down (Meilisearch away): the citizen still reaches a person.
        Err(e) => {
            tracing::warn!(error = %e, "the robot's search failed: handing off");
            return Ok(Decided::Handoff(HandoffReason::SearchDown));
        }
    };
    count_search(hotline, text, &hits);
    let found = published(hotline, hits.iter().map(|h| h.id.clone()).collect()).await?;
    let candidates: Vec<Candidate> = hits
        .iter()
        .filter_map(|h| {
            let p = found.iter().find(|p| p.slug == h.id)?;
            Some(Candidate {
                slug: h.id.clone(),
                title: h.title.clone(),
                score: h.score,
                coverage: robot::coverage(&kb.analyzer, text, &p.doc),
            })
        })
        .collect();
    Ok(match robot::decide(text, &candidates, &Policy::default()) {
        Decision::Answer { best, confidence } => {
            let p = found
                .into_iter()
                .find(|p| p.slug == best.slug)
                .ok_or_else(|| ApiError::internal("the robot's answer vanished"))?;
            Decided::Answer(Box::new(p), confidence)
        }
        Decision::Clarify(options) => Decided::Clarify(
            options
                .into_iter()
                .map(|c| Choice {
                    slug: c.slug,
                    title: c.title,
                })
                .collect(),
        ),
        Decision::Handoff(r) => Decided::Handoff(r),
    })
}

/// The answer the citizen picked from the last clarifying question.
async fn choose(hotline: &Hotline, conv: &Conversation, slug: &str) -> Result<Reply, ApiError> {
    let id = conv.id.clone();
    let turns = hotline.db.run(move |c| talk::transcript(c, &id)).await?;
    let offered = turns
        .iter()
        .rev()
        .find(|t| t.speaker == "robot")
        .is_some_and(|t| t.kind == "clarify" && t.options.iter().any(|o| o.slug == slug));
    if !offered {
        return Err(ApiError::invalid(
            "choice",
            "is not one of the answers the robot's last question offered",
        ));
    }
    let p = published(hotline, vec![slug.to_owned()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::invalid("choice", "this answer has been withdrawn meanwhile"))?;
    Ok(answer_reply(&p, None))
}

/// The ticket of a conversation already handed off.
async fn handed_off_ticket(
    hotline: &Hotline,
    conv: &Conversation,
) -> Result<Option<HandedOff>, ApiError> {
    let Some(id) = conv.ticket_id else {
        return Ok(None);
    };
    let t = hotline.db.run(move |c| tickets::get(c, id)).await?;
    Ok(Some(HandedOff {
        number: t.number.as_str().to_owned(),
        query_code: t.query_code.as_str().to_owned(),
        reason: conv.handoff_reason.clone().unwrap_or_default(),
    }))
}

/// The transcript as a ticket's detail: one line per turn.
pub fn transcript_text(turns: &[Turn]) -> String {
    let mut out = String::from("【智能问答记录】\n");
    for t in turns {
        let who = if t.speaker == "citizen" {
            "群众"
        } else {
            "机器人"
        };
        out.push_str(&format!("{who}：{}\n", t.text.replace('\n', " ")));
    }
    out
}

/// The appeal a hand-off registers: a consultation, with what the citizen gave (only a number to
/// call back on, if they chose to).
fn handoff_input(title: String, detail: String, citizen_phone: Option<String>) -> AppealInput {
    AppealInput {
        appeal_type: Some(AppealType::Consult),
        urgency: None,
        category_id: None,
        title,
        detail,
        address: None,
        latitude: None,
        longitude: None,
        citizen_name: None,
        citizen_phone,
        citizen_id_number: None,
    }
}

/// Registers the conversation as a consultation ticket in the agents' queue: the ticket, the
/// conversation's link to it and the robot's last words commit together, and a conversation is
/// registered once however often it asks (the conversation id is the Idempotency-Key).
async fn hand_off(
    hotline: &Hotline,
    intake: &Intake,
    conv: &Conversation,
    reason: HandoffReason,
    citizen_phone: Option<&str>,
    remote_addr: Option<String>,
) -> Result<Reply, ApiError> {
    let id = conv.id.clone();
    let turns = hotline.db.run(move |c| talk::transcript(c, &id)).await?;
    let first = turns
        .iter()
        .find(|t| t.speaker == "citizen" && !robot::asks_for_person(&t.text))
        .or_else(|| turns.first())
        .map(|t| t.text.clone())
        .unwrap_or_default();
    let title: String = format!("智能问答转人工：{first}")
        .chars()
        .take(100)
        .collect();
    let mut detail = transcript_text(&turns);
    if detail.chars().count() > 9_000 {
        // The newest turns matter most to the agent; the whole stays in the conversation.
        let skip = detail.chars().count() - 9_000;
        detail = format!(
            "（前文略）{}",
            detail.chars().skip(skip).collect::<String>()
        );
    }
    let phone = citizen_phone
        .map(str::to_owned)
        .filter(|p| !p.trim().is_empty());
    let appeal = validate(&handoff_input(title, detail, phone), Channel::Web)?;
    let key = IdempotencyKey::new("robot", &conv.id, &[conv.id.as_bytes()])?;
    let centre_id = intake.centre(hotline).await?;
    let reply = Reply {
        kind: "handoff".into(),
        text: match reason {
            HandoffReason::Asked => "好的，已为您转人工坐席，坐席会尽快答复您。",
            HandoffReason::SearchDown => {
                "抱歉，知识库暂时无法检索，已为您转人工坐席，坐席会尽快答复您。"
            }
            HandoffReason::LowConfidence | HandoffReason::NoMatch => {
                "抱歉，这个问题我没有把握答好，已为您转人工坐席，坐席会尽快答复您。"
            }
        }
        .into(),
        article: None,
        confidence: None,
        options: Vec::new(),
        handoff: None,
    };
    let last_words = said(&reply);
    let conv_id = conv.id.clone();
    let now = hotline.now.get();
    let raw = serde_json::json!({ "conversation": conv.id, "reason": reason.as_ref() }).to_string();
    let outcome = submit_with(
        hotline,
        Submission {
            actor: Actor::System,
            centre_id,
            appeal,
            client_id: None,
            nonce: None,
            raw_payload: raw,
            remote_addr,
            idempotency: Some(key),
            attachments: Vec::new(),
        },
        move |c, t| {
            talk::hand_off(c, &conv_id, reason.as_ref(), t.id, now)?;
            talk::append(c, &conv_id, &[last_words], now)?;
            let body = HandedOff {
                number: t.number.as_str().to_owned(),
                query_code: t.query_code.as_str().to_owned(),
                reason: reason.as_ref().to_owned(),
            };
            Ok(Answer {
                status: 200,
                content_type: "application/json".into(),
                body: serde_json::to_string(&body).unwrap_or_default(),
            })
        },
    )
    .await?;
    let handed: HandedOff = serde_json::from_str(&outcome.answer.body)
        .map_err(|e| ApiError::internal(format!("stored hand-off: {e}")))?;
    Ok(Reply {
        handoff: Some(handed),
        ..reply
    })
}

/// The conversation and its transcript, for the citizen holding its token.
pub async fn show(
    hotline: &Hotline,
    id: String,
    token: String,
) -> Result<(Conversation, Vec<Turn>, Option<HandedOff>), ApiError> {
    let (conv, _) = conversation(hotline, Some((id, token))).await?;
    let cid = conv.id.clone();
    let turns = hotline.db.run(move |c| talk::transcript(c, &cid)).await?;
    let ticket = handed_off_ticket(hotline, &conv).await?;
    Ok((conv, turns, ticket))
}

/// The transcript of the conversation handed off as `ticket` (for the agents; the caller has
/// already been allowed to see the ticket).
pub async fn for_ticket(hotline: &Hotline, ticket: TicketId) -> Result<Vec<Turn>, ApiError> {
    Ok(hotline
        .db
        .run(move |c| match talk::by_ticket(c, ticket)? {
            Some(conv) => talk::transcript(c, &conv.id),
            None => Ok(Vec::new()),
        })
        .await?)
}

/// Counts a question the robot could not answer, for the editors' list of gaps.
fn count_gap(hotline: &Hotline, text: &str, reason: HandoffReason) {
    let text = text.to_owned();
    count_later(hotline, "robot gap", move |c, now| {
        stats::record_gap(c, &text, reason.as_ref(), now)
    });
}
