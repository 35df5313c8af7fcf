#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The scheduler in real `hotline serve` processes: 1,000 tickets whose deadlines have all
//! passed (3,000 due jobs). On PostgreSQL three processes share the work; on SQLite one process
//! (one writer). One process is killed with SIGKILL in the middle and started again. Afterwards
//! every job was done exactly once: each ticket has one supervision by the system and one
//! notice row per warning and per escalated unit, none missing and none twice.

mod common;
mod scheduler_support;
mod storage_support;

use std::time::{Duration, Instant};

use common::{Backend, TestDb, start_in};
use hotline_core::Db;
use hotline_dispatch::scheduler::jobs;
use scheduler_support::{
    all_jobs, dispatched_tickets, mails_per_ticket, node, system_supervisions,
};
use storage_support::china;

/// A port nothing listens on: the processes' mail never gets through, and stays queued.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Jobs of tickets (not the daily digest) by state.
fn ticket_jobs(db: &Db, state: &str) -> i64 {
    jobs::counts(&mut db.get().unwrap())
        .unwrap()
        .into_iter()
        .filter(|(kind, s, _)| kind != "digest" && s == state)
        .map(|(_, _, n)| n)
        .sum()
}

async fn killed_and_restarted(backend: Backend) {
    let db = TestDb::new(backend);
    common::seed(db.db());
    let maker = node(db.db(), china(11, 2, 9, 0), true);
    let ids = dispatched_tickets(&maker, 1_000).await;
    let total = 3_000;
    assert_eq!(ticket_jobs(db.db(), jobs::PENDING), total);

    let port = closed_port().to_string();
    let env = [
        ("HOTLINE_MAIL__SMTP_HOST", "127.0.0.1"),
        ("HOTLINE_MAIL__SMTP_PORT", port.as_str()),
        ("HOTLINE_MAIL__RETRY_SECONDS", "3600"),
        ("HOTLINE_SCHEDULER__POLL_MS", "50"),
        ("HOTLINE_SCHEDULER__BATCH", "10"),
    ];
    let processes = match backend {
        Backend::Postgres => 3,
        Backend::Sqlite => 1,
    };
    // One data dir per node, as in production (each keeps its own search index).
    let dirs: Vec<tempfile::TempDir> = (0..processes)
        .map(|_| tempfile::tempdir().unwrap())
        .collect();
    let mut children: Vec<_> = dirs
        .iter()
        .map(|d| start_in(&db, d.path(), &["serve"], &env).0)
        .collect();

    let deadline = Instant::now() + Duration::from_secs(300);
    while ticket_jobs(db.db(), jobs::DONE) < total / 5 {
        assert!(Instant::now() < deadline, "the schedulers made no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // SIGKILL (std's Child::kill on Unix): no shutdown, a transaction may be under way.
    children[0].kill().unwrap();
    children[0].wait().unwrap();
    let at_kill = ticket_jobs(db.db(), jobs::DONE);
    assert!(
        at_kill < total,
        "the kill must land mid-way ({at_kill} done)"
    );
    children[0] = start_in(&db, dirs[0].path(), &["serve"], &env).0;

    while ticket_jobs(db.db(), jobs::PENDING) > 0 {
        assert!(Instant::now() < deadline, "due work left undone");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }

    assert_eq!(ticket_jobs(db.db(), jobs::DONE), total);
    for state in [jobs::FAILED, jobs::DROPPED, jobs::CANCELLED] {
        assert_eq!(ticket_jobs(db.db(), state), 0, "{state}");
    }
    assert!(
        all_jobs(db.db(), Some(jobs::PENDING))
            .iter()
            .all(|j| j.kind == "digest")
    );
    let per_ticket = mails_per_ticket(db.db());
    for id in &ids {
        assert_eq!(system_supervisions(db.db(), *id), 1, "ticket {id}");
        let count = |kind: &str| per_ticket.get(&(id.to_string(), kind.to_owned())).copied();
        assert_eq!(count("deadline_warning"), Some(2), "ticket {id}");
        assert_eq!(count("overdue"), Some(3), "ticket {id}");
    }
    storage_support::assert_replays(db.db(), ids[0]);
}

both_backends!(
    scheduler_killed_and_restarted_loses_and_repeats_nothing,
    killed_and_restarted
);
