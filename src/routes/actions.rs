//! One POST per transition: `/api/v1/tickets/{id}/{action}`. Every body may carry
//! `expected_version`: the version the caller last read; a ticket that moved on meanwhile answers
//! 409 `version_conflict` with the current version. Illegal transitions answer 409
//! `invalid_transition` naming the current status and the refused action.

use actix_web::{HttpResponse, web};
use hotline_core::ApiError;
use hotline_core::auth::Permission;
use hotline_core::error::ErrorBody;
use hotline_core::http::{ApiJson, Caller};
use hotline_core::ids::{TicketId, UnitId};
use hotline_core::ticket::{Action, ActionKind, Rating, Ruling, TicketView};
use hotline_core::workflow::Hotline;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::tickets::{actions_for, ticket_id, view};
use super::{opt_text, text};

pub fn configure(cfg: &mut web::ServiceConfig) {
    let post =
        |path: &str, r: actix_web::Route| web::resource(format!("/tickets/{{id}}/{path}")).route(r);
    cfg.service(post("answer", web::post().to(answer)))
        .service(post("dispatch", web::post().to(dispatch)))
        .service(post("sign", web::post().to(sign)))
        .service(post("pass-down", web::post().to(pass_down)))
        .service(post("return", web::post().to(return_ticket)))
        .service(post("rule", web::post().to(rule)))
        .service(post("request-extension", web::post().to(request_extension)))
        .service(post("approve-extension", web::post().to(approve_extension)))
        .service(post("deny-extension", web::post().to(deny_extension)))
        .service(post("suspend", web::post().to(suspend)))
        .service(post("resume", web::post().to(resume)))
        .service(post("reply", web::post().to(reply)))
        .service(post("return-visit", web::post().to(return_visit)))
        .service(post("rate", web::post().to(rate)))
        .service(post("redo", web::post().to(redo)))
        .service(post("supervise", web::post().to(supervise)))
        .service(post("merge", web::post().to(merge)))
        .service(post("withdraw", web::post().to(withdraw)))
        .service(post("close", web::post().to(close)));
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionResult {
    pub ticket: TicketView,
    /// What the caller may do next.
    pub actions: Vec<ActionKind>,
}

/// Takes an action for the caller and answers with the new state.
pub async fn perform(
    hotline: &Hotline,
    caller: &Caller,
    id: TicketId,
    action: Action,
    expected_version: Option<i32>,
) -> Result<ActionResult, ApiError> {
    caller.require(Permission::ActOnTickets)?;
    let cited = match &action {
        Action::Answer {
            article: Some(a), ..
        } => Some(a.slug.clone()),
        _ => None,
    };
    let t = match hotline
        .act(
            caller.actor(),
            caller.scope.clone(),
            id,
            action,
            expected_version,
        )
        .await
    {
        Ok(t) => t,
        // A claim refused it: name who holds the ticket.
        Err(e) => return Err(super::claims::name_holder(hotline, e.into()).await),
    };
    if let Some(slug) = cited {
        // An answer given from the knowledge base counts as used (the editors' statistics).
        super::knowledge::count_use(hotline, slug);
    }
    Ok(ActionResult {
        ticket: view(hotline, caller, &t),
        actions: actions_for(caller, &t),
    })
}

async fn respond(
    hotline: web::Data<Hotline>,
    caller: Caller,
    id: web::Path<String>,
    action: Action,
    expected_version: Option<i32>,
) -> Result<HttpResponse, ApiError> {
    let id = ticket_id(&id)?;
    let result = perform(&hotline, &caller, id, action, expected_version).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Resolves the units a routing action names.
pub async fn routing_units(
    hotline: &Hotline,
    main: UnitId,
    main_field: &'static str,
    co: &[UnitId],
) -> Result<
    (
        hotline_core::domain::UnitRef,
        Vec<hotline_core::domain::UnitRef>,
    ),
    ApiError,
> {
    let main = hotline.unit_ref(main, main_field).await?;
    let mut refs = Vec::with_capacity(co.len());
    for id in co {
        refs.push(hotline.unit_ref(*id, "co_unit_ids").await?);
    }
    Ok((main, refs))
}

/// Bodies of actions that need nothing but, optionally, the version read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    pub expected_version: Option<i32>,
}

/// Bodies of actions that need a reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// ≤ 5,000 characters.
    #[schema(min_length = 1, max_length = 5000)]
    pub reason: String,
    pub expected_version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The answer given to the citizen (from the knowledge base, usually).
    #[schema(min_length = 1, max_length = 5000)]
    pub answer: String,
    /// The slug of the knowledge article the answer comes from: it must be published and valid
    /// today; the ticket keeps its title and version.
    pub article: Option<String>,
    pub expected_version: Option<i32>,
}

/// The citation of the published article `slug` (blank: none).
pub async fn citation(
    hotline: &Hotline,
    slug: Option<&str>,
) -> Result<Option<hotline_core::ticket::change::Citation>, ApiError> {
    let Some(slug) = slug.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let owned = slug.to_owned();
    let found = hotline
        .db
        .run(move |c| hotline_knowledge::store::read::published(c, &owned))
        .await?;
    let p = found
        .filter(|p| super::knowledge::valid_today(hotline, p))
        .ok_or_else(|| {
            ApiError::invalid("article", "no published answer valid today has this key")
        })?;
    Ok(Some(hotline_core::ticket::change::Citation {
        slug: p.slug,
        title: p.fields.title,
        version: p.version,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchBody {
    /// The main handling unit (主办).
    pub main_unit_id: UnitId,
    /// Co-handling units (协办), at most 10.
    #[serde(default)]
    pub co_unit_ids: Vec<UnitId>,
    #[schema(max_length = 5000)]
    pub note: Option<String>,
    pub expected_version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassDownBody {
    /// A unit below the handling unit.
    pub to_unit_id: UnitId,
    #[schema(max_length = 5000)]
    pub note: Option<String>,
    pub expected_version: Option<i32>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleDecision {
    /// The return is justified: dispatch to `main_unit_id` instead.
    Redispatch,
    /// The return is refused: back to the unit that returned it.
    SendBack,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    pub decision: RuleDecision,
    /// Required with `redispatch`.
    pub main_unit_id: Option<UnitId>,
    #[serde(default)]
    pub co_unit_ids: Vec<UnitId>,
    /// The ruling, as the units will read it.
    #[schema(min_length = 1, max_length = 5000)]
    pub ruling: String,
    pub expected_version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequestBody {
    /// Working days asked for (at most what the type allows, e.g. 10).
    pub days: u32,
    #[schema(min_length = 1, max_length = 5000)]
    pub reason: String,
    pub expected_version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveExtensionBody {
    /// Fewer days than requested; omit to grant the request.
    pub days: Option<u32>,
    #[schema(max_length = 5000)]
    pub note: Option<String>,
    pub expected_version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    /// The unit's answer to the citizen.
    #[schema(min_length = 1, max_length = 5000)]
    pub reply: String,
    pub expected_version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnVisitBody {
    /// Whether the citizen was reached.
    pub reached: bool,
    #[schema(max_length = 5000)]
    pub note: Option<String>,
    pub expected_version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateBody {
    pub rating: Rating,
    #[schema(max_length = 5000)]
    pub comment: Option<String>,
    pub expected_version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The ticket this duplicate joins.
    pub target_id: TicketId,
    #[schema(min_length = 1, max_length = 5000)]
    pub reason: String,
    pub expected_version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// How the matter was resolved.
    #[schema(min_length = 1, max_length = 5000)]
    pub resolution: String,
    pub expected_version: Option<i32>,
}

type Data = web::Data<Hotline>;
type Id = web::Path<String>;
type Answer = Result<HttpResponse, ApiError>;

#[utoipa::path(post, path = "/api/v1/tickets/{id}/answer", tag = "actions", request_body = AnswerBody,
    description = "直接办结: answer a consultation at once and close it (centre staff; status received).",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn answer(h: Data, c: Caller, id: Id, b: ApiJson<AnswerBody>) -> Answer {
    let a = Action::Answer {
        answer: text("answer", &b.0.answer)?,
        article: citation(&h, b.0.article.as_deref()).await?,
    };
    respond(h, c, id, a, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/dispatch", tag = "actions", request_body = DispatchBody,
    description = "派单: assign a main unit and co-handlers (centre staff; status received).",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn dispatch(h: Data, c: Caller, id: Id, b: ApiJson<DispatchBody>) -> Answer {
    let b = b.0;
    let note = opt_text("note", b.note.as_deref())?;
    let (main, co) = routing_units(&h, b.main_unit_id, "main_unit_id", &b.co_unit_ids).await?;
    respond(
        h,
        c,
        id,
        Action::Dispatch { main, co, note },
        b.expected_version,
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/sign", tag = "actions", request_body = VersionBody,
    description = "签收: the handling unit acknowledges the ticket (status dispatched).",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn sign(h: Data, c: Caller, id: Id, b: ApiJson<VersionBody>) -> Answer {
    respond(h, c, id, Action::Sign, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/pass-down", tag = "actions", request_body = PassDownBody,
    description = "下派: the handling unit passes the ticket to a unit below it (status handling).",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pass_down(h: Data, c: Caller, id: Id, b: ApiJson<PassDownBody>) -> Answer {
    let b = b.0;
    let note = opt_text("note", b.note.as_deref())?;
    let to = h.unit_ref(b.to_unit_id, "to_unit_id").await?;
    respond(h, c, id, Action::PassDown { to, note }, b.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/return", tag = "actions", request_body = ReasonBody,
    description = "退单: the handling unit says it is not responsible, inside the return window. A unit reached by pass-down returns to the unit above; otherwise the centre rules.",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn return_ticket(h: Data, c: Caller, id: Id, b: ApiJson<ReasonBody>) -> Answer {
    let a = Action::Return {
        reason: text("reason", &b.0.reason)?,
    };
    respond(h, c, id, a, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/rule", tag = "actions", request_body = RuleBody,
    description = "审定: the dispatcher rules on a returned ticket: re-dispatch elsewhere or send back.",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rule(h: Data, c: Caller, id: Id, b: ApiJson<RuleBody>) -> Answer {
    let b = b.0;
    let ruling = text("ruling", &b.ruling)?;
    let decision = match b.decision {
        RuleDecision::SendBack => Ruling::SendBack,
        RuleDecision::Redispatch => {
            let main_id = b
                .main_unit_id
                .ok_or_else(|| ApiError::invalid("main_unit_id", "required to re-dispatch"))?;
            let (main, co) = routing_units(&h, main_id, "main_unit_id", &b.co_unit_ids).await?;
            Ruling::Redispatch { main, co }
        }
    };
    respond(
        h,
        c,
        id,
        Action::Rule { ruling, decision },
        b.expected_version,
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/request-extension", tag = "actions", request_body = ExtensionRequestBody,
    description = "申请延期: the handling unit asks for more working days before the deadline (once per ticket).",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn request_extension(
    h: Data,
    c: Caller,
    id: Id,
    b: ApiJson<ExtensionRequestBody>,
) -> Answer {
    let a = Action::RequestExtension {
        days: b.0.days,
        reason: text("reason", &b.0.reason)?,
    };
    respond(h, c, id, a, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/approve-extension", tag = "actions", request_body = ApproveExtensionBody,
    description = "同意延期: the dispatcher grants the request (or fewer days); the deadline moves.",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve_extension(
    h: Data,
    c: Caller,
    id: Id,
    b: ApiJson<ApproveExtensionBody>,
) -> Answer {
    let a = Action::ApproveExtension {
        days: b.0.days,
        note: opt_text("note", b.0.note.as_deref())?,
    };
    respond(h, c, id, a, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/deny-extension", tag = "actions", request_body = ReasonBody,
    description = "驳回延期: the dispatcher refuses the request.",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn deny_extension(h: Data, c: Caller, id: Id, b: ApiJson<ReasonBody>) -> Answer {
    let a = Action::DenyExtension {
        reason: text("reason", &b.0.reason)?,
    };
    respond(h, c, id, a, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/suspend", tag = "actions", request_body = ReasonBody,
    description = "挂起: the handling unit stops the clock while waiting on the citizen.",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn suspend(h: Data, c: Caller, id: Id, b: ApiJson<ReasonBody>) -> Answer {
    let a = Action::Suspend {
        reason: text("reason", &b.0.reason)?,
    };
    respond(h, c, id, a, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/resume", tag = "actions", request_body = VersionBody,
    description = "恢复办理: the clock runs again; deadlines move by the time it stood still.",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn resume(h: Data, c: Caller, id: Id, b: ApiJson<VersionBody>) -> Answer {
    respond(h, c, id, Action::Resume, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/reply", tag = "actions", request_body = ReplyBody,
    description = "答复: the handling unit's answer to the citizen.",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reply(h: Data, c: Caller, id: Id, b: ApiJson<ReplyBody>) -> Answer {
    let a = Action::Reply {
        reply: text("reply", &b.0.reply)?,
    };
    respond(h, c, id, a, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/return-visit", tag = "actions", request_body = ReturnVisitBody,
    description = "回访: the centre contacts the citizen after the reply.",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn return_visit(h: Data, c: Caller, id: Id, b: ApiJson<ReturnVisitBody>) -> Answer {
    let a = Action::ReturnVisit {
        reached: b.0.reached,
        note: opt_text("note", b.0.note.as_deref())?,
    };
    respond(h, c, id, a, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/rate", tag = "actions", request_body = RateBody,
    description = "评价: the citizen's rating (满意/基本满意/不满意), recorded by the centre.",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rate(h: Data, c: Caller, id: Id, b: ApiJson<RateBody>) -> Answer {
    let a = Action::Rate {
        rating: b.0.rating,
        comment: opt_text("comment", b.0.comment.as_deref())?,
    };
    respond(h, c, id, a, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/redo", tag = "actions", request_body = ReasonBody,
    description = "重办: after a 不满意 rating the ticket goes back to the unit that replied.",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn redo(h: Data, c: Caller, id: Id, b: ApiJson<ReasonBody>) -> Answer {
    let a = Action::Redo {
        reason: text("reason", &b.0.reason)?,
    };
    respond(h, c, id, a, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/supervise", tag = "actions", request_body = ReasonBody,
    description = "督办: flag an open ticket for supervision (dispatchers and leaders).",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn supervise(h: Data, c: Caller, id: Id, b: ApiJson<ReasonBody>) -> Answer {
    let a = Action::Supervise {
        reason: text("reason", &b.0.reason)?,
    };
    respond(h, c, id, a, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/merge", tag = "actions", request_body = MergeBody,
    description = "合并: this ticket is a duplicate of `target_id` and ends merged into it.",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn merge(h: Data, c: Caller, id: Id, b: ApiJson<MergeBody>) -> Answer {
    c.require(Permission::ActOnTickets)?;
    let source = ticket_id(&id)?;
    let b = b.0;
    let reason = text("reason", &b.reason)?;
    let merged = h
        .merge(
            c.actor(),
            c.scope.clone(),
            source,
            b.target_id,
            reason,
            b.expected_version,
        )
        .await;
    let (s, _) = match merged {
        Ok(pair) => pair,
        Err(e) => return Err(super::claims::name_holder(&h, e.into()).await),
    };
    Ok(HttpResponse::Ok().json(ActionResult {
        ticket: view(&h, &c, &s),
        actions: actions_for(&c, &s),
    }))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/withdraw", tag = "actions", request_body = ReasonBody,
    description = "撤回: the citizen withdraws the appeal before dispatch.",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn withdraw(h: Data, c: Caller, id: Id, b: ApiJson<ReasonBody>) -> Answer {
    let a = Action::Withdraw {
        reason: text("reason", &b.0.reason)?,
    };
    respond(h, c, id, a, b.0.expected_version).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/close", tag = "actions", request_body = CloseBody,
    description = "办结: close after the return visit, recording the resolution.",
    params(("id" = String, Path)), responses((status = 200, body = ActionResult), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn close(h: Data, c: Caller, id: Id, b: ApiJson<CloseBody>) -> Answer {
    let a = Action::Close {
        resolution: text("resolution", &b.0.resolution)?,
    };
    respond(h, c, id, a, b.0.expected_version).await
}
