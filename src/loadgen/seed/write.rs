//! Writing seeded batches: one transaction per batch, the tickets, the units that may see them and
//! their events, with PostgreSQL's binary COPY or SQLite's multi-row inserts.
//!
//! The events are numbered (`seq`) by the seeder, continuing after the highest number given out,
//! and batches commit in the order they were numbered: at every moment the committed events are
//! numbered 1 to some N without gaps, as the sequencer guarantees for live events. On PostgreSQL
//! several transactions write at once (each backend is single-threaded, COPY into indexed tables is
//! CPU-bound) and each waits for the one before to commit before it commits; SQLite has one writer.

use std::sync::mpsc::{Receiver, TrySendError};
use std::sync::{Condvar, Mutex};

use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use hotline_core::db::schema::{events, ticket_units, tickets};
use hotline_core::store::{counters, events as event_store};
use hotline_core::{Backend, Db, DbConn, StoreError};

use super::rows::Batch;

/// SQLite binds at most 32,766 values per statement: rows per insert for each table's width.
const SQLITE_TICKETS: usize = 32_000 / 50;
const SQLITE_EVENTS: usize = 32_000 / 10;
const SQLITE_UNITS: usize = 32_000 / 2;

/// Reserves each day's ticket numbers in the daily counters, all or none; returns each day's
/// first counter value. Later intake and later runs continue after them.
pub fn reserve(db: &Db, days: &[(NaiveDate, u32)]) -> Result<Vec<u32>, StoreError> {
    db.write_blocking(|c| {
        days.iter()
            .map(|(day, n)| {
                if *n == 0 {
                    return Ok(1);
                }
                let (first, last) = counters::reserve_block(c, *day, i64::from(*n))?;
                if last > i64::from(hotline_core::ids::TicketNumber::COUNTER_MAX) {
                    return Err(StoreError::invalid(
                        "tickets",
                        format!("{day} would need more than 999,999 ticket numbers"),
                    ));
                }
                u32::try_from(first).map_err(|_| StoreError::invalid("tickets", "counter"))
            })
            .collect()
    })
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

/// True when the connection's role is a PostgreSQL superuser, who may switch the foreign-key
/// triggers off for its own transactions.
fn is_superuser(db: &Db) -> Result<bool, StoreError> {
    let mut c = db.get()?;
    if let DbConn::Pg(pg) = &mut *c {
        let s: Setting =
            diesel::sql_query("SELECT current_setting('is_superuser') AS value").get_result(pg)?;
        return Ok(s.value == "on");
    }
    Ok(false)
}

/// Writes one batch in one transaction, numbering its events from `first_seq` (or after the
/// highest number, read in the transaction); `before_commit` runs last, inside it. The rows come
/// in the order [`Batch::new`] gives them.
fn write_batch(
    db: &Db,
    mut batch: Batch,
    first_seq: Option<i64>,
    skip_fk: bool,
    before_commit: impl FnOnce(&mut DbConn) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    db.write_blocking(|c| {
        let first = match first_seq {
            Some(s) => s,
            None => {
                if let DbConn::Pg(_) = c {
                    // The sequencer's advisory lock for this transaction (numbering nothing):
                    // a sequencer run elsewhere cannot hand out the same numbers meanwhile.
                    event_store::sequence_pending(c, 0)?;
                }
                event_store::last_seq(c)? + 1
            }
        };
        for (seq, e) in (first..).zip(&mut batch.events) {
            e.seq = Some(seq);
        }
        match c {
            DbConn::Pg(pg) => {
                if skip_fk {
                    // Every reference is to a row read at the start (units, categories, the
                    // seeder's staff) or written in this transaction (the tickets): the checks
                    // would find nothing, at a third of the cost of the load.
                    pg.batch_execute("SET LOCAL session_replication_role = replica")?;
                }
                diesel::copy_from(tickets::table)
                    .from_insertable(&batch.tickets)
                    .execute(pg)?;
                diesel::copy_from(ticket_units::table)
                    .from_insertable(&batch.units)
                    .execute(pg)?;
                diesel::copy_from(events::table)
                    .from_insertable(&batch.events)
                    .execute(pg)?;
            }
            DbConn::Sqlite(lite) => {
                // A page cache that holds a batch's working set: with SQLite's default 2 MiB the
                // index pages are spilled and read back many times within one transaction.
                lite.batch_execute("PRAGMA cache_size = -262144")?;
                for rows in batch.tickets.chunks(SQLITE_TICKETS) {
                    diesel::insert_into(tickets::table)
                        .values(rows)
                        .execute(lite)?;
                }
                for rows in batch.units.chunks(SQLITE_UNITS) {
                    diesel::insert_into(ticket_units::table)
                        .values(rows)
                        .execute(lite)?;
                }
                for rows in batch.events.chunks(SQLITE_EVENTS) {
                    diesel::insert_into(events::table)
                        .values(rows)
                        .execute(lite)?;
                }
            }
        }
        before_commit(c)
    })
}

/// The commit order of parallel batches: batch k commits once k batches have committed.
#[derive(Default)]
struct Order {
    /// (batches committed, a batch failed).
    state: Mutex<(u64, bool)>,
    turn: Condvar,
}

impl Order {
    /// Waits until batch `k` may commit; false when an earlier one failed.
    fn wait_turn(&self, k: u64) -> bool {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while !s.1 && s.0 < k {
            s = self
                .turn
                .wait(s)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        !s.1
    }

    fn done(&self, committed: bool) {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if committed {
            s.0 += 1;
        } else {
            s.1 = true;
        }
        self.turn.notify_all();
    }

    fn failed(&self) -> bool {
        self.state.lock().map(|s| s.1).unwrap_or(true)
    }
}

/// What was written: tickets and events.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    pub tickets: u64,
    pub events: u64,
}

/// Writes every batch `rx` delivers (with `writers` transactions at once on PostgreSQL);
/// `progress` hears of each committed batch's tickets. Stops at the first failure: what has
/// committed by then is a consistent prefix.
pub fn write_all(
    db: &Db,
    rx: Receiver<Batch>,
    writers: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> (Written, Result<(), StoreError>) {
    let skip_fk = match is_superuser(db) {
        Ok(s) => s,
        Err(e) => return (Written::default(), Err(e)),
    };
    let written = Mutex::new(Written::default());
    let count = |b: &Batch| (b.tickets.len() as u64, b.events.len() as u64);
    let add = |(n, m): (u64, u64)| {
        if let Ok(mut w) = written.lock() {
            w.tickets += n;
            w.events += m;
        }
        progress(n);
    };
    let total = |w: &Mutex<Written>| w.lock().map(|w| *w).unwrap_or_default();
    if db.backend() == Backend::Sqlite || writers <= 1 {
        for batch in rx.iter() {
            let n = count(&batch);
            if let Err(e) = write_batch(db, batch, None, skip_fk, |_| Ok(())) {
                return (total(&written), Err(e));
            }
            add(n);
        }
        return (total(&written), Ok(()));
    }
    let first = match db.get().and_then(|mut c| event_store::last_seq(&mut c)) {
        Ok(last) => last + 1,
        Err(e) => return (Written::default(), Err(e)),
    };
    let order = Order::default();
    let error: Mutex<Option<StoreError>> = Mutex::new(None);
    let (jobs, queue) = std::sync::mpsc::sync_channel::<(u64, i64, Batch)>(writers);
    let queue = Mutex::new(queue);
    std::thread::scope(|scope| {
        for _ in 0..writers {
            scope.spawn(|| {
                loop {
                    let job = queue.lock().ok().and_then(|q| q.recv().ok());
                    let Some((k, seq, batch)) = job else { break };
                    let n = count(&batch);
                    let turn = |c: &mut DbConn| {
                        if !order.wait_turn(k) {
                            return Err(StoreError::invalid("batch", "an earlier batch failed"));
                        }
                        // Taken at the commit, in order, so a sequencer run (a node started
                        // meanwhile) cannot interleave numbers with these.
                        event_store::sequence_pending(c, 0).map(|_| ())
                    };
                    match write_batch(db, batch, Some(seq), skip_fk, turn) {
                        Ok(()) => {
                            order.done(true);
                            add(n);
                        }
                        Err(e) => {
                            // The first failure is the cause; the batches after it only abort.
                            if let Ok(mut slot) = error.lock()
                                && slot.is_none()
                            {
                                *slot = Some(e);
                            }
                            order.done(false);
                            break;
                        }
                    }
                }
            });
        }
        let mut next = first;
        'batches: for (k, batch) in rx.iter().enumerate() {
            let m = batch.events.len() as i64;
            let mut job = (k as u64, next, batch);
            // Not a blocking send: once a batch has failed the writers stop taking jobs.
            loop {
                if order.failed() {
                    break 'batches;
                }
                match jobs.try_send(job) {
                    Ok(()) => break,
                    Err(TrySendError::Full(j)) => {
                        job = j;
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                    Err(TrySendError::Disconnected(_)) => break 'batches,
                }
            }
            next += m;
        }
        drop(jobs);
    });
    let failure = error.into_inner().ok().flatten();
    (total(&written), failure.map_or(Ok(()), Err))
}
