//! The event bus: after a ticket's transaction commits, its events are sequenced and handed to
//! every in-process subscriber (the consoles of later issues) in sequence order.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, broadcast};

use crate::db::Db;
use crate::store::events::{self, StoredEvent};

/// Events sequenced per run at most; a larger backlog takes several runs.
const BATCH: i64 = 1_000;
/// How often the sequencer looks for events even when nobody woke it (commits by a process that
/// died before it could, or by another node).
const POLL: Duration = Duration::from_millis(250);

pub struct EventBus {
    tx: broadcast::Sender<Arc<StoredEvent>>,
    wake: Notify,
    last_seq: AtomicI64,
}

impl EventBus {
    pub fn new(capacity: usize) -> Arc<Self> {
        let (tx, _) = broadcast::channel(capacity.max(16));
        Arc::new(Self {
            tx,
            wake: Notify::new(),
            last_seq: AtomicI64::new(0),
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.tx.subscribe()
    }

    /// Tells the sequencer that events were committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The highest sequence number this node has published.
    pub fn last_seq(&self) -> i64 {
        self.last_seq.load(Ordering::Acquire)
    }

    fn publish(&self, batch: Vec<StoredEvent>) {
        for e in batch {
            if let Some(seq) = e.seq {
                self.last_seq.fetch_max(seq, Ordering::AcqRel);
            }
            // No subscriber is not an error: the events stay in the table for `after=SEQ`.
            let _ = self.tx.send(Arc::new(e));
        }
    }

    /// Numbers what is pending now; returns how many events were sequenced.
    pub async fn sequence_now(&self, db: &Db) -> Result<usize, crate::db::StoreError> {
        let mut total = 0;
        loop {
            let batch = db.write(|c| events::sequence_pending(c, BATCH)).await?;
            let n = batch.len();
            total += n;
            self.publish(batch);
            if i64::try_from(n).unwrap_or(0) < BATCH {
                return Ok(total);
            }
        }
    }

    /// Runs the sequencer until the task is dropped.
    pub async fn run_sequencer(self: Arc<Self>, db: Db) {
        loop {
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
            if let Err(e) = self.sequence_now(&db).await {
                tracing::warn!(error = %e, "event sequencer run failed; retrying");
                tokio::time::sleep(POLL).await;
            }
        }
    }
}
