//! The work queues (我的待办) of the caller's role: what an agent, a dispatcher, a leader or a
//! handling unit has to do next, each in the order it should be done. The API and the page
//! `/queues` share [`for_caller`].

use actix_web::{HttpResponse, web};
use hotline_core::ApiError;
use hotline_core::auth::Permission;
use hotline_core::domain::Role;
use hotline_core::error::ErrorBody;
use hotline_core::http::Caller;
use hotline_core::store::tickets::{self, TicketFilter, TicketOrder};
use hotline_core::ticket::{ExtensionState, Status, Ticket, TicketView};
use hotline_core::time_limit::WarningLevel;
use hotline_core::workflow::Hotline;
use hotline_dispatch::routing::marks::{self, AWAITING};
use serde::Serialize;
use utoipa::ToSchema;

use super::tickets::{view, warning_of};

/// The most tickets one queue shows.
pub const QUEUE_LIMIT: i64 = 100;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/queues").route(web::get().to(get)));
}

/// Which queue: the key of the API and the page's heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    /// 待派单: received, waiting for an agent (oldest first).
    Incoming,
    /// 待人工派单: awaiting dispatch with no suggestion above the confidence threshold (the
    /// dispatcher's manual queue; oldest first).
    ManualDispatch,
    /// 退单待审定: returned to the centre (oldest first); `needs_shift_lead` marks ping-pong.
    Rulings,
    /// 延期待审批: extension requests waiting for a dispatcher (oldest first).
    Extensions,
    /// 待回访: replied, the return visit due first.
    ReturnVisits,
    /// 督办件: supervised open tickets, nearest deadline first.
    Supervised,
    /// 待签收: the unit's tickets to sign for, nearest deadline first.
    ToSign,
    /// 办理中: the unit's tickets in hand (suspended ones too).
    InProgress,
    /// 临近时限: the unit's tickets at yellow, red or overdue.
    NearDeadline,
}

impl QueueKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Incoming => "待派单",
            Self::ManualDispatch => "待人工派单",
            Self::Rulings => "退单待审定",
            Self::Extensions => "延期待审批",
            Self::ReturnVisits => "待回访",
            Self::Supervised => "督办件",
            Self::ToSign => "待签收",
            Self::InProgress => "办理中",
            Self::NearDeadline => "临近时限（黄灯、红灯、超期）",
        }
    }

    /// The queues a role works, in the order a page shows them.
    pub fn of_role(role: Role) -> &'static [QueueKind] {
        use QueueKind as Q;
        match role {
            Role::Agent => &[Q::Incoming, Q::ReturnVisits],
            Role::Dispatcher => &[
                Q::ManualDispatch,
                Q::Rulings,
                Q::Extensions,
                Q::Incoming,
                Q::ReturnVisits,
                Q::Supervised,
            ],
            Role::Leader => &[Q::Supervised],
            Role::UnitHandler | Role::UnitAdmin => &[Q::NearDeadline, Q::ToSign, Q::InProgress],
            Role::Admin | Role::Reviewer => &[],
        }
    }

    fn filter(self, caller: &Caller) -> TicketFilter {
        let mine = Some(caller.unit.id);
        let open: Vec<Status> = hotline_core::store::board::OPEN.into();
        let (statuses, main_unit_id, order) = match self {
            Self::Incoming => (vec![Status::Received], None, TicketOrder::LongestWaiting),
            Self::ManualDispatch => (AWAITING.to_vec(), None, TicketOrder::LongestWaiting),
            Self::Rulings => (vec![Status::Returned], None, TicketOrder::LongestWaiting),
            Self::Extensions => (
                vec![Status::Handling, Status::Suspended],
                None,
                TicketOrder::LongestWaiting,
            ),
            Self::ReturnVisits => (vec![Status::Replied], None, TicketOrder::VisitDeadline),
            Self::Supervised => (open, None, TicketOrder::HandleDeadline),
            Self::ToSign => (vec![Status::Dispatched], mine, TicketOrder::HandleDeadline),
            Self::InProgress => (
                vec![Status::Handling, Status::Suspended],
                mine,
                TicketOrder::HandleDeadline,
            ),
            Self::NearDeadline => (
                vec![Status::Dispatched, Status::Handling],
                mine,
                TicketOrder::HandleDeadline,
            ),
        };
        TicketFilter {
            statuses,
            main_unit_id,
            extension: (self == Self::Extensions).then_some(ExtensionState::Requested),
            supervised: (self == Self::Supervised).then_some(true),
            order,
            ..TicketFilter::default()
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queue {
    pub kind: QueueKind,
    pub label: &'static str,
    /// At most 100, in the queue's order.
    pub items: Vec<TicketView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queues {
    pub queues: Vec<Queue>,
}

/// The caller's queues with their tickets, as stored (not yet shaped for an answer).
pub async fn for_caller(
    hotline: &Hotline,
    caller: &Caller,
) -> Result<Vec<(QueueKind, Vec<Ticket>)>, ApiError> {
    caller.require(Permission::ReadTickets)?;
    let kinds = QueueKind::of_role(caller.user.role);
    let filters: Vec<_> = kinds.iter().map(|k| (*k, k.filter(caller))).collect();
    let scope = caller.scope.clone();
    let now = hotline.now.get();
    let mut lists = hotline
        .db
        .run(move |c| {
            filters
                .into_iter()
                .map(|(k, mut f)| {
                    if k == QueueKind::ManualDispatch {
                        f.ids = Some(marks::manual_queue(c)?);
                    }
                    tickets::list(c, &f, &scope, None, QUEUE_LIMIT, now).map(|(page, _)| (k, page))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    for (kind, items) in &mut lists {
        if *kind == QueueKind::NearDeadline {
            items
                .retain(|t| warning_of(hotline, t, now).is_some_and(|w| w >= WarningLevel::Yellow));
        }
    }
    Ok(lists)
}

#[utoipa::path(get, path = "/api/v1/queues", tag = "tickets",
    description = "The caller's work queues: agents the incoming and return-visit queues; dispatchers also the manual-dispatch queue (no suggestion above the confidence threshold), returns to rule on (ping-pong ones marked `needs_shift_lead`), extension requests and supervised tickets; leaders supervised tickets; unit staff their tickets to sign, in progress and near the deadline.",
    responses((status = 200, body = Queues), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(hotline: web::Data<Hotline>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let lists = for_caller(&hotline, &caller).await?;
    let queues = lists
        .into_iter()
        .map(|(kind, items)| Queue {
            kind,
            label: kind.label_zh(),
            items: items.iter().map(|t| view(&hotline, &caller, t)).collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(Queues { queues }))
}
