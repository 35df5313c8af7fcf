//! The row beside each Open311 ticket: its token (GET tokens/{token}) and what the request
//! carried that a ticket has no column for (media_url, address_id), written in the ticket's
//! transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_core::db::{DbConn, StoreError, to_db};
use hotline_core::ids::TicketId;
use hotline_core::store::tickets;
use hotline_core::ticket::Ticket;

use crate::schema::open311_tokens;

/// Written in the ticket's transaction (see [`crate::submit::submit_with`]).
pub fn insert(
    conn: &mut DbConn,
    token: &str,
    ticket: TicketId,
    now: DateTime<Utc>,
    media_url: Option<&str>,
    address_id: Option<&str>,
) -> Result<(), StoreError> {
    diesel::insert_into(open311_tokens::table)
        .values((
            open311_tokens::token.eq(token),
            open311_tokens::ticket_id.eq(ticket.to_string()),
            open311_tokens::created_at.eq(to_db(now)),
            open311_tokens::media_url.eq(media_url),
            open311_tokens::address_id.eq(address_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// The ticket a token stands for.
pub fn ticket_of_token(conn: &mut DbConn, token: &str) -> Result<Option<Ticket>, StoreError> {
    let id: Option<String> = open311_tokens::table
        .find(token)
        .select(open311_tokens::ticket_id)
        .first(conn)
        .optional()?;
    match id {
        None => Ok(None),
        Some(id) => {
            let id = id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("open311_tokens.ticket_id {id:?}")))?;
            tickets::get(conn, id).map(Some)
        }
    }
}

/// (media_url, address_id) by ticket id.
pub type Kept = HashMap<String, (Option<String>, Option<String>)>;

/// media_url and address_id of the Open311 tickets among `ids`.
pub fn kept(conn: &mut DbConn, ids: &[TicketId]) -> Result<Kept, StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, Option<String>, Option<String>)> = open311_tokens::table
            .filter(open311_tokens::ticket_id.eq_any(chunk.iter().map(ToString::to_string)))
            .select((
                open311_tokens::ticket_id,
                open311_tokens::media_url,
                open311_tokens::address_id,
            ))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(t, m, a)| (t, (m, a))));
    }
    Ok(out)
}
