//! The public timeline a citizen sees when tracking an appeal: when it was received, which unit it
//! went to and who signed for it, the reply, the return visit, the rating, redo, closing,
//! withdrawal, merging. Only what the citizen is entitled to: unit names (public), the reply and
//! the citizen's own rating. Never internal notes and reasons (dispatch notes, returns and rulings,
//! extensions, suspensions, supervision), staff names, nor other citizens' data.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hotline_core::ids::{TicketId, UnitId};
use hotline_core::ticket::{Change, Event};
use serde::Serialize;

/// One step of the public timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub at: DateTime<Utc>,
    /// 受理, 派单, 签收, 下派, 答复, 回访, 评价, 重办, 办结, 撤回, 合并…
    pub step: &'static str,
    pub text: String,
    /// Text the citizen should read as it was written (the reply, their own comment).
    pub quote: Option<String>,
}

/// What the timeline needs to name: units and the tickets an appeal was merged into.
#[derive(Debug, Default)]
pub struct Names {
    pub units: HashMap<UnitId, String>,
    pub tickets: HashMap<TicketId, String>,
}

impl Names {
    fn unit(&self, id: Option<UnitId>) -> String {
        id.and_then(|id| self.units.get(&id).cloned())
            .unwrap_or_else(|| "承办单位".to_owned())
    }
}

/// The units and tickets `events` mention, to be named before [`steps`].
pub fn mentions(events: &[Event]) -> (Vec<UnitId>, Vec<TicketId>) {
    let mut units = Vec::new();
    let mut tickets = Vec::new();
    for e in events {
        match &e.change {
            Change::Dispatched { assignment, .. }
            | Change::Ruled {
                redispatch: Some(assignment),
                ..
            } => {
                units.push(assignment.main_unit_id);
                units.extend(&assignment.co_unit_ids);
            }
            Change::PassedDown { to_unit_id, .. } => units.push(*to_unit_id),
            Change::MergedInto { target_id, .. } => tickets.push(*target_id),
            _ => {}
        }
        units.extend(e.actor_unit_id);
    }
    units.sort();
    units.dedup();
    tickets.sort();
    tickets.dedup();
    (units, tickets)
}

/// The public steps of a ticket's history, oldest first. `own` is false when the history is of
/// another citizen's ticket (the main ticket this one was merged into): then the data-rights
/// steps, which are that citizen's business, are left out.
pub fn steps(events: &[Event], names: &Names, own: bool) -> Vec<Step> {
    let mut out = Vec::new();
    for e in events {
        let step = |step: &'static str, text: String| Step {
            at: e.occurred_at,
            step,
            text,
            quote: None,
        };
        let s = match &e.change {
            Change::Received(r) => step(
                "受理",
                format!(
                    "您的诉求已通过{}提交，12345热线已受理。",
                    r.channel.label_zh()
                ),
            ),
            Change::AnsweredDirectly { answer, .. } => Step {
                quote: Some(answer.clone()),
                ..step("答复", "12345热线已直接答复您的诉求：".to_owned())
            },
            Change::Dispatched { assignment, .. }
            | Change::Ruled {
                redispatch: Some(assignment),
                ..
            } => {
                let mut text = format!("已派给{}办理", names.unit(Some(assignment.main_unit_id)));
                if !assignment.co_unit_ids.is_empty() {
                    let co: Vec<String> = assignment
                        .co_unit_ids
                        .iter()
                        .map(|u| names.unit(Some(*u)))
                        .collect();
                    text.push_str(&format!("，{}协办", co.join("、")));
                }
                text.push('。');
                step("派单", text)
            }
            Change::Signed => step(
                "签收",
                format!("{}已签收，正在办理。", names.unit(e.actor_unit_id)),
            ),
            Change::PassedDown { to_unit_id, .. } => step(
                "下派",
                format!(
                    "{}已转交{}办理。",
                    names.unit(e.actor_unit_id),
                    names.unit(Some(*to_unit_id))
                ),
            ),
            Change::Replied { reply, .. } => Step {
                quote: Some(reply.clone()),
                ..step("答复", format!("{}答复：", names.unit(e.actor_unit_id)))
            },
            Change::ReturnVisited { reached, .. } => step(
                "回访",
                if *reached {
                    "12345热线已回访。".to_owned()
                } else {
                    "12345热线回访时未能联系上您。".to_owned()
                },
            ),
            Change::Rated { rating, comment } => Step {
                quote: comment.clone(),
                ..step("评价", format!("评价：{}。", rating.label_zh()))
            },
            Change::RedoOrdered { .. } => step(
                "重办",
                "因评价不满意，诉求已交回承办单位重新办理。".to_owned(),
            ),
            Change::Closed { .. } => step("办结", "诉求已办结。".to_owned()),
            Change::Withdrawn { .. } => step("撤回", "诉求已撤回。".to_owned()),
            Change::MergedInto { target_id, .. } => step(
                "合并",
                match names.tickets.get(target_id) {
                    Some(n) => format!("与反映同一事项的工单 {n} 合并办理。"),
                    None => "与反映同一事项的工单合并办理。".to_owned(),
                },
            ),
            Change::ContactCorrected { .. } if own => {
                step("更正联系方式", "您的联系方式已更正。".to_owned())
            }
            Change::ErasureRequested if own => step(
                "申请删除个人信息",
                "已收到您删除个人信息的申请，诉求结束后删除。".to_owned(),
            ),
            Change::PersonalDataErased if own => step(
                "删除个人信息",
                "您的姓名、电话等个人信息已删除。".to_owned(),
            ),
            // Internal to the handling: returns and rulings that send a ticket back, extensions,
            // suspensions, supervision, duplicates absorbed, audit of who saw what.
            _ => continue,
        };
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_core::ticket::Assignment;
    use hotline_core::ticket::Rating;

    fn event(change: Change, unit: Option<UnitId>) -> Event {
        Event {
            ticket_id: TicketId::new(),
            version: 1,
            occurred_at: Utc::now(),
            actor_id: None,
            actor_role: "dispatcher".into(),
            actor_unit_id: unit,
            change,
        }
    }

    #[test]
    fn internal_reasons_and_notes_stay_inside() {
        let (centre, a2, street) = (UnitId::new(), UnitId::new(), UnitId::new());
        let names = Names {
            units: HashMap::from([
                (centre, "A市12345热线".to_owned()),
                (a2, "A2区".to_owned()),
                (street, "桂花坪街道".to_owned()),
            ]),
            tickets: HashMap::new(),
        };
        let assignment = Assignment {
            main_unit_id: a2,
            co_unit_ids: vec![],
            deadlines: None,
        };
        let events = vec![
            event(
                Change::Dispatched {
                    assignment: assignment.clone(),
                    note: Some("内部备注：此人多次来电".into()),
                },
                Some(centre),
            ),
            event(
                Change::Returned {
                    reason: "退单理由：不属本单位".into(),
                    back_to_unit_id: None,
                    to_shift_lead: false,
                },
                Some(a2),
            ),
            event(
                Change::Ruled {
                    ruling: "审定意见：维持".into(),
                    redispatch: None,
                },
                Some(centre),
            ),
            event(Change::Signed, Some(a2)),
            event(
                Change::Supervised {
                    reason: "督办说明".into(),
                    escalated_to: None,
                },
                Some(centre),
            ),
            event(
                Change::PassedDown {
                    to_unit_id: street,
                    sign_deadline: None,
                    return_deadline: None,
                    note: Some("下派备注".into()),
                },
                Some(a2),
            ),
            event(
                Change::Replied {
                    reply: "已修复路灯。".into(),
                    visit_deadline: None,
                },
                Some(street),
            ),
            event(
                Change::Rated {
                    rating: Rating::Dissatisfied,
                    comment: Some("还是不亮".into()),
                },
                None,
            ),
            event(
                Change::RedoOrdered {
                    reason: "内部重办理由".into(),
                    deadlines: None,
                },
                None,
            ),
            event(Change::ErasureRequested, None),
        ];
        let got = steps(&events, &names, true);
        let all = format!("{got:?}");
        for secret in [
            "内部备注",
            "退单理由",
            "审定意见",
            "督办说明",
            "下派备注",
            "内部重办理由",
        ] {
            assert!(!all.contains(secret), "{secret} leaked: {all}");
        }
        let kinds: Vec<&str> = got.iter().map(|s| s.step).collect();
        assert_eq!(
            kinds,
            [
                "派单",
                "签收",
                "下派",
                "答复",
                "评价",
                "重办",
                "申请删除个人信息"
            ]
        );
        assert_eq!(got[0].text, "已派给A2区办理。");
        assert_eq!(got[2].text, "A2区已转交桂花坪街道办理。");
        assert_eq!(got[3].quote.as_deref(), Some("已修复路灯。"));
        assert!(got[3].text.starts_with("桂花坪街道"));
        assert_eq!(got[4].quote.as_deref(), Some("还是不亮"));
        // Another citizen's data-rights steps are theirs alone.
        assert_eq!(steps(&events, &names, false).len(), 6);
    }

    #[test]
    fn mentions_name_every_unit_and_merged_ticket() {
        let (a, b, t) = (UnitId::new(), UnitId::new(), TicketId::new());
        let events = vec![
            event(Change::Signed, Some(a)),
            event(
                Change::MergedInto {
                    target_id: t,
                    reason: "重复".into(),
                },
                Some(b),
            ),
        ];
        let (units, tickets) = mentions(&events);
        assert_eq!(units.len(), 2);
        assert_eq!(tickets, vec![t]);
    }
}
