//! The feed: follows the event table in sequence order and hands each event, serialized once
//! with the ticket's summary, to the hub. It wakes on this node's bus (its own commits), on a
//! PostgreSQL notification (another node's), and on a slow poll as a safety net; whatever woke
//! it, it reads on from the last sequence number it published, so nothing is skipped or
//! delivered twice, and a listener that was down only delays delivery.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use bytestring::ByteString;
use chrono::{DateTime, Utc};
use hotline_core::bus::EventBus;
use hotline_core::domain::{AppealType, Urgency};
use hotline_core::ids::{CategoryId, TicketId, TicketNumber, UnitId, UserId};
use hotline_core::scope::Scope;
use hotline_core::store::events::{self, EventView, StoredEvent};
use hotline_core::store::tickets;
use hotline_core::ticket::{ExtensionState, Status, Ticket};
use hotline_core::{Db, DbConn, StoreError};
use serde::Serialize;
use tokio::sync::Notify;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::hub::{Hub, Published};
use crate::protocol::VERSION;

/// Events read from the table per round.
const BATCH: i64 = 500;

/// What a console needs to place a ticket in its lists without asking the API.
#[derive(Debug, Serialize)]
pub struct TicketSummary {
    pub id: TicketId,
    pub number: TicketNumber,
    pub status: Status,
    pub status_label: &'static str,
    pub appeal_type: AppealType,
    pub appeal_type_label: &'static str,
    pub urgency: Urgency,
    pub category_id: Option<CategoryId>,
    pub title: String,
    pub centre_id: UnitId,
    pub main_unit_id: Option<UnitId>,
    pub co_unit_ids: Vec<UnitId>,
    pub supervised: bool,
    pub extension: ExtensionState,
    pub received_at: DateTime<Utc>,
    pub sign_deadline: Option<DateTime<Utc>>,
    pub handle_deadline: Option<DateTime<Utc>>,
    /// Who has claimed the ticket (认领), if anyone.
    pub claimed_by: Option<UserId>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

impl From<&Ticket> for TicketSummary {
    fn from(t: &Ticket) -> Self {
        Self {
            id: t.id,
            number: t.number.clone(),
            status: t.status,
            status_label: t.status.label_zh(),
            appeal_type: t.appeal_type,
            appeal_type_label: t.appeal_type.label_zh(),
            urgency: t.urgency,
            category_id: t.category_id,
            title: t.title.clone(),
            centre_id: t.centre_id,
            main_unit_id: t.main_unit_id,
            co_unit_ids: t.co_unit_ids.clone(),
            supervised: t.supervised,
            extension: t.extension,
            received_at: t.received_at,
            sign_deadline: t.sign_deadline,
            handle_deadline: t.handle_deadline,
            claimed_by: t.claimed_by,
            version: t.version,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Serialize)]
struct EventMessage<'a> {
    v: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    event: EventView,
    /// The ticket as it is when the event is delivered (its version may be ahead of the event's).
    ticket: Option<&'a TicketSummary>,
}

/// Reads the tickets of these events and serializes each event once.
pub fn prepare(conn: &mut DbConn, batch: &[StoredEvent]) -> Result<Vec<Published>, StoreError> {
    let mut ids: Vec<TicketId> = batch.iter().map(|e| e.event.ticket_id).collect();
    ids.sort();
    ids.dedup();
    let summaries: HashMap<TicketId, (TicketSummary, Vec<UnitId>)> = tickets::get_many(conn, &ids)?
        .iter()
        .map(|t| {
            let mut holders = vec![t.centre_id];
            holders.extend(t.main_unit_id);
            holders.extend(t.co_unit_ids.iter().copied());
            (t.id, (TicketSummary::from(t), holders))
        })
        .collect();
    let involved = tickets::involved_of(conn, &ids)?;
    let mut out = Vec::with_capacity(batch.len());
    for e in batch {
        let Some(seq) = e.seq else { continue };
        let ticket = e.event.ticket_id;
        let summary = summaries.get(&ticket);
        let mut holders = summary.map(|s| s.1.clone()).unwrap_or_default();
        holders.extend(e.event.actor_unit_id);
        let text = serde_json::to_string(&EventMessage {
            v: VERSION,
            kind: "event",
            event: e.view(),
            ticket: summary.map(|s| &s.0),
        })
        .map_err(|err| StoreError::Corrupt(format!("cannot encode event {seq}: {err}")))?;
        out.push(Published {
            seq,
            ticket_id: ticket,
            holders,
            involved: involved.get(&ticket).cloned().unwrap_or_default(),
            text: ByteString::from(text),
        });
    }
    Ok(out)
}

/// Up to `limit` events after `after` that `scope` may see, prepared for sending.
pub fn replay(
    conn: &mut DbConn,
    after: i64,
    limit: i64,
    scope: &Scope,
) -> Result<Vec<Published>, StoreError> {
    let page = events::after(conn, after, limit, scope)?;
    prepare(conn, &page)
}

/// What wakes the feed besides the bus: a notification names the sequence number it announced.
#[derive(Default)]
pub struct Wake {
    notify: Notify,
    announced: AtomicI64,
    catch_up: AtomicBool,
}

impl Wake {
    /// Another node (or this one) sequenced events up to `seq`.
    pub fn announce(&self, seq: i64) {
        self.announced.fetch_max(seq, Ordering::AcqRel);
        self.notify.notify_one();
    }

    /// Read on whatever was announced (after a listener reconnects).
    pub fn catch_up(&self) {
        self.catch_up.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// Whether the table holds events the hub has not published, as far as anyone said.
    fn behind(&self, published: i64) -> bool {
        self.catch_up.swap(false, Ordering::AcqRel)
            || self.announced.load(Ordering::Acquire) > published
    }
}

pub struct Feed {
    pub hub: Arc<Hub>,
    pub db: Db,
    pub wake: Arc<Wake>,
    pub poll: Duration,
}

impl Feed {
    /// Runs until the task is dropped.
    pub async fn run(self, bus: Arc<EventBus>) {
        let mut rx = bus.subscribe();
        loop {
            let mut local: Vec<Arc<StoredEvent>> = Vec::new();
            let mut read_table = false;
            tokio::select! {
                r = rx.recv() => match r {
                    Ok(e) => local.push(e),
                    Err(RecvError::Lagged(_)) => read_table = true,
                    Err(RecvError::Closed) => return,
                },
                () = self.wake.notify.notified() => {
                    read_table = self.wake.behind(self.hub.last_seq());
                }
                () = tokio::time::sleep(self.poll) => read_table = true,
            }
            loop {
                match rx.try_recv() {
                    Ok(e) => local.push(e),
                    Err(TryRecvError::Lagged(_)) => read_table = true,
                    Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                }
            }
            let last = self.hub.last_seq();
            local.retain(|e| e.seq.is_some_and(|s| s > last));
            local.sort_by_key(|e| e.seq);
            let contiguous = local
                .iter()
                .zip(last + 1..)
                .all(|(e, want)| e.seq == Some(want));
            let result = if read_table || !contiguous {
                self.read_on().await
            } else if local.is_empty() {
                Ok(())
            } else {
                let batch: Vec<StoredEvent> = local.iter().map(|e| (**e).clone()).collect();
                self.db
                    .run(move |c| prepare(c, &batch))
                    .await
                    .map(|p| self.hub.publish(&p))
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "console feed: reading events failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                self.wake.catch_up();
            }
        }
    }

    /// Publishes everything after the hub's last sequence number, in rounds.
    async fn read_on(&self) -> Result<(), StoreError> {
        loop {
            let after = self.hub.last_seq();
            let page = self
                .db
                .run(move |c| replay(c, after, BATCH, &Scope::All))
                .await?;
            let n = page.len();
            self.hub.publish(&page);
            if i64::try_from(n).unwrap_or(0) < BATCH {
                return Ok(());
            }
        }
    }
}
