//! The mail outbox (`mail_outbox`): one row per message, written in the transaction of the event
//! or job it tells of; leased by a sender, marked sent once the SMTP server accepted it, retried
//! with backoff, dead after the last try.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::{DbConn, from_db, to_db};
use hotline_core::ids::{TicketId, UnitId};
use serde::Serialize;

use crate::scheduler::schema::mail_outbox;

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const DEAD: &str = "dead";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = mail_outbox)]
pub struct OutboxRow {
    pub id: String,
    pub message_id: String,
    pub dedupe_key: String,
    pub kind: String,
    pub ticket_id: Option<String>,
    pub unit_id: Option<String>,
    pub recipients: String,
    pub subject: String,
    pub body: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: chrono::NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<chrono::NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub sent_at: Option<chrono::NaiveDateTime>,
}

/// A message as senders and operators see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: String,
    pub message_id: String,
    pub kind: String,
    pub ticket_id: Option<String>,
    pub unit_id: Option<String>,
    pub recipients: Vec<String>,
    pub subject: String,
    pub body: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl TryFrom<OutboxRow> for Message {
    type Error = StoreError;
    fn try_from(r: OutboxRow) -> Result<Self, StoreError> {
        Ok(Self {
            recipients: serde_json::from_str(&r.recipients).map_err(|_| {
                StoreError::Corrupt(format!("mail_outbox {}: bad recipients", r.id))
            })?,
            id: r.id,
            message_id: r.message_id,
            kind: r.kind,
            ticket_id: r.ticket_id,
            unit_id: r.unit_id,
            subject: r.subject,
            body: r.body,
            state: r.state,
            attempts: r.attempts,
            next_attempt_at: from_db(r.next_attempt_at),
            last_error: r.last_error,
            created_at: from_db(r.created_at),
            sent_at: r.sent_at.map(from_db),
        })
    }
}

/// A message to queue.
pub struct NewMessage<'a> {
    /// Unique per message: the same notice queued twice is stored once.
    pub dedupe_key: String,
    pub kind: &'a str,
    pub ticket_id: Option<TicketId>,
    pub unit_id: Option<UnitId>,
    pub recipients: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// Queues messages in the caller's transaction; those whose `dedupe_key` is already there are
/// left out. `domain` names this deployment in the Message-ID (`<id@domain>`). Returns how many
/// went in.
pub fn enqueue(
    conn: &mut DbConn,
    messages: Vec<NewMessage<'_>>,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut keyed = Vec::with_capacity(messages.len());
    for m in messages {
        let id = uuid::Uuid::new_v4().to_string();
        let recipients = serde_json::to_string(&m.recipients)
            .map_err(|e| StoreError::Corrupt(format!("cannot encode recipients: {e}")))?;
        keyed.push((
            m.dedupe_key.clone(),
            OutboxRow {
                message_id: format!("<{id}@{domain}>"),
                id,
                dedupe_key: m.dedupe_key,
                kind: m.kind.to_owned(),
                ticket_id: m.ticket_id.map(|t| t.to_string()),
                unit_id: m.unit_id.map(|u| u.to_string()),
                recipients,
                subject: m.subject,
                body: m.body,
                state: PENDING.to_owned(),
                attempts: 0,
                next_attempt_at: to_db(now),
                lease_owner: None,
                lease_until: None,
                last_error: None,
                created_at: to_db(now),
                sent_at: None,
            },
        ));
    }
    let went_in = hotline_core::insert_absent!(conn, mail_outbox::table, keyed, mail_outbox::id)?;
    Ok(went_in.len())
}

/// Leases up to `limit` pending messages due at `now` to `owner` until `until`: no other sender
/// takes them meanwhile (`FOR UPDATE SKIP LOCKED` on PostgreSQL while choosing them). A lease
/// that ran out (its sender died) can be taken again.
pub fn lease_due(
    conn: &mut DbConn,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Message>, StoreError> {
    let at = to_db(now);
    let due = mail_outbox::table
        .filter(mail_outbox::state.eq(PENDING))
        .filter(mail_outbox::next_attempt_at.le(at))
        .filter(
            mail_outbox::lease_until
                .is_null()
                .or(mail_outbox::lease_until.lt(at)),
        )
        .order((mail_outbox::next_attempt_at.asc(), mail_outbox::id.asc()))
        .limit(limit)
        .select(mail_outbox::id);
    let ids: Vec<String> = match conn {
        DbConn::Pg(c) => due.for_update().skip_locked().load(c)?,
        DbConn::Sqlite(c) => due.load(c)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(mail_outbox::table.filter(mail_outbox::id.eq_any(&ids)))
        .set((
            mail_outbox::lease_owner.eq(Some(owner)),
            mail_outbox::lease_until.eq(Some(to_db(until))),
        ))
        .execute(conn)?;
    let rows: Vec<OutboxRow> = mail_outbox::table
        .filter(mail_outbox::id.eq_any(&ids))
        .order((mail_outbox::next_attempt_at.asc(), mail_outbox::id.asc()))
        .select(OutboxRow::as_select())
        .load(conn)?;
    rows.into_iter().map(Message::try_from).collect()
}

/// Marks a leased message sent. Returns false if the lease had passed to another sender.
pub fn mark_sent(
    conn: &mut DbConn,
    id: &str,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = diesel::update(mail_outbox::table.find(id))
        .filter(mail_outbox::lease_owner.eq(owner))
        .filter(mail_outbox::state.eq(PENDING))
        .set((
            mail_outbox::state.eq(SENT),
            mail_outbox::attempts.eq(mail_outbox::attempts + 1),
            mail_outbox::sent_at.eq(Some(to_db(now))),
            mail_outbox::lease_owner.eq(None::<String>),
            mail_outbox::lease_until.eq(None::<chrono::NaiveDateTime>),
            mail_outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed try of a leased message: the next try at `retry_at`, or dead when None.
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    owner: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let (state, next) = match retry_at {
        Some(at) => (PENDING, Some(to_db(at))),
        None => (DEAD, None),
    };
    let q = diesel::update(mail_outbox::table.find(id))
        .filter(mail_outbox::lease_owner.eq(owner))
        .filter(mail_outbox::state.eq(PENDING));
    let n = match next {
        Some(next) => q
            .set((
                mail_outbox::state.eq(state),
                mail_outbox::attempts.eq(mail_outbox::attempts + 1),
                mail_outbox::next_attempt_at.eq(next),
                mail_outbox::lease_owner.eq(None::<String>),
                mail_outbox::lease_until.eq(None::<chrono::NaiveDateTime>),
                mail_outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
        None => q
            .set((
                mail_outbox::state.eq(state),
                mail_outbox::attempts.eq(mail_outbox::attempts + 1),
                mail_outbox::lease_owner.eq(None::<String>),
                mail_outbox::lease_until.eq(None::<chrono::NaiveDateTime>),
                mail_outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Puts a dead message back in the queue for one more round of tries.
pub fn requeue(conn: &mut DbConn, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = diesel::update(mail_outbox::table.find(id))
        .filter(mail_outbox::state.eq(DEAD))
        .set((
            mail_outbox::state.eq(PENDING),
            mail_outbox::attempts.eq(0),
            mail_outbox::next_attempt_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Messages, oldest first, optionally of one state and one ticket.
pub fn list(
    conn: &mut DbConn,
    state: Option<&str>,
    ticket: Option<TicketId>,
    limit: i64,
) -> Result<Vec<Message>, StoreError> {
    let mut q = mail_outbox::table
        .select(OutboxRow::as_select())
        .into_boxed();
    if let Some(s) = state {
        q = q.filter(mail_outbox::state.eq(s.to_owned()));
    }
    if let Some(t) = ticket {
        q = q.filter(mail_outbox::ticket_id.eq(t.to_string()));
    }
    let rows: Vec<OutboxRow> = q
        .order((mail_outbox::created_at.asc(), mail_outbox::id.asc()))
        .limit(limit)
        .load(conn)?;
    rows.into_iter().map(Message::try_from).collect()
}

/// A file a message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Queues one message with its files (in the caller's transaction); false when its
/// `dedupe_key` was queued before (nothing is stored then).
pub fn enqueue_with(
    conn: &mut DbConn,
    message: NewMessage<'_>,
    files: &[NewAttachment],
    domain: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    use crate::scheduler::schema::mail_attachments as a;
    use base64::Engine;
    let key = message.dedupe_key.clone();
    if enqueue(conn, vec![message], domain, now)? == 0 {
        return Ok(false);
    }
    let id: String = mail_outbox::table
        .filter(mail_outbox::dedupe_key.eq(&key))
        .select(mail_outbox::id)
        .first(conn)?;
    for (i, f) in files.iter().enumerate() {
        diesel::insert_into(a::table)
            .values((
                a::outbox_id.eq(&id),
                a::position.eq(i32::try_from(i).unwrap_or(i32::MAX)),
                a::name.eq(&f.name),
                a::content_type.eq(&f.content_type),
                a::content.eq(base64::engine::general_purpose::STANDARD.encode(&f.bytes)),
            ))
            .execute(conn)?;
    }
    Ok(true)
}

/// The files of the message `id`, in order.
pub fn attachments(conn: &mut DbConn, id: &str) -> Result<Vec<NewAttachment>, StoreError> {
    use crate::scheduler::schema::mail_attachments as a;
    use base64::Engine;
    let rows: Vec<(String, String, String)> = a::table
        .filter(a::outbox_id.eq(id))
        .order(a::position.asc())
        .select((a::name, a::content_type, a::content))
        .load(conn)?;
    rows.into_iter()
        .map(|(name, content_type, content)| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(content)
                .map_err(|e| StoreError::Corrupt(format!("mail attachment {name}: {e}")))?;
            Ok(NewAttachment {
                name,
                content_type,
                bytes,
            })
        })
        .collect()
}
