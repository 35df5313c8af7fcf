//! A ticket: its facts, its history, and one form per action its reader may take now.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use hotline_core::auth::Permission;
use hotline_core::http::{Caller, FormFields, PageCaller, PageError, PageUser};
use hotline_core::ids::TicketId;
use hotline_core::store::events::StoredEvent;
use hotline_core::ticket::{ActionKind, Assignment, Change, Rating};
use hotline_core::workflow::Hotline;
use minijinja::context;
use serde::Serialize;

use super::list::running_deadline;
use super::lookup::{self, Units};
use super::{OrPage, Pages, options};
use crate::dispatching::Dispatching;
use crate::routes::tickets;

/// What went wrong with a submitted action, shown on the re-rendered page.
#[derive(Debug, Serialize)]
pub struct Feedback {
    pub action: ActionKind,
    pub message: String,
    /// A field error: shown inside the action's form, which keeps what was typed.
    pub field_error: bool,
    /// Set while rendering: the form is on the page to show the message in.
    pub at_form: bool,
    pub values: HashMap<String, serde_json::Value>,
}

/// One line of an event's particulars.
#[derive(Debug, Serialize)]
struct Fact {
    label: &'static str,
    value: Option<String>,
    time: Option<DateTime<Utc>>,
    href: Option<String>,
}

impl Fact {
    fn text(label: &'static str, value: impl Into<String>) -> Self {
        Self {
            label,
            value: Some(value.into()),
            time: None,
            href: None,
        }
    }

    fn time(label: &'static str, at: Option<DateTime<Utc>>) -> Option<Self> {
        at.map(|t| Self {
            label,
            value: None,
            time: Some(t),
            href: None,
        })
    }

    fn link(label: &'static str, id: TicketId) -> Self {
        Self {
            label,
            value: Some("查看工单".into()),
            time: None,
            href: Some(format!("/tickets/{id}")),
        }
    }
}

#[derive(Debug, Serialize)]
struct Entry {
    at: DateTime<Utc>,
    step: &'static str,
    role: String,
    unit: Option<String>,
    reason: Option<String>,
    facts: Vec<Fact>,
}

fn assignment_facts(units: &Units, a: &Assignment, facts: &mut Vec<Fact>) {
    facts.push(Fact::text("主办单位", units.name(a.main_unit_id)));
    if !a.co_unit_ids.is_empty() {
        facts.push(Fact::text(
            "协办单位",
            units.names(&a.co_unit_ids).join("、"),
        ));
    }
    facts.extend(Fact::time(
        "办理时限",
        a.deadlines.as_ref().map(|d| d.handle_by),
    ));
}

/// The particulars of a change worth reading in the history (the reason is shown apart).
fn facts(units: &Units, change: &Change) -> Vec<Fact> {
    let mut out = Vec::new();
    match change {
        Change::Received(r) => out.push(Fact::text("受理渠道", r.channel.label_zh())),
        Change::AnsweredDirectly { answer, article } => {
            out.push(Fact::text("答复内容", answer));
            if let Some(a) = article {
                out.push(Fact::text(
                    "引用知识",
                    format!("《{}》（第 {} 版）", a.title, a.version),
                ));
            }
        }
        Change::Dispatched { assignment, .. } => assignment_facts(units, assignment, &mut out),
        Change::PassedDown {
            to_unit_id,
            sign_deadline,
            ..
        } => {
            out.push(Fact::text("下派至", units.name(*to_unit_id)));
            out.extend(Fact::time("签收时限", *sign_deadline));
        }
        Change::Returned {
            back_to_unit_id,
            to_shift_lead,
            ..
        } => out.push(Fact::text(
            "退回至",
            match back_to_unit_id {
                Some(u) => units.name(*u),
                None if *to_shift_lead => "12345中心（多次退单，待班长审定）".to_owned(),
                None => "12345中心（待审定）".to_owned(),
            },
        )),
        Change::Ruled { redispatch, .. } => match redispatch {
            Some(a) => {
                out.push(Fact::text("审定结果", "改派"));
                assignment_facts(units, a, &mut out);
            }
            None => out.push(Fact::text("审定结果", "退回原单位继续办理")),
        },
        Change::ExtensionRequested { days, .. } => {
            out.push(Fact::text("申请延期", format!("{days}个工作日")))
        }
        Change::ExtensionApproved {
            days,
            handle_deadline,
            ..
        } => {
            out.push(Fact::text("同意延期", format!("{days}个工作日")));
            out.extend(Fact::time("新的办理时限", *handle_deadline));
        }
        Change::Resumed {
            handle_deadline, ..
        } => out.extend(Fact::time("新的办理时限", *handle_deadline)),
        Change::Replied {
            reply,
            visit_deadline,
        } => {
            out.push(Fact::text("答复内容", reply));
            out.extend(Fact::time("回访时限", *visit_deadline));
        }
        Change::ReturnVisited { reached, .. } => {
            out.push(Fact::text(
                "联系情况",
                if *reached {
                    "已联系上来电人"
                } else {
                    "未联系上来电人"
                },
            ));
        }
        Change::Rated { rating, comment } => {
            out.push(Fact::text("满意度", rating.label_zh()));
            if let Some(c) = comment {
                out.push(Fact::text("评价意见", c));
            }
        }
        Change::RedoOrdered { deadlines, .. } => {
            out.extend(Fact::time(
                "办理时限",
                deadlines.as_ref().map(|d| d.handle_by),
            ));
        }
        Change::MergedInto { target_id, .. } => out.push(Fact::link("合并到", *target_id)),
        Change::Absorbed { source_id } => out.push(Fact::link("并入的重复件", *source_id)),
        Change::Closed { resolution } => out.push(Fact::text("办结情况", resolution)),
        Change::PersonalDataViewed { field } => out.push(Fact::text(
            "查看项目",
            if field == "citizen_id_number" {
                "身份证号码"
            } else {
                "联系电话"
            },
        )),
        Change::ContactCorrected {
            citizen_name,
            citizen_phone,
        } => {
            if let Some(n) = citizen_name {
                out.push(Fact::text("联系人", n));
            }
            if let Some(p) = citizen_phone {
                out.push(Fact::text(
                    "联系电话",
                    hotline_core::domain::text::mask_phone(p),
                ));
            }
        }
        Change::Claimed {
            taken_over_from: Some(_),
        } => out.push(Fact::text("认领方式", "班长接管他人的认领")),
        Change::Signed
        | Change::Claimed { .. }
        | Change::ClaimReleased { .. }
        | Change::ErasureRequested
        | Change::PersonalDataErased
        | Change::ExtensionDenied { .. }
        | Change::Suspended { .. }
        | Change::Withdrawn { .. } => {}
        Change::Supervised { escalated_to, .. } => {
            if let Some(u) = escalated_to {
                out.push(Fact::text("督办至", units.name(*u)));
            }
        }
    }
    out
}

fn entry(units: &Units, e: &StoredEvent) -> Entry {
    let e = &e.event;
    Entry {
        at: e.occurred_at,
        step: e.change.label_zh(),
        role: e.actor_role.clone(),
        unit: units.opt_name(e.actor_unit_id),
        reason: e.change.reason().map(str::to_owned),
        facts: facts(units, &e.change),
    }
}

#[derive(Debug, Serialize)]
struct ActionForm {
    kind: ActionKind,
    label: &'static str,
}

/// The banner above the ticket after a redirect.
#[derive(Debug, Default)]
pub struct Notice {
    pub created: bool,
    /// Registered by 登记并直接办结, but the direct answer was then refused.
    pub unanswered: bool,
    pub done: Option<ActionKind>,
    /// A value shown in full at the caller's request (see `reveal`).
    pub revealed: Option<Revealed>,
}

impl Notice {
    /// The banner a redirect asks for in the page's query (`created`, `done=ACTION`).
    pub fn of_query(q: &FormFields) -> Self {
        Self {
            created: q.one("created").is_some(),
            unanswered: q.one("unanswered").is_some(),
            done: q.one("done").and_then(|d| d.parse().ok()),
            revealed: None,
        }
    }
}

/// One personal value of the ticket, shown in full.
#[derive(Debug, Serialize)]
pub struct Revealed {
    pub field: hotline_core::ticket::personal::PersonalField,
    pub value: String,
}

pub async fn page(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    dispatching: web::Data<Dispatching>,
    caller: PageCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = tickets::ticket_id(&path).or_page(&caller)?;
    let q = FormFields::parse(req.query_string().as_bytes());
    let notice = Notice::of_query(&q);
    let part = q.one("part").map(str::to_owned);
    render_part(
        &hotline,
        &pages,
        &dispatching,
        &caller,
        id,
        notice,
        None,
        part.as_deref(),
    )
    .await
}

/// Renders the ticket page (or, with `?part=ticket`, its live part alone); with `feedback`, in
/// the status of the failure it reports.
#[allow(clippy::too_many_arguments)] // the page's inputs, passed through from its callers
pub async fn render_part(
    hotline: &Hotline,
    pages: &Pages,
    dispatching: &web::Data<Dispatching>,
    caller: &Caller,
    id: TicketId,
    notice: Notice,
    feedback: Option<(StatusCode, Feedback)>,
    part: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let seq = super::live::seq(hotline).await.or_page(caller)?;
    let (status, ctx) = context(hotline, dispatching, caller, id, notice, feedback).await?;
    let ctx = context! { seq, ..ctx };
    pages.render_live(status, "ticket.html", &["ticket"], part, ctx)
}

/// What `ticket_body.html` shows, and the status to answer with.
pub async fn context(
    hotline: &Hotline,
    dispatching: &web::Data<Dispatching>,
    caller: &Caller,
    id: TicketId,
    notice: Notice,
    feedback: Option<(StatusCode, Feedback)>,
) -> Result<(StatusCode, minijinja::Value), PageError> {
    let (t, history) = tickets::load(hotline, caller, id).await.or_page(caller)?;
    let units = Units::load(hotline).await.or_page(caller)?;
    let mut actions = tickets::actions_for(caller, &t);
    let below = units.below(&caller.unit);
    if below.is_empty() {
        actions.retain(|a| *a != ActionKind::PassDown);
    }
    let routes = actions
        .iter()
        .any(|a| matches!(a, ActionKind::Dispatch | ActionKind::Rule));
    let targets = if routes {
        units.dispatch_targets(&caller.unit)
    } else {
        Vec::new()
    };
    let (status, feedback) = match feedback {
        Some((status, mut f)) => {
            f.at_form = f.field_error && actions.contains(&f.action);
            (status, Some(f))
        }
        None => (StatusCode::OK, None),
    };
    let repeats = tickets::repeat_candidates(hotline, caller, id)
        .await
        .or_page(caller)?;
    let panel = super::suggest::panel(hotline, dispatching, caller, &t, &actions)
        .await
        .or_page(caller)?;
    let manual_dispatch = !tickets::in_manual_queue(hotline, std::slice::from_ref(&t))
        .await
        .or_page(caller)?
        .is_empty();
    let category = lookup::category_name(hotline, t.category_id)
        .await
        .or_page(caller)?;
    let names = context! {
        centre => units.name(t.centre_id),
        main => units.opt_name(t.main_unit_id),
        co => units.names(&t.co_unit_ids).join("、"),
        chain => units.names(&t.chain).join(" → "),
        category,
    };
    let earlier = earlier_tickets(hotline, caller, &t).await.or_page(caller)?;
    // A conversation handed off by the Q&A robot: what the citizen and the robot said, as it
    // stands now (the citizen may have added to it since the hand-off).
    let transcript = crate::robot::for_ticket(hotline, t.id)
        .await
        .or_page(caller)?;
    Ok((
        status,
        context! {
            me => PageUser::of(caller),
            t => tickets::view(hotline, caller, &t),
            deadline => running_deadline(&t),
            names,
            history => history.iter().map(|e| entry(&units, e)).collect::<Vec<_>>(),
            actions => actions.iter().map(|k| ActionForm { kind: *k, label: k.label_zh() }).collect::<Vec<_>>(),
            targets,
            below,
            ratings => options::<Rating>(Rating::label_zh),
            repeats,
            panel,
            manual_dispatch,
            feedback,
            created => notice.created,
            unanswered => notice.unanswered,
            done => notice.done,
            revealed => notice.revealed,
            may_reveal => caller.require(Permission::ActOnTickets).is_ok(),
            earlier,
            transcript,
        },
    ))
}

/// The caller's earlier tickets (same phone number, newest first, this one left out) as the
/// reader may see them: what the citizen asked before, for the agent on the phone.
async fn earlier_tickets(
    hotline: &Hotline,
    caller: &Caller,
    t: &hotline_core::ticket::Ticket,
) -> Result<Vec<hotline_core::ticket::TicketView>, hotline_core::ApiError> {
    let Some(phone) = t.citizen_phone.clone() else {
        return Ok(Vec::new());
    };
    if !caller.user.role.is_centre_staff() {
        return Ok(Vec::new());
    }
    let filter = hotline_core::store::tickets::TicketFilter {
        citizen_phone: Some(phone),
        ..Default::default()
    };
    let scope = caller.scope.clone();
    let now = hotline.now.get();
    let (page, _) = hotline
        .db
        .run(move |c| hotline_core::store::tickets::list(c, &filter, &scope, None, 11, now))
        .await?;
    Ok(page
        .iter()
        .filter(|e| e.id != t.id)
        .take(10)
        .map(|e| tickets::view(hotline, caller, e))
        .collect())
}
