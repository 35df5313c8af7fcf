//! The hub: which connection wants which events, indexed by unit and ticket so an event touches
//! only the connections that asked for it. Each event is serialized once (by the feed) and the
//! same bytes are queued on every connection it reaches; queues are bounded, and a connection
//! whose queue is full is told to close rather than allowed to grow the server's memory.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};

use bytestring::ByteString;
use hotline_core::ids::{TicketId, UnitId};
use hotline_core::scope::Scope;
use tokio::sync::{Notify, mpsc};

use crate::topics::Targets;

/// The units a connection's user may see (shared by every connection with the same scope).
#[derive(Debug)]
pub struct ScopeSet {
    all: bool,
    units: HashSet<UnitId>,
}

impl ScopeSet {
    /// True when any unit the ticket is or was with lies in this scope.
    pub fn sees(&self, involved: &[UnitId]) -> bool {
        self.all || involved.iter().any(|u| self.units.contains(u))
    }
}

/// One event, ready to send: its text and what decides who gets it.
#[derive(Debug, Clone)]
pub struct Published {
    pub seq: i64,
    pub ticket_id: TicketId,
    /// The units holding the ticket (centre, main and co-handling units) and the actor's unit.
    pub holders: Vec<UnitId>,
    /// Every unit the ticket is or was with (visibility).
    pub involved: Vec<UnitId>,
    /// The `event` message, serialized once.
    pub text: ByteString,
}

/// A message queued for a connection.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The event's sequence number; [`NOT_AN_EVENT`] for presence and watchers.
    pub seq: i64,
    pub text: ByteString,
}

/// The `seq` of a queued message that is not an event (always sent, never deduplicated).
pub const NOT_AN_EVENT: i64 = 0;

/// The hub's side of one connection.
pub struct Conn {
    pub id: u64,
    tx: mpsc::Sender<Outgoing>,
    pub scope: Arc<ScopeSet>,
    /// The highest sequence number queued, so an event several topics select goes out once.
    queued: AtomicI64,
    too_slow: AtomicBool,
    /// Woken when the connection must close because it fell behind.
    pub kill: Notify,
}

impl Conn {
    pub fn is_too_slow(&self) -> bool {
        self.too_slow.load(Ordering::Acquire)
    }

    /// Queues a message that is not an event; a full queue marks the connection too slow.
    fn queue(&self, text: &ByteString) {
        let out = Outgoing {
            seq: NOT_AN_EVENT,
            text: text.clone(),
        };
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(out)
            && !self.too_slow.swap(true, Ordering::AcqRel)
        {
            self.kill.notify_one();
        }
    }
}

#[derive(Default)]
struct Index {
    targets: HashMap<u64, (Arc<Conn>, Targets)>,
    units: HashMap<UnitId, HashMap<u64, Arc<Conn>>>,
    tickets: HashMap<TicketId, HashMap<u64, Arc<Conn>>>,
    scoped: HashMap<u64, Arc<Conn>>,
    /// Who follows the presence of a unit's staff, or of everyone in their scope.
    presence_units: HashMap<UnitId, HashMap<u64, Arc<Conn>>>,
    presence_scoped: HashMap<u64, Arc<Conn>>,
}

fn remove_from<K: Hash + Eq>(map: &mut HashMap<K, HashMap<u64, Arc<Conn>>>, key: &K, id: u64) {
    if let Some(set) = map.get_mut(key) {
        set.remove(&id);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

impl Index {
    fn unindex(&mut self, id: u64, old: &Targets) {
        for u in &old.units {
            remove_from(&mut self.units, u, id);
        }
        for t in &old.tickets {
            remove_from(&mut self.tickets, t, id);
        }
        if old.scope {
            self.scoped.remove(&id);
        }
        for u in &old.presence_units {
            remove_from(&mut self.presence_units, u, id);
        }
        if old.presence_scope {
            self.presence_scoped.remove(&id);
        }
    }

    fn index(&mut self, conn: &Arc<Conn>, new: &Targets) {
        for u in &new.units {
            self.units
                .entry(*u)
                .or_default()
                .insert(conn.id, conn.clone());
        }
        for t in &new.tickets {
            self.tickets
                .entry(*t)
                .or_default()
                .insert(conn.id, conn.clone());
        }
        if new.scope {
            self.scoped.insert(conn.id, conn.clone());
        }
        for u in &new.presence_units {
            self.presence_units
                .entry(*u)
                .or_default()
                .insert(conn.id, conn.clone());
        }
        if new.presence_scope {
            self.presence_scoped.insert(conn.id, conn.clone());
        }
    }
}

/// A scope as a key: everything, or these units (sorted).
type ScopeKey = (bool, Vec<UnitId>);

pub struct Hub {
    index: RwLock<Index>,
    last_seq: AtomicI64,
    next_id: AtomicU64,
    connections: AtomicUsize,
    scopes: Mutex<HashMap<ScopeKey, Weak<ScopeSet>>>,
    going_away: tokio::sync::watch::Sender<bool>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    pub fn new() -> Self {
        Self {
            index: RwLock::new(Index::default()),
            last_seq: AtomicI64::new(0),
            next_id: AtomicU64::new(1),
            connections: AtomicUsize::new(0),
            scopes: Mutex::new(HashMap::new()),
            going_away: tokio::sync::watch::Sender::new(false),
        }
    }

    /// The server is stopping: every connection closes with 1001 (going away), so that a
    /// graceful shutdown does not wait its whole timeout for consoles that would never hang up.
    pub fn go_away(&self) {
        self.going_away.send_replace(true);
    }

    /// Resolves when [`Hub::go_away`] was called (at once if it was already).
    pub fn going_away(&self) -> tokio::sync::watch::Receiver<bool> {
        self.going_away.subscribe()
    }

    /// The highest sequence number the hub has published.
    pub fn last_seq(&self) -> i64 {
        self.last_seq.load(Ordering::Acquire)
    }

    /// Where the hub starts (the table's last seq when the node starts).
    pub fn start_at(&self, seq: i64) {
        self.last_seq.fetch_max(seq, Ordering::AcqRel);
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// One shared set per distinct scope: twenty users of one unit hold one copy. Keyed by the
    /// scope itself (its sorted units), never by a hash of it, so two scopes never share a set.
    fn scope_set(&self, scope: &Scope) -> Arc<ScopeSet> {
        let key: ScopeKey = match scope {
            Scope::All => (true, Vec::new()),
            Scope::Units(u) => {
                let mut units = u.clone();
                units.sort_unstable();
                units.dedup();
                (false, units)
            }
        };
        let mut cache = self.scopes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = cache.get(&key).and_then(Weak::upgrade) {
            return s;
        }
        cache.retain(|_, w| w.strong_count() > 0);
        let set = Arc::new(ScopeSet {
            all: key.0,
            units: key.1.iter().copied().collect(),
        });
        cache.insert(key, Arc::downgrade(&set));
        set
    }

    /// Adds a connection with no topics yet; returns it and the receiving end of its queue.
    pub fn register(&self, scope: &Scope, buffer: usize) -> (Arc<Conn>, mpsc::Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(buffer.max(1));
        let conn = Arc::new(Conn {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            tx,
            scope: self.scope_set(scope),
            queued: AtomicI64::new(0),
            too_slow: AtomicBool::new(false),
            kill: Notify::new(),
        });
        self.index
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .targets
            .insert(conn.id, (conn.clone(), Targets::default()));
        self.connections.fetch_add(1, Ordering::Relaxed);
        (conn, rx)
    }

    /// Replaces what a connection receives.
    pub fn set_targets(&self, id: u64, new: Targets) {
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        let Some((conn, old)) = index.targets.remove(&id) else {
            return;
        };
        index.unindex(id, &old);
        index.index(&conn, &new);
        index.targets.insert(id, (conn, new));
    }

    pub fn unregister(&self, id: u64) {
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, old)) = index.targets.remove(&id) {
            index.unindex(id, &old);
            self.connections.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Queues the presence changes of one batch: every connection that follows the unit of at
    /// least one of `changes` (by unit, or by scope: wallboards) gets **one** message listing
    /// the changes it may see, made by `render`. Ten thousand consoles connecting at once are
    /// then a few messages per wallboard, not one per connection, which would overflow its
    /// queue and close it as too slow.
    pub fn send_presence<T>(&self, changes: &[(UnitId, T)], render: impl Fn(&[&T]) -> ByteString) {
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        let mut per_conn: HashMap<u64, (Arc<Conn>, Vec<&T>)> = HashMap::new();
        for (unit, change) in changes {
            for conn in index
                .presence_units
                .get(unit)
                .into_iter()
                .flat_map(HashMap::values)
            {
                per_conn
                    .entry(conn.id)
                    .or_insert_with(|| (conn.clone(), Vec::new()))
                    .1
                    .push(change);
            }
            for conn in index.presence_scoped.values() {
                if !conn.scope.sees(&[*unit]) {
                    continue;
                }
                let entry = per_conn
                    .entry(conn.id)
                    .or_insert_with(|| (conn.clone(), Vec::new()));
                // A unit follower that is also scoped has it once.
                if !entry.1.last().is_some_and(|c| std::ptr::eq(*c, change)) {
                    entry.1.push(change);
                }
            }
        }
        drop(index);
        for (conn, mine) in per_conn.into_values() {
            conn.queue(&render(&mine));
        }
    }

    /// Queues a message on the connections subscribed to one ticket.
    pub fn send_to_ticket(&self, ticket: TicketId, text: &ByteString) {
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        for conn in index
            .tickets
            .get(&ticket)
            .into_iter()
            .flat_map(HashMap::values)
        {
            conn.queue(text);
        }
    }

    /// Queues a message on one connection.
    pub fn send_one(&self, conn: &Conn, text: &ByteString) {
        conn.queue(text);
    }

    /// Every connection with its scope and targets (for a presence resync).
    pub fn presence_targets(&self) -> Vec<(Arc<Conn>, Arc<ScopeSet>, Targets)> {
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        index
            .targets
            .values()
            .map(|(c, t)| (c.clone(), c.scope.clone(), t.clone()))
            .collect()
    }

    /// Queues each event, in order, on every connection that selected it and may see it.
    pub fn publish(&self, batch: &[Published]) {
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        for p in batch {
            let by_unit = p.holders.iter().filter_map(|u| index.units.get(u));
            let candidates = by_unit
                .chain(index.tickets.get(&p.ticket_id))
                .flat_map(HashMap::values)
                .chain(index.scoped.values());
            for conn in candidates {
                if !conn.scope.sees(&p.involved) {
                    continue;
                }
                if conn.queued.fetch_max(p.seq, Ordering::AcqRel) >= p.seq {
                    continue;
                }
                let out = Outgoing {
                    seq: p.seq,
                    text: p.text.clone(),
                };
                if let Err(mpsc::error::TrySendError::Full(_)) = conn.tx.try_send(out)
                    && !conn.too_slow.swap(true, Ordering::AcqRel)
                {
                    conn.kill.notify_one();
                }
            }
            self.last_seq.fetch_max(p.seq, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64, ticket: TicketId, holders: &[UnitId]) -> Published {
        Published {
            seq,
            ticket_id: ticket,
            holders: holders.to_vec(),
            involved: holders.to_vec(),
            text: ByteString::from(format!("{{\"seq\":{seq}}}")),
        }
    }

    fn unit() -> UnitId {
        "6f1c1a52-5d43-4f0e-9d6c-6f3b1f1d2a10".parse().unwrap()
    }

    fn other_unit() -> UnitId {
        "7f1c1a52-5d43-4f0e-9d6c-6f3b1f1d2a10".parse().unwrap()
    }

    fn ticket() -> TicketId {
        "8f1c1a52-5d43-4f0e-9d6c-6f3b1f1d2a10".parse().unwrap()
    }

    #[test]
    fn an_event_reaches_a_connection_once_whatever_selects_it() {
        let hub = Hub::new();
        let (conn, mut rx) = hub.register(&Scope::All, 8);
        let mut t = Targets::default();
        t.units.insert(unit());
        t.tickets.insert(ticket());
        t.scope = true;
        hub.set_targets(conn.id, t);
        hub.publish(&[event(1, ticket(), &[unit()])]);
        assert_eq!(rx.try_recv().unwrap().seq, 1);
        assert!(rx.try_recv().is_err());
        assert_eq!(hub.last_seq(), 1);
    }

    #[test]
    fn scope_and_topics_filter() {
        let hub = Hub::new();
        let (mine, mut rx_mine) = hub.register(&Scope::Units(vec![unit()]), 8);
        let (theirs, mut rx_theirs) = hub.register(&Scope::Units(vec![other_unit()]), 8);
        for c in [&mine, &theirs] {
            hub.set_targets(
                c.id,
                Targets {
                    scope: true,
                    ..Targets::default()
                },
            );
        }
        hub.publish(&[event(1, ticket(), &[unit()])]);
        assert_eq!(rx_mine.try_recv().unwrap().seq, 1);
        assert!(rx_theirs.try_recv().is_err());
        hub.set_targets(mine.id, Targets::default());
        hub.publish(&[event(2, ticket(), &[unit()])]);
        assert!(rx_mine.try_recv().is_err());
        hub.unregister(theirs.id);
        assert_eq!(hub.connections(), 1);
    }

    #[test]
    fn a_full_queue_marks_the_connection_too_slow() {
        let hub = Hub::new();
        let (conn, _rx) = hub.register(&Scope::All, 2);
        hub.set_targets(
            conn.id,
            Targets {
                scope: true,
                ..Targets::default()
            },
        );
        let batch: Vec<_> = (1..=3).map(|s| event(s, ticket(), &[unit()])).collect();
        hub.publish(&batch);
        assert!(conn.is_too_slow());
    }

    #[test]
    fn equal_scopes_share_one_set() {
        let hub = Hub::new();
        let (a, _ra) = hub.register(&Scope::Units(vec![unit()]), 1);
        let (b, _rb) = hub.register(&Scope::Units(vec![unit()]), 1);
        assert!(Arc::ptr_eq(&a.scope, &b.scope));
    }
}
