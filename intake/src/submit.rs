//! The one path every channel's appeal takes: stored as a ticket together with what the channel
//! delivered (for audit) and, when the request carries an Idempotency-Key, the answer given, all in
//! one transaction. A retry with the same key gets the same answer and creates nothing; of many
//! concurrent requests with one key, one creates the ticket and the others wait for it on the key's
//! unique index, roll back, and replay its answer.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::{DbConn, to_db};
use hotline_core::domain::Actor;
use hotline_core::ids::{TicketId, UnitId};
use hotline_core::ticket::{NewAppeal, Ticket};
use hotline_core::workflow::{Hotline, WorkflowError};
use sha2::{Digest, Sha256};

use crate::clients::nonce_refusal;
use crate::error::IntakeError;
use crate::schema::{client_nonces, idempotency_keys, intake_submissions};

/// How long an answer is kept for retries.
pub const KEY_RETENTION_HOURS: i64 = 24;

/// An Idempotency-Key as one caller sent it, with a digest of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// Whose key it is (`client:ID`, `user:ID`, `open311:KEY`, `portal`): keys of different
    /// callers never collide.
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

impl IdempotencyKey {
    /// `parts` are what makes the request this request (method, path, body…).
    pub fn new(scope: impl Into<String>, key: &str, parts: &[&[u8]]) -> Result<Self, IntakeError> {
        let key = key.trim();
        if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(IntakeError::invalid(
                "Idempotency-Key",
                "1 to 255 visible ASCII characters",
            ));
        }
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        Ok(Self {
            scope: scope.into(),
            key: key.to_owned(),
            request_hash: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        })
    }
}

/// The answer a channel gives, stored so a retry gets it byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

pub struct Submission {
    pub actor: Actor,
    pub centre_id: UnitId,
    pub appeal: NewAppeal,
    pub client_id: Option<String>,
    /// The signed request's nonce (with `client_id`), spent in the appeal's transaction.
    pub nonce: Option<String>,
    /// The request as it arrived (JSON, form data), for audit.
    pub raw_payload: String,
    pub remote_addr: Option<String>,
    pub idempotency: Option<IdempotencyKey>,
    /// Files staged for this appeal (see `attachments`), linked to the ticket in its transaction.
    pub attachments: Vec<crate::attachments::Staged>,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub answer: Answer,
    pub ticket_id: TicketId,
    /// True when this is a retry answered from the stored answer.
    pub replayed: bool,
}

const RACED: &str = "an answer for this Idempotency-Key";

/// Spends a signed request's nonce, if it has one.
fn spend(conn: &mut DbConn, sub: &SubmissionRecord, now: DateTime<Utc>) -> Result<(), StoreError> {
    match (&sub.client_id, &sub.nonce) {
        (Some(client), Some(nonce)) => crate::clients::spend_nonce(conn, client, nonce, now),
        _ => Ok(()),
    }
}

fn stored(conn: &mut DbConn, k: &IdempotencyKey) -> Result<Option<Outcome>, IntakeError> {
    let row: Option<(String, String, i32, String, String)> = idempotency_keys::table
        .find((&k.scope, &k.key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::ticket_id,
            idempotency_keys::status,
            idempotency_keys::content_type,
            idempotency_keys::body,
        ))
        .first(conn)
        .optional()?;
    let Some((hash, ticket, status, content_type, body)) = row else {
        return Ok(None);
    };
    if hash != k.request_hash {
        return Err(IntakeError::KeyReused);
    }
    Ok(Some(Outcome {
        answer: Answer {
            status: u16::try_from(status).unwrap_or(200),
            content_type,
            body,
        },
        ticket_id: ticket
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("idempotency_keys.ticket_id {ticket:?}")))?,
        replayed: true,
    }))
}

pub(crate) async fn lookup(
    hotline: &Hotline,
    k: &IdempotencyKey,
) -> Result<Option<Outcome>, IntakeError> {
    let k = k.clone();
    hotline.db.run(move |c| stored(c, &k)).await
}

fn remember(
    conn: &mut DbConn,
    sub: &SubmissionRecord,
    t: &Ticket,
    answer: &Answer,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    spend(conn, sub, now)?;
    diesel::insert_into(intake_submissions::table)
        .values(SubmissionRow::new(
            t,
            &sub.client_id,
            &sub.raw_payload,
            &sub.remote_addr,
            now,
        ))
        .execute(conn)
        .map_err(StoreError::from)?;
    crate::attachments::link(conn, t.id, &sub.attachments, now)?;
    if let Some(k) = &sub.idempotency {
        diesel::insert_into(idempotency_keys::table)
            .values(KeyRow::new(k, t, answer, now))
            .execute(conn)
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => StoreError::AlreadyExists {
                    what: RACED,
                    field: "Idempotency-Key",
                },
                other => other.into(),
            })?;
    }
    Ok(())
}

/// What a channel delivered, kept beside its ticket (table `intake_submissions`).
#[derive(Debug, Insertable)]
#[diesel(table_name = intake_submissions)]
pub(crate) struct SubmissionRow {
    ticket_id: String,
    channel: String,
    client_id: Option<String>,
    raw_payload: String,
    remote_addr: Option<String>,
    received_at: chrono::NaiveDateTime,
}

impl SubmissionRow {
    pub(crate) fn new(
        t: &Ticket,
        client_id: &Option<String>,
        raw_payload: &str,
        remote_addr: &Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            ticket_id: t.id.to_string(),
            channel: t.channel.to_string(),
            client_id: client_id.clone(),
            raw_payload: raw_payload.to_owned(),
            remote_addr: remote_addr.clone(),
            received_at: to_db(now),
        }
    }
}

/// The answer given for an Idempotency-Key, kept for retries (table `idempotency_keys`).
#[derive(Debug, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub(crate) struct KeyRow {
    scope: String,
    key: String,
    request_hash: String,
    ticket_id: String,
    status: i32,
    content_type: String,
    body: String,
    created_at: chrono::NaiveDateTime,
}

impl KeyRow {
    pub(crate) fn new(k: &IdempotencyKey, t: &Ticket, answer: &Answer, now: DateTime<Utc>) -> Self {
        Self {
            scope: k.scope.clone(),
            key: k.key.clone(),
            request_hash: k.request_hash.clone(),
            ticket_id: t.id.to_string(),
            status: i32::from(answer.status),
            content_type: answer.content_type.clone(),
            body: answer.body.clone(),
            created_at: to_db(now),
        }
    }
}

struct SubmissionRecord {
    client_id: Option<String>,
    nonce: Option<String>,
    raw_payload: String,
    remote_addr: Option<String>,
    idempotency: Option<IdempotencyKey>,
    attachments: Vec<crate::attachments::Staged>,
}

/// Stores an appeal as a ticket, exactly once per Idempotency-Key. `render` makes the channel's
/// answer from the new ticket; it runs inside the transaction so the answer can be kept.
pub async fn submit<R>(
    hotline: &Hotline,
    sub: Submission,
    render: R,
) -> Result<Outcome, IntakeError>
where
    R: FnOnce(&Ticket) -> Answer + Send + 'static,
{
    submit_with(hotline, sub, move |_, t| Ok(render(t))).await
}

/// [`submit`] for a channel that keeps records of its own beside the ticket (Open311's token):
/// `render` gets the transaction's connection, so what it writes commits with the ticket or not
/// at all, and its failure rolls the whole appeal back.
pub async fn submit_with<R>(
    hotline: &Hotline,
    sub: Submission,
    render: R,
) -> Result<Outcome, IntakeError>
where
    R: FnOnce(&mut DbConn, &Ticket) -> Result<Answer, WorkflowError> + Send + 'static,
{
    let record = SubmissionRecord {
        client_id: sub.client_id,
        nonce: sub.nonce,
        raw_payload: sub.raw_payload,
        remote_addr: sub.remote_addr,
        idempotency: sub.idempotency.clone(),
        attachments: sub.attachments,
    };
    let now = hotline.now.get();
    if let Some(k) = &sub.idempotency
        && let Some(done) = lookup(hotline, k).await?
    {
        // A retry answered from the first request still spends its own nonce.
        if record.nonce.is_some() {
            hotline
                .db
                .write(move |c| spend(c, &record, now))
                .await
                .map_err(|e| nonce_refusal(e.into()))?;
        }
        return Ok(done);
    }
    let created = hotline
        .receive_with(sub.actor, sub.centre_id, sub.appeal, move |c, t| {
            let answer = render(c, t)?;
            remember(c, &record, t, &answer, now)?;
            crate::repeats::index_places(c, t)?;
            Ok((answer, t.id))
        })
        .await;
    match created {
        Ok((answer, ticket_id)) => {
            // After commit and in the background: the appeal is safe and acknowledged whatever
            // the repeat check does.
            crate::repeats::check_later(hotline, ticket_id, now);
            Ok(Outcome {
                answer,
                ticket_id,
                replayed: false,
            })
        }
        Err(WorkflowError::Store(StoreError::AlreadyExists { what: RACED, .. })) => {
            let k = sub
                .idempotency
                .as_ref()
                .ok_or_else(|| StoreError::Corrupt("raced without a key".into()))?;
            lookup(hotline, k)
                .await?
                .ok_or_else(|| StoreError::Corrupt("the winning answer is missing".into()).into())
        }
        Err(e) => Err(nonce_refusal(e.into())),
    }
}

/// Deletes answers and nonces past their retention.
pub fn purge(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let keys = diesel::delete(idempotency_keys::table.filter(
        idempotency_keys::created_at.lt(to_db(now - chrono::Duration::hours(KEY_RETENTION_HOURS))),
    ))
    .execute(conn)?;
    let nonces = diesel::delete(client_nonces::table.filter(client_nonces::seen_at.lt(to_db(
        now - chrono::Duration::seconds(2 * crate::clients::WINDOW_SECS),
    ))))
    .execute(conn)?;
    Ok(keys + nonces)
}

/// Which centre receives the online channels' appeals: the configured unit code, or else the only
/// city-level 12345 centre.
pub fn resolve_centre(conn: &mut DbConn, code: Option<&str>) -> Result<UnitId, IntakeError> {
    use hotline_core::domain::{Level, UnitKind};
    use hotline_core::store::units;
    if let Some(code) = code.filter(|c| !c.trim().is_empty()) {
        let unit = units::by_code(conn, code.trim())?
            .ok_or_else(|| IntakeError::NotConfigured(format!("no unit with code {code}")))?;
        if unit.kind != UnitKind::Centre {
            return Err(IntakeError::NotConfigured(format!(
                "{code} is not a 12345 centre"
            )));
        }
        return Ok(unit.id);
    }
    let centres = units::list(
        conn,
        &units::UnitFilter {
            kind: Some(UnitKind::Centre),
            level: Some(Level::City),
            ..Default::default()
        },
    )?;
    match centres.as_slice() {
        [only] => Ok(only.id),
        [] => Err(IntakeError::NotConfigured("no city 12345 centre: import the org tree".into())),
        _ => Err(IntakeError::NotConfigured(
            "several city centres: set intake_centre to the code of the one that receives online appeals".into(),
        )),
    }
}
