//! Presence: each user's state (online, on_call, after_call_work, away) and who views or edits
//! which ticket, live on every node. The database holds it (see
//! `hotline_core::store::presence`): one row per open connection, the state per user, the
//! tickets each connection watches, and a heartbeat per node, so the union over a user's
//! connections on all nodes is one query and the rows of a crashed node expire by its heartbeat.
//!
//! One task per node writes: connections hand it their changes, it applies a batch in one
//! transaction (on PostgreSQL with a `NOTIFY` per changed user or ticket), then re-reads what
//! changed and queues `presence` and `watchers` messages on the local connections whose topics
//! select them. Notifications from the other nodes (through the listener) make it re-read and
//! send the same way.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytestring::ByteString;
use hotline_core::Db;
use hotline_core::ids::{TicketId, UnitId, UserId};
use hotline_core::store::presence::{self as store, Present, Watcher};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::hub::{Hub, ScopeSet};
use crate::protocol::VERSION;
use crate::topics::Targets;

/// The states a user may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Online,
    OnCall,
    AfterCallWork,
    Away,
}

impl State {
    pub const NAMES: &'static str = "online, on_call, after_call_work or away";

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "online" => Self::Online,
            "on_call" => Self::OnCall,
            "after_call_work" => Self::AfterCallWork,
            "away" => Self::Away,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::OnCall => "on_call",
            Self::AfterCallWork => "after_call_work",
            Self::Away => "away",
        }
    }
}

fn label(state: Option<&str>) -> &'static str {
    match state {
        Some("online") => "在线",
        Some("on_call") => "通话中",
        Some("after_call_work") => "话后处理",
        Some("away") => "暂离",
        _ => "离线",
    }
}

enum Command {
    /// `done` is answered once the connection is stored (so its own snapshot shows it).
    Connect {
        conn: u64,
        user: UserId,
        done: tokio::sync::oneshot::Sender<()>,
    },
    Disconnect {
        conn: u64,
    },
    SetState {
        user: UserId,
        state: State,
    },
    Watch {
        conn: u64,
        user: UserId,
        ticket: TicketId,
        editing: bool,
    },
    Leave {
        conn: u64,
        ticket: TicketId,
    },
}

/// Commands one write applies at most.
const BATCH: usize = 512;

/// The node's presence writer, shared by its connections.
pub struct Presence {
    node: String,
    ttl: Duration,
    tx: mpsc::Sender<Command>,
    /// Disconnects come from `Drop`, which cannot wait: unbounded, but one per connection.
    gone: mpsc::UnboundedSender<Command>,
    remote: mpsc::Sender<String>,
    resync: AtomicBool,
}

/// The receiving ends, for [`Presence::run`].
pub struct Inbox {
    rx: mpsc::Receiver<Command>,
    gone: mpsc::UnboundedReceiver<Command>,
    remote: mpsc::Receiver<String>,
}

impl Presence {
    pub fn new(ttl: Duration) -> (Arc<Self>, Inbox) {
        let (tx, rx) = mpsc::channel(4096);
        let (gone_tx, gone) = mpsc::unbounded_channel();
        let (remote_tx, remote) = mpsc::channel(4096);
        let p = Arc::new(Self {
            node: hotline_core::ids::NodeId::new().to_string(),
            ttl,
            tx,
            gone: gone_tx,
            remote: remote_tx,
            resync: AtomicBool::new(false),
        });
        (p, Inbox { rx, gone, remote })
    }

    /// The cut-off: a node whose heartbeat is older is dead.
    pub fn cutoff(&self) -> chrono::DateTime<chrono::Utc> {
        hotline_core::db::now()
            - chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::seconds(30))
    }

    /// Records a new connection; returns once it is stored (or could not be).
    pub async fn connect(&self, conn: u64, user: UserId) {
        let (done, stored) = tokio::sync::oneshot::channel();
        if self
            .tx
            .send(Command::Connect { conn, user, done })
            .await
            .is_ok()
        {
            let _ = stored.await;
        }
    }

    pub fn disconnect(&self, conn: u64) {
        let _ = self.gone.send(Command::Disconnect { conn });
    }

    pub async fn set_state(&self, user: UserId, state: State) {
        let _ = self.tx.send(Command::SetState { user, state }).await;
    }

    pub async fn watch(&self, conn: u64, user: UserId, ticket: TicketId, editing: bool) {
        let _ = self
            .tx
            .send(Command::Watch {
                conn,
                user,
                ticket,
                editing,
            })
            .await;
    }

    pub async fn leave(&self, conn: u64, ticket: TicketId) {
        let _ = self.tx.send(Command::Leave { conn, ticket }).await;
    }

    /// A notification from another node (the listener thread); never blocks.
    pub fn remote(&self, payload: String) {
        if self.remote.try_send(payload).is_err() {
            self.resync.store(true, Ordering::Release);
        }
    }

    /// Something may have been missed (the listener reconnected): send everything afresh.
    pub fn resync(&self) {
        self.resync.store(true, Ordering::Release);
    }

    /// Deletes this node's rows (and tells the other nodes), at a clean shutdown.
    pub async fn forget_node(&self, db: &Db) -> Result<(), hotline_core::StoreError> {
        let node = self.node.clone();
        db.write(move |c| {
            let gone = store::remove_node(c, &node)?;
            for u in &gone.users {
                store::notify(c, &format!("{node} u {u}"))?;
            }
            for t in &gone.tickets {
                store::notify(c, &format!("{node} t {t}"))?;
            }
            Ok(())
        })
        .await
    }

    /// Registers the node, then writes and fans out until the task is dropped.
    pub async fn run(self: Arc<Self>, mut inbox: Inbox, db: Db, hub: Arc<Hub>) {
        let node = self.node.clone();
        let first = db
            .write(move |c| {
                if c.backend() == hotline_core::Backend::Sqlite {
                    // One node only: whatever is stored is from an earlier run.
                    store::clear(c)?;
                }
                store::register_node(c, &node, hotline_core::db::now())
            })
            .await;
        if let Err(e) = first {
            tracing::warn!(error = %e, "console presence: cannot register this node");
        }
        let beat = (self.ttl / 3).max(Duration::from_millis(100));
        let mut ticks = tokio::time::interval(beat);
        loop {
            let mut batch = Vec::new();
            let mut remote = Vec::new();
            // A connection's own commands come before its disconnect (which it sent last, from
            // its drop): take `gone` only when `rx` is empty. The heartbeat first, so that a busy
            // node is never taken for dead.
            tokio::select! {
                biased;
                _ = ticks.tick() => self.beat(&db, &hub).await,
                c = inbox.rx.recv() => match c {
                    Some(c) => batch.push(c),
                    None => return,
                },
                c = inbox.gone.recv() => batch.extend(c),
                r = inbox.remote.recv() => remote.extend(r),
            }
            while batch.len() < BATCH {
                match inbox
                    .rx
                    .try_recv()
                    .ok()
                    .or_else(|| inbox.gone.try_recv().ok())
                {
                    Some(c) => batch.push(c),
                    None => break,
                }
            }
            while let Ok(r) = inbox.remote.try_recv() {
                remote.push(r);
            }
            let mut dirty = Dirty::default();
            if !batch.is_empty() {
                match self.apply(&db, batch).await {
                    Ok(d) => dirty = d,
                    Err(e) => {
                        tracing::warn!(error = %e, "console presence: writing failed");
                        self.resync();
                    }
                }
            }
            for r in remote {
                dirty.parse(&self.node, &r);
            }
            if self.resync.swap(false, Ordering::AcqRel) {
                self.send_all(&db, &hub).await;
            } else if !dirty.is_empty() {
                self.fan_out(&db, &hub, dirty).await;
            }
        }
    }

    /// The heartbeat, and the sweep of nodes that stopped beating.
    async fn beat(&self, db: &Db, hub: &Arc<Hub>) {
        let node = self.node.clone();
        let cutoff = self.cutoff();
        let r = db
            .write(move |c| {
                let alive = store::heartbeat(c, &node, hotline_core::db::now())?;
                let expired = store::expire(c, cutoff)?;
                for u in &expired.users {
                    store::notify(c, &format!("{node} u {u}"))?;
                }
                for t in &expired.tickets {
                    store::notify(c, &format!("{node} t {t}"))?;
                }
                Ok::<_, hotline_core::StoreError>((alive, expired))
            })
            .await;
        match r {
            Ok((alive, expired)) => {
                if !alive {
                    tracing::warn!(
                        "console presence: this node was taken for dead; its presence was swept"
                    );
                }
                let dirty = Dirty {
                    users: expired.users.into_iter().collect(),
                    tickets: expired.tickets.into_iter().collect(),
                };
                if !dirty.is_empty() {
                    self.fan_out(db, hub, dirty).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "console presence: heartbeat failed"),
        }
    }

    async fn apply(&self, db: &Db, batch: Vec<Command>) -> Result<Dirty, hotline_core::StoreError> {
        let node = self.node.clone();
        let cutoff = self.cutoff();
        let (tx, acks) = std::sync::mpsc::channel();
        let r = db
            .write(move |c| {
                let now = hotline_core::db::now();
                let mut d = Dirty::default();
                for cmd in batch {
                    match cmd {
                        Command::Connect { conn, user, done } => {
                            let _ = tx.send(done);
                            if store::connect(c, &node, id(conn), user, now, cutoff)? {
                                d.users.insert(user);
                            }
                        }
                        Command::Disconnect { conn } => {
                            if let Some(r) = store::disconnect(c, &node, id(conn))? {
                                // Offline only when it was the last connection; re-read either way.
                                d.users.insert(r.user);
                                d.tickets.extend(r.tickets);
                            }
                        }
                        Command::SetState { user, state } => {
                            store::set_state(c, user, state.as_str(), now)?;
                            d.users.insert(user);
                        }
                        Command::Watch {
                            conn,
                            user,
                            ticket,
                            editing,
                        } => {
                            store::watch(c, &node, id(conn), user, ticket, editing, now)?;
                            d.tickets.insert(ticket);
                        }
                        Command::Leave { conn, ticket } => {
                            store::leave(c, &node, id(conn), ticket)?;
                            d.tickets.insert(ticket);
                        }
                    }
                }
                for u in &d.users {
                    store::notify(c, &format!("{node} u {u}"))?;
                }
                for t in &d.tickets {
                    store::notify(c, &format!("{node} t {t}"))?;
                }
                Ok(d)
            })
            .await;
        // Stored or failed, the connections wait no longer.
        for done in acks.try_iter() {
            let _ = done.send(());
        }
        r
    }

    /// Re-reads what changed and queues it on the local connections that asked for it.
    async fn fan_out(&self, db: &Db, hub: &Arc<Hub>, dirty: Dirty) {
        let cutoff = self.cutoff();
        let users: Vec<UserId> = dirty.users.into_iter().collect();
        let tickets: Vec<TicketId> = dirty.tickets.into_iter().collect();
        let read = db
            .run(move |c| {
                let people = store::of_users(c, &users, cutoff)?;
                let mut watched = Vec::with_capacity(tickets.len());
                for t in tickets {
                    watched.push((t, store::watchers(c, t, cutoff)?));
                }
                Ok::<_, hotline_core::StoreError>((people, watched))
            })
            .await;
        let (people, watched) = match read {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "console presence: reading failed");
                return;
            }
        };
        let changes: Vec<(UnitId, Present)> = people.into_iter().map(|p| (p.unit_id, p)).collect();
        hub.send_presence(&changes, |mine| {
            let mine: Vec<Present> = mine.iter().map(|p| (*p).clone()).collect();
            presence_message(false, &mine)
        });
        for (t, w) in &watched {
            hub.send_to_ticket(*t, &watchers_message(*t, w));
        }
    }

    /// Sends every local connection its snapshots again.
    async fn send_all(&self, db: &Db, hub: &Arc<Hub>) {
        let conns = hub.presence_targets();
        let tickets: BTreeSet<TicketId> = conns
            .iter()
            .flat_map(|(_, _, t)| t.tickets.iter().copied())
            .collect();
        let cutoff = self.cutoff();
        let read = db
            .run(move |c| {
                let people = store::present(c, None, cutoff)?;
                let mut watched = Vec::with_capacity(tickets.len());
                for t in tickets {
                    watched.push((t, store::watchers(c, t, cutoff)?));
                }
                Ok::<_, hotline_core::StoreError>((people, watched))
            })
            .await;
        let Ok((people, watched)) = read else {
            tracing::warn!("console presence: reading for a resync failed");
            self.resync();
            return;
        };
        for (conn, scope, targets) in &conns {
            let mine = selected(&people, scope, targets);
            if targets.wants_presence() {
                hub.send_one(conn, &presence_message(true, &mine));
            }
        }
        for (t, w) in &watched {
            hub.send_to_ticket(*t, &watchers_message(*t, w));
        }
    }
}

/// The present users these targets select, within the scope.
pub fn selected(people: &[Present], scope: &ScopeSet, targets: &Targets) -> Vec<Present> {
    people
        .iter()
        .filter(|p| p.state.is_some())
        .filter(|p| {
            (targets.presence_scope && scope.sees(&[p.unit_id]))
                || targets.presence_units.contains(&p.unit_id)
        })
        .cloned()
        .collect()
}

/// What changed since the last fan-out.
#[derive(Default)]
struct Dirty {
    users: HashSet<UserId>,
    tickets: HashSet<TicketId>,
}

impl Dirty {
    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.tickets.is_empty()
    }

    /// `NODE u ID` or `NODE t ID`; this node's own are already handled.
    fn parse(&mut self, own: &str, payload: &str) {
        let mut parts = payload.split(' ');
        let (Some(node), Some(kind), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return;
        };
        if node == own {
            return;
        }
        match kind {
            "u" => self.users.extend(id.parse::<UserId>().ok()),
            "t" => self.tickets.extend(id.parse::<TicketId>().ok()),
            _ => {}
        }
    }
}

fn id(conn: u64) -> i64 {
    i64::try_from(conn).unwrap_or(i64::MAX)
}

fn person(p: &Present) -> Value {
    json!({
        "user_id": p.user_id,
        "username": p.username,
        "display_name": p.display_name,
        "role": p.role,
        "unit_id": p.unit_id,
        "state": p.state.as_deref().unwrap_or("offline"),
        "state_label": label(p.state.as_deref()),
        "since": p.since,
    })
}

/// `presence`: a snapshot (everyone present the topics select), or the changes of one batch
/// that the receiving connection may see (one or more users).
pub fn presence_message(snapshot: bool, people: &[Present]) -> ByteString {
    let agents: Vec<Value> = people.iter().map(person).collect();
    ByteString::from(
        json!({"v": VERSION, "type": "presence", "snapshot": snapshot, "agents": agents})
            .to_string(),
    )
}

/// `watchers`: who views and who edits a ticket now.
pub fn watchers_message(ticket: TicketId, w: &[Watcher]) -> ByteString {
    let who = |x: &Watcher| json!({"user_id": x.user_id, "username": x.username, "display_name": x.display_name});
    let viewing: Vec<Value> = w.iter().filter(|x| !x.editing).map(who).collect();
    let editing: Vec<Value> = w.iter().filter(|x| x.editing).map(who).collect();
    ByteString::from(
        json!({"v": VERSION, "type": "watchers", "ticket_id": ticket, "viewing": viewing, "editing": editing})
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip() {
        for s in ["online", "on_call", "after_call_work", "away"] {
            assert_eq!(State::parse(s).unwrap().as_str(), s);
        }
        assert!(State::parse("offline").is_none());
        assert!(State::parse("").is_none());
    }

    #[test]
    fn own_notifications_are_skipped() {
        let mut d = Dirty::default();
        let u = UserId::new();
        d.parse("me", &format!("me u {u}"));
        assert!(d.is_empty());
        d.parse("me", &format!("other u {u}"));
        d.parse("me", "other x junk");
        d.parse("me", "other u not-a-uuid");
        d.parse("me", "garbage");
        assert_eq!(d.users.len(), 1);
    }
}
