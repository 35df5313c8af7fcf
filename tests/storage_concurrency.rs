#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Concurrent writers on both backends: optimistic concurrency on one ticket, the gap-free global
//! event sequence, and ticket numbers handed out by several nodes at once.

mod common;
mod storage_support;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{TimeZone, Utc};
use common::{Backend, TestDb};
use hotline_core::bus::EventBus;
use hotline_core::domain::{AppealType, Urgency};
use hotline_core::ids::{TicketId, UnitId};
use hotline_core::numbers::NumberAllocator;
use hotline_core::scope::Scope;
use hotline_core::store::events::{self, StoredEvent};
use hotline_core::store::tickets;
use hotline_core::ticket::{Action, Status, TransitionError};
use hotline_core::workflow::{Hotline, WorkflowError};
use hotline_core::{Db, DbUrl, StoreError};
use storage_support::{Staff, Team, appeal, assert_replays, desk, monday_10, reason, stored};
use tokio::sync::Barrier;

fn supervise() -> Action {
    Action::Supervise {
        reason: reason("请加快办理"),
    }
}

/// Runs `n` copies of one command at once (released together by a barrier) and returns their
/// results.
async fn at_once<F, Fut, T>(n: usize, f: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            let fut = f(i);
            tokio::spawn(async move {
                barrier.wait().await;
                fut.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

/// One result is the ticket at `read + 1`; the other is the conflict reporting that version.
fn one_wins(results: Vec<Result<hotline_core::ticket::Ticket, WorkflowError>>, read: i32) {
    let (won, lost): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    assert_eq!(
        (won.len(), lost.len()),
        (1, 1),
        "exactly one of two writers wins"
    );
    assert_eq!(won[0].as_ref().map(|t| t.version).ok(), Some(read + 1));
    match &lost[0] {
        Err(WorkflowError::Store(StoreError::VersionConflict { current })) => {
            assert_eq!(*current, read + 1)
        }
        other => panic!("expected a version conflict, got {other:?}"),
    }
}

async fn expected_version_lets_one_writer_win(backend: Backend) {
    let (_t, d) = desk(backend);
    let tm = &d.team;
    let id = d.receive(AppealType::Complaint, Urgency::Normal).await.id;
    d.act(
        &tm.dispatcher,
        id,
        Action::Dispatch {
            main: tm.a2.unit.clone(),
            co: vec![],
            note: None,
        },
    )
    .await;
    let read = stored(d.db(), id).version;
    assert_eq!(read, 2);

    // Two dispatchers supervise what they both read at version 2.
    let results = at_once(2, |_| {
        let (h, who) = (d.h.clone(), tm.dispatcher.clone());
        async move {
            h.act(who.actor, who.scope, id, supervise(), Some(read))
                .await
        }
    })
    .await;
    one_wins(results, read);

    // A2区's handler signs twice (a double submit) for what it read at version 3.
    let results = at_once(2, |_| {
        let (h, who) = (d.h.clone(), tm.a2.clone());
        async move {
            h.act(who.actor, who.scope, id, Action::Sign, Some(read + 1))
                .await
        }
    })
    .await;
    one_wins(results, read + 1);

    // A stale version is refused even when nobody is writing at the moment.
    let stale =
        d.h.act(
            tm.dispatcher.actor.clone(),
            tm.dispatcher.scope.clone(),
            id,
            supervise(),
            Some(read),
        )
        .await;
    assert!(
        matches!(
            stale,
            Err(WorkflowError::Store(StoreError::VersionConflict {
                current: 4
            }))
        ),
        "{stale:?}"
    );
    let t = stored(d.db(), id);
    assert_eq!(
        (t.version, t.status, t.supervised),
        (4, Status::Handling, true)
    );
    let history = events::for_ticket(&mut d.db().get().expect("conn"), id).expect("events");
    assert_eq!(
        history.iter().map(|e| e.event.version).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_replays(d.db(), id);
}
both_backends!(
    expected_version_lets_one_writer_win,
    expected_version_lets_one_writer_win
);

async fn unpinned_writers_all_succeed(backend: Backend) {
    let (_t, d) = desk(backend);
    let tm = &d.team;
    let id = d.receive(AppealType::Complaint, Urgency::Normal).await.id;
    d.act(
        &tm.dispatcher,
        id,
        Action::Dispatch {
            main: tm.a2.unit.clone(),
            co: vec![],
            note: None,
        },
    )
    .await;
    let before = stored(d.db(), id).version;

    let results = at_once(10, |_| {
        let (h, who) = (d.h.clone(), tm.dispatcher.clone());
        async move { h.act(who.actor, who.scope, id, supervise(), None).await }
    })
    .await;
    let mut versions: Vec<i32> = results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("an unpinned command re-decides instead of failing: {e}"))
                .version
        })
        .collect();
    versions.sort_unstable();
    assert_eq!(
        versions,
        ((before + 1)..=(before + 10)).collect::<Vec<_>>(),
        "each writer made its own version"
    );

    let t = stored(d.db(), id);
    assert_eq!(t.version, before + 10);
    let history = events::for_ticket(&mut d.db().get().expect("conn"), id).expect("events");
    assert_eq!(
        history.iter().map(|e| e.event.version).collect::<Vec<_>>(),
        (1..=t.version).collect::<Vec<_>>(),
        "versions 1..=n without gaps"
    );
    assert_eq!(
        history
            .iter()
            .filter(|e| e.event.change.kind() == "supervised")
            .count(),
        10
    );
    assert_replays(d.db(), id);
}
both_backends!(unpinned_writers_all_succeed, unpinned_writers_all_succeed);

async fn merge_under_concurrent_writes(backend: Backend) {
    let (_t, d) = desk(backend);
    let tm = &d.team;
    let merge = |source: TicketId, target: TicketId| {
        let (h, who) = (d.h.clone(), tm.dispatcher.clone());
        async move {
            h.merge(
                who.actor,
                who.scope,
                source,
                target,
                reason("重复来电"),
                None,
            )
            .await
        }
    };

    // An unpinned merge while others supervise the target: every command succeeds.
    let target = d.receive(AppealType::Complaint, Urgency::Normal).await.id;
    let source = d.receive(AppealType::Complaint, Urgency::Normal).await.id;
    let results = at_once(7, |i| {
        let (h, who) = (d.h.clone(), tm.dispatcher.clone());
        let merging = merge(source, target);
        async move {
            if i == 0 {
                merging.await.map(|(_, t)| t)
            } else {
                h.act(who.actor, who.scope, target, supervise(), None).await
            }
        }
    })
    .await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    let (s, t) = (stored(d.db(), source), stored(d.db(), target));
    assert_eq!(
        (s.status, s.merged_into, s.version),
        (Status::Merged, Some(target), 2)
    );
    assert_eq!(
        t.version,
        1 + 6 + 1,
        "six supervisions and the absorbed duplicate"
    );
    assert_replays(d.db(), source);
    assert_replays(d.db(), target);

    // Two dispatchers merge the same pair in opposite directions: one wins, the other is refused
    // because its target is merged by then — not by a database error.
    let a = d.receive(AppealType::Help, Urgency::Normal).await.id;
    let b = d.receive(AppealType::Help, Urgency::Normal).await.id;
    let results = at_once(2, |i| if i == 0 { merge(a, b) } else { merge(b, a) }).await;
    let (won, lost): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    assert_eq!((won.len(), lost.len()), (1, 1), "{lost:?}");
    assert!(
        matches!(
            lost[0],
            Err(WorkflowError::Transition(TransitionError::Invalid {
                field: "target_id",
                ..
            }))
        ),
        "{:?}",
        lost[0]
    );
    let statuses: HashSet<Status> = [a, b].iter().map(|id| stored(d.db(), *id).status).collect();
    assert_eq!(statuses, HashSet::from([Status::Merged, Status::Received]));
    assert_replays(d.db(), a);
    assert_replays(d.db(), b);
}
both_backends!(merge_under_concurrent_writes, merge_under_concurrent_writes);

// ---- the event sequencer ---------------------------------------------------------------------

/// What a writer task needs, owned.
#[derive(Clone)]
struct Writer {
    h: Hotline,
    centre: UnitId,
    agent: Staff,
    dispatcher: Staff,
    a2: Staff,
}

impl Writer {
    fn new(h: Hotline, team: &Team) -> Self {
        Self {
            h,
            centre: team.centre,
            agent: team.agent.clone(),
            dispatcher: team.dispatcher.clone(),
            a2: team.a2.clone(),
        }
    }

    /// Five events: received, dispatched, three times supervised.
    async fn five_events(&self) -> TicketId {
        let h = &self.h;
        let t = h
            .receive(
                self.agent.actor.clone(),
                self.centre,
                appeal(AppealType::Help, Urgency::Normal),
            )
            .await
            .expect("receive");
        let d = &self.dispatcher;
        let dispatch = Action::Dispatch {
            main: self.a2.unit.clone(),
            co: vec![],
            note: None,
        };
        h.act(d.actor.clone(), d.scope.clone(), t.id, dispatch, None)
            .await
            .expect("dispatch");
        for _ in 0..3 {
            h.act(d.actor.clone(), d.scope.clone(), t.id, supervise(), None)
                .await
                .expect("supervise");
        }
        t.id
    }
}

/// `tasks` tasks at once, each writing two tickets of five events, spread over `writers`.
async fn write_wave(writers: &[Writer], tasks: usize) -> Vec<TicketId> {
    let handles: Vec<_> = (0..tasks)
        .map(|i| {
            let w = writers[i % writers.len()].clone();
            tokio::spawn(async move { vec![w.five_events().await, w.five_events().await] })
        })
        .collect();
    let mut ids = Vec::new();
    for h in handles {
        ids.extend(h.await.expect("writer"));
    }
    ids
}

/// Sequences over and over until told to stop; returns how many events it numbered.
fn keep_sequencing(
    bus: Arc<EventBus>,
    db: Db,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut total = 0;
        while !stop.load(Ordering::Acquire) {
            total += bus.sequence_now(&db).await.expect("sequence");
            tokio::task::yield_now().await;
        }
        total
    })
}

/// Everything the subscriber of a bus has been handed so far.
fn drain(rx: &mut tokio::sync::broadcast::Receiver<Arc<StoredEvent>>) -> Vec<Arc<StoredEvent>> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

/// Every event exactly once with seq 1..=n, `after(k)` exactly the events above k, and each
/// ticket's events in version order. Returns n.
fn assert_gap_free(db: &Db, tickets: &[TicketId]) -> usize {
    let mut c = db.get().expect("conn");
    let stored_events: usize = tickets
        .iter()
        .map(|id| events::for_ticket(&mut c, *id).expect("events").len())
        .sum();
    let all = events::after(&mut c, 0, 10_000, &Scope::All).expect("after 0");
    assert_eq!(
        all.len(),
        stored_events,
        "every committed event is sequenced"
    );
    let seqs: Vec<i64> = all.iter().map(|e| e.seq.expect("sequenced")).collect();
    let n = i64::try_from(all.len()).expect("n");
    assert_eq!(
        seqs,
        (1..=n).collect::<Vec<_>>(),
        "seq runs 1..=n without gaps, in order"
    );
    assert_eq!(
        all.iter().map(|e| e.id).collect::<HashSet<_>>().len(),
        all.len(),
        "no event twice"
    );
    assert_eq!(events::last_seq(&mut c).expect("last"), n);
    for k in [0, 1, n / 3, n - 1, n] {
        let above = events::after(&mut c, k, 10_000, &Scope::All).expect("after k");
        let expected: Vec<i64> = all
            .iter()
            .filter(|e| e.seq > Some(k))
            .map(|e| e.id)
            .collect();
        assert_eq!(
            above.iter().map(|e| e.id).collect::<Vec<_>>(),
            expected,
            "after({k})"
        );
    }
    let mut last: BTreeMap<TicketId, (i32, i64)> = BTreeMap::new();
    for e in &all {
        let seq = e.seq.expect("seq");
        if let Some((v, s)) = last.insert(e.event.ticket_id, (e.event.version, seq)) {
            assert!(
                e.event.version == v + 1 && seq > s,
                "a ticket's events are sequenced in version order"
            );
        }
    }
    all.len()
}

/// Asserts that a subscriber got strictly increasing sequence numbers; returns them.
fn published_in_order(got: &[Arc<StoredEvent>]) -> Vec<i64> {
    let seqs: Vec<i64> = got
        .iter()
        .map(|e| e.seq.expect("published events are sequenced"))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "a bus publishes in sequence order"
    );
    seqs
}

async fn sequencer_numbers_every_event_once(backend: Backend) {
    let (_t, d) = desk(backend);
    let writers = [Writer::new(d.h.clone(), &d.team)];
    let mut rx = d.h.bus.subscribe();
    let stop = Arc::new(AtomicBool::new(false));
    let sequencer = keep_sequencing(d.h.bus.clone(), d.db().clone(), stop.clone());

    let mut ids = write_wave(&writers, 12).await;
    let mid = d.h.bus.sequence_now(d.db()).await.expect("sequence");
    ids.extend(write_wave(&writers, 8).await);
    stop.store(true, Ordering::Release);
    let during = sequencer.await.expect("sequencer");
    let last = d.h.bus.sequence_now(d.db()).await.expect("sequence");
    assert_eq!(
        d.h.bus.sequence_now(d.db()).await.expect("sequence"),
        0,
        "nothing left"
    );

    assert_eq!(ids.len(), 40);
    let n = assert_gap_free(d.db(), &ids);
    assert_eq!(n, 200);
    assert_eq!(
        during + mid + last,
        n,
        "each event is sequenced by exactly one run"
    );
    let published = published_in_order(&drain(&mut rx));
    assert_eq!(published, (1..=200).collect::<Vec<i64>>());
    assert_eq!(d.h.bus.last_seq(), 200);
}
both_backends!(
    sequencer_numbers_every_event_once,
    sequencer_numbers_every_event_once
);

/// Two nodes (two pools on one PostgreSQL database), each writing and sequencing at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequencer_gap_free_across_two_nodes_pg() {
    let t = TestDb::new(Backend::Postgres);
    common::seed(t.db());
    let db2 = Db::connect(&DbUrl::parse(&t.url), 8).expect("second pool");
    let nodes = [
        common::hotline(t.db(), monday_10()),
        common::hotline(&db2, monday_10()),
    ];
    let team = Team::of(t.db());
    let writers: Vec<Writer> = nodes
        .iter()
        .map(|h| Writer::new(h.clone(), &team))
        .collect();
    let mut subscribers: Vec<_> = nodes.iter().map(|h| h.bus.subscribe()).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let sequencers: Vec<_> = nodes
        .iter()
        .map(|h| keep_sequencing(h.bus.clone(), h.db.clone(), stop.clone()))
        .collect();

    let mut ids = write_wave(&writers, 12).await;
    ids.extend(write_wave(&writers, 12).await);
    stop.store(true, Ordering::Release);
    let mut sequenced = 0;
    for s in sequencers {
        sequenced += s.await.expect("sequencer");
    }
    for h in &nodes {
        sequenced += h.bus.sequence_now(&h.db).await.expect("sequence");
    }

    let n = assert_gap_free(t.db(), &ids);
    assert_eq!(n, 240);
    assert_eq!(sequenced, n, "each event is sequenced by exactly one node");
    let mut all_published: Vec<i64> = Vec::new();
    for rx in &mut subscribers {
        all_published.extend(published_in_order(&drain(rx)));
    }
    all_published.sort_unstable();
    assert_eq!(
        all_published,
        (1..=240).collect::<Vec<i64>>(),
        "each node publishes what it sequenced"
    );
}

// ---- ticket numbers --------------------------------------------------------------------------

async fn ticket_numbers_unique_across_nodes(backend: Backend) {
    let t = TestDb::new(backend);
    common::seed(t.db());
    // 17:00 UTC on the 23rd is 01:00 on the 24th in China: numbers follow the China date.
    let now = Utc
        .with_ymd_and_hms(2026, 11, 23, 17, 0, 0)
        .single()
        .expect("time");
    let node = |db: &Db| Hotline {
        numbers: Arc::new(NumberAllocator::new(7)),
        ..common::hotline(db, now)
    };
    // SQLite is one node's file: the three allocators share its pool. PostgreSQL gets a pool each.
    let nodes: Vec<Hotline> = match backend {
        Backend::Sqlite => (0..3).map(|_| node(t.db())).collect(),
        Backend::Postgres => (0..3)
            .map(|_| node(&Db::connect(&DbUrl::parse(&t.url), 8).expect("pool")))
            .collect(),
    };
    let team = Team::of(t.db());
    let results = at_once(200, |i| {
        let h = nodes[i % 3].clone();
        let (agent, centre) = (team.agent.actor.clone(), team.centre);
        async move {
            h.receive(agent, centre, appeal(AppealType::Consult, Urgency::Normal))
                .await
        }
    })
    .await;
    let numbers: Vec<String> = results
        .into_iter()
        .map(|r| r.expect("receive").number.as_str().to_owned())
        .collect();
    let unique: HashSet<&String> = numbers.iter().collect();
    assert_eq!(unique.len(), 200, "no number twice");
    let mut counters = Vec::new();
    for n in &numbers {
        assert!(
            n.len() == 14 && n.bytes().all(|b| b.is_ascii_digit()),
            "{n}"
        );
        assert!(
            n.starts_with("20261124"),
            "{n} carries the China business date"
        );
        counters.push(n[8..].parse::<u32>().expect("counter"));
    }
    // Each node leaves at most the rest of one block unused.
    assert!(
        counters.iter().all(|c| (1..=200 + 3 * 6).contains(c)),
        "{counters:?}"
    );

    let mut c = t.db().get().expect("conn");
    assert_eq!(tickets::all_ids(&mut c).expect("ids").len(), 200);
    for n in numbers.iter().step_by(17) {
        assert!(
            tickets::by_number(&mut c, n).expect("query").is_some(),
            "{n} is stored"
        );
    }
}
both_backends!(
    ticket_numbers_unique_across_nodes,
    ticket_numbers_unique_across_nodes
);
