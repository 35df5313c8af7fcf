//! The Q&A robot's API for the citizens' app and mini-program (the portal's robot page does the
//! same through forms): ask a question, read the conversation back; and, for staff, the
//! transcript behind a handed-off ticket.
//!
//! A conversation is public like the portal (no sign-in): it is held by its id and the secret
//! token given when it starts, and every question is rate-limited per address.

use actix_web::{HttpRequest, HttpResponse, web};
use hotline_core::ApiError;
use hotline_core::auth::Permission;
use hotline_core::error::ErrorBody;
use hotline_core::http::{ApiJson, Caller};
use hotline_core::store::tickets;
use hotline_core::workflow::Hotline;
use hotline_intake::routes::{Intake, client_ip};
use hotline_knowledge::store::robot::Turn;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::knowledge_base::KnowledgeBase;
use crate::robot::{self, Asked, HandedOff, Question};

/// The header that carries a conversation's token when reading it back.
pub const TOKEN_HEADER: &str = "Robot-Token";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/robot/ask").route(web::post().to(ask)))
        .service(web::resource("/robot/conversations/{id}").route(web::get().to(conversation)))
        .service(web::resource("/tickets/{id}/robot-transcript").route(web::get().to(transcript)));
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    /// The conversation to go on with (absent: a new one starts), with its token.
    pub conversation: Option<String>,
    pub token: Option<String>,
    /// The question (1–500 characters); may be absent with `choice`.
    #[schema(max_length = 500)]
    pub text: Option<String>,
    /// The slug of one answer the robot's last clarifying question offered.
    pub choice: Option<String>,
    /// A number to call back on, used only if the conversation goes to a person.
    pub citizen_phone: Option<String>,
}

/// The conversation a request names: both id and token, or neither.
pub fn held(
    conversation: Option<String>,
    token: Option<String>,
) -> Result<Option<(String, String)>, ApiError> {
    match (conversation, token) {
        (None, None) => Ok(None),
        (Some(c), Some(t)) => Ok(Some((c, t))),
        (Some(_), None) => Err(ApiError::invalid("token", "a conversation needs its token")),
        (None, Some(_)) => Err(ApiError::invalid(
            "conversation",
            "a token needs its conversation",
        )),
    }
}

#[utoipa::path(post, path = "/api/v1/robot/ask", tag = "robot", request_body = AskBody,
    description = "智能问答: the robot answers with the best article and its confidence, asks \
        which answer is meant when two are close, or hands the conversation to a person \
        (\"转人工\", or no answer it trusts): a consultation ticket with the transcript in the \
        agents' queue. No sign-in: the conversation's token is its key.",
    responses((status = 200, body = Asked), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn ask(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    kb: web::Data<KnowledgeBase>,
    intake: web::Data<Intake>,
    b: ApiJson<AskBody>,
) -> Result<HttpResponse, ApiError> {
    let ip = client_ip(&req);
    intake.limits.check_ip(&ip).map_err(ApiError::from)?;
    let b = b.0;
    let held = held(b.conversation, b.token)?;
    let q = Question {
        text: b.text.unwrap_or_default(),
        choice: b.choice,
        citizen_phone: b.citizen_phone,
        remote_addr: Some(ip),
    };
    let asked = robot::ask(&hotline, &kb, &intake, held, q).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(asked))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationView {
    pub conversation: String,
    /// `open` (the robot answers) or `handed_off`.
    pub state: String,
    pub turns: Vec<Turn>,
    pub handoff: Option<HandedOff>,
}

#[utoipa::path(get, path = "/api/v1/robot/conversations/{id}", tag = "robot",
    description = "The conversation's transcript, for the citizen holding its token (header Robot-Token).",
    params(("id" = String, Path), ("Robot-Token" = String, Header)),
    responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody)))]
pub async fn conversation(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let token = req
        .headers()
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::invalid(TOKEN_HEADER, "the conversation's token is needed"))?;
    let (conv, turns, handoff) = robot::show(&hotline, id.into_inner(), token.to_owned()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(ConversationView {
            conversation: conv.id,
            state: conv.state.as_ref().to_owned(),
            turns,
            handoff,
        }))
}

/// The transcript behind a ticket the caller may read (empty: the ticket came another way).
pub async fn ticket_transcript(
    hotline: &Hotline,
    caller: &Caller,
    id: hotline_core::ids::TicketId,
) -> Result<Vec<Turn>, ApiError> {
    caller.require(Permission::ReadTickets)?;
    let scope = caller.scope.clone();
    hotline
        .db
        .run(move |c| tickets::get_visible(c, id, &scope).map(|_| ()))
        .await?;
    robot::for_ticket(hotline, id).await
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/robot-transcript", tag = "robot",
    description = "The robot conversation a ticket was handed off from (staff who may read the ticket).",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Turn>), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn transcript(
    hotline: web::Data<Hotline>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::tickets::ticket_id(&id)?;
    Ok(HttpResponse::Ok().json(ticket_transcript(&hotline, &caller, id).await?))
}
