//! What kind of appeal it is, how urgent, and through which door it came.

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumIter, EnumString, IntoStaticStr};

/// 诉求类型. Stored and sent as the snake_case English name.
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
pub enum AppealType {
    /// 咨询
    Consult,
    /// 求助
    Help,
    /// 投诉
    Complaint,
    /// 举报
    Report,
    /// 建议
    Suggestion,
    /// 表扬
    Praise,
}

impl AppealType {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Consult => "咨询",
            Self::Help => "求助",
            Self::Complaint => "投诉",
            Self::Report => "举报",
            Self::Suggestion => "建议",
            Self::Praise => "表扬",
        }
    }
}

/// 紧急程度.
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
pub enum Urgency {
    Normal,
    Urgent,
}

impl Urgency {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Normal => "一般",
            Self::Urgent => "紧急",
        }
    }
}

/// 受理渠道: the door the appeal came through.
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
pub enum Channel {
    Phone,
    Web,
    App,
    MiniProgram,
    Open311,
}

impl Channel {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Phone => "电话",
            Self::Web => "网站",
            Self::App => "App",
            Self::MiniProgram => "小程序",
            Self::Open311 => "Open311",
        }
    }
}
