//! Dispatch in the server: the suggester (the shipped classifier and the router of the current
//! rules, org tree, place names and areas), and the sweep that keeps a suggestion stored for
//! every ticket awaiting dispatch, which is what puts low-confidence tickets in the dispatcher's
//! manual queue.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use hotline_core::StoreError;
use hotline_core::http::Caller;
use hotline_core::ids::TicketId;
use hotline_core::workflow::Hotline;
use hotline_dispatch::routing::Suggester;
use hotline_dispatch::routing::store::Editor;
use tokio::sync::Notify;

/// Tickets suggested per transaction of a sweep.
const SWEEP_BATCH: usize = 50;
/// How often a sweep runs when nothing woke it (events sequenced by another node).
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// App data: the suggester and the sweeper's alarm.
pub struct Dispatching {
    pub suggester: Suggester,
    wake: Notify,
}

impl Dispatching {
    /// Loads the shipped classifier (built into the binary).
    pub fn new(threshold: f32) -> anyhow::Result<Self> {
        let model = hotline_dispatch::model::shipped()
            .map_err(|e| anyhow::anyhow!("the shipped dispatch model: {e}"))?;
        Ok(Self {
            suggester: Suggester::new(model, threshold.clamp(0.0, 1.0)),
            wake: Notify::new(),
        })
    }

    /// Asks the sweeper to run now (the rules changed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The caller as the editor of rules: who they are, and where they may route.
pub fn editor(caller: &Caller) -> Editor {
    Editor {
        user_id: Some(caller.user.id),
        role: caller.user.role.to_string(),
        unit_id: Some(caller.unit.id),
        scope: caller.scope.clone(),
    }
}

/// Suggests for every ticket awaiting dispatch that has no current suggestion, in batches.
pub async fn sweep(hotline: &Hotline, dispatching: &Arc<Dispatching>) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let d = dispatching.clone();
        let n = hotline
            .db
            .write(move |c| d.suggester.sweep(c, SWEEP_BATCH))
            .await?;
        total += n;
        if n < SWEEP_BATCH {
            return Ok(total);
        }
    }
}

/// Suggests for those of `ids` that await dispatch with no current suggestion, in batches.
pub async fn sweep_these(
    hotline: &Hotline,
    dispatching: &Arc<Dispatching>,
    ids: Vec<TicketId>,
) -> Result<usize, StoreError> {
    let mut total = 0;
    for chunk in ids.chunks(SWEEP_BATCH) {
        let (d, chunk) = (dispatching.clone(), chunk.to_vec());
        total += hotline
            .db
            .write(move |c| d.suggester.sweep_these(c, &chunk))
            .await?;
    }
    Ok(total)
}

/// What the sweeper does next.
enum Next {
    /// Every ticket awaiting dispatch (at start, when the rules changed, every minute: events
    /// another node sequenced are caught up this way).
    All,
    /// The tickets of the events this node just sequenced.
    These(Vec<TicketId>),
}

/// Sweeps at start, after every batch of events this node sequences (their tickets only, so a
/// sweep costs what the batch costs, not what every waiting ticket costs), when woken, and every
/// minute; until the task is dropped.
pub async fn run_sweeper(hotline: Hotline, dispatching: web::Data<Dispatching>) {
    let dispatching = dispatching.into_inner();
    let mut events = hotline.bus.subscribe();
    let mut next = Next::All;
    loop {
        let done = match next {
            Next::All => sweep(&hotline, &dispatching).await,
            Next::These(ids) => sweep_these(&hotline, &dispatching, ids).await,
        };
        match done {
            Ok(n) if n > 0 => tracing::debug!(tickets = n, "dispatch suggestions made"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "dispatch suggestion sweep failed; retrying"),
        }
        next = tokio::select! {
            r = events.recv() => match r {
                Ok(first) => {
                    // Everything that arrived meanwhile is covered by one sweep.
                    let mut ids = vec![first.event.ticket_id];
                    loop {
                        match events.try_recv() {
                            Ok(e) => ids.push(e.event.ticket_id),
                            Err(tokio::sync::broadcast::error::TryRecvError::Empty) => break,
                            Err(_) => {
                                ids.clear();
                                break;
                            }
                        }
                    }
                    ids.sort_unstable();
                    ids.dedup();
                    if ids.is_empty() { Next::All } else { Next::These(ids) }
                }
                // Missed some: look at everything.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Next::All,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            () = dispatching.wake.notified() => Next::All,
            () = tokio::time::sleep(SWEEP_EVERY) => Next::All,
        };
    }
}
