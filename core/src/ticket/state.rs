//! The ticket as the system works it: the current state derived from its events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumIter, EnumString, IntoStaticStr};

use crate::domain::{AppealType, Channel, Urgency};
use crate::ids::{CategoryId, QueryCode, TicketId, TicketNumber, UnitId, UserId};

/// Where a ticket stands in the closed loop.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    AsRefStr,
    IntoStaticStr,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    /// 已受理: registered, waiting to be dispatched.
    Received,
    /// 待签收: dispatched or passed down, waiting for the unit to sign for it.
    Dispatched,
    /// 办理中: signed for, being handled.
    Handling,
    /// 已退单: returned to the centre, waiting for the dispatcher's ruling.
    Returned,
    /// 已挂起: the clock is stopped while waiting on the citizen.
    Suspended,
    /// 已答复: the unit has replied, waiting for the return visit.
    Replied,
    /// 已回访: the centre has visited the citizen, ready to close.
    Visited,
    /// 已办结.
    Closed,
    /// 已合并: a duplicate merged into another ticket.
    Merged,
    /// 已撤回: withdrawn by the citizen before dispatch.
    Withdrawn,
}

impl Status {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Received => "待派单",
            Self::Dispatched => "待签收",
            Self::Handling => "办理中",
            Self::Returned => "已退单",
            Self::Suspended => "已挂起",
            Self::Replied => "已答复",
            Self::Visited => "已回访",
            Self::Closed => "已办结",
            Self::Merged => "已合并",
            Self::Withdrawn => "已撤回",
        }
    }

    /// No action but reading is possible once a ticket is terminal.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Merged | Self::Withdrawn)
    }
}

/// 满意度 given by the citizen after the reply.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    AsRefStr,
    IntoStaticStr,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Rating {
    /// 满意
    Satisfied,
    /// 基本满意
    BasicallySatisfied,
    /// 不满意
    Dissatisfied,
}

impl Rating {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Satisfied => "满意",
            Self::BasicallySatisfied => "基本满意",
            Self::Dissatisfied => "不满意",
        }
    }
}

/// A ticket's one extension (延期): at most one request per ticket.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    AsRefStr,
    IntoStaticStr,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ExtensionState {
    None,
    Requested,
    Approved,
    Denied,
}

/// The current state of one ticket. Every field is derived from the ticket's events by
/// [`crate::ticket::apply`]; the `tickets` table stores exactly this.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: TicketId,
    pub number: TicketNumber,
    pub query_code: QueryCode,
    pub channel: Channel,
    pub appeal_type: AppealType,
    pub urgency: Urgency,
    pub category_id: Option<CategoryId>,
    pub title: String,
    pub detail: String,
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub citizen_name: Option<String>,
    /// Digits only; every answer masks it (see the API layer).
    pub citizen_phone: Option<String>,
    /// A resident ID number, when the appeal needs one; masked like the phone.
    pub citizen_id_number: Option<String>,
    pub status: Status,
    /// The 12345 centre that received the appeal.
    pub centre_id: UnitId,
    /// The main handling unit (主办) the ticket is with now, or last was.
    pub main_unit_id: Option<UnitId>,
    /// Co-handling units (协办).
    pub co_unit_ids: Vec<UnitId>,
    /// The units the ticket went down through, from the first dispatched unit to the main unit.
    pub chain: Vec<UnitId>,
    pub extension: ExtensionState,
    pub extension_days: Option<i32>,
    pub supervised: bool,
    /// How many times the ticket was supervised (督办): each time escalates one level higher.
    pub supervision_count: i32,
    /// The unit the latest supervision escalated to (the handling unit's parent, or higher).
    pub escalated_unit_id: Option<UnitId>,
    pub reply: Option<String>,
    pub rating: Option<Rating>,
    pub rating_comment: Option<String>,
    pub resolution: Option<String>,
    pub merged_into: Option<TicketId>,
    pub return_count: i32,
    pub redo_count: i32,
    pub received_at: DateTime<Utc>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub visited_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub sign_deadline: Option<DateTime<Utc>>,
    pub handle_deadline: Option<DateTime<Utc>>,
    pub return_deadline: Option<DateTime<Utc>>,
    /// The return visit (回访) is due by then: the return-visit window after the reply.
    pub visit_deadline: Option<DateTime<Utc>>,
    pub created_by: Option<UserId>,
    /// The citizen asked for their personal data to be deleted once the ticket ends.
    pub erasure_requested: bool,
    /// When the citizen's name, phone and ID number were deleted (statistics are kept).
    pub erased_at: Option<DateTime<Utc>>,
    /// Who has claimed the ticket to work it now (see [`crate::ticket::claim`]), and since when.
    pub claimed_by: Option<UserId>,
    pub claimed_at: Option<DateTime<Utc>>,
    /// The number of events applied; the optimistic-concurrency version.
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

impl Ticket {
    /// The unit that returned the ticket, while it waits for a ruling.
    pub fn returned_by(&self) -> Option<UnitId> {
        (self.status == Status::Returned)
            .then_some(self.main_unit_id)
            .flatten()
    }

    /// The ticket is with a unit and one of its deadlines has passed.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        match self.status {
            Status::Dispatched => {
                self.sign_deadline.is_some_and(|d| d < now)
                    || self.handle_deadline.is_some_and(|d| d < now)
            }
            Status::Handling => self.handle_deadline.is_some_and(|d| d < now),
            // A suspended ticket's clock is stopped.
            _ => false,
        }
    }

    /// The ticket was returned twice or more (ping-pong): the shift lead rules on it, and no
    /// unit that returned it gets it again automatically.
    pub fn needs_shift_lead(&self) -> bool {
        self.return_count >= 2
    }
}
