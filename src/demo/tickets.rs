//! Drives the planned demo tickets through the real workflow, on a clock set to a realistic past
//! (the last twenty days), so their histories, deadlines and warning colours are what a centre
//! would see.

use std::collections::HashMap;

use anyhow::Context;
use chrono::Duration;
use hotline_core::domain::text::{Detail, PhoneNumber, Reason, Title};
use hotline_core::domain::{Actor, Urgency};
use hotline_core::ids::TicketId;
use hotline_core::scope::Scope;
use hotline_core::store::tickets;
use hotline_core::ticket::{Action, NewAppeal, Rating, Ruling};
use hotline_core::workflow::{Hotline, Now};

use super::plan::{Plan, Script, TicketPlan};
use super::{Member, STAFF, handler_name};

const DEFAULT_REPLY: &str = "您好！您反映的问题已收悉。经现场核查，我单位已安排专人处理，处理情况已电话告知您本人。感谢您对我们工作的理解与支持。";

fn reason(s: &str) -> anyhow::Result<Reason> {
    Reason::parse(s).map_err(|e| anyhow::anyhow!("demo text: {e}"))
}

fn actor(m: &Member) -> Actor {
    Actor::Staff {
        user_id: m.user_id,
        role: m.role,
        unit: m.unit.clone(),
    }
}

struct Seeder<'a> {
    hotline: Hotline,
    members: &'a HashMap<String, Member>,
    at: chrono::DateTime<chrono::Utc>,
}

impl Seeder<'_> {
    fn member(&self, name: &str) -> anyhow::Result<Actor> {
        self.members
            .get(name)
            .map(actor)
            .with_context(|| format!("demo user {name} is missing"))
    }

    /// The staff member who acts for a unit: its listed handler, else the unit's handler account.
    fn unit_staff(&self, code: &str) -> anyhow::Result<Actor> {
        let listed = STAFF
            .iter()
            .find(|(_, r, c, _)| *c == code && r.is_unit_staff())
            .map(|(u, ..)| (*u).to_owned());
        self.member(&listed.unwrap_or_else(|| handler_name(code)))
    }

    async fn step(&mut self, who: Actor, id: TicketId, action: Action) -> anyhow::Result<()> {
        self.at += Duration::minutes(10);
        self.hotline.now.set(self.at);
        self.hotline
            .act(who, Scope::All, id, action, None)
            .await
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("demo ticket {id}: {e}"))
    }

    async fn run(
        &mut self,
        p: &TicketPlan,
        previous: Option<TicketId>,
    ) -> anyhow::Result<TicketId> {
        let agent = self.member("agent1")?;
        let dispatcher = self.member("dispatcher")?;
        let receiver = if p.channel == hotline_core::domain::Channel::Phone {
            agent.clone()
        } else {
            Actor::System
        };
        let appeal = NewAppeal {
            channel: p.channel,
            appeal_type: p.appeal_type,
            urgency: Urgency::Normal,
            category_id: p.category_id,
            title: Title::parse(&p.title).map_err(|e| anyhow::anyhow!("{e}"))?,
            detail: Detail::parse(&p.detail).map_err(|e| anyhow::anyhow!("{e}"))?,
            address: None,
            latitude: p.position.map(|(lat, _)| lat),
            longitude: p.position.map(|(_, lon)| lon),
            citizen_name: None,
            citizen_phone: PhoneNumber::parse(&p.phone).ok(),
            citizen_id_number: None,
        };
        self.hotline.now.set(self.at);
        let centre = agent
            .unit()
            .map(|u| u.id)
            .context("the demo agent has no unit")?;
        let id = self
            .hotline
            .receive(receiver, centre, appeal)
            .await
            .map_err(|e| anyhow::anyhow!("demo appeal: {e}"))?
            .id;
        let main = self.unit_staff(&p.main)?;
        let main_ref = main.unit().cloned().context("unit")?;
        let below = match &p.below {
            Some(code) => Some(self.unit_staff(code)?),
            None => None,
        };
        let other = self.unit_staff(&p.other)?.unit().cloned().context("unit")?;
        let reply = reason(p.reply.as_deref().unwrap_or(DEFAULT_REPLY))?;
        match p.script {
            Script::Received => return Ok(id),
            Script::Answered => {
                let answer = reason("已根据知识库政策口径向市民当场解答，市民表示清楚。")?;
                self.step(
                    agent,
                    id,
                    Action::Answer {
                        answer,
                        article: None,
                    },
                )
                .await?;
                return Ok(id);
            }
            Script::Withdrawn => {
                let r = reason("市民来电表示问题已自行解决，申请撤回诉求。")?;
                self.step(agent, id, Action::Withdraw { reason: r }).await?;
                return Ok(id);
            }
            Script::Merged => {
                if let Some(target) = previous {
                    self.at += Duration::minutes(10);
                    self.hotline.now.set(self.at);
                    let r = reason("与已受理工单反映同一事项，合并办理。")?;
                    self.hotline
                        .merge(agent, Scope::All, id, target, r, None)
                        .await
                        .map_err(|e| anyhow::anyhow!("demo merge: {e}"))?;
                }
                return Ok(id);
            }
            _ => {}
        }
        let dispatch = Action::Dispatch {
            main: main_ref,
            co: Vec::new(),
            note: None,
        };
        self.step(agent.clone(), id, dispatch).await?;
        if matches!(p.script, Script::Dispatched) {
            return Ok(id);
        }
        if p.script == Script::Overdue {
            let r = reason("超时未签收，予以督办，请立即签收办理。")?;
            self.step(dispatcher, id, Action::Supervise { reason: r })
                .await?;
            return Ok(id);
        }
        if matches!(p.script, Script::Returned | Script::Ruled) {
            let r = reason("经核实，该事项不属于本单位职责范围，建议转交相关职能部门办理。")?;
            self.step(main, id, Action::Return { reason: r }).await?;
            if p.script == Script::Ruled {
                let ruling = reason("退单理由成立，改派相关职能部门办理。")?;
                let decision = Ruling::Redispatch {
                    main: other,
                    co: Vec::new(),
                };
                self.step(dispatcher, id, Action::Rule { ruling, decision })
                    .await?;
            }
            return Ok(id);
        }
        self.step(main.clone(), id, Action::Sign).await?;
        let mut handler = main.clone();
        if matches!(
            p.script,
            Script::PassedDown | Script::PassedDownSigned | Script::ClosedViaStreet
        ) {
            let below = below.context("a pass-down needs a unit below")?;
            let to = below.unit().cloned().context("unit")?;
            self.step(main, id, Action::PassDown { to, note: None })
                .await?;
            if p.script == Script::PassedDown {
                return Ok(id);
            }
            self.step(below.clone(), id, Action::Sign).await?;
            handler = below;
            if p.script == Script::PassedDownSigned {
                return Ok(id);
            }
        }
        match p.script {
            Script::Signed => return Ok(id),
            Script::ExtensionRequested | Script::ExtensionApproved => {
                let r = reason("涉及多个部门协调，需现场勘查，申请延期办理。")?;
                self.step(handler, id, Action::RequestExtension { days: 5, reason: r })
                    .await?;
                if p.script == Script::ExtensionApproved {
                    self.step(
                        dispatcher,
                        id,
                        Action::ApproveExtension {
                            days: None,
                            note: None,
                        },
                    )
                    .await?;
                }
                return Ok(id);
            }
            Script::Suspended => {
                let r = reason("需市民补充提供具体地址和现场照片，已电话联系市民。")?;
                self.step(handler, id, Action::Suspend { reason: r })
                    .await?;
                return Ok(id);
            }
            Script::Supervised => {
                let r = reason("群众反映强烈，列入重点督办。")?;
                self.step(dispatcher, id, Action::Supervise { reason: r })
                    .await?;
                return Ok(id);
            }
            _ => {}
        }
        self.step(handler, id, Action::Reply { reply }).await?;
        if p.script == Script::Replied {
            return Ok(id);
        }
        let visit = Action::ReturnVisit {
            reached: true,
            note: Some(reason("已电话回访市民。")?),
        };
        self.step(agent.clone(), id, visit).await?;
        if p.script == Script::Visited {
            return Ok(id);
        }
        let rating = if p.script == Script::Redo {
            Rating::Dissatisfied
        } else if id.as_uuid().as_bytes()[0] % 3 == 0 {
            Rating::BasicallySatisfied
        } else {
            Rating::Satisfied
        };
        self.step(
            agent.clone(),
            id,
            Action::Rate {
                rating,
                comment: None,
            },
        )
        .await?;
        if p.script == Script::Redo {
            let r = reason("市民对答复不满意，问题未实际解决，重新交办。")?;
            self.step(agent, id, Action::Redo { reason: r }).await?;
            return Ok(id);
        }
        let resolution = reason("已答复并回访，市民认可处理结果，办结。")?;
        self.step(agent, id, Action::Close { resolution }).await?;
        Ok(id)
    }
}

/// Creates the demo tickets into a database that has none; returns how many were created.
pub async fn seed(
    hotline: &Hotline,
    members: &HashMap<String, Member>,
    plan: &Plan,
) -> anyhow::Result<usize> {
    let existing: i64 = hotline
        .db
        .run(tickets::count_by_status)
        .await?
        .iter()
        .map(|(_, n)| n)
        .sum();
    if existing > 0 {
        return Ok(0);
    }
    let real_now = hotline_core::db::now();
    let span = Duration::days(20) - Duration::hours(4);
    let n = i32::try_from(plan.tickets.len().max(1)).unwrap_or(i32::MAX);
    let start = real_now - Duration::days(20);
    let mut seeder = Seeder {
        hotline: Hotline {
            now: Now::manual(start),
            ..hotline.clone()
        },
        members,
        at: start,
    };
    let mut previous = None;
    for (i, p) in plan.tickets.iter().enumerate() {
        seeder.at = start + span * i32::try_from(i).unwrap_or(0) / n;
        let id = seeder.run(p, previous).await?;
        if p.script != Script::Merged {
            previous = Some(id);
        }
    }
    Ok(plan.tickets.len())
}
