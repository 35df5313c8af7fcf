#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The durable scheduler on both backends, in process on a manual clock: a ticket's due work
//! follows its events in their transactions; each job acts once, and not at all when its
//! ticket moved on; three schedulers on 1,000 due tickets act exactly once each; the daily
//! digest goes out once per unit per day.

mod common;
mod scheduler_support;
mod storage_support;

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use common::{Backend, TestDb};
use hotline_core::Db;
use hotline_core::domain::{AppealType, Urgency};
use hotline_core::store::tickets;
use hotline_core::ticket::{Action, Status};
use hotline_core::time_limit::{WarningLevel, warning_at};
use hotline_dispatch::scheduler::jobs::{self, JobRow};
use hotline_dispatch::scheduler::{Report, Scheduler};
use scheduler_support::{
    A2_ADMIN, all_jobs, all_mails, desk_on, dispatched_tickets, give_a2_admin_email, jobs_of,
    mails_of, mails_per_ticket, node, pending_of, seeded_node, system_supervisions,
};
use storage_support::{china, dispatch, monday_10, reason, stored};

fn due(j: &JobRow) -> DateTime<Utc> {
    j.due_at.and_utc()
}

fn by_kind(rows: &[JobRow]) -> HashMap<String, JobRow> {
    rows.iter().map(|j| (j.kind.clone(), j.clone())).collect()
}

fn reply() -> Action {
    Action::Reply {
        reply: reason("已修复路灯，经回访群众确认恢复照明。"),
    }
}

async fn jobs_follow_the_ticket(backend: Backend) {
    let db = TestDb::new(backend);
    common::seed(db.db());
    let n = node(db.db(), monday_10(), false);
    let desk = desk_on(&n);
    let team = &desk.team;
    let t = desk.receive(AppealType::Help, Urgency::Normal).await;
    assert!(
        jobs_of(db.db(), t.id).is_empty(),
        "a received ticket has no due work"
    );

    let t = desk.act(&team.dispatcher, t.id, dispatch(&team.a2)).await;
    let pending = by_kind(&pending_of(db.db(), t.id));
    assert_eq!(pending.len(), 3, "{pending:?}");
    // Until it is signed for, the ticket becomes overdue at its sign-for deadline.
    let overdue = &pending["overdue"];
    assert_eq!(due(overdue), t.sign_deadline.unwrap());
    assert!(overdue.payload.contains("\"sign\""), "{}", overdue.payload);
    // The warnings sit where the colour changes.
    let keeper = n.h.time.snapshot();
    let check_warnings = |t: &hotline_core::ticket::Ticket, pending: &HashMap<String, JobRow>| {
        let (start, deadline) = (t.dispatched_at.unwrap(), t.handle_deadline.unwrap());
        let level = |at| warning_at(&keeper.calendar, start, deadline, at, true).unwrap();
        for (kind, before, at) in [
            ("warn_yellow", WarningLevel::Green, WarningLevel::Yellow),
            ("warn_red", WarningLevel::Yellow, WarningLevel::Red),
        ] {
            let d = due(&pending[kind]);
            assert_eq!(level(d - TimeDelta::seconds(1)), before, "{kind}");
            assert_eq!(level(d), at, "{kind}");
        }
    };
    check_warnings(&t, &pending);
    let deadline = t.handle_deadline.unwrap();

    // Signed for: the same overdue job moves to the handling deadline.
    desk.at(china(11, 23, 11, 0));
    let t = desk.act(&team.a2, t.id, Action::Sign).await;
    let moved = by_kind(&pending_of(db.db(), t.id));
    assert_eq!(moved["overdue"].id, overdue.id, "moved, not replaced");
    assert_eq!(due(&moved["overdue"]), t.handle_deadline.unwrap());

    // Suspended: the clock stops, nothing is due.
    desk.at(china(11, 24, 10, 0));
    let t = desk
        .act(
            &team.a2,
            t.id,
            Action::Suspend {
                reason: reason("等待群众补充门牌号"),
            },
        )
        .await;
    assert!(pending_of(db.db(), t.id).is_empty());
    let cancelled = jobs_of(db.db(), t.id)
        .into_iter()
        .filter(|j| j.state == jobs::CANCELLED)
        .count();
    assert_eq!(cancelled, 3);

    // Resumed a working day later: the work is due again, later by the time stood still.
    desk.at(china(11, 25, 10, 0));
    let t = desk.act(&team.a2, t.id, Action::Resume).await;
    assert_eq!(t.handle_deadline.unwrap() - deadline, TimeDelta::days(1));
    let again = by_kind(&pending_of(db.db(), t.id));
    assert_eq!(due(&again["overdue"]), t.handle_deadline.unwrap());
    check_warnings(&t, &again);

    // Replied: the warnings go, the return visit is due one working day later.
    desk.at(china(11, 25, 16, 0));
    let t = desk.act(&team.a2, t.id, reply()).await;
    let after_reply = pending_of(db.db(), t.id);
    assert_eq!(after_reply.len(), 1, "{after_reply:?}");
    assert_eq!(after_reply[0].kind, "return_visit");
    assert_eq!(due(&after_reply[0]), china(11, 26, 16, 0));

    // Visited: nothing is left.
    desk.at(china(11, 26, 9, 30));
    let t = desk
        .act(
            &team.agent,
            t.id,
            Action::ReturnVisit {
                reached: true,
                note: None,
            },
        )
        .await;
    assert!(pending_of(db.db(), t.id).is_empty());
    assert_eq!(t.status, Status::Visited);
}

both_backends!(
    jobs_follow_the_ticket_through_its_events,
    jobs_follow_the_ticket
);

async fn run(s: &Scheduler) -> Report {
    s.run_due().await.expect("scheduler run")
}

fn kinds(db: &Db, id: hotline_core::ids::TicketId) -> Vec<(String, Option<String>)> {
    let mut v: Vec<_> = mails_of(db, id)
        .into_iter()
        .map(|m| (m.kind, m.unit_id))
        .collect();
    v.sort();
    v
}

async fn due_work_acts_once(backend: Backend) {
    let (db, n) = seeded_node(backend);
    let desk = desk_on(&n);
    let team = &desk.team;
    let a2 = common::unit_id(db.db(), "990103");
    let city = common::unit_id(db.db(), "990100");

    let t = desk.receive(AppealType::Help, Urgency::Normal).await;
    let t = desk.act(&team.dispatcher, t.id, dispatch(&team.a2)).await;
    let new = mails_of(db.db(), t.id);
    assert_eq!(
        new.len(),
        1,
        "the dispatch notice, in the dispatch's transaction"
    );
    assert_eq!(new[0].kind, "new_ticket");
    assert_eq!(
        new[0].recipients,
        vec![A2_ADMIN.to_owned(), "gov-990103@hotline.example".to_owned()]
    );
    desk.at(china(11, 23, 11, 0));
    let t = desk.act(&team.a2, t.id, Action::Sign).await;
    let yellow_at = due(&by_kind(&pending_of(db.db(), t.id))["warn_yellow"]);

    // Nothing is due yet.
    desk.at(yellow_at - TimeDelta::seconds(1));
    assert_eq!(run(&n.scheduler).await.done, 0);
    // The yellow warning, once.
    desk.at(yellow_at);
    assert_eq!(run(&n.scheduler).await.done, 1);
    assert_eq!(
        run(&n.scheduler).await.claimed,
        0,
        "done work is not claimed again"
    );
    let warned = kinds(db.db(), t.id);
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert!(warned.contains(&("deadline_warning".into(), Some(a2.to_string()))));

    // Replied before the red point: the red warning and the overdue job are cancelled in the
    // reply's transaction; the return visit comes due a working day later, and acts once.
    desk.at(yellow_at + TimeDelta::minutes(5));
    let t = desk.act(&team.a2, t.id, reply()).await;
    let states = by_kind(&jobs_of(db.db(), t.id));
    assert_eq!(states["warn_yellow"].state, jobs::DONE);
    assert_eq!(states["warn_red"].state, jobs::CANCELLED);
    assert_eq!(states["overdue"].state, jobs::CANCELLED);
    let visit_at = due(&states["return_visit"]);
    desk.at(visit_at);
    assert_eq!(run(&n.scheduler).await.done, 1);
    assert_eq!(run(&n.scheduler).await.claimed, 0);
    assert_eq!(system_supervisions(db.db(), t.id), 0);
    let told = kinds(db.db(), t.id);
    assert_eq!(told.len(), 3, "{told:?}");
    assert!(told.contains(&("return_visit_due".into(), Some(team.centre.to_string()))));

    // Overdue: supervised by the system once, and the unit, the unit above and the centre told.
    let o = desk.receive(AppealType::Help, Urgency::Normal).await;
    let o = desk.act(&team.dispatcher, o.id, dispatch(&team.a2)).await;
    desk.at(china(11, 24, 9, 0));
    let o = desk.act(&team.a2, o.id, Action::Sign).await;
    desk.at(o.handle_deadline.unwrap() + TimeDelta::minutes(1));
    let r = run(&n.scheduler).await;
    assert_eq!(
        r.done, 3,
        "yellow, red and overdue of the second ticket: {r:?}"
    );
    assert_eq!(system_supervisions(db.db(), o.id), 1);
    let o = stored(db.db(), o.id);
    assert!(o.supervised);
    storage_support::assert_replays(db.db(), o.id);
    let overdue: Vec<_> = mails_of(db.db(), o.id)
        .into_iter()
        .filter(|m| m.kind == "overdue")
        .map(|m| m.unit_id.unwrap())
        .collect();
    let mut expected = vec![a2.to_string(), city.to_string(), team.centre.to_string()];
    expected.sort();
    let mut got = overdue.clone();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(run(&n.scheduler).await.done, 0);
    assert_eq!(system_supervisions(db.db(), o.id), 1, "once");

    // A job whose ticket moved on where the hook could not see it is dropped without effect.
    let s = desk.receive(AppealType::Help, Urgency::Normal).await;
    let s = desk.act(&team.dispatcher, s.id, dispatch(&team.a2)).await;
    let blind = common::hotline(db.db(), n.h.now.get());
    let s = blind
        .act(
            team.a2.actor.clone(),
            team.a2.scope.clone(),
            s.id,
            Action::Sign,
            None,
        )
        .await
        .expect("sign");
    blind
        .act(
            team.a2.actor.clone(),
            team.a2.scope.clone(),
            s.id,
            reply(),
            None,
        )
        .await
        .expect("reply");
    desk.at(s.handle_deadline.unwrap() + TimeDelta::days(1));
    let r = run(&n.scheduler).await;
    assert_eq!((r.done, r.dropped), (0, 3), "{r:?}");
    assert_eq!(system_supervisions(db.db(), s.id), 0);
    assert_eq!(mails_of(db.db(), s.id).len(), 1, "only the dispatch notice");
    assert!(pending_of(db.db(), s.id).is_empty());
}

both_backends!(
    due_work_acts_once_and_not_after_the_ticket_moved_on,
    due_work_acts_once
);

/// 1,000 tickets, every deadline past: three schedulers on separate connections (a pool each on
/// PostgreSQL; SQLite has one writer, so the three share its pool) run at once.
async fn three_schedulers(backend: Backend) {
    let db = TestDb::new(backend);
    common::seed(db.db());
    let start = china(11, 2, 9, 0);
    let maker = node(db.db(), start, true);
    let ids = dispatched_tickets(&maker, 1_000).await;
    assert_eq!(all_jobs(db.db(), Some(jobs::PENDING)).len(), 3_000);
    let later = china(11, 30, 9, 0);
    let nodes: Vec<_> = (0..3)
        .map(|_| {
            let pool = match backend {
                Backend::Postgres => Db::connect(&hotline_core::DbUrl::parse(&db.url), 4).unwrap(),
                Backend::Sqlite => db.db().clone(),
            };
            node(&pool, later, true)
        })
        .collect();
    let runs: Vec<_> = nodes
        .iter()
        .map(|n| {
            let s = n.scheduler.clone();
            tokio::spawn(async move {
                let mut total = Report::default();
                // Until a run finds nothing: the others may hold what is left.
                loop {
                    let r = s.run_due().await.expect("run");
                    if r.claimed == 0 {
                        return total;
                    }
                    total += r;
                }
            })
        })
        .collect();
    let mut reports = Vec::new();
    for r in runs {
        reports.push(r.await.expect("task"));
    }
    let done: usize = reports.iter().map(|r| r.done).sum();
    assert_eq!(
        done, 3_000,
        "each job done by exactly one scheduler: {reports:?}"
    );
    assert_eq!(reports.iter().map(|r| r.failed).sum::<usize>(), 0);
    assert_eq!(all_jobs(db.db(), Some(jobs::DONE)).len(), 3_000);
    assert!(all_jobs(db.db(), Some(jobs::PENDING)).is_empty());
    let per_ticket = mails_per_ticket(db.db());
    let mut conn = db.db().get().unwrap();
    for id in &ids {
        assert_eq!(system_supervisions(db.db(), *id), 1, "ticket {id}");
        assert!(tickets::get(&mut conn, *id).unwrap().supervised);
        let count = |kind: &str| per_ticket.get(&(id.to_string(), kind.to_owned())).copied();
        assert_eq!(count("new_ticket"), Some(1));
        assert_eq!(count("deadline_warning"), Some(2), "yellow and red");
        assert_eq!(count("overdue"), Some(3), "unit, unit above, centre");
    }
    assert_eq!(all_mails(db.db()).len(), 6_000);
}

both_backends!(
    three_schedulers_act_exactly_once_on_1000_due_tickets,
    three_schedulers
);

async fn digest_once_a_day(backend: Backend) {
    let db = TestDb::new(backend);
    common::seed(db.db());
    give_a2_admin_email(db.db());
    let n = node(db.db(), china(11, 2, 9, 0), true);
    let late = dispatched_tickets(&n, 3).await;
    // The digest of Tuesday 2026-11-10, 08:30 China time: the three are overdue by then.
    n.h.now.set(china(11, 10, 8, 0));
    assert!(n.scheduler.ensure_digest().await.unwrap());
    assert!(
        !n.scheduler.ensure_digest().await.unwrap(),
        "one digest job a day"
    );
    let other = node(db.db(), china(11, 10, 8, 0), true);
    assert!(
        !other.scheduler.ensure_digest().await.unwrap(),
        "across nodes too"
    );
    // Overdue supervision first (due long ago), then at 08:30 the digest.
    run(&n.scheduler).await;
    n.h.now.set(china(11, 10, 8, 30));
    other.h.now.set(china(11, 10, 8, 30));
    let (a, b) = tokio::join!(n.scheduler.run_due(), other.scheduler.run_due());
    assert_eq!(a.unwrap().done + b.unwrap().done, 1, "one digest run");
    let digests: Vec<_> = all_mails(db.db())
        .into_iter()
        .filter(|m| m.kind == "daily_digest")
        .collect();
    assert_eq!(
        digests.len(),
        1,
        "A2区 is the only unit with overdue tickets"
    );
    let d = &digests[0];
    assert_eq!(d.recipients, vec![A2_ADMIN.to_owned()], "to the unit admin");
    assert!(
        d.subject.contains("超期工单日报（2026-11-10）"),
        "{}",
        d.subject
    );
    assert!(d.subject.contains("3 件"), "{}", d.subject);
    let numbers: Vec<String> = {
        let mut c = db.db().get().unwrap();
        late.iter()
            .map(|id| {
                tickets::get(&mut c, *id)
                    .unwrap()
                    .number
                    .as_str()
                    .to_owned()
            })
            .collect()
    };
    for number in &numbers {
        assert!(d.body.contains(number), "{}", d.body);
    }
    // The next day's digest job is waiting; the same day never runs twice.
    let pending = all_jobs(db.db(), Some(jobs::PENDING));
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].kind, "digest");
    assert_eq!(due(&pending[0]), china(11, 11, 8, 30));
    n.h.now.set(china(11, 10, 20, 0));
    assert_eq!(run(&n.scheduler).await.done, 0);
    n.h.now.set(china(11, 11, 8, 30));
    assert_eq!(run(&n.scheduler).await.done, 1);
    let digests = all_mails(db.db())
        .into_iter()
        .filter(|m| m.kind == "daily_digest")
        .count();
    assert_eq!(digests, 2, "one a day");
}

both_backends!(daily_digest_once_per_unit_per_day, digest_once_a_day);
