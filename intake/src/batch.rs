//! Group commit: appeals that arrive together are stored together, one transaction per batch with
//! one statement per table, instead of a transaction of a dozen statements each. Every appeal of a
//! batch still gets its own answer: a spent nonce or a taken Idempotency-Key refuses or replays
//! that appeal alone (`ON CONFLICT DO NOTHING`), and if the batch fails as a whole each of its
//! appeals is tried again on its own through [`crate::submit::submit`]'s path, so one bad appeal
//! never fails the others. An appeal is acknowledged only after its batch commits.
//!
//! A batch is whatever queued while the previous one was written, at most [`MAX_BATCH`]: under
//! light load every appeal is a batch of one and waits for nobody. No background task is needed:
//! the first appeal to find no writer running starts one on the blocking pool, and that writer
//! drains the queue until it is empty.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::{Backend, DbConn, to_db};
use hotline_core::domain::UnitRef;
use hotline_core::ids::{TicketId, TicketNumber, UnitId};
use hotline_core::store::{events, tickets, units};
use hotline_core::ticket::{Event, Ticket};
use hotline_core::workflow::{self, Hotline};
use tokio::sync::oneshot;

use crate::error::IntakeError;
use crate::repeats::repeat_places;
use crate::repeats::{self, places};
use crate::schema::{client_nonces, idempotency_keys, intake_submissions};
use crate::submit::{self, Answer, KeyRow, Outcome, Submission, SubmissionRow};

/// Makes a channel's answer from its new ticket. Kept until the batch commits: an appeal whose
/// batch failed is answered again on its own.
pub type Render = Arc<dyn Fn(&Ticket) -> Answer + Send + Sync>;

/// The most appeals one transaction stores.
pub const MAX_BATCH: usize = 128;
/// Batches written at once on PostgreSQL: while one commits, the next is written. SQLite has one
/// writer at a time.
const PG_WRITERS: usize = 2;

/// The queue of appeals waiting for a batch. One per node (see `routes::Intake`).
#[derive(Default)]
pub struct Batcher {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    writers: usize,
}

struct Job {
    sub: Submission,
    render: Render,
    number: TicketNumber,
    now: DateTime<Utc>,
    reply: oneshot::Sender<Fate>,
}

/// What became of one appeal of a batch.
enum Fate {
    Created {
        answer: Answer,
        ticket_id: TicketId,
    },
    /// Its Idempotency-Key was already taken: answer as the request that took it was answered.
    KeyTaken,
    Refused(IntakeError),
    /// The batch failed as a whole: store this appeal on its own.
    Alone(Box<Submission>, Render),
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Batcher {
    /// Stores an appeal as a ticket, exactly once per Idempotency-Key, in the next batch; the
    /// same contract as [`submit::submit`].
    pub async fn submit(
        &self,
        hotline: &Hotline,
        sub: Submission,
        render: Render,
    ) -> Result<Outcome, IntakeError> {
        self.submit_many(hotline, vec![(sub, render)])
            .await
            .pop()
            .unwrap_or_else(|| Err(StoreError::Corrupt("an appeal went missing".into()).into()))
    }

    /// Stores appeals together: queued at once, they go into the same batch (up to
    /// [`MAX_BATCH`]). Each gets its own outcome, in order, as from [`Batcher::submit`]. Appeals
    /// with attachments take [`submit::submit`]'s path, one by one.
    pub async fn submit_many(
        &self,
        hotline: &Hotline,
        appeals: Vec<(Submission, Render)>,
    ) -> Vec<Result<Outcome, IntakeError>> {
        let now = hotline.now.get();
        let mut waiting = Vec::with_capacity(appeals.len());
        let mut jobs = Vec::new();
        for (sub, render) in appeals {
            if !sub.attachments.is_empty() {
                waiting.push(Waiting::Alone(Box::new(sub), render));
                continue;
            }
            match hotline.numbers.next(&hotline.db, now).await {
                Ok(number) => {
                    let (reply, fate) = oneshot::channel();
                    waiting.push(Waiting::Queued(sub.idempotency.clone(), fate));
                    jobs.push(Job {
                        sub,
                        render,
                        number,
                        now,
                        reply,
                    });
                }
                Err(e) => waiting.push(Waiting::Failed(e.into())),
            }
        }
        self.enqueue(hotline, jobs);
        let mut out = Vec::with_capacity(waiting.len());
        for w in waiting {
            out.push(match w {
                Waiting::Alone(sub, render) => {
                    submit::submit(hotline, *sub, move |t| render(t)).await
                }
                Waiting::Failed(e) => Err(e),
                Waiting::Queued(key, fate) => match fate.await {
                    Ok(fate) => settle(hotline, key, fate, now).await,
                    Err(_) => Err(StoreError::Corrupt("the appeal's batch failed".into()).into()),
                },
            });
        }
        out
    }

    fn enqueue(&self, hotline: &Hotline, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        let mut state = lock(&self.state);
        state.queue.extend(jobs);
        let writers = match hotline.db.backend() {
            Backend::Postgres => PG_WRITERS,
            Backend::Sqlite => 1,
        };
        if state.writers < writers {
            state.writers += 1;
            let (state, hotline) = (self.state.clone(), hotline.clone());
            tokio::task::spawn_blocking(move || drain(&state, &hotline));
        }
    }
}

/// An appeal of [`Batcher::submit_many`] until it has its outcome.
enum Waiting {
    Queued(
        Option<crate::submit::IdempotencyKey>,
        oneshot::Receiver<Fate>,
    ),
    Alone(Box<Submission>, Render),
    Failed(IntakeError),
}

/// The outcome of an appeal from what became of it in its batch.
async fn settle(
    hotline: &Hotline,
    key: Option<crate::submit::IdempotencyKey>,
    fate: Fate,
    now: DateTime<Utc>,
) -> Result<Outcome, IntakeError> {
    match fate {
        Fate::Created { answer, ticket_id } => {
            repeats::check_later(hotline, ticket_id, now);
            Ok(Outcome {
                answer,
                ticket_id,
                replayed: false,
            })
        }
        Fate::KeyTaken => {
            let k = key.ok_or_else(|| StoreError::Corrupt("a key taken without a key".into()))?;
            submit::lookup(hotline, &k).await?.ok_or_else(|| {
                StoreError::Corrupt("the answer for a taken key is missing".into()).into()
            })
        }
        Fate::Refused(e) => Err(e),
        Fate::Alone(sub, render) => submit::submit(hotline, *sub, move |t| render(t)).await,
    }
}

/// Writes batches until the queue is empty.
fn drain(state: &Mutex<State>, hotline: &Hotline) {
    loop {
        let jobs: Vec<Job> = {
            let mut s = lock(state);
            if s.queue.is_empty() {
                s.writers -= 1;
                return;
            }
            let n = s.queue.len().min(MAX_BATCH);
            s.queue.drain(..n).collect()
        };
        // A panic must not stop the writer: its appeals are answered with an error (their
        // senders are dropped) and the queue goes on.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write(hotline, jobs))) {
            Ok(later) => {
                let mut s = lock(state);
                for job in later.into_iter().rev() {
                    s.queue.push_front(job);
                }
            }
            Err(_) => tracing::error!("a batch of appeals panicked"),
        }
    }
}

/// Writes one batch and answers its appeals. Returns the appeals that must wait for the next
/// batch: those whose Idempotency-Key another appeal of this batch has.
fn write(hotline: &Hotline, jobs: Vec<Job>) -> Vec<Job> {
    let mut keys = HashSet::new();
    let (jobs, later): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|j| {
        j.sub
            .idempotency
            .as_ref()
            .is_none_or(|k| keys.insert((k.scope.clone(), k.key.clone())))
    });
    match hotline.db.write_blocking(|c| store(c, &jobs)) {
        Ok(fates) => {
            hotline.bus.wake();
            for (job, fate) in jobs.into_iter().zip(fates) {
                let _ = job.reply.send(fate);
            }
        }
        Err(e) => {
            tracing::warn!(error = ?e, appeals = jobs.len(), "a batch of appeals failed: storing each on its own");
            for job in jobs {
                let _ = job.reply.send(Fate::Alone(Box::new(job.sub), job.render));
            }
        }
    }
    later
}

/// A ticket made for one appeal of the batch, with what is stored beside it.
struct Made {
    job: usize,
    ticket: Ticket,
    event: Event,
    answer: Answer,
    places: BTreeSet<String>,
}

/// Stores a batch in the caller's transaction: the fate of each job, in order.
fn store(c: &mut DbConn, jobs: &[Job]) -> Result<Vec<Fate>, StoreError> {
    let mut fates: Vec<Option<Fate>> = jobs.iter().map(|_| None).collect();
    let gazetteer = places::gazetteer(c)?;
    let mut centres: HashMap<UnitId, UnitRef> = HashMap::new();
    let mut made = Vec::with_capacity(jobs.len());
    for (i, job) in jobs.iter().enumerate() {
        let sub = &job.sub;
        let centre = match centres.get(&sub.centre_id) {
            Some(c) => c.clone(),
            None => match units::resolve(c, sub.centre_id, "centre_id") {
                Ok(u) => centres.entry(sub.centre_id).or_insert(u).clone(),
                Err(e) => {
                    fates[i] = Some(Fate::Refused(e.into()));
                    continue;
                }
            },
        };
        match workflow::received(
            &sub.actor,
            &centre,
            &sub.appeal,
            job.number.clone(),
            job.now,
        ) {
            Ok((ticket, event)) => made.push(Made {
                job: i,
                answer: (job.render)(&ticket),
                places: places::index_keys(&repeats::places_of(
                    &gazetteer,
                    &repeats::Appeal::from(&ticket),
                )),
                ticket,
                event,
            }),
            Err(e) => fates[i] = Some(Fate::Refused(e.into())),
        }
    }
    // Nonces first, then the tickets, then the keys (which refer to their tickets), each in key
    // order (see `insert_absent`): two batches cannot wait for each other. A nonce is spent even
    // when the key then turns out taken, as on its own.
    spend_nonces(c, jobs, &mut made, &mut fates)?;
    let new: Vec<Ticket> = made.iter().map(|m| m.ticket.clone()).collect();
    tickets::insert_new(c, &new)?;
    take_keys(c, jobs, &mut made, &mut fates)?;
    let received: Vec<Event> = made.iter().map(|m| m.event.clone()).collect();
    events::append_all(c, &received)?;
    let submissions: Vec<SubmissionRow> = made
        .iter()
        .map(|m| {
            let (sub, now) = (&jobs[m.job].sub, jobs[m.job].now);
            SubmissionRow::new(
                &m.ticket,
                &sub.client_id,
                &sub.raw_payload,
                &sub.remote_addr,
                now,
            )
        })
        .collect();
    hotline_core::insert_all!(c, intake_submissions::table, submissions)?;
    let places: Vec<_> = made
        .iter()
        .flat_map(|m| repeats::place_rows(&m.ticket, &m.places))
        .collect();
    hotline_core::insert_all!(c, repeat_places::table, places)?;
    for m in made {
        fates[m.job] = Some(Fate::Created {
            answer: m.answer,
            ticket_id: m.ticket.id,
        });
    }
    fates
        .into_iter()
        .map(|f| f.ok_or_else(|| StoreError::Corrupt("an appeal of a batch had no fate".into())))
        .collect()
}

/// Spends the nonces of `made`: an appeal whose nonce was spent before, or by an earlier appeal
/// of the batch, is refused and leaves `made`.
fn spend_nonces(
    c: &mut DbConn,
    jobs: &[Job],
    made: &mut Vec<Made>,
    fates: &mut [Option<Fate>],
) -> Result<(), StoreError> {
    let mut nonces = Vec::new();
    let mut asked = HashSet::new();
    for m in made.iter() {
        let (sub, now) = (&jobs[m.job].sub, jobs[m.job].now);
        if let (Some(client), Some(nonce)) = (&sub.client_id, &sub.nonce)
            && asked.insert((client.clone(), nonce.clone()))
        {
            let row = (
                client_nonces::client_id.eq(client.clone()),
                client_nonces::nonce.eq(nonce.clone()),
                client_nonces::seen_at.eq(to_db(now)),
            );
            nonces.push(((client.clone(), nonce.clone()), row));
        }
    }
    let spent: HashSet<(String, String)> = hotline_core::insert_absent!(
        c,
        client_nonces::table,
        nonces,
        (client_nonces::client_id, client_nonces::nonce)
    )?;
    let mut first_use = HashSet::new();
    made.retain(|m| {
        let sub = &jobs[m.job].sub;
        let ok = match (&sub.client_id, &sub.nonce) {
            (Some(client), Some(nonce)) => {
                let k = (client.clone(), nonce.clone());
                spent.contains(&k) && first_use.insert(k)
            }
            _ => true,
        };
        if !ok {
            fates[m.job] = Some(Fate::Refused(crate::clients::nonce_used()));
        }
        ok
    });
    Ok(())
}

/// Takes the Idempotency-Keys of `made`: an appeal whose key was taken before is answered as the
/// request that took it was, leaves `made`, and its ticket is removed again.
fn take_keys(
    c: &mut DbConn,
    jobs: &[Job],
    made: &mut Vec<Made>,
    fates: &mut [Option<Fate>],
) -> Result<(), StoreError> {
    let keyed: Vec<_> = made
        .iter()
        .filter_map(|m| {
            let (sub, now) = (&jobs[m.job].sub, jobs[m.job].now);
            let k = sub.idempotency.as_ref()?;
            Some((
                (k.scope.clone(), k.key.clone()),
                KeyRow::new(k, &m.ticket, &m.answer, now),
            ))
        })
        .collect();
    let taken: HashSet<(String, String)> = hotline_core::insert_absent!(
        c,
        idempotency_keys::table,
        keyed,
        (idempotency_keys::scope, idempotency_keys::key)
    )?;
    let mut unkept = Vec::new();
    made.retain(|m| {
        let ok = jobs[m.job]
            .sub
            .idempotency
            .as_ref()
            .is_none_or(|k| taken.contains(&(k.scope.clone(), k.key.clone())));
        if !ok {
            fates[m.job] = Some(Fate::KeyTaken);
            unkept.push(m.ticket.id);
        }
        ok
    });
    if !unkept.is_empty() {
        tickets::delete_new(c, &unkept)?;
    }
    Ok(())
}
