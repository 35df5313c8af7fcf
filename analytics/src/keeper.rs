//! Keeping the rollups current. Each round, in one transaction that holds the cursor, the keeper
//! reads the tickets changed by the events after the cursor, computes their facts now, moves
//! each fact's contribution from its old keys to its new ones, and advances the cursor. A round
//! is idempotent (a fact is recomputed from the ticket's state, not from the events' deltas), so
//! a ticket whose later event was already visible is simply recomputed again. A rebuild replays
//! every ticket's events instead; the two agree (tested by a property test).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hotline_core::StoreError;
use hotline_core::bus::EventBus;
use hotline_core::calendar::WorkCalendar;
use hotline_core::clock::TimeRules;
use hotline_core::db::{Db, DbConn};
use hotline_core::ids::TicketId;
use hotline_core::store::{events, tickets};
use hotline_core::ticket::{self, Ticket};

use crate::areas::Areas;
use crate::facts::{self, Fact};
use crate::store::{self, Deltas};

/// Events read per round at most.
const BATCH: i64 = 2_000;
/// How often the keeper looks for events when the bus said nothing (other nodes' commits).
const POLL: Duration = Duration::from_secs(2);
/// How often the org tree and its areas are reloaded.
const AREAS_POLL: Duration = Duration::from_secs(60);
/// Tickets replayed per step of a rebuild.
const REBUILD_STEP: usize = 2_000;

pub struct Rollups {
    db: Db,
    time: TimeRules,
    areas: RwLock<Arc<Areas>>,
}

impl std::fmt::Debug for Rollups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rollups").finish_non_exhaustive()
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildReport {
    pub tickets: usize,
    pub events: usize,
    pub rollup_rows: usize,
    pub cell_rows: usize,
}

impl Rollups {
    pub fn new(db: Db, time: TimeRules) -> Result<Arc<Self>, StoreError> {
        let areas = Areas::load(&mut *db.get()?)?;
        Ok(Arc::new(Self {
            db,
            time,
            areas: RwLock::new(Arc::new(areas)),
        }))
    }

    pub fn areas(&self) -> Arc<Areas> {
        self.areas
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn reload_areas(&self) -> Result<(), StoreError> {
        let areas = Areas::load(&mut *self.db.get()?)?;
        *self
            .areas
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(areas);
        Ok(())
    }

    /// One round; returns how many tickets it recomputed.
    pub fn round_blocking(&self) -> Result<usize, StoreError> {
        let areas = self.areas();
        let calendar = self.time.snapshot().calendar.clone();
        self.db.write_blocking(move |conn| {
            let at = store::lock_cursor(conn)?;
            let (ids, last) = store::changed_after(conn, at, BATCH)?;
            let Some(last) = last else {
                return Ok(0);
            };
            let now = tickets::get_many(conn, &ids)?;
            let n = now.len();
            refresh(conn, &now, &areas, &calendar)?;
            store::set_cursor(conn, last)?;
            Ok(n)
        })
    }

    /// Rounds until nothing is left; returns the tickets recomputed.
    pub async fn catch_up(self: &Arc<Self>) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let me = self.clone();
            let n = tokio::task::spawn_blocking(move || me.round_blocking()).await??;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Follows the event stream until the task is dropped: woken by this node's bus, and
    /// polling for other nodes' events.
    pub async fn follow(self: Arc<Self>, bus: Arc<EventBus>) {
        let mut rx = bus.subscribe();
        let mut areas_at = tokio::time::Instant::now();
        loop {
            if let Err(e) = self.catch_up().await {
                tracing::warn!(error = %e, "analytics rollup round failed; retrying");
            }
            tokio::select! {
                r = rx.recv() => {
                    if let Err(tokio::sync::broadcast::error::RecvError::Closed) = r {
                        return;
                    }
                    // Let a burst of events gather into one round.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    while rx.try_recv().is_ok() {}
                }
                () = tokio::time::sleep(POLL) => {}
            }
            if areas_at.elapsed() >= AREAS_POLL {
                areas_at = tokio::time::Instant::now();
                let me = self.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || me.reload_areas()).await {
                    tracing::warn!(error = %e, "cannot reload the org units' areas");
                }
            }
        }
    }

    /// Recomputes everything from the events, in one transaction; `progress` is told how many
    /// tickets are done out of how many.
    pub fn rebuild_blocking(
        &self,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<RebuildReport, StoreError> {
        self.reload_areas()?;
        let areas = self.areas();
        let calendar = self.time.snapshot().calendar.clone();
        self.db.write_blocking(|conn| {
            store::lock_cursor(conn)?;
            let last = events::last_seq(conn)?;
            store::clear(conn)?;
            let ids = tickets::all_ids(conn)?;
            let mut all = Deltas::default();
            let mut report = RebuildReport {
                tickets: 0,
                events: 0,
                rollup_rows: 0,
                cell_rows: 0,
            };
            for chunk in ids.chunks(REBUILD_STEP) {
                let history = events::for_tickets(conn, chunk)?;
                report.events += history.len();
                let facts = replay_facts(&history, &areas, &calendar)?;
                for f in &facts {
                    all.add(f, 1);
                }
                store::insert_facts(conn, &facts)?;
                report.tickets += facts.len();
                progress(report.tickets, ids.len());
            }
            store::insert_all(conn, &all)?;
            store::set_cursor(conn, last)?;
            report.rollup_rows = all.rollups.len();
            report.cell_rows = all.cells.len();
            Ok(report)
        })
    }
}

/// The facts of the tickets whose whole histories `history` holds (by ticket, by version).
pub fn replay_facts(
    history: &[hotline_core::ticket::Event],
    areas: &Areas,
    calendar: &WorkCalendar,
) -> Result<Vec<Fact>, StoreError> {
    let mut out = Vec::new();
    let mut state: Option<Ticket> = None;
    for e in history {
        if state.as_ref().is_some_and(|t| t.id != e.ticket_id)
            && let Some(t) = state.take()
        {
            out.push(facts::fact_of(&t, areas, calendar));
        }
        state = Some(
            ticket::apply(state, e)
                .map_err(|err| StoreError::Corrupt(format!("ticket {}: {err}", e.ticket_id)))?,
        );
    }
    if let Some(t) = state {
        out.push(facts::fact_of(&t, areas, calendar));
    }
    Ok(out)
}

/// Moves the contributions of `now` (the tickets' current states) from their stored facts.
fn refresh(
    conn: &mut DbConn,
    now: &[Ticket],
    areas: &Areas,
    calendar: &WorkCalendar,
) -> Result<(), StoreError> {
    let ids: Vec<TicketId> = now.iter().map(|t| t.id).collect();
    let old: HashMap<TicketId, Fact> = store::facts_of(conn, &ids)?;
    let mut deltas = Deltas::default();
    let mut changed = Vec::with_capacity(now.len());
    for t in now {
        // The text's mood is kept from the stored fact: only a new ticket is analysed.
        let mood = old
            .get(&t.id)
            .map_or_else(|| facts::Mood::of(t), facts::Mood::stored);
        let fact = facts::fact_with(t, areas, calendar, mood);
        match old.get(&t.id) {
            Some(before) if *before == fact => continue,
            Some(before) => deltas.add(before, -1),
            None => {}
        }
        deltas.add(&fact, 1);
        changed.push(fact);
    }
    deltas.prune();
    store::save_facts(conn, &changed)?;
    store::apply(conn, &deltas)
}
