//! What happened to a ticket: the events of its history. The ticket row is the fold of these.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{AppealType, Channel, Urgency};
use crate::ids::{CategoryId, QueryCode, TicketId, TicketNumber, UnitId, UserId};
use crate::ticket::state::Rating;
use crate::time_limit::Deadlines;

/// The facts of a newly received appeal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Received {
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
    pub citizen_phone: Option<String>,
    #[serde(default)]
    pub citizen_id_number: Option<String>,
    pub centre_id: UnitId,
}

/// A main unit, co-handlers and the clock that starts with them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub main_unit_id: UnitId,
    pub co_unit_ids: Vec<UnitId>,
    /// None when the working-day calendar does not cover the period (the ticket is still routed;
    /// the missing calendar is reported to the administrator).
    pub deadlines: Option<Deadlines>,
}

/// A knowledge-base article an answer cites: its key, its title and the published version the
/// agent read (the article may change later; the ticket keeps what was said).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Citation {
    pub slug: String,
    pub title: String,
    pub version: i32,
}

/// One change to a ticket. Serialized with its `kind` as the event payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    Received(Received),
    AnsweredDirectly {
        answer: String,
        /// The knowledge article the answer cites (events before citations have none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        article: Option<Citation>,
    },
    Dispatched {
        assignment: Assignment,
        note: Option<String>,
    },
    Signed,
    PassedDown {
        to_unit_id: UnitId,
        sign_deadline: Option<DateTime<Utc>>,
        return_deadline: Option<DateTime<Utc>>,
        note: Option<String>,
    },
    /// `back_to_unit_id` is the unit above that passed the ticket down, which gets it back; None
    /// means the ticket goes back to the centre for a ruling. `to_shift_lead`: the ticket has been
    /// returned before (ping-pong), so it goes to the centre's shift lead whoever passed it down.
    Returned {
        reason: String,
        back_to_unit_id: Option<UnitId>,
        #[serde(default)]
        to_shift_lead: bool,
    },
    /// `redispatch` None sends the ticket back to the unit that returned it.
    Ruled {
        ruling: String,
        redispatch: Option<Assignment>,
    },
    ExtensionRequested {
        days: i32,
        reason: String,
    },
    ExtensionApproved {
        days: i32,
        handle_deadline: Option<DateTime<Utc>>,
        note: Option<String>,
    },
    ExtensionDenied {
        reason: String,
    },
    Suspended {
        reason: String,
    },
    /// The deadlines moved by the time the clock was stopped.
    Resumed {
        sign_deadline: Option<DateTime<Utc>>,
        handle_deadline: Option<DateTime<Utc>>,
        return_deadline: Option<DateTime<Utc>>,
    },
    /// `visit_deadline`: when the return visit is due (None without a calendar for the period).
    Replied {
        reply: String,
        #[serde(default)]
        visit_deadline: Option<DateTime<Utc>>,
    },
    ReturnVisited {
        reached: bool,
        note: Option<String>,
    },
    Rated {
        rating: Rating,
        comment: Option<String>,
    },
    RedoOrdered {
        reason: String,
        deadlines: Option<Deadlines>,
    },
    /// `escalated_to`: the unit above the handling unit this supervision reaches (one level
    /// higher each time, up to the centre's government); the centre is always told.
    Supervised {
        reason: String,
        #[serde(default)]
        escalated_to: Option<UnitId>,
    },
    MergedInto {
        target_id: TicketId,
        reason: String,
    },
    Absorbed {
        source_id: TicketId,
    },
    Withdrawn {
        reason: String,
    },
    Closed {
        resolution: String,
    },
    /// Someone saw a masked value in full (audit only).
    PersonalDataViewed {
        field: String,
    },
    /// The citizen's contact details were corrected.
    ContactCorrected {
        citizen_name: Option<String>,
        citizen_phone: Option<String>,
    },
    /// The citizen asked for their personal data to be deleted when the ticket ends.
    ErasureRequested,
    /// Name, phone and ID number deleted; the matter and its statistics are kept.
    PersonalDataErased,
    /// The actor claimed the ticket to work it (认领); `taken_over_from`: a dispatcher or the
    /// unit's administrator took the claim over from that user.
    Claimed {
        #[serde(default)]
        taken_over_from: Option<UserId>,
    },
    /// The claim of `holder` ended (by the holder, or taken away by a dispatcher or the unit's
    /// administrator).
    ClaimReleased {
        holder: UserId,
    },
}

impl Change {
    /// The stored `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Received(_) => "received",
            Self::AnsweredDirectly { .. } => "answered_directly",
            Self::Dispatched { .. } => "dispatched",
            Self::Signed => "signed",
            Self::PassedDown { .. } => "passed_down",
            Self::Returned { .. } => "returned",
            Self::Ruled { .. } => "ruled",
            Self::ExtensionRequested { .. } => "extension_requested",
            Self::ExtensionApproved { .. } => "extension_approved",
            Self::ExtensionDenied { .. } => "extension_denied",
            Self::Suspended { .. } => "suspended",
            Self::Resumed { .. } => "resumed",
            Self::Replied { .. } => "replied",
            Self::ReturnVisited { .. } => "return_visited",
            Self::Rated { .. } => "rated",
            Self::RedoOrdered { .. } => "redo_ordered",
            Self::Supervised { .. } => "supervised",
            Self::MergedInto { .. } => "merged_into",
            Self::Absorbed { .. } => "absorbed",
            Self::Withdrawn { .. } => "withdrawn",
            Self::Closed { .. } => "closed",
            Self::PersonalDataViewed { .. } => "personal_data_viewed",
            Self::ContactCorrected { .. } => "contact_corrected",
            Self::ErasureRequested => "erasure_requested",
            Self::PersonalDataErased => "personal_data_erased",
            Self::Claimed { .. } => "claimed",
            Self::ClaimReleased { .. } => "claim_released",
        }
    }

    /// The human reason stored in the event's `reason` column, where the change has one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Returned { reason, .. }
            | Self::ExtensionRequested { reason, .. }
            | Self::ExtensionDenied { reason }
            | Self::Suspended { reason }
            | Self::RedoOrdered { reason, .. }
            | Self::Supervised { reason, .. }
            | Self::MergedInto { reason, .. }
            | Self::Withdrawn { reason } => Some(reason),
            Self::Ruled { ruling, .. } => Some(ruling),
            Self::Dispatched { note, .. }
            | Self::PassedDown { note, .. }
            | Self::ExtensionApproved { note, .. }
            | Self::ReturnVisited { note, .. } => note.as_deref(),
            _ => None,
        }
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            Self::Received(_) => "受理",
            Self::AnsweredDirectly { .. } => "直接办结",
            Self::Dispatched { .. } => "派单",
            Self::Signed => "签收",
            Self::PassedDown { .. } => "下派",
            Self::Returned { .. } => "退单",
            Self::Ruled { .. } => "审定",
            Self::ExtensionRequested { .. } => "申请延期",
            Self::ExtensionApproved { .. } => "同意延期",
            Self::ExtensionDenied { .. } => "驳回延期",
            Self::Suspended { .. } => "挂起",
            Self::Resumed { .. } => "恢复办理",
            Self::Replied { .. } => "答复",
            Self::ReturnVisited { .. } => "回访",
            Self::Rated { .. } => "评价",
            Self::RedoOrdered { .. } => "重办",
            Self::Supervised { .. } => "督办",
            Self::MergedInto { .. } => "合并",
            Self::Absorbed { .. } => "并入重复件",
            Self::Withdrawn { .. } => "撤回",
            Self::Closed { .. } => "办结",
            Self::PersonalDataViewed { .. } => "查看完整个人信息",
            Self::ContactCorrected { .. } => "更正联系方式",
            Self::ErasureRequested => "申请删除个人信息",
            Self::PersonalDataErased => "个人信息已删除",
            Self::Claimed { .. } => "认领",
            Self::ClaimReleased { .. } => "释放认领",
        }
    }
}

/// Who made a change and when. `actor_role` is the role name, `citizen` or `system`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub ticket_id: TicketId,
    /// The ticket's version after this event (1 for `received`).
    pub version: i32,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<UserId>,
    pub actor_role: String,
    pub actor_unit_id: Option<UnitId>,
    pub change: Change,
}
