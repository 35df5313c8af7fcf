//! The robot's conversations in the database. A citizen holds a conversation by its id and a
//! secret token (only the token's SHA-256 is stored); every question and every reply is a turn,
//! so the transcript an agent reads is exactly what the citizen saw.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::{DbConn, from_db, to_db};
use hotline_core::ids::TicketId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::schema::{robot_conversations as conv, robot_turns as turns};

/// The most turns one conversation keeps: past this a citizen is asked to start anew (a
/// conversation is a few questions, not a log anyone may grow without bound).
pub const MAX_TURNS: i32 = 200;

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::AsRefStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ConversationState {
    /// The robot answers.
    Open,
    /// Given to a person: a ticket waits in the agents' queue.
    HandedOff,
}

/// One answer a clarifying question offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Choice {
    pub slug: String,
    pub title: String,
}

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Turn {
    pub n: i32,
    /// `citizen` or `robot`.
    pub speaker: String,
    /// A citizen's `question` or `choice`; the robot's `answer`, `clarify`, `handoff` or
    /// `note` (said after a hand-off).
    pub kind: String,
    pub text: String,
    pub article_slug: Option<String>,
    pub confidence: Option<f32>,
    pub options: Vec<Choice>,
    pub at: DateTime<Utc>,
}

/// A turn to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTurn {
    pub speaker: &'static str,
    pub kind: &'static str,
    pub text: String,
    pub article_slug: Option<String>,
    pub confidence: Option<f32>,
    pub options: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversation {
    pub id: String,
    pub state: ConversationState,
    pub handoff_reason: Option<String>,
    pub ticket_id: Option<TicketId>,
    pub turns: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable)]
struct Row {
    id: String,
    token_hash: String,
    state: String,
    handoff_reason: Option<String>,
    ticket_id: Option<String>,
    turns: i32,
    created_at: chrono::NaiveDateTime,
    _updated_at: chrono::NaiveDateTime,
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Row {
    fn into_conversation(self) -> Result<Conversation, StoreError> {
        let state = self
            .state
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("conversation state {}", self.state)))?;
        let ticket_id = match self.ticket_id {
            Some(t) => Some(
                t.parse()
                    .map_err(|_| StoreError::Corrupt(format!("conversation ticket {t}")))?,
            ),
            None => None,
        };
        Ok(Conversation {
            id: self.id,
            state,
            handoff_reason: self.handoff_reason,
            ticket_id,
            turns: self.turns,
            created_at: from_db(self.created_at),
        })
    }
}

/// Starts a conversation; `token` is the citizen's secret for it.
pub fn start(
    conn: &mut DbConn,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Conversation, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(conv::table)
        .values((
            conv::id.eq(&id),
            conv::token_hash.eq(token_hash(token)),
            conv::state.eq(ConversationState::Open.as_ref()),
            conv::turns.eq(0),
            conv::created_at.eq(to_db(now)),
            conv::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(Conversation {
        id,
        state: ConversationState::Open,
        handoff_reason: None,
        ticket_id: None,
        turns: 0,
        created_at: now,
    })
}

/// The conversation `id` when `token` is its secret; `None` for an unknown id or a wrong token
/// alike (the caller cannot tell which).
pub fn open(conn: &mut DbConn, id: &str, token: &str) -> Result<Option<Conversation>, StoreError> {
    let row: Option<Row> = conv::table.find(id).first(conn).optional()?;
    match row {
        Some(r)
            if hotline_core::auth::token::constant_time_eq(&r.token_hash, &token_hash(token)) =>
        {
            Ok(Some(r.into_conversation()?))
        }
        _ => Ok(None),
    }
}

/// The conversation handed off as `ticket`, if any.
pub fn by_ticket(conn: &mut DbConn, ticket: TicketId) -> Result<Option<Conversation>, StoreError> {
    let row: Option<Row> = conv::table
        .filter(conv::ticket_id.eq(ticket.to_string()))
        .first(conn)
        .optional()?;
    row.map(Row::into_conversation).transpose()
}

/// Appends turns to a conversation (numbered on from its count, in its own row's update, so two
/// requests at once cannot both take a number).
pub fn append(
    conn: &mut DbConn,
    id: &str,
    new: &[NewTurn],
    now: DateTime<Utc>,
) -> Result<i32, StoreError> {
    let n = i32::try_from(new.len()).unwrap_or(i32::MAX);
    diesel::update(conv::table.find(id))
        .set((
            conv::turns.eq(conv::turns + n),
            conv::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    // The row is this transaction's now (locked on PostgreSQL, the database on SQLite).
    let after: i32 = conv::table.find(id).select(conv::turns).first(conn)?;
    let first = after - n + 1;
    for (i, t) in new.iter().enumerate() {
        let options = (!t.options.is_empty())
            .then(|| serde_json::to_string(&t.options))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        diesel::insert_into(turns::table)
            .values((
                turns::conversation_id.eq(id),
                turns::n.eq(first + i32::try_from(i).unwrap_or(0)),
                turns::speaker.eq(t.speaker),
                turns::kind.eq(t.kind),
                turns::text.eq(&t.text),
                turns::article_slug.eq(&t.article_slug),
                turns::confidence.eq(t.confidence),
                turns::options.eq(options),
                turns::created_at.eq(to_db(now)),
            ))
            .execute(conn)?;
    }
    Ok(after)
}

/// Marks a conversation handed off to a person as `ticket` (in the transaction that stores the
/// ticket, so the two commit together).
pub fn hand_off(
    conn: &mut DbConn,
    id: &str,
    reason: &str,
    ticket: TicketId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(conv::table.find(id))
        .set((
            conv::state.eq(ConversationState::HandedOff.as_ref()),
            conv::handoff_reason.eq(reason),
            conv::ticket_id.eq(ticket.to_string()),
            conv::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The whole transcript, in order.
pub fn transcript(conn: &mut DbConn, id: &str) -> Result<Vec<Turn>, StoreError> {
    type T = (
        i32,
        String,
        String,
        String,
        Option<String>,
        Option<f32>,
        Option<String>,
        chrono::NaiveDateTime,
    );
    let rows: Vec<T> = turns::table
        .filter(turns::conversation_id.eq(id))
        .order(turns::n.asc())
        .select((
            turns::n,
            turns::speaker,
            turns::kind,
            turns::text,
            turns::article_slug,
            turns::confidence,
            turns::options,
            turns::created_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(n, speaker, kind, text, article_slug, confidence, options, at)| {
                let options = match options {
                    Some(o) => {
                        serde_json::from_str(&o).map_err(|e| StoreError::Corrupt(e.to_string()))?
                    }
                    None => Vec::new(),
                };
                Ok(Turn {
                    n,
                    speaker,
                    kind,
                    text,
                    article_slug,
                    confidence,
                    options,
                    at: from_db(at),
                })
            },
        )
        .collect()
}

/// How long a conversation nobody touches is kept: what a citizen wrote to the robot is
/// personal data, kept only while it serves them. A handed-off conversation's ticket keeps the
/// transcript as it stood at the hand-off (in its text), under the ticket's own rules.
pub const RETENTION_DAYS: i64 = 30;

/// Deletes the conversations untouched since `before`, with their turns (at most 10,000 a call;
/// the server calls it every hour).
pub fn purge(conn: &mut DbConn, before: DateTime<Utc>) -> Result<usize, StoreError> {
    let old: Vec<String> = conv::table
        .filter(conv::updated_at.lt(to_db(before)))
        .select(conv::id)
        .limit(10_000)
        .load(conn)?;
    if old.is_empty() {
        return Ok(0);
    }
    diesel::delete(turns::table.filter(turns::conversation_id.eq_any(&old))).execute(conn)?;
    Ok(diesel::delete(conv::table.filter(conv::id.eq_any(&old))).execute(conn)?)
}
