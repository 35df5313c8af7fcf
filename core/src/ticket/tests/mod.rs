//! The closed loop by table and by property: every accepted action is one the transition table
//! allows, and replaying the history gives the current ticket.

use chrono::{DateTime, Duration, TimeZone, Utc};
use strum::IntoEnumIterator;

use super::*;
use crate::domain::text::{Detail, Reason, Title};
use crate::domain::{Actor, AppealType, Channel, Level, Role, UnitKind, UnitRef, Urgency};
use crate::ids::{QueryCode, TicketId, TicketNumber, UnitId, UserId};
use crate::time_limit::Deadlines;

/// Calendar hours only: enough to see deadlines move without the working-day calendar.
struct HoursClock;

impl Clock for HoursClock {
    fn deadlines(&self, _: AppealType, _: Urgency, at: DateTime<Utc>) -> Option<Deadlines> {
        Some(Deadlines {
            sign_by: at + Duration::hours(2),
            handle_by: at + Duration::hours(72),
            return_by: at + Duration::hours(24),
        })
    }
    fn shift(
        &self,
        deadline: DateTime<Utc>,
        _: Urgency,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        Some(deadline + (to - from))
    }
    fn extend(&self, deadline: DateTime<Utc>, days: u32) -> Option<DateTime<Utc>> {
        Some(deadline + Duration::days(i64::from(days)))
    }
    fn max_extension_days(&self, t: AppealType, _: Urgency) -> Option<u32> {
        matches!(t, AppealType::Help | AppealType::Complaint).then_some(10)
    }
    fn visit_deadline(&self, replied_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        Some(replied_at + Duration::hours(24))
    }
}

struct Tree {
    centre: UnitRef,
    district: UnitRef,
    other_district: UnitRef,
    street: UnitRef,
    community: UnitRef,
    department: UnitRef,
}

fn unit(parent: Option<&UnitRef>, level: Level, kind: UnitKind) -> UnitRef {
    let id = UnitId::new();
    let path = format!("{}{id}/", parent.map_or("/", |p| p.path.as_str()));
    UnitRef {
        id,
        level,
        kind,
        path,
    }
}

fn tree() -> Tree {
    let province = unit(None, Level::Province, UnitKind::Government);
    let city = unit(Some(&province), Level::City, UnitKind::Government);
    let centre = unit(Some(&city), Level::City, UnitKind::Centre);
    let district = unit(Some(&city), Level::District, UnitKind::Government);
    let other_district = unit(Some(&city), Level::District, UnitKind::Government);
    let street = unit(Some(&district), Level::Street, UnitKind::Government);
    let community = unit(Some(&street), Level::Community, UnitKind::Government);
    let department = unit(Some(&city), Level::City, UnitKind::Department);
    Tree {
        centre,
        district,
        other_district,
        street,
        community,
        department,
    }
}

fn staff(role: Role, unit: &UnitRef) -> Actor {
    Actor::Staff {
        user_id: UserId::new(),
        role,
        unit: unit.clone(),
    }
}

fn reason(s: &str) -> Reason {
    Reason::parse(s).unwrap()
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
}

fn new_appeal(appeal_type: AppealType) -> NewAppeal {
    NewAppeal {
        channel: Channel::Phone,
        appeal_type,
        urgency: Urgency::Normal,
        category_id: None,
        title: Title::parse("路灯不亮").unwrap(),
        detail: Detail::parse("A2区桂花坪街道某小区门口路灯连续一周不亮").unwrap(),
        address: None,
        latitude: None,
        longitude: None,
        citizen_name: None,
        citizen_phone: None,
        citizen_id_number: None,
    }
}

/// A ticket being worked, with its history, so tests can check the fold as they go.
struct Worked {
    ticket: Ticket,
    events: Vec<Event>,
    now: DateTime<Utc>,
}

impl Worked {
    fn receive(tree: &Tree, appeal_type: AppealType) -> Self {
        let agent = staff(Role::Agent, &tree.centre);
        let day = t0().date_naive();
        let change = receive(
            &new_appeal(appeal_type),
            TicketNumber::new(day, 1).unwrap(),
            QueryCode::random(),
            &tree.centre,
            &agent,
        )
        .unwrap();
        let event = Event {
            ticket_id: TicketId::new(),
            version: 1,
            occurred_at: t0(),
            actor_id: agent.user_id(),
            actor_role: agent.kind_name().into(),
            actor_unit_id: agent.unit().map(|u| u.id),
            change,
        };
        let ticket = apply(None, &event).unwrap();
        Self {
            ticket,
            events: vec![event],
            now: t0(),
        }
    }

    fn act(&mut self, actor: &Actor, action: Action) -> Result<(), TransitionError> {
        self.act_placed(actor, action, None)
    }

    /// Received, dispatched to `unit` by an agent and signed for by its handler.
    fn signed_at(tree: &Tree, appeal_type: AppealType, unit: &UnitRef) -> Self {
        let mut w = Self::receive(tree, appeal_type);
        let dispatch = Action::Dispatch {
            main: unit.clone(),
            co: vec![],
            note: None,
        };
        w.act(&staff(Role::Agent, &tree.centre), dispatch).unwrap();
        w.act(&staff(Role::UnitHandler, unit), Action::Sign)
            .unwrap();
        w
    }

    /// Acts with the ticket's units resolved in the tree (what escalation needs).
    fn act_placed(
        &mut self,
        actor: &Actor,
        action: Action,
        placement: Option<&Placement>,
    ) -> Result<(), TransitionError> {
        self.now += Duration::minutes(30);
        let ctx = Ctx {
            actor,
            now: self.now,
            clock: &HoursClock,
            placement,
        };
        let changes = decide(&self.ticket, &action, &ctx)?;
        for change in changes {
            let event = Event {
                ticket_id: self.ticket.id,
                version: self.ticket.version + 1,
                occurred_at: self.now,
                actor_id: actor.user_id(),
                actor_role: actor.kind_name().into(),
                actor_unit_id: actor.unit().map(|u| u.id),
                change,
            };
            self.ticket = apply(Some(self.ticket.clone()), &event).unwrap();
            self.events.push(event);
        }
        Ok(())
    }

    fn replayed(&self) -> Ticket {
        replay(&self.events).unwrap().unwrap()
    }
}

#[test]
fn the_whole_loop_through_a_district_and_a_street() {
    let tree = tree();
    let agent = staff(Role::Agent, &tree.centre);
    let district = staff(Role::UnitHandler, &tree.district);
    let street = staff(Role::UnitHandler, &tree.street);
    let mut w = Worked::receive(&tree, AppealType::Complaint);

    w.act(
        &agent,
        Action::Dispatch {
            main: tree.district.clone(),
            co: vec![tree.department.clone()],
            note: None,
        },
    )
    .unwrap();
    assert_eq!(w.ticket.status, Status::Dispatched);
    assert!(w.ticket.sign_deadline.is_some());
    w.act(&district, Action::Sign).unwrap();
    w.act(
        &district,
        Action::PassDown {
            to: tree.street.clone(),
            note: None,
        },
    )
    .unwrap();
    assert_eq!(w.ticket.main_unit_id, Some(tree.street.id));
    assert_eq!(w.ticket.chain, vec![tree.district.id, tree.street.id]);
    // The district no longer handles it; the street must sign first.
    assert!(matches!(
        w.act(&district, Action::Sign),
        Err(TransitionError::Forbidden { .. })
    ));
    w.act(&street, Action::Sign).unwrap();
    w.act(
        &street,
        Action::Reply {
            reply: reason("已修复路灯"),
        },
    )
    .unwrap();
    w.act(
        &agent,
        Action::ReturnVisit {
            reached: true,
            note: None,
        },
    )
    .unwrap();
    w.act(
        &agent,
        Action::Rate {
            rating: Rating::Satisfied,
            comment: None,
        },
    )
    .unwrap();
    w.act(
        &agent,
        Action::Close {
            resolution: reason("路灯已修复，群众满意"),
        },
    )
    .unwrap();
    assert_eq!(w.ticket.status, Status::Closed);
    assert_eq!(w.ticket.version, 9);
    assert_eq!(w.replayed(), w.ticket);
}

#[test]
fn a_street_returns_to_the_district_and_the_district_returns_to_the_centre() {
    let tree = tree();
    let agent = staff(Role::Agent, &tree.centre);
    let dispatcher = staff(Role::Dispatcher, &tree.centre);
    let district = staff(Role::UnitAdmin, &tree.district);
    let street = staff(Role::UnitHandler, &tree.street);
    let mut w = Worked::receive(&tree, AppealType::Help);
    w.act(
        &agent,
        Action::Dispatch {
            main: tree.district.clone(),
            co: vec![],
            note: None,
        },
    )
    .unwrap();
    w.act(&district, Action::Sign).unwrap();
    w.act(
        &district,
        Action::PassDown {
            to: tree.street.clone(),
            note: None,
        },
    )
    .unwrap();
    w.act(
        &street,
        Action::Return {
            reason: reason("不属于本街道辖区"),
        },
    )
    .unwrap();
    assert_eq!(w.ticket.status, Status::Handling);
    assert_eq!(w.ticket.main_unit_id, Some(tree.district.id));
    w.act(
        &district,
        Action::Return {
            reason: reason("应由市住建局办理"),
        },
    )
    .unwrap();
    assert_eq!(w.ticket.status, Status::Returned);
    assert_eq!(w.ticket.returned_by(), Some(tree.district.id));
    // Only a dispatcher rules.
    assert!(matches!(
        w.act(
            &agent,
            Action::Rule {
                ruling: reason("改派"),
                decision: Ruling::SendBack
            }
        ),
        Err(TransitionError::Forbidden { .. })
    ));
    w.act(
        &dispatcher,
        Action::Rule {
            ruling: reason("退单理由成立，改派住建局"),
            decision: Ruling::Redispatch {
                main: tree.department.clone(),
                co: vec![],
            },
        },
    )
    .unwrap();
    assert_eq!(w.ticket.status, Status::Dispatched);
    assert_eq!(w.ticket.main_unit_id, Some(tree.department.id));
    assert_eq!(w.ticket.return_count, 2);
    assert_eq!(w.replayed(), w.ticket);
}

#[test]
fn pass_down_only_goes_below_the_handling_unit() {
    let tree = tree();
    let agent = staff(Role::Agent, &tree.centre);
    let district = staff(Role::UnitHandler, &tree.district);
    let mut w = Worked::receive(&tree, AppealType::Complaint);
    w.act(
        &agent,
        Action::Dispatch {
            main: tree.district.clone(),
            co: vec![],
            note: None,
        },
    )
    .unwrap();
    w.act(&district, Action::Sign).unwrap();
    for wrong in [&tree.other_district, &tree.district, &tree.department] {
        let err = w
            .act(
                &district,
                Action::PassDown {
                    to: wrong.clone(),
                    note: None,
                },
            )
            .unwrap_err();
        assert!(
            matches!(
                err,
                TransitionError::Invalid {
                    field: "to_unit_id",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    // Two levels down at once is allowed: the community is below the district.
    w.act(
        &district,
        Action::PassDown {
            to: tree.community.clone(),
            note: None,
        },
    )
    .unwrap();
}

#[test]
fn extension_suspension_and_redo() {
    let tree = tree();
    let agent = staff(Role::Agent, &tree.centre);
    let dispatcher = staff(Role::Dispatcher, &tree.centre);
    let unit = staff(Role::UnitHandler, &tree.department);
    let mut w = Worked::receive(&tree, AppealType::Complaint);
    w.act(
        &agent,
        Action::Dispatch {
            main: tree.department.clone(),
            co: vec![],
            note: None,
        },
    )
    .unwrap();
    w.act(&unit, Action::Sign).unwrap();
    let err = w
        .act(
            &unit,
            Action::RequestExtension {
                days: 11,
                reason: reason("需要现场勘查"),
            },
        )
        .unwrap_err();
    assert!(matches!(
        err,
        TransitionError::Invalid { field: "days", .. }
    ));
    w.act(
        &unit,
        Action::RequestExtension {
            days: 5,
            reason: reason("需要现场勘查"),
        },
    )
    .unwrap();
    let before = w.ticket.handle_deadline.unwrap();
    w.act(
        &dispatcher,
        Action::ApproveExtension {
            days: None,
            note: None,
        },
    )
    .unwrap();
    assert_eq!(
        w.ticket.handle_deadline.unwrap(),
        before + Duration::days(5)
    );
    // One extension per ticket.
    let err = w
        .act(
            &unit,
            Action::RequestExtension {
                days: 1,
                reason: reason("再延"),
            },
        )
        .unwrap_err();
    assert!(matches!(err, TransitionError::InvalidState { .. }));

    w.act(
        &unit,
        Action::Suspend {
            reason: reason("等待群众补充材料"),
        },
    )
    .unwrap();
    let deadline = w.ticket.handle_deadline.unwrap();
    let suspended_at = w.ticket.suspended_at.unwrap();
    w.act(&unit, Action::Resume).unwrap();
    let stopped = w.now - suspended_at;
    assert_eq!(w.ticket.handle_deadline.unwrap(), deadline + stopped);

    w.act(
        &unit,
        Action::Reply {
            reply: reason("已答复"),
        },
    )
    .unwrap();
    let err = w
        .act(
            &agent,
            Action::Redo {
                reason: reason("重办"),
            },
        )
        .unwrap_err();
    assert!(matches!(err, TransitionError::InvalidState { .. }));
    w.act(
        &agent,
        Action::Rate {
            rating: Rating::Dissatisfied,
            comment: None,
        },
    )
    .unwrap();
    w.act(
        &agent,
        Action::Redo {
            reason: reason("群众不满意，重新办理"),
        },
    )
    .unwrap();
    assert_eq!(w.ticket.status, Status::Dispatched);
    assert_eq!(w.ticket.main_unit_id, Some(tree.department.id));
    assert_eq!(w.ticket.rating, None);
    assert_eq!(w.ticket.redo_count, 1);
    assert_eq!(w.replayed(), w.ticket);
}

#[test]
fn refusals_name_the_state_and_the_action() {
    let tree = tree();
    let agent = staff(Role::Agent, &tree.centre);
    let mut w = Worked::receive(&tree, AppealType::Consult);
    let err = w.act(&agent, Action::Sign).unwrap_err();
    assert_eq!(
        err,
        TransitionError::InvalidState {
            action: ActionKind::Sign,
            status: Status::Received,
            detail: None
        }
    );
    assert_eq!(
        err.to_string(),
        "cannot sign a ticket whose status is received"
    );
    // A centre cannot be the handling unit.
    let err = w
        .act(
            &agent,
            Action::Dispatch {
                main: tree.centre.clone(),
                co: vec![],
                note: None,
            },
        )
        .unwrap_err();
    assert!(matches!(
        err,
        TransitionError::Invalid {
            field: "main_unit_id",
            ..
        }
    ));
}

#[test]
fn merge_ends_the_duplicate_and_marks_the_target() {
    let tree = tree();
    let agent = staff(Role::Agent, &tree.centre);
    let a = Worked::receive(&tree, AppealType::Complaint);
    let b = Worked::receive(&tree, AppealType::Complaint);
    let (src, dst) = decide_merge(&a.ticket, &b.ticket, &reason("同一事项"), &agent).unwrap();
    assert!(matches!(src, Change::MergedInto { target_id, .. } if target_id == b.ticket.id));
    assert!(matches!(dst, Change::Absorbed { source_id } if source_id == a.ticket.id));
    assert!(decide_merge(&a.ticket, &a.ticket, &reason("x"), &agent).is_err());
}

#[test]
fn personal_data_is_seen_by_those_who_need_it_and_erased_when_the_ticket_ends() {
    use crate::ticket::personal::{
        PersonalField, decide_correct_contact, decide_erasure, decide_view,
    };
    let tree = tree();
    let agent = staff(Role::Agent, &tree.centre);
    let leader = staff(Role::Leader, &tree.centre);
    let unit = staff(Role::UnitHandler, &tree.department);
    let other = staff(Role::UnitHandler, &tree.district);
    let mut w = Worked::receive(&tree, AppealType::Consult);
    w.ticket.citizen_phone = Some("13800138000".into());
    w.events[0].change = match w.events[0].change.clone() {
        Change::Received(mut r) => {
            r.citizen_phone = Some("13800138000".into());
            Change::Received(r)
        }
        c => c,
    };
    assert!(decide_view(&w.ticket, PersonalField::CitizenPhone, &agent).is_ok());
    assert!(decide_view(&w.ticket, PersonalField::CitizenPhone, &leader).is_err());
    assert!(
        decide_view(&w.ticket, PersonalField::CitizenIdNumber, &agent).is_err(),
        "nothing to show"
    );
    w.act(
        &agent,
        Action::Dispatch {
            main: tree.department.clone(),
            co: vec![],
            note: None,
        },
    )
    .unwrap();
    assert!(decide_view(&w.ticket, PersonalField::CitizenPhone, &unit).is_ok());
    assert!(decide_view(&w.ticket, PersonalField::CitizenPhone, &other).is_err());

    let phone = crate::domain::text::PhoneNumber::parse("13900139000").unwrap();
    assert!(decide_correct_contact(&w.ticket, None, Some(&phone), &unit).is_err());
    let change = decide_correct_contact(&w.ticket, None, Some(&phone), &Actor::Citizen).unwrap();
    let erase = decide_erasure(&w.ticket, &Actor::Citizen).unwrap();
    assert_eq!(
        erase,
        vec![Change::ErasureRequested],
        "nothing is deleted while the ticket is open"
    );
    for c in std::iter::once(change).chain(erase) {
        let e = Event {
            ticket_id: w.ticket.id,
            version: w.ticket.version + 1,
            occurred_at: w.now,
            actor_id: None,
            actor_role: "citizen".into(),
            actor_unit_id: None,
            change: c,
        };
        w.ticket = apply(Some(w.ticket.clone()), &e).unwrap();
        w.events.push(e);
    }
    assert_eq!(w.ticket.citizen_phone.as_deref(), Some("13900139000"));
    assert!(
        decide_erasure(&w.ticket, &Actor::Citizen).is_err(),
        "asked once"
    );
    w.act(&unit, Action::Sign).unwrap();
    w.act(
        &unit,
        Action::Reply {
            reply: reason("已答复"),
        },
    )
    .unwrap();
    w.act(
        &agent,
        Action::ReturnVisit {
            reached: true,
            note: None,
        },
    )
    .unwrap();
    w.act(
        &agent,
        Action::Close {
            resolution: reason("办结"),
        },
    )
    .unwrap();
    assert_eq!(w.ticket.status, Status::Closed);
    assert!(w.ticket.erased_at.is_some() && w.ticket.citizen_phone.is_none());
    assert_eq!(w.events.last().unwrap().change, Change::PersonalDataErased);
    assert_eq!(w.replayed(), w.ticket);
}

#[test]
fn a_citizens_dissatisfied_rating_orders_redo_at_once() {
    let tree = tree();
    let agent = staff(Role::Agent, &tree.centre);
    let unit = staff(Role::UnitHandler, &tree.department);
    let mut w = Worked::receive(&tree, AppealType::Complaint);
    w.act(
        &agent,
        Action::Dispatch {
            main: tree.department.clone(),
            co: vec![],
            note: None,
        },
    )
    .unwrap();
    w.act(&unit, Action::Sign).unwrap();
    w.act(
        &unit,
        Action::Reply {
            reply: reason("已答复"),
        },
    )
    .unwrap();
    w.act(
        &Actor::Citizen,
        Action::Rate {
            rating: Rating::Dissatisfied,
            comment: Some(reason("没有解决")),
        },
    )
    .unwrap();
    assert_eq!(w.ticket.status, Status::Dispatched);
    assert_eq!(w.ticket.redo_count, 1);
    assert!(matches!(
        w.events.last().unwrap().change,
        Change::RedoOrdered { .. }
    ));
    assert_eq!(w.replayed(), w.ticket);
}

mod property;

fn pass_down(to: &UnitRef) -> Action {
    Action::PassDown {
        to: to.clone(),
        note: None,
    }
}

#[test]
fn a_second_return_goes_to_the_shift_lead_even_from_a_passed_down_unit() {
    let tree = tree();
    let district = staff(Role::UnitAdmin, &tree.district);
    let street = staff(Role::UnitHandler, &tree.street);
    let mut w = Worked::signed_at(&tree, AppealType::Help, &tree.district);
    w.act(&district, pass_down(&tree.street)).unwrap();
    let r = |s: &str| Action::Return { reason: reason(s) };
    w.act(&street, r("不属于本街道")).unwrap();
    // The first return goes up one level, to the district that passed it down.
    assert_eq!(w.ticket.status, Status::Handling);
    assert!(!w.ticket.needs_shift_lead());
    w.act(&district, pass_down(&tree.street)).unwrap();
    w.act(&street, r("仍不属于本街道")).unwrap();
    // The second skips the district: ping-pong goes to the centre's shift lead.
    assert_eq!(w.ticket.status, Status::Returned);
    assert_eq!(w.ticket.returned_by(), Some(tree.street.id));
    assert!(w.ticket.needs_shift_lead());
    assert!(matches!(
        w.events.last().map(|e| &e.change),
        Some(Change::Returned {
            back_to_unit_id: None,
            to_shift_lead: true,
            ..
        })
    ));
    assert_eq!(w.replayed(), w.ticket);
}

#[test]
fn supervision_escalates_one_level_higher_each_time_up_to_the_centres_government() {
    let tree = tree();
    let city_id = tree
        .centre
        .path
        .split('/')
        .filter(|p| !p.is_empty())
        .nth(1)
        .unwrap();
    let city: UnitId = city_id.parse().unwrap();
    let at = |main: &UnitRef, level| {
        let p = Placement {
            centre: tree.centre.clone(),
            main: Some(main.clone()),
        };
        escalation_target(&p, level)
    };
    assert_eq!(at(&tree.community, 1), Some(tree.street.id));
    assert_eq!(at(&tree.community, 2), Some(tree.district.id));
    assert_eq!(at(&tree.community, 3), Some(city));
    assert_eq!(at(&tree.community, 9), Some(city), "never above the city");
    assert_eq!(at(&tree.department, 1), Some(city));
    assert_eq!(at(&tree.district, 2), Some(city));
    let none = Placement {
        centre: tree.centre.clone(),
        main: None,
    };
    assert_eq!(escalation_target(&none, 1), None);
}

#[test]
fn supervising_records_the_escalation_and_counts_it() {
    let tree = tree();
    let dispatcher = staff(Role::Dispatcher, &tree.centre);
    let street = staff(Role::UnitHandler, &tree.street);
    let mut w = Worked::signed_at(&tree, AppealType::Complaint, &tree.district);
    w.act(
        &staff(Role::UnitHandler, &tree.district),
        pass_down(&tree.street),
    )
    .unwrap();
    w.act(&street, Action::Sign).unwrap();
    let placement = Placement {
        centre: tree.centre.clone(),
        main: Some(tree.street.clone()),
    };
    let supervise = |s: &str| Action::Supervise { reason: reason(s) };
    let city = escalation_target(&placement, 2).unwrap();
    for (n, expected) in [(1, tree.district.id), (2, city)] {
        w.act_placed(&dispatcher, supervise("逾期未办"), Some(&placement))
            .unwrap();
        assert!(matches!(
            w.events.last().map(|e| &e.change),
            Some(Change::Supervised { escalated_to: Some(u), .. }) if *u == expected
        ));
        assert_eq!(w.ticket.supervision_count, n);
        assert_eq!(w.ticket.escalated_unit_id, Some(expected));
    }
    // A placement of another unit than the ticket's (it moved meanwhile) escalates nowhere,
    // and the last escalation stays on the ticket.
    let stale = Placement {
        centre: tree.centre.clone(),
        main: Some(tree.other_district.clone()),
    };
    w.act_placed(&dispatcher, supervise("再次督办"), Some(&stale))
        .unwrap();
    assert!(matches!(
        w.events.last().map(|e| &e.change),
        Some(Change::Supervised {
            escalated_to: None,
            ..
        })
    ));
    assert_eq!(w.ticket.supervision_count, 3);
    assert_eq!(w.ticket.escalated_unit_id, Some(city));
    assert_eq!(w.replayed(), w.ticket);
}

#[test]
fn a_reply_sets_the_return_visit_deadline_and_redo_clears_it() {
    let tree = tree();
    let agent = staff(Role::Agent, &tree.centre);
    let district = staff(Role::UnitHandler, &tree.district);
    let mut w = Worked::signed_at(&tree, AppealType::Consult, &tree.district);
    w.act(
        &district,
        Action::Reply {
            reply: reason("已答复群众"),
        },
    )
    .unwrap();
    assert_eq!(w.ticket.visit_deadline, Some(w.now + Duration::hours(24)));
    let redo = |s: &str| Action::Redo { reason: reason(s) };
    w.act(&agent, redo("答复不清楚")).unwrap_err();
    let rate = Action::Rate {
        rating: Rating::Dissatisfied,
        comment: None,
    };
    w.act(&agent, rate).unwrap();
    w.act(&agent, redo("群众不满意")).unwrap();
    assert_eq!(w.ticket.visit_deadline, None);
    assert_eq!(w.replayed(), w.ticket);
}
