//! Dispatch in the server: the suggester (the shipped classifier and the router of the current
//! rules, org tree, place names and areas), and the sweep that keeps a suggestion stored for
//! every ticket awaiting dispatch, which is what puts low-confidence tickets in the dispatcher's
//! manual queue.

use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use actix_web::web;
use hotline_core::StoreError;
use hotline_core::http::Caller;
use hotline_core::ids::TicketId;
use hotline_core::workflow::Hotline;
use hotline_dispatch::routing::Suggester;
use hotline_dispatch::routing::marks::{self, Mark};
use hotline_dispatch::routing::snapshot::Work;
use hotline_dispatch::routing::store::Editor;
use tokio::sync::{Notify, oneshot};

/// Tickets suggested per transaction of a sweep.
const SWEEP_BATCH: usize = 50;
/// How often a sweep runs when nothing woke it (events sequenced by another node).
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// App data: the suggester and the sweeper's alarm.
pub struct Dispatching {
    pub suggester: Suggester,
    classifier: Classifier,
    wake: Notify,
}

impl Dispatching {
    /// Loads the shipped classifier (built into the binary).
    pub fn new(threshold: f32) -> anyhow::Result<Self> {
        let model = hotline_dispatch::model::shipped()
            .map_err(|e| anyhow::anyhow!("the shipped dispatch model: {e}"))?;
        Ok(Self {
            suggester: Suggester::new(model, threshold.clamp(0.0, 1.0)),
            classifier: Classifier::start()?,
            wake: Notify::new(),
        })
    }

    /// Asks the sweeper to run now (the rules changed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

type Job = (Work, oneshot::Sender<Vec<Mark>>);

/// The sweep's classifier: a thread of its own at a lower CPU priority (nice 10 on Linux) than
/// the server's workers and the database. Acknowledging appeals and answering staff come first;
/// when the two cores are busy with a burst of appeals, the manual-queue marks lag behind and
/// catch up afterwards, instead of taking CPU from the requests. A dispatcher asking for one
/// ticket's suggestion (`/api/v1/dispatch/suggest`, the ticket page) is answered at full
/// priority, on the request's own path.
struct Classifier {
    jobs: std_mpsc::Sender<Job>,
}

impl Classifier {
    fn start() -> anyhow::Result<Self> {
        let (tx, rx) = std_mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("dispatch-classifier".into())
            .spawn(move || {
                lower_priority();
                while let Ok((work, reply)) = rx.recv() {
                    // The sweep may have gone (shutdown): nobody to tell.
                    let _ = reply.send(work.marks());
                }
            })?;
        Ok(Self { jobs: tx })
    }

    async fn marks(&self, work: Work) -> Result<Vec<Mark>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((work, reply))
            .map_err(|_| StoreError::Corrupt("the dispatch classifier thread stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Corrupt("the dispatch classifier thread stopped".into()))
    }
}

/// Nice 10 for the calling thread (Linux schedules threads by their own nice value).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) =
        rustix::process::setpriority_process(Some(rustix::thread::gettid()), CLASSIFIER_NICE)
    {
        tracing::warn!(error = %e, "could not lower the dispatch classifier's priority");
    }
}

/// The classifier thread's nice value.
#[cfg(target_os = "linux")]
const CLASSIFIER_NICE: i32 = 10;

/// The caller as the editor of rules: who they are, and where they may route.
pub fn editor(caller: &Caller) -> Editor {
    Editor {
        user_id: Some(caller.user.id),
        role: caller.user.role.to_string(),
        unit_id: Some(caller.unit.id),
        scope: caller.scope.clone(),
    }
}

/// Classifies what a sweep read on the classifier's thread and stores the marks in one short
/// transaction: the writer (SQLite's only one) is held for the upsert alone, never while the
/// classifier runs. Returns how many tickets were suggested for.
async fn finish(
    hotline: &Hotline,
    dispatching: &Arc<Dispatching>,
    work: Work,
) -> Result<usize, StoreError> {
    if work.is_empty() {
        return Ok(0);
    }
    let n = work.len();
    let found = dispatching.classifier.marks(work).await?;
    hotline
        .db
        .write(move |c| marks::store_all(c, &found))
        .await?;
    Ok(n)
}

/// Suggests for every ticket awaiting dispatch that has no current suggestion, in rounds of
/// [`SWEEP_BATCH`] in received order (each round reads on from where the last stopped), after
/// forgetting the suggestions of tickets that no longer wait.
pub async fn sweep(hotline: &Hotline, dispatching: &Arc<Dispatching>) -> Result<usize, StoreError> {
    hotline.db.write(marks::prune).await?;
    let mut total = 0;
    let mut after: Option<marks::Cursor> = None;
    loop {
        let d = dispatching.clone();
        let work = hotline
            .db
            .run(move |c| d.suggester.gather_after(c, after.as_ref(), SWEEP_BATCH))
            .await?;
        let next = work.cursor().cloned();
        total += finish(hotline, dispatching, work).await?;
        match next {
            Some(c) => after = Some(c),
            None => return Ok(total),
        }
    }
}

/// Suggests for those of `ids` that await dispatch with no current suggestion, in rounds.
pub async fn sweep_these(
    hotline: &Hotline,
    dispatching: &Arc<Dispatching>,
    ids: Vec<TicketId>,
) -> Result<usize, StoreError> {
    let mut total = 0;
    for chunk in ids.chunks(SWEEP_BATCH) {
        let (d, chunk) = (dispatching.clone(), chunk.to_vec());
        let work = hotline
            .db
            .run(move |c| d.suggester.gather_these(c, &chunk))
            .await?;
        total += finish(hotline, dispatching, work).await?;
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
