//! Staff roles and who is acting.

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumIter, EnumString, IntoStaticStr};

use crate::domain::org::UnitRef;
use crate::ids::UserId;

/// A staff user's role. Citizens are not users; they act through the portal with their query code.
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
pub enum Role {
    /// 话务员: takes calls and online appeals, registers and dispatches.
    Agent,
    /// 派单员/班长: routes, rules on returns, approves extensions, supervises.
    Dispatcher,
    /// 承办人: handles the unit's tickets.
    UnitHandler,
    /// 单位管理员: a handling unit's administrator.
    UnitAdmin,
    /// 领导: reads everything in scope, supervises.
    Leader,
    /// 系统管理员: org tree, users, catalogue.
    Admin,
    /// 知识审核员: a 12345 centre's reviewer, who publishes (or sends back) the knowledge
    /// articles the units write.
    Reviewer,
}

impl Role {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Agent => "话务员",
            Self::Dispatcher => "派单员/班长",
            Self::UnitHandler => "承办人",
            Self::UnitAdmin => "单位管理员",
            Self::Leader => "领导",
            Self::Admin => "系统管理员",
            Self::Reviewer => "知识审核员",
        }
    }

    /// Centre staff work a 12345 centre's queue; unit staff work their own unit's tickets.
    pub fn is_centre_staff(self) -> bool {
        matches!(self, Self::Agent | Self::Dispatcher)
    }

    pub fn is_unit_staff(self) -> bool {
        matches!(self, Self::UnitHandler | Self::UnitAdmin)
    }
}

/// Who performs an action on a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Staff {
        user_id: UserId,
        role: Role,
        unit: UnitRef,
    },
    /// The citizen, proven by ticket number + query code (the portal).
    Citizen,
    /// The scheduler and other automatic work.
    System,
}

impl Actor {
    pub fn role(&self) -> Option<Role> {
        match self {
            Self::Staff { role, .. } => Some(*role),
            _ => None,
        }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Self::Staff { user_id, .. } => Some(*user_id),
            _ => None,
        }
    }

    pub fn unit(&self) -> Option<&UnitRef> {
        match self {
            Self::Staff { unit, .. } => Some(unit),
            _ => None,
        }
    }

    /// The name stored on events: the role, or `citizen` / `system`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Staff { role, .. } => role.into(),
            Self::Citizen => "citizen",
            Self::System => "system",
        }
    }
}
