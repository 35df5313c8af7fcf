//! The notices' Chinese templates (minijinja, plain text: nothing is escaped, nothing is HTML).
//! Each template's first line is the subject, the rest the body.

use minijinja::Environment;
use serde::Serialize;

/// The kinds of notice, each with its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    /// 新工单: a ticket was dispatched, passed down, redone or sent back to the unit.
    NewTicket,
    /// 黄灯/红灯预警.
    DeadlineWarning,
    /// 超期督办, to the unit, the unit above and the centre.
    Overdue,
    /// 退单审定结果, to the unit that returned the ticket.
    ReturnRuled,
    /// 延期审批结果.
    ExtensionDecided,
    /// 回访到期提醒, to the centre.
    ReturnVisitDue,
    /// 超期工单日报, to the unit admins.
    DailyDigest,
    /// 督办通知: a dispatcher or leader supervised the ticket; to the unit and the unit the
    /// supervision escalated to.
    Supervised,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 8] = [
        Self::NewTicket,
        Self::DeadlineWarning,
        Self::Overdue,
        Self::ReturnRuled,
        Self::ExtensionDecided,
        Self::ReturnVisitDue,
        Self::DailyDigest,
        Self::Supervised,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewTicket => "new_ticket",
            Self::DeadlineWarning => "deadline_warning",
            Self::Overdue => "overdue",
            Self::ReturnRuled => "return_ruled",
            Self::ExtensionDecided => "extension_decided",
            Self::ReturnVisitDue => "return_visit_due",
            Self::DailyDigest => "daily_digest",
            Self::Supervised => "supervised",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Self::NewTicket => include_str!("templates/new_ticket.txt"),
            Self::DeadlineWarning => include_str!("templates/deadline_warning.txt"),
            Self::Overdue => include_str!("templates/overdue.txt"),
            Self::ReturnRuled => include_str!("templates/return_ruled.txt"),
            Self::ExtensionDecided => include_str!("templates/extension_decided.txt"),
            Self::ReturnVisitDue => include_str!("templates/return_visit_due.txt"),
            Self::DailyDigest => include_str!("templates/daily_digest.txt"),
            Self::Supervised => include_str!("templates/supervised.txt"),
        }
    }
}

/// A rendered notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for kind in NoticeKind::ALL {
            env.add_template(kind.as_str(), kind.source())?;
        }
        Ok(Self { env })
    }

    pub fn render(
        &self,
        kind: NoticeKind,
        ctx: impl Serialize,
    ) -> Result<Rendered, minijinja::Error> {
        let text = self.env.get_template(kind.as_str())?.render(ctx)?;
        let (subject, body) = text.split_once('\n').unwrap_or((text.as_str(), ""));
        Ok(Rendered {
            subject: subject.trim().to_owned(),
            body: format!("{}\n", body.trim_matches('\n')),
        })
    }
}
