#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The rollups kept from the event stream equal a rebuild from the events, whatever the workload:
//! random tickets moved through random actions (many refused by the state machine, as in real
//! work), with keeper rounds at random moments, on both backends.

mod common;
mod storage_support;

use std::sync::Arc;

use chrono::Duration;
use common::Backend;
use diesel::prelude::*;
use hotline_analytics::keeper::Rollups;
use hotline_analytics::schema::{analytics_cells, analytics_facts, analytics_rollups};
use hotline_core::domain::{AppealType, Urgency};
use hotline_core::ids::TicketId;
use hotline_core::ticket::{Action, Rating, Ruling};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use storage_support::{Desk, desk, dispatch, reason};

#[derive(Debug, Clone)]
enum Op {
    Receive(u8),
    Act(usize, u8),
    /// Moves the clock this many hours (deadlines pass).
    Wait(u8),
    /// A keeper round now.
    Round,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0u8..6).prop_map(Op::Receive),
        6 => (0usize..64, 0u8..16).prop_map(|(t, a)| Op::Act(t, a)),
        1 => (1u8..40).prop_map(Op::Wait),
        2 => Just(Op::Round),
    ]
}

fn action(desk: &Desk, n: u8) -> (&storage_support::Staff, Action) {
    let t = &desk.team;
    match n {
        0 => (&t.dispatcher, dispatch(&t.a2)),
        1 => (&t.a2, Action::Sign),
        2 => (
            &t.a2,
            Action::Reply {
                reply: reason("已处理完毕，特此答复。"),
            },
        ),
        3 => (
            &t.agent,
            Action::ReturnVisit {
                reached: true,
                note: None,
            },
        ),
        4 => (
            &t.agent,
            Action::Rate {
                rating: Rating::Satisfied,
                comment: None,
            },
        ),
        5 => (
            &t.agent,
            Action::Rate {
                rating: Rating::Dissatisfied,
                comment: None,
            },
        ),
        6 => (
            &t.agent,
            Action::Close {
                resolution: reason("已办结。"),
            },
        ),
        7 => (
            &t.a2,
            Action::Return {
                reason: reason("不属于本单位职责"),
            },
        ),
        8 => (
            &t.dispatcher,
            Action::Rule {
                ruling: reason("重新派单"),
                decision: Ruling::SendBack,
            },
        ),
        9 => (
            &t.a2,
            Action::Suspend {
                reason: reason("等待市民补充材料"),
            },
        ),
        10 => (&t.a2, Action::Resume),
        11 => (
            &t.a2,
            Action::RequestExtension {
                days: 5,
                reason: reason("需协调多个部门"),
            },
        ),
        12 => (
            &t.dispatcher,
            Action::ApproveExtension {
                days: None,
                note: None,
            },
        ),
        13 => (
            &t.agent,
            Action::Redo {
                reason: reason("市民不满意，重新办理"),
            },
        ),
        14 => (
            &t.agent,
            Action::Answer {
                answer: reason("已当场答复政策。"),
                article: None,
            },
        ),
        _ => (
            &t.a2,
            Action::PassDown {
                to: t.street.unit.clone(),
                note: None,
            },
        ),
    }
}

const TYPES: [AppealType; 6] = [
    AppealType::Consult,
    AppealType::Help,
    AppealType::Complaint,
    AppealType::Report,
    AppealType::Suggestion,
    AppealType::Praise,
];

type Snapshot = (
    Vec<Vec<String>>,
    Vec<(String, i64, String, String, String, i64)>,
    usize,
);

/// A rollup row's key and three of its measures.
type KeyRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
);
/// A rollup row's day, status and the rest of its measures (some summed).
type MeasureRow = (String, String, i64, i64, i64, i64, i64, i64, i64, i64);

fn snapshot(db: &hotline_core::Db) -> Snapshot {
    use analytics_rollups as r;
    let mut c = db.get().unwrap();
    let rows: Vec<KeyRow> = r::table
        .select((
            r::day,
            r::category_id,
            r::unit_id,
            r::area_id,
            r::channel,
            r::appeal_type,
            r::status,
            r::tickets,
            r::signed_in_time,
            r::handling_minutes,
        ))
        .order((r::day, r::unit_id, r::status, r::appeal_type, r::area_id))
        .load(&mut *c)
        .unwrap();
    // Every measure, through the generic sums, per key.
    let mut full: Vec<Vec<String>> = rows.iter().map(|x| vec![format!("{x:?}")]).collect();
    let measures: Vec<MeasureRow> = r::table
        .select((
            r::day,
            r::status,
            r::dispatched,
            r::replied,
            r::closed,
            r::resolved,
            r::rated,
            r::satisfied,
            r::returned + r::redone + r::extended,
            r::negative + r::sentiment_milli + r::handled + r::replied_in_time + r::signed,
        ))
        .order((r::day, r::unit_id, r::status, r::appeal_type, r::area_id))
        .load(&mut *c)
        .unwrap();
    for (row, m) in full.iter_mut().zip(measures) {
        row.push(format!("{m:?}"));
    }
    let cells = analytics_cells::table
        .select((
            analytics_cells::day,
            analytics_cells::cell,
            analytics_cells::category_id,
            analytics_cells::appeal_type,
            analytics_cells::area_id,
            analytics_cells::tickets,
        ))
        .order((
            analytics_cells::day,
            analytics_cells::cell,
            analytics_cells::appeal_type,
        ))
        .load(&mut *c)
        .unwrap();
    let facts: i64 = analytics_facts::table.count().get_result(&mut *c).unwrap();
    (full, cells, usize::try_from(facts).unwrap())
}

async fn rollups_equal_a_rebuild(backend: Backend) {
    let (_t, desk) = desk(backend);
    let desk = Arc::new(desk);
    let rollups = Rollups::new(desk.db().clone(), desk.h.time.clone()).unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 6,
        ..Config::default()
    });
    let handle = tokio::runtime::Handle::current();
    let total_tickets = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&proptest::collection::vec(op(), 10..40), |ops| {
            tokio::task::block_in_place(|| {
                handle.block_on(async {
                    let mut ids: Vec<TicketId> = Vec::new();
                    for op in ops {
                        match op {
                            Op::Receive(k) => {
                                let urgency = if k == 5 {
                                    Urgency::Urgent
                                } else {
                                    Urgency::Normal
                                };
                                ids.push(desk.receive(TYPES[usize::from(k)], urgency).await.id);
                            }
                            Op::Act(i, a) if !ids.is_empty() => {
                                let id = ids[i % ids.len()];
                                let (who, act) = action(&desk, a);
                                // Refused transitions are part of real work: ignore them.
                                let _ = desk.try_act(who, id, act).await;
                            }
                            Op::Act(..) => {}
                            Op::Wait(h) => {
                                desk.at(desk.h.now.get() + Duration::hours(i64::from(h)))
                            }
                            Op::Round => {
                                desk.h.bus.sequence_now(desk.db()).await.unwrap();
                                rollups.catch_up().await.unwrap();
                            }
                        }
                    }
                    let total = total_tickets
                        .fetch_add(ids.len(), std::sync::atomic::Ordering::SeqCst)
                        + ids.len();
                    desk.h.bus.sequence_now(desk.db()).await.unwrap();
                    rollups.catch_up().await.unwrap();
                    let kept = snapshot(desk.db());
                    let report = rollups.rebuild_blocking(&mut |_, _| {}).unwrap();
                    let rebuilt = snapshot(desk.db());
                    assert_eq!(kept, rebuilt, "the kept rollups equal a rebuild");
                    assert_eq!(report.tickets, kept.2);
                    assert_eq!(kept.2, total, "one fact per ticket");
                    let summed: i64 = kept.0.len().try_into().unwrap();
                    assert!(summed > 0 || total == 0);
                    // After a rebuild, following goes on from where it stands.
                    assert_eq!(rollups.catch_up().await.unwrap(), 0);
                });
            });
            Ok(())
        })
        .unwrap();
    assert!(
        total_tickets.into_inner() > 0,
        "the workloads received tickets"
    );
}

both_backends!(
    rollups_equal_a_rebuild_after_random_work,
    rollups_equal_a_rebuild
);
