#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! What the scheduler and mail tests share: a node (commands with the dispatch hook, and its
//! scheduler) on a manual clock, a desk on it, readers of jobs, mails and supervision events,
//! and many tickets dispatched at once.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hotline_core::Db;
use hotline_core::domain::{Actor, AppealType, Urgency};
use hotline_core::hooks::Hooks;
use hotline_core::ids::TicketId;
use hotline_core::store::{events, users};
use hotline_core::workflow::Hotline;
use hotline_dispatch::Notices;
use hotline_dispatch::mail::outbox::{self, Message};
use hotline_dispatch::scheduler::jobs::{self, JobRow};
use hotline_dispatch::scheduler::{Scheduler, SchedulerConfig};

use crate::storage_support::{Desk, Team, appeal, dispatch};

pub const FROM: &str = "12345热线 <noreply@hotline.example>";
/// The address a test gives the A2区 unit admin.
pub const A2_ADMIN: &str = "a2admin@a2.example";

pub fn notices() -> Arc<Notices> {
    Arc::new(Notices::new(FROM, Some("https://12345.example".into())).expect("templates"))
}

/// One node: the commands with the dispatch hook, and its scheduler, sharing one manual clock.
#[derive(Clone)]
pub struct Node {
    pub h: Hotline,
    pub scheduler: Scheduler,
}

/// A node on `db` whose clock stands at `now`; with `mail`, notices are queued.
pub fn node(db: &Db, now: DateTime<Utc>, mail: bool) -> Node {
    let base = crate::common::hotline(db, now);
    let notices = mail.then(notices);
    let h = Hotline {
        hooks: Hooks::new(vec![hotline_dispatch::ticket_hook(
            base.time.clone(),
            notices.clone(),
        )]),
        ..base
    };
    let cfg = SchedulerConfig {
        batch: 25,
        ..SchedulerConfig::default()
    };
    let scheduler = Scheduler::new(h.clone(), notices, cfg);
    Node { h, scheduler }
}

/// A desk driving tickets through a node's commands.
pub fn desk_on(n: &Node) -> Desk {
    Desk::new(n.h.clone())
}

/// Gives the A2区 unit admin an address, so notices to A2区 reach it as well.
pub fn give_a2_admin_email(db: &Db) {
    let mut c = db.get().expect("conn");
    let (admin, _) = users::by_username(&mut c, "a2admin")
        .expect("query")
        .expect("a2admin");
    users::update(
        &mut c,
        admin.id,
        users::UserChanges {
            email: Some(Some(A2_ADMIN.into())),
            ..Default::default()
        },
        hotline_core::db::now(),
    )
    .expect("email");
}

pub fn jobs_of(db: &Db, t: TicketId) -> Vec<JobRow> {
    jobs::list(&mut db.get().expect("conn"), Some(t), None).expect("jobs")
}

pub fn pending_of(db: &Db, t: TicketId) -> Vec<JobRow> {
    jobs::list(&mut db.get().expect("conn"), Some(t), Some(jobs::PENDING)).expect("jobs")
}

pub fn all_jobs(db: &Db, state: Option<&str>) -> Vec<JobRow> {
    jobs::list(&mut db.get().expect("conn"), None, state).expect("jobs")
}

pub fn mails_of(db: &Db, t: TicketId) -> Vec<Message> {
    outbox::list(&mut db.get().expect("conn"), None, Some(t), 10_000).expect("outbox")
}

pub fn all_mails(db: &Db) -> Vec<Message> {
    outbox::list(&mut db.get().expect("conn"), None, None, 1_000_000).expect("outbox")
}

/// Queued messages per (ticket, kind).
pub fn mails_per_ticket(db: &Db) -> std::collections::HashMap<(String, String), usize> {
    let mut per_ticket = std::collections::HashMap::new();
    for m in all_mails(db) {
        if let Some(t) = m.ticket_id {
            *per_ticket.entry((t, m.kind)).or_default() += 1;
        }
    }
    per_ticket
}

/// A seeded database (the A2区 admin with an address) and a node on it with mail.
pub fn seeded_node(backend: crate::common::Backend) -> (crate::common::TestDb, Node) {
    let db = crate::common::TestDb::new(backend);
    crate::common::seed(db.db());
    give_a2_admin_email(db.db());
    let n = node(db.db(), crate::storage_support::monday_10(), true);
    (db, n)
}

/// How many `supervised` events the system wrote on the ticket.
pub fn system_supervisions(db: &Db, t: TicketId) -> usize {
    events::all_for_rebuild(&mut db.get().expect("conn"), t)
        .expect("events")
        .iter()
        .filter(|e| e.change.kind() == "supervised" && e.actor_role == "system")
        .count()
}

/// `n` help appeals received and dispatched to A2区 at the node's current time, 16 at a time.
pub async fn dispatched_tickets(n: &Node, count: usize) -> Vec<TicketId> {
    let team = Arc::new(Team::of(&n.h.db));
    let mut ids = Vec::with_capacity(count);
    let mut left = count;
    while left > 0 {
        let now = left.min(16);
        left -= now;
        let tasks: Vec<_> = (0..now)
            .map(|_| {
                let (h, team) = (n.h.clone(), team.clone());
                tokio::spawn(async move {
                    let t = h
                        .receive(
                            team.agent.actor.clone(),
                            team.centre,
                            appeal(AppealType::Help, Urgency::Normal),
                        )
                        .await
                        .expect("receive");
                    h.act(
                        team.dispatcher.actor.clone(),
                        team.dispatcher.scope.clone(),
                        t.id,
                        dispatch(&team.a2),
                        None,
                    )
                    .await
                    .expect("dispatch")
                    .id
                })
            })
            .collect();
        for t in tasks {
            ids.push(t.await.expect("task"));
        }
    }
    ids
}

/// The system actor, as the scheduler acts.
pub fn system() -> Actor {
    Actor::System
}
