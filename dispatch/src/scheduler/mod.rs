//! The durable scheduler: due work lives in `scheduled_jobs`, written by the ticket hook in the
//! transaction of the event that causes it. Every node runs a scheduler; each run claims due
//! jobs in a transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the one writer on SQLite), runs
//! each in a savepoint, and marks it done in the same transaction, so a job's effect and its
//! completion commit together or not at all: each action happens exactly once, whichever nodes
//! run and whenever one dies.

pub mod hook;
pub mod jobs;
pub mod plan;
pub mod run;
pub mod schema;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use diesel::Connection;
use hotline_core::StoreError;
use hotline_core::db::DbConn;
use hotline_core::workflow::{Hotline, WorkflowError};
use serde_json::json;

use crate::mail::notices::Notices;
use jobs::Job;
use plan::JobKind;
use run::{JobCtx, Outcome};

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Jobs claimed per transaction.
    pub batch: i64,
    /// How often a node looks for due work.
    pub poll: Duration,
    /// When the daily digest goes out (China time).
    pub digest_at: NaiveTime,
    /// Tries of a failing job before it is marked failed.
    pub max_attempts: i32,
    /// Wait before the second try; doubled for each further one.
    pub retry_after: TimeDelta,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            batch: 50,
            poll: Duration::from_secs(1),
            digest_at: NaiveTime::from_hms_opt(8, 30, 0).unwrap_or_default(),
            max_attempts: 5,
            retry_after: TimeDelta::minutes(1),
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    pub claimed: usize,
    pub done: usize,
    pub dropped: usize,
    pub busy: usize,
    pub moved: usize,
    pub failed: usize,
}

impl std::ops::AddAssign for Report {
    fn add_assign(&mut self, o: Self) {
        self.claimed += o.claimed;
        self.done += o.done;
        self.dropped += o.dropped;
        self.busy += o.busy;
        self.moved += o.moved;
        self.failed += o.failed;
    }
}

struct Inner {
    hotline: Hotline,
    notices: Option<Arc<Notices>>,
    cfg: SchedulerConfig,
}

/// One node's scheduler (cheap to clone).
#[derive(Clone)]
pub struct Scheduler(Arc<Inner>);

impl Scheduler {
    pub fn new(hotline: Hotline, notices: Option<Arc<Notices>>, cfg: SchedulerConfig) -> Self {
        Self(Arc::new(Inner {
            hotline,
            notices,
            cfg,
        }))
    }

    /// Creates the next daily digest job unless a node already did.
    pub async fn ensure_digest(&self) -> Result<bool, StoreError> {
        let now = self.0.hotline.now.get();
        let due = run::next_digest(now, self.0.cfg.digest_at, false);
        let date = due.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
        self.0
            .hotline
            .db
            .write(move |c| {
                jobs::insert_once(
                    c,
                    JobKind::Digest,
                    due,
                    &json!({"date": date.to_string()}),
                    &run::digest_key(due),
                    now,
                )
            })
            .await
    }

    /// Runs what is due now, batch after batch, until a batch finds nothing more to do.
    pub async fn run_due(&self) -> Result<Report, StoreError> {
        let mut total = Report::default();
        loop {
            let me = self.clone();
            let now = self.0.hotline.now.get();
            let r = self.0.hotline.db.write(move |c| me.batch(c, now)).await?;
            total += r;
            if r.done + r.dropped + r.moved + r.failed > 0 {
                // Supervision wrote events: number them.
                self.0.hotline.bus.wake();
            }
            if r.claimed < usize::try_from(self.0.cfg.batch).unwrap_or(0) || r.claimed == r.busy {
                return Ok(total);
            }
        }
    }

    /// One transaction: claim, run each job in a savepoint, record each outcome.
    fn batch(&self, conn: &mut DbConn, now: DateTime<Utc>) -> Result<Report, StoreError> {
        let ctx = JobCtx {
            hotline: &self.0.hotline,
            notices: self.0.notices.as_deref(),
            digest_at: self.0.cfg.digest_at,
            now,
        };
        let claimed = jobs::claim_due(conn, now, self.0.cfg.batch)?;
        let mut r = Report {
            claimed: claimed.len(),
            ..Report::default()
        };
        for job in &claimed {
            let outcome = conn.transaction::<_, WorkflowError, _>(|c| run::run_job(&ctx, c, job));
            match outcome {
                Ok(Outcome::Done) => {
                    jobs::set_state(conn, &job.id, jobs::DONE, None, now)?;
                    r.done += 1;
                }
                Ok(Outcome::Dropped) => {
                    jobs::set_state(conn, &job.id, jobs::DROPPED, None, now)?;
                    r.dropped += 1;
                }
                Ok(Outcome::Busy) => r.busy += 1,
                Ok(Outcome::Moved) => r.moved += 1,
                Err(e) => {
                    self.failed(conn, job, &e, now)?;
                    r.failed += 1;
                }
            }
        }
        Ok(r)
    }

    fn failed(
        &self,
        conn: &mut DbConn,
        job: &Job,
        e: &WorkflowError,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let attempts = job.attempts + 1;
        let error = e.to_string();
        tracing::warn!(job = %job.id, kind = job.kind.as_str(), attempts, error = %error, "scheduled job failed");
        if attempts >= self.0.cfg.max_attempts {
            jobs::set_state(conn, &job.id, jobs::FAILED, Some(&error), now)?;
        } else {
            let wait = self.0.cfg.retry_after * 2_i32.saturating_pow((attempts - 1).unsigned_abs());
            jobs::retry_later(conn, &job.id, attempts, Some(&error), now + wait, now)?;
        }
        Ok(())
    }

    /// Runs the scheduler until the task is dropped.
    pub async fn run(self) {
        if let Err(e) = self.ensure_digest().await {
            tracing::warn!(error = %e, "cannot create the daily digest job");
        }
        loop {
            if let Err(e) = self.run_due().await {
                tracing::warn!(error = %e, "scheduler run failed; retrying");
            }
            tokio::time::sleep(self.0.cfg.poll).await;
        }
    }
}
