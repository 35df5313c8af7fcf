#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Tickets through the commands on both backends: after every step the stored row is exactly what
//! the ticket's events replay to, and deadlines come from the 2026 calendar.

mod common;
mod storage_support;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use common::Backend;
use hotline_core::Db;
use hotline_core::calendar::WorkCalendar;
use hotline_core::domain::{Actor, AppealType, Urgency};
use hotline_core::ids::TicketId;
use hotline_core::store::{self, events, tickets};
use hotline_core::ticket::{Action, Rating, Ruling, Status, TransitionError};
use hotline_core::workflow::{self, WorkflowError};
use storage_support::{Desk, assert_replays, china, desk, dispatch, monday_10, reason, stored};

use AppealType::{Complaint, Consult, Help};
use Urgency::{Normal, Urgent};

fn calendar_of(db: &Db) -> WorkCalendar {
    let mut cal = WorkCalendar::default();
    store::calendar::load_into(&mut db.get().expect("conn"), &mut cal).expect("calendar");
    cal
}

fn reply() -> Action {
    Action::Reply {
        reply: reason("已安排维修，路灯已恢复照明。"),
    }
}

fn visit() -> Action {
    Action::ReturnVisit {
        reached: true,
        note: None,
    }
}

fn rate(rating: Rating) -> Action {
    Action::Rate {
        rating,
        comment: None,
    }
}

fn close() -> Action {
    Action::Close {
        resolution: reason("路灯已修复，市民满意。"),
    }
}

type Outcome = Vec<(TicketId, Status)>;

// ---- the paths a ticket takes ----------------------------------------------------------------

/// receive → dispatch to A2区 → sign → pass down to 桂花坪街道 → sign → reply → return visit →
/// rate → close.
async fn whole_loop(d: &Desk) -> Outcome {
    let tm = &d.team;
    d.at(monday_10());
    let t = d.receive(Complaint, Normal).await;
    assert_eq!((t.status, t.version), (Status::Received, 1));
    assert_eq!(t.number.as_str().get(..8), Some("20261123"));
    let id = t.id;

    let t = d.act(&tm.dispatcher, id, dispatch(&tm.a2)).await;
    assert_eq!(
        (t.status, t.main_unit_id),
        (Status::Dispatched, Some(tm.a2.unit.id))
    );
    assert_eq!(t.dispatched_at, Some(monday_10()));
    // Complaint: sign for within 2 working hours, reply within 5 working days, return within 1.
    assert_eq!(t.sign_deadline, Some(china(11, 23, 12, 0)));
    assert_eq!(t.handle_deadline, Some(china(11, 30, 10, 0)));
    assert_eq!(t.return_deadline, Some(china(11, 24, 10, 0)));

    d.at(china(11, 23, 10, 30));
    let t = d.act(&tm.a2, id, Action::Sign).await;
    assert_eq!(
        (t.status, t.signed_at),
        (Status::Handling, Some(china(11, 23, 10, 30)))
    );
    let t = d
        .act(
            &tm.a2,
            id,
            Action::PassDown {
                to: tm.street.unit.clone(),
                note: Some(reason("请街道核实处理")),
            },
        )
        .await;
    assert_eq!(
        (t.status, t.main_unit_id),
        (Status::Dispatched, Some(tm.street.unit.id))
    );
    assert_eq!(t.chain, [tm.a2.unit.id, tm.street.unit.id]);
    assert_eq!(t.signed_at, None);
    // The street's own clocks start at the pass-down; the reply deadline stays the district's.
    assert_eq!(t.sign_deadline, Some(china(11, 23, 14, 0)));
    assert_eq!(t.return_deadline, Some(china(11, 24, 10, 30)));
    assert_eq!(t.handle_deadline, Some(china(11, 30, 10, 0)));

    d.at(china(11, 23, 14, 0));
    d.act(&tm.street, id, Action::Sign).await;
    d.at(china(11, 25, 16, 0));
    let t = d.act(&tm.street, id, reply()).await;
    assert_eq!(
        (t.status, t.replied_at),
        (Status::Replied, Some(china(11, 25, 16, 0)))
    );
    assert_eq!(t.reply.as_deref(), Some("已安排维修，路灯已恢复照明。"));
    d.at(china(11, 26, 9, 30));
    assert_eq!(d.act(&tm.agent, id, visit()).await.status, Status::Visited);
    let t = d.act(&tm.agent, id, rate(Rating::Satisfied)).await;
    assert_eq!(t.rating, Some(Rating::Satisfied));
    let t = d.act(&tm.agent, id, close()).await;
    assert_eq!(
        (t.status, t.closed_at, t.version),
        (Status::Closed, Some(china(11, 26, 9, 30)), 9)
    );
    vec![(id, Status::Closed)]
}

/// Dispatched to the wrong district, returned, redispatched by ruling with a co-handler.
async fn return_and_redispatch(d: &Desk) -> Outcome {
    let tm = &d.team;
    d.at(monday_10());
    let id = d.receive(Complaint, Normal).await.id;
    d.act(&tm.dispatcher, id, dispatch(&tm.a1)).await;
    d.at(china(11, 23, 10, 20));
    let t = d
        .act(
            &tm.a1,
            id,
            Action::Return {
                reason: reason("不属于A1区辖区"),
            },
        )
        .await;
    assert_eq!((t.status, t.return_count), (Status::Returned, 1));
    assert_eq!(t.returned_by(), Some(tm.a1.unit.id));

    d.at(china(11, 23, 11, 0));
    let t = d
        .act(
            &tm.dispatcher,
            id,
            Action::Rule {
                ruling: reason("退单理由成立，改派A2区"),
                decision: Ruling::Redispatch {
                    main: tm.a2.unit.clone(),
                    co: vec![tm.zjj.unit.clone()],
                },
            },
        )
        .await;
    assert_eq!(
        (t.status, t.main_unit_id),
        (Status::Dispatched, Some(tm.a2.unit.id))
    );
    assert_eq!(
        (t.co_unit_ids.as_slice(), t.chain.as_slice()),
        (&[tm.zjj.unit.id][..], &[tm.a2.unit.id][..])
    );
    // The clock starts again at the ruling.
    assert_eq!(t.sign_deadline, Some(china(11, 23, 14, 30)));
    assert_eq!(t.handle_deadline, Some(china(11, 30, 11, 0)));
    // The co-handler now sees it; the district that returned it still does.
    let mut c = d.db().get().expect("conn");
    assert!(tickets::get_visible(&mut c, id, &tm.zjj.scope).is_ok());
    assert!(tickets::get_visible(&mut c, id, &tm.a1.scope).is_ok());
    drop(c);

    d.act(&tm.a2, id, Action::Sign).await;
    d.act(&tm.a2, id, reply()).await;
    d.act(
        &tm.agent,
        id,
        Action::ReturnVisit {
            reached: false,
            note: Some(reason("电话未接通")),
        },
    )
    .await;
    d.act(&tm.agent, id, rate(Rating::BasicallySatisfied)).await;
    d.act(&tm.agent, id, close()).await;
    vec![(id, Status::Closed)]
}

/// Returned after signing; the return is refused and the ticket goes back to the same unit.
async fn return_sent_back(d: &Desk) -> Outcome {
    let tm = &d.team;
    d.at(monday_10());
    let id = d.receive(Help, Normal).await.id;
    d.act(&tm.dispatcher, id, dispatch(&tm.a2)).await;
    d.at(china(11, 23, 10, 30));
    d.act(&tm.a2, id, Action::Sign).await;
    d.at(china(11, 23, 11, 0));
    assert_eq!(
        d.act(
            &tm.a2,
            id,
            Action::Return {
                reason: reason("应由市住建局办理")
            }
        )
        .await
        .status,
        Status::Returned
    );
    d.at(china(11, 23, 11, 30));
    let t = d
        .act(
            &tm.dispatcher,
            id,
            Action::Rule {
                ruling: reason("属地管理，退回原单位"),
                decision: Ruling::SendBack,
            },
        )
        .await;
    assert_eq!(
        (t.status, t.main_unit_id, t.signed_at),
        (Status::Dispatched, Some(tm.a2.unit.id), None)
    );
    assert_eq!(
        t.handle_deadline,
        Some(china(11, 30, 10, 0)),
        "the first dispatch's clock keeps running"
    );
    d.act(&tm.a2, id, Action::Sign).await;
    d.act(&tm.a2, id, reply()).await;
    vec![(id, Status::Replied)]
}

/// Passed down, then the street returns it: it goes back up to the district, not to the centre.
async fn street_returns(d: &Desk) -> Outcome {
    let tm = &d.team;
    d.at(monday_10());
    let id = d.receive(Complaint, Normal).await.id;
    d.act(&tm.dispatcher, id, dispatch(&tm.a2)).await;
    d.act(&tm.a2, id, Action::Sign).await;
    d.act(
        &tm.a2,
        id,
        Action::PassDown {
            to: tm.street.unit.clone(),
            note: None,
        },
    )
    .await;
    d.at(china(11, 23, 15, 0));
    let t = d
        .act(
            &tm.street,
            id,
            Action::Return {
                reason: reason("不在本街道"),
            },
        )
        .await;
    assert_eq!(
        (t.status, t.main_unit_id),
        (Status::Handling, Some(tm.a2.unit.id))
    );
    assert_eq!(
        (t.chain.as_slice(), t.return_count),
        (&[tm.a2.unit.id][..], 1)
    );
    d.act(&tm.a2, id, reply()).await;
    vec![(id, Status::Replied)]
}

async fn extension_approved(d: &Desk) -> Outcome {
    let tm = &d.team;
    d.at(monday_10());
    let id = d.receive(Complaint, Normal).await.id;
    d.act(&tm.dispatcher, id, dispatch(&tm.a2)).await;
    d.act(&tm.a2, id, Action::Sign).await;
    d.at(china(11, 25, 10, 0));
    let t = d
        .act(
            &tm.a2,
            id,
            Action::RequestExtension {
                days: 3,
                reason: reason("需协调多个部门"),
            },
        )
        .await;
    assert_eq!(
        t.handle_deadline,
        Some(china(11, 30, 10, 0)),
        "a request alone moves nothing"
    );
    let t = d
        .act(
            &tm.dispatcher,
            id,
            Action::ApproveExtension {
                days: Some(2),
                note: None,
            },
        )
        .await;
    assert_eq!(t.extension_days, Some(2));
    assert_eq!(
        t.handle_deadline,
        Some(china(12, 2, 10, 0)),
        "2 working days later"
    );
    vec![(id, Status::Handling)]
}

async fn extension_denied(d: &Desk) -> Outcome {
    let tm = &d.team;
    d.at(monday_10());
    let id = d.receive(Help, Normal).await.id;
    d.act(&tm.dispatcher, id, dispatch(&tm.a2)).await;
    d.act(&tm.a2, id, Action::Sign).await;
    d.act(
        &tm.a2,
        id,
        Action::RequestExtension {
            days: 5,
            reason: reason("需现场勘查"),
        },
    )
    .await;
    let t = d
        .act(
            &tm.dispatcher,
            id,
            Action::DenyExtension {
                reason: reason("时限内可办结"),
            },
        )
        .await;
    assert_eq!(t.handle_deadline, Some(china(11, 30, 10, 0)));
    // One request per ticket.
    let again = d
        .try_act(
            &tm.a2,
            id,
            Action::RequestExtension {
                days: 1,
                reason: reason("再次申请"),
            },
        )
        .await;
    assert!(
        matches!(
            again,
            Err(WorkflowError::Transition(
                TransitionError::InvalidState { .. }
            ))
        ),
        "{again:?}"
    );
    assert_replays(d.db(), id);
    vec![(id, Status::Handling)]
}

/// (suspended from, resumed at, the handling deadline after, working half-hours stopped).
fn suspension(i: usize) -> (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>, i64) {
    [
        // Friday 17:00 to Monday 10:00: 1 hour on Friday, 1 on Monday; the weekend does not count.
        (
            china(11, 27, 17, 0),
            china(11, 30, 10, 0),
            china(11, 30, 12, 0),
            4,
        ),
        // Tuesday 10:00 to 15:00 across the lunch break: 2 + 1.5 hours.
        (
            china(11, 24, 10, 0),
            china(11, 24, 15, 0),
            china(11, 30, 15, 0),
            7,
        ),
        // Wednesday 09:00 to Thursday 09:00: one working day.
        (
            china(11, 25, 9, 0),
            china(11, 26, 9, 0),
            china(12, 1, 10, 0),
            15,
        ),
    ][i % 3]
}

/// Suspended and resumed: the deadlines move by exactly the working time the clock stood still.
async fn suspend_and_resume(d: &Desk, window: usize) -> Outcome {
    let tm = &d.team;
    let (from, to, expected, half_hours) = suspension(window);
    d.at(monday_10());
    let id = d.receive(Complaint, Normal).await.id;
    let before = d.act(&tm.dispatcher, id, dispatch(&tm.a2)).await;
    d.act(&tm.a2, id, Action::Sign).await;
    d.at(from);
    let t = d
        .act(
            &tm.a2,
            id,
            Action::Suspend {
                reason: reason("等待市民补充材料"),
            },
        )
        .await;
    assert_eq!((t.status, t.suspended_at), (Status::Suspended, Some(from)));
    d.at(to);
    let resumer = if window.is_multiple_of(2) {
        &tm.a2
    } else {
        &tm.dispatcher
    };
    let t = d.act(resumer, id, Action::Resume).await;
    assert_eq!((t.status, t.suspended_at), (Status::Handling, None));
    assert_eq!(t.handle_deadline, Some(expected));
    let cal = calendar_of(d.db());
    let moved = |old: Option<DateTime<Utc>>, new: Option<DateTime<Utc>>| {
        cal.working_seconds_between(old.expect("old"), new.expect("new"))
            .expect("2026")
    };
    for (old, new) in [
        (before.sign_deadline, t.sign_deadline),
        (before.handle_deadline, t.handle_deadline),
        (before.return_deadline, t.return_deadline),
    ] {
        assert_eq!(
            moved(old, new),
            half_hours * 1800,
            "every deadline moves by the stopped time"
        );
    }
    vec![(id, Status::Handling)]
}

/// Rated 不满意, sent back for redo, handled again and closed.
async fn redo_after_dissatisfied(d: &Desk) -> Outcome {
    let tm = &d.team;
    d.at(monday_10());
    let id = d.receive(Complaint, Normal).await.id;
    d.act(&tm.dispatcher, id, dispatch(&tm.a2)).await;
    d.act(&tm.a2, id, Action::Sign).await;
    d.at(china(11, 24, 10, 0));
    d.act(&tm.a2, id, reply()).await;
    d.act(&tm.agent, id, visit()).await;
    d.act(
        &tm.agent,
        id,
        Action::Rate {
            rating: Rating::Dissatisfied,
            comment: Some(reason("路灯仍不亮")),
        },
    )
    .await;
    d.at(china(11, 24, 14, 0));
    let t = d
        .act(
            &tm.agent,
            id,
            Action::Redo {
                reason: reason("市民不满意，重新办理"),
            },
        )
        .await;
    assert_eq!((t.status, t.redo_count), (Status::Dispatched, 1));
    assert_eq!(
        (t.reply.as_deref(), t.rating, t.replied_at, t.visited_at),
        (None, None, None, None)
    );
    assert_eq!(
        t.handle_deadline,
        Some(china(12, 1, 14, 0)),
        "a fresh 5 working days"
    );
    assert_eq!(t.sign_deadline, Some(china(11, 24, 16, 0)));
    d.act(&tm.a2, id, Action::Sign).await;
    d.act(&tm.a2, id, reply()).await;
    d.act(&tm.agent, id, visit()).await;
    d.act(&tm.agent, id, rate(Rating::Satisfied)).await;
    let t = d.act(&tm.agent, id, close()).await;
    assert_eq!((t.status, t.redo_count), (Status::Closed, 1));
    vec![(id, Status::Closed)]
}

async fn merged_duplicate(d: &Desk) -> Outcome {
    let tm = &d.team;
    d.at(monday_10());
    let target = d.receive(Complaint, Normal).await.id;
    let source = d.receive(Complaint, Normal).await.id;
    d.act(&tm.dispatcher, target, dispatch(&tm.a2)).await;
    let (s, t) = d.merge(&tm.dispatcher, source, target).await;
    assert_eq!(
        (s.status, s.merged_into, s.closed_at),
        (Status::Merged, Some(target), Some(monday_10()))
    );
    assert_eq!(
        (t.status, t.version),
        (Status::Dispatched, 3),
        "the target records what it absorbed"
    );
    vec![(source, Status::Merged), (target, Status::Dispatched)]
}

async fn withdrawn_by_citizen(d: &Desk) -> Outcome {
    d.at(monday_10());
    let id = d.receive(Consult, Normal).await.id;
    let t = d
        .act_as(
            Actor::Citizen,
            id,
            Action::Withdraw {
                reason: reason("问题已自行解决"),
            },
        )
        .await;
    assert_eq!(
        (t.status, t.closed_at),
        (Status::Withdrawn, Some(monday_10()))
    );
    let history = events::for_ticket(&mut d.db().get().expect("conn"), id).expect("events");
    assert_eq!(
        history.last().map(|e| e.event.actor_role.as_str()),
        Some("citizen")
    );
    vec![(id, Status::Withdrawn)]
}

async fn answered_directly(d: &Desk) -> Outcome {
    d.at(monday_10());
    let id = d.receive(Consult, Normal).await.id;
    let t = d
        .act(
            &d.team.agent,
            id,
            Action::Answer {
                answer: reason("公积金提取请携带身份证到服务大厅办理。"),
                article: None,
            },
        )
        .await;
    assert_eq!((t.status, t.main_unit_id), (Status::Closed, None));
    assert!(t.resolution.is_some());
    vec![(id, Status::Closed)]
}

/// Urgent: calendar hours, nights included; supervised twice.
async fn urgent_supervised(d: &Desk) -> Outcome {
    let tm = &d.team;
    d.at(monday_10());
    let id = d.receive(Help, Urgent).await.id;
    let t = d.act(&tm.dispatcher, id, dispatch(&tm.a2)).await;
    assert_eq!(t.sign_deadline, Some(china(11, 23, 11, 0)));
    assert_eq!(t.handle_deadline, Some(china(11, 24, 10, 0)));
    let t = d
        .act(
            &tm.leader,
            id,
            Action::Supervise {
                reason: reason("紧急诉求，请加快办理"),
            },
        )
        .await;
    assert!(t.supervised);
    d.act(
        &tm.dispatcher,
        id,
        Action::Supervise {
            reason: reason("再次督办"),
        },
    )
    .await;
    vec![(id, Status::Dispatched)]
}

/// Dispatched the day before 国庆节: the seven holidays do not count and the Saturday 10-10 does.
async fn across_national_day(d: &Desk) -> Outcome {
    d.at(china(9, 30, 10, 0));
    let id = d.receive(Complaint, Normal).await.id;
    let t = d.act(&d.team.dispatcher, id, dispatch(&d.team.a2)).await;
    assert_eq!(t.handle_deadline, Some(china(10, 13, 10, 0)));
    assert_eq!(t.return_deadline, Some(china(10, 8, 10, 0)));
    vec![(id, Status::Dispatched)]
}

async fn every_path(d: &Desk, round: usize) -> Outcome {
    let mut out = Vec::new();
    out.extend(whole_loop(d).await);
    out.extend(return_and_redispatch(d).await);
    out.extend(return_sent_back(d).await);
    out.extend(street_returns(d).await);
    out.extend(extension_approved(d).await);
    out.extend(extension_denied(d).await);
    out.extend(suspend_and_resume(d, round).await);
    out.extend(redo_after_dissatisfied(d).await);
    out.extend(merged_duplicate(d).await);
    out.extend(withdrawn_by_citizen(d).await);
    out.extend(answered_directly(d).await);
    out.extend(urgent_supervised(d).await);
    out.extend(across_national_day(d).await);
    out
}

// ---- tests -----------------------------------------------------------------------------------

async fn ticket_loop_replays_after_every_step(backend: Backend) {
    let (_t, d) = desk(backend);
    let out = whole_loop(&d).await;
    assert_eq!(out.len(), 1);
    let history = events::for_ticket(&mut d.db().get().expect("conn"), out[0].0).expect("events");
    let kinds: Vec<&str> = history.iter().map(|e| e.event.change.kind()).collect();
    assert_eq!(
        kinds,
        [
            "received",
            "dispatched",
            "signed",
            "passed_down",
            "signed",
            "replied",
            "return_visited",
            "rated",
            "closed"
        ]
    );
    assert!(history.iter().zip(1..).all(|(e, v)| e.event.version == v));

    // The comparison is real: a row changed behind the events' back differs, and a repair
    // writes back what the events say.
    use diesel::RunQueryDsl;
    let id = out[0].0;
    let mut c = d.db().get().expect("conn");
    diesel::sql_query(format!(
        "UPDATE tickets SET title = 'tampered', return_count = 7 WHERE id = '{id}'"
    ))
    .execute(&mut *c)
    .expect("tamper");
    assert!(
        workflow::rebuild_ticket(&mut c, id, false).expect("rebuild"),
        "a tampered row differs"
    );
    assert_eq!(
        stored(d.db(), id).title,
        "tampered",
        "no repair without asking"
    );
    assert!(workflow::rebuild_ticket(&mut c, id, true).expect("repair"));
    assert!(!workflow::rebuild_ticket(&mut c, id, false).expect("rebuild"));
    let t = stored(d.db(), id);
    assert_eq!((t.title.as_str(), t.return_count), ("小区门口路灯不亮", 0));
}
both_backends!(
    ticket_loop_replays_after_every_step,
    ticket_loop_replays_after_every_step
);

async fn deadlines_follow_the_2026_calendar(backend: Backend) {
    let (_t, d) = desk(backend);
    whole_loop(&d).await;
    extension_approved(&d).await;
    urgent_supervised(&d).await;
    across_national_day(&d).await;
}
both_backends!(
    deadlines_follow_the_2026_calendar,
    deadlines_follow_the_2026_calendar
);

async fn suspension_moves_deadlines_by_working_hours(backend: Backend) {
    let (_t, d) = desk(backend);
    for window in 0..3 {
        suspend_and_resume(&d, window).await;
    }
}
both_backends!(
    suspension_moves_deadlines_by_working_hours,
    suspension_moves_deadlines_by_working_hours
);

async fn ticket_batch_replays(backend: Backend) {
    let (_t, d) = desk(backend);
    let mut out = Vec::new();
    for round in 0..2 {
        out.extend(every_path(&d, round).await);
    }
    assert_eq!(out.len(), 28);
    let mut c = d.db().get().expect("conn");
    let ids = tickets::all_ids(&mut c).expect("ids");
    assert_eq!(ids.len(), out.len());
    for id in &ids {
        assert!(
            !workflow::rebuild_ticket(&mut c, *id, false).expect("rebuild"),
            "{id}"
        );
    }
    for (id, status) in &out {
        assert_eq!(stored(d.db(), *id).status, *status, "{id}");
    }
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for (_, s) in &out {
        *expected.entry(s.to_string()).or_default() += 1;
    }
    let counted: BTreeMap<String, i64> = tickets::count_by_status(&mut c)
        .expect("count")
        .into_iter()
        .collect();
    assert_eq!(counted, expected);
}
both_backends!(ticket_batch_replays, ticket_batch_replays);
