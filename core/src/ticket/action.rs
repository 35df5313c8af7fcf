//! What someone asks to do to a ticket. Values here are already validated (see `domain::text`);
//! units are resolved to their place in the tree so the state machine can decide without I/O.

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumIter, EnumString, IntoStaticStr};

use crate::domain::text::{Reason, ShortText, Title};
use crate::domain::{AppealType, Channel, UnitRef, Urgency};
use crate::ids::CategoryId;
use crate::ticket::state::Rating;

/// Every transition of the closed loop after `receive`. The string form is the URL segment:
/// `POST /api/v1/tickets/{id}/{kind}`.
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
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ActionKind {
    Answer,
    Dispatch,
    Sign,
    PassDown,
    Return,
    Rule,
    RequestExtension,
    ApproveExtension,
    DenyExtension,
    Suspend,
    Resume,
    Reply,
    ReturnVisit,
    Rate,
    Redo,
    Supervise,
    Merge,
    Withdraw,
    Close,
}

impl ActionKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Answer => "直接办结",
            Self::Dispatch => "派单",
            Self::Sign => "签收",
            Self::PassDown => "下派",
            Self::Return => "退单",
            Self::Rule => "审定退单",
            Self::RequestExtension => "申请延期",
            Self::ApproveExtension => "同意延期",
            Self::DenyExtension => "驳回延期",
            Self::Suspend => "挂起",
            Self::Resume => "恢复办理",
            Self::Reply => "答复",
            Self::ReturnVisit => "回访",
            Self::Rate => "评价",
            Self::Redo => "重办",
            Self::Supervise => "督办",
            Self::Merge => "合并",
            Self::Withdraw => "撤回",
            Self::Close => "办结",
        }
    }
}

/// A validated new appeal, as an agent registers it or a channel delivers it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAppeal {
    pub channel: Channel,
    pub appeal_type: AppealType,
    pub urgency: Urgency,
    pub category_id: Option<CategoryId>,
    pub title: Title,
    pub detail: crate::domain::text::Detail,
    pub address: Option<ShortText>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub citizen_name: Option<ShortText>,
    pub citizen_phone: Option<crate::domain::text::PhoneNumber>,
    pub citizen_id_number: Option<crate::domain::text::ResidentId>,
}

/// How a dispatcher rules on a returned ticket.
#[derive(Debug, Clone, PartialEq)]
pub enum Ruling {
    /// The return is accepted: the ticket goes to another unit.
    Redispatch { main: UnitRef, co: Vec<UnitRef> },
    /// The return is refused: the ticket goes back to the unit that returned it.
    SendBack,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Answer {
        answer: Reason,
        /// The knowledge article the answer comes from (already checked to be published).
        article: Option<crate::ticket::change::Citation>,
    },
    Dispatch {
        main: UnitRef,
        co: Vec<UnitRef>,
        note: Option<Reason>,
    },
    Sign,
    PassDown {
        to: UnitRef,
        note: Option<Reason>,
    },
    Return {
        reason: Reason,
    },
    Rule {
        ruling: Reason,
        decision: Ruling,
    },
    RequestExtension {
        days: u32,
        reason: Reason,
    },
    /// Approves the requested days, or fewer when `days` is given.
    ApproveExtension {
        days: Option<u32>,
        note: Option<Reason>,
    },
    DenyExtension {
        reason: Reason,
    },
    Suspend {
        reason: Reason,
    },
    Resume,
    Reply {
        reply: Reason,
    },
    ReturnVisit {
        reached: bool,
        note: Option<Reason>,
    },
    Rate {
        rating: Rating,
        comment: Option<Reason>,
    },
    Redo {
        reason: Reason,
    },
    Supervise {
        reason: Reason,
    },
    Withdraw {
        reason: Reason,
    },
    Close {
        resolution: Reason,
    },
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Self::Answer { .. } => ActionKind::Answer,
            Self::Dispatch { .. } => ActionKind::Dispatch,
            Self::Sign => ActionKind::Sign,
            Self::PassDown { .. } => ActionKind::PassDown,
            Self::Return { .. } => ActionKind::Return,
            Self::Rule { .. } => ActionKind::Rule,
            Self::RequestExtension { .. } => ActionKind::RequestExtension,
            Self::ApproveExtension { .. } => ActionKind::ApproveExtension,
            Self::DenyExtension { .. } => ActionKind::DenyExtension,
            Self::Suspend { .. } => ActionKind::Suspend,
            Self::Resume => ActionKind::Resume,
            Self::Reply { .. } => ActionKind::Reply,
            Self::ReturnVisit { .. } => ActionKind::ReturnVisit,
            Self::Rate { .. } => ActionKind::Rate,
            Self::Redo { .. } => ActionKind::Redo,
            Self::Supervise { .. } => ActionKind::Supervise,
            Self::Withdraw { .. } => ActionKind::Withdraw,
            Self::Close { .. } => ActionKind::Close,
        }
    }
}
