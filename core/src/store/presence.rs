//! The agent console's presence, shared by every node: which node is alive (its heartbeat),
//! which connections are open on it, the state each user set, and who views or edits which
//! ticket. A user is present while any connection of theirs sits on a live node; the rows of a
//! node whose heartbeat is older than the cut-off (a crash) are ignored by every read and then
//! swept by [`expire`]. On PostgreSQL every change is announced with `NOTIFY` (delivered at
//! commit) so the other nodes re-read it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{console_connections, console_nodes, console_states, console_watching};
use crate::db::{DbConn, StoreError, from_db, to_db};
use crate::domain::Role;
use crate::ids::{TicketId, UnitId, UserId};
use crate::store::{is_unique_violation, parse_col, users};

/// The channel presence changes are announced on.
pub const NOTIFY_CHANNEL: &str = "hotline_presence";

/// A staff user as presence shows them, with their state (None: offline, no live connection).
#[derive(Debug, Clone, PartialEq)]
pub struct Present {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: UnitId,
    pub state: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

/// Someone who views or edits a ticket (editing when any of their connections edits it).
#[derive(Debug, Clone, PartialEq)]
pub struct Watcher {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub editing: bool,
}

fn live_nodes(conn: &mut DbConn, cutoff: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
    Ok(console_nodes::table
        .filter(console_nodes::heartbeat_at.ge(to_db(cutoff)))
        .select(console_nodes::node_id)
        .load(conn)?)
}

pub fn register_node(conn: &mut DbConn, node: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::insert_into(console_nodes::table)
        .values((
            console_nodes::node_id.eq(node),
            console_nodes::started_at.eq(to_db(now)),
            console_nodes::heartbeat_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Keeps the node alive. False when its row was gone (swept after a long pause): it is
/// registered again, but its connections' rows went with it.
pub fn heartbeat(conn: &mut DbConn, node: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = diesel::update(console_nodes::table.find(node))
        .set(console_nodes::heartbeat_at.eq(to_db(now)))
        .execute(conn)?;
    if n == 0 {
        register_node(conn, node, now)?;
    }
    Ok(n > 0)
}

/// Removes a node and everything it held (a clean shutdown).
pub fn remove_node(conn: &mut DbConn, node: &str) -> Result<Expired, StoreError> {
    remove_nodes(conn, &[node.to_owned()])
}

/// Forgets every node (SQLite has one node: whatever is stored is from an earlier run).
pub fn clear(conn: &mut DbConn) -> Result<(), StoreError> {
    diesel::delete(console_watching::table).execute(conn)?;
    diesel::delete(console_connections::table).execute(conn)?;
    diesel::delete(console_nodes::table).execute(conn)?;
    Ok(())
}

fn live_connections_of(
    conn: &mut DbConn,
    user: UserId,
    cutoff: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let nodes = live_nodes(conn, cutoff)?;
    Ok(console_connections::table
        .filter(console_connections::user_id.eq(user.to_string()))
        .filter(console_connections::node_id.eq_any(nodes))
        .count()
        .get_result(conn)?)
}

/// Sets a user's state (whatever connection set it).
pub fn set_state(
    conn: &mut DbConn,
    user: UserId,
    state: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let update = |conn: &mut DbConn| {
        diesel::update(console_states::table.find(user.to_string()))
            .set((
                console_states::state.eq(state),
                console_states::since.eq(to_db(now)),
            ))
            .execute(conn)
    };
    if update(conn)? > 0 {
        return Ok(());
    }
    let inserted = diesel::insert_into(console_states::table)
        .values((
            console_states::user_id.eq(user.to_string()),
            console_states::state.eq(state),
            console_states::since.eq(to_db(now)),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(()),
        // Another node inserted it meanwhile: then ours is the later word.
        Err(e) if is_unique_violation(&e) => update(conn).map(|_| ()).map_err(Into::into),
        Err(e) => Err(e.into()),
    }
}

/// Records an open connection. True when it is the user's first live one (they come online:
/// their state starts as `online`).
pub fn connect(
    conn: &mut DbConn,
    node: &str,
    connection: i64,
    user: UserId,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let first = live_connections_of(conn, user, cutoff)? == 0;
    diesel::insert_into(console_connections::table)
        .values((
            console_connections::node_id.eq(node),
            console_connections::connection_id.eq(connection),
            console_connections::user_id.eq(user.to_string()),
            console_connections::connected_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    if first {
        set_state(conn, user, "online", now)?;
    }
    Ok(first)
}

/// What a closed connection held: its user, and the tickets it viewed or edited.
#[derive(Debug, Clone, PartialEq)]
pub struct Released {
    pub user: UserId,
    pub tickets: Vec<TicketId>,
}

/// Forgets a closed connection and what it viewed or edited.
pub fn disconnect(
    conn: &mut DbConn,
    node: &str,
    connection: i64,
) -> Result<Option<Released>, StoreError> {
    let user: Option<String> = console_connections::table
        .find((node, connection))
        .select(console_connections::user_id)
        .first(conn)
        .optional()?;
    let Some(user) = user else { return Ok(None) };
    let watched = console_watching::table
        .filter(console_watching::node_id.eq(node))
        .filter(console_watching::connection_id.eq(connection));
    let tickets: Vec<String> = watched.select(console_watching::ticket_id).load(conn)?;
    diesel::delete(watched).execute(conn)?;
    diesel::delete(console_connections::table.find((node, connection))).execute(conn)?;
    Ok(Some(Released {
        user: parse_col("console_connections.user_id", &user)?,
        tickets: tickets
            .iter()
            .map(|t| parse_col("console_watching.ticket_id", t))
            .collect::<Result<_, _>>()?,
    }))
}

/// The connection views (`editing` false) or edits a ticket.
pub fn watch(
    conn: &mut DbConn,
    node: &str,
    connection: i64,
    user: UserId,
    ticket: TicketId,
    editing: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    leave(conn, node, connection, ticket)?;
    diesel::insert_into(console_watching::table)
        .values((
            console_watching::node_id.eq(node),
            console_watching::connection_id.eq(connection),
            console_watching::ticket_id.eq(ticket.to_string()),
            console_watching::user_id.eq(user.to_string()),
            console_watching::mode.eq(if editing { "editing" } else { "viewing" }),
            console_watching::since.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The connection no longer views or edits the ticket.
pub fn leave(
    conn: &mut DbConn,
    node: &str,
    connection: i64,
    ticket: TicketId,
) -> Result<(), StoreError> {
    diesel::delete(
        console_watching::table
            .filter(console_watching::node_id.eq(node))
            .filter(console_watching::connection_id.eq(connection))
            .filter(console_watching::ticket_id.eq(ticket.to_string())),
    )
    .execute(conn)?;
    Ok(())
}

/// The presence of these users, present or not.
pub fn of_users(
    conn: &mut DbConn,
    ids: &[UserId],
    cutoff: DateTime<Utc>,
) -> Result<Vec<Present>, StoreError> {
    let nodes = live_nodes(conn, cutoff)?;
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let live: HashSet<String> = console_connections::table
        .filter(console_connections::user_id.eq_any(&ids))
        .filter(console_connections::node_id.eq_any(nodes))
        .select(console_connections::user_id)
        .distinct()
        .load::<String>(conn)?
        .into_iter()
        .collect();
    cards(conn, &ids, &live)
}

/// Every present user (of these units, when given).
pub fn present(
    conn: &mut DbConn,
    units: Option<&[UnitId]>,
    cutoff: DateTime<Utc>,
) -> Result<Vec<Present>, StoreError> {
    let nodes = live_nodes(conn, cutoff)?;
    let live: Vec<String> = console_connections::table
        .filter(console_connections::node_id.eq_any(nodes))
        .select(console_connections::user_id)
        .distinct()
        .load(conn)?;
    let set: HashSet<String> = live.iter().cloned().collect();
    let mut out = cards(conn, &live, &set)?;
    if let Some(units) = units {
        out.retain(|p| units.contains(&p.unit_id));
    }
    Ok(out)
}

/// Names, units and states of `ids`; `live` says who is present.
fn cards(
    conn: &mut DbConn,
    ids: &[String],
    live: &HashSet<String>,
) -> Result<Vec<Present>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let states: HashMap<String, (String, chrono::NaiveDateTime)> = console_states::table
            .filter(console_states::user_id.eq_any(chunk))
            .select((
                console_states::user_id,
                console_states::state,
                console_states::since,
            ))
            .load::<(String, String, chrono::NaiveDateTime)>(conn)?
            .into_iter()
            .map(|(u, s, t)| (u, (s, t)))
            .collect();
        for row in crate::db::schema::users::table
            .filter(crate::db::schema::users::id.eq_any(chunk))
            .select(users::UserRow::as_select())
            .load(conn)?
        {
            let u = users::User::try_from(&row)?;
            let state = live
                .contains(&row.id)
                .then(|| states.get(&row.id))
                .flatten();
            out.push(Present {
                user_id: u.id,
                username: u.username,
                display_name: u.display_name,
                role: u.role,
                unit_id: u.unit_id,
                state: state.map(|s| s.0.clone()),
                since: state.map(|s| from_db(s.1)),
            });
        }
    }
    out.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(out)
}

/// Who views or edits a ticket, by username.
pub fn watchers(
    conn: &mut DbConn,
    ticket: TicketId,
    cutoff: DateTime<Utc>,
) -> Result<Vec<Watcher>, StoreError> {
    let nodes = live_nodes(conn, cutoff)?;
    let rows: Vec<(String, String)> = console_watching::table
        .filter(console_watching::ticket_id.eq(ticket.to_string()))
        .filter(console_watching::node_id.eq_any(nodes))
        .select((console_watching::user_id, console_watching::mode))
        .load(conn)?;
    let mut editing: HashMap<String, bool> = HashMap::new();
    for (user, mode) in rows {
        *editing.entry(user).or_default() |= mode == "editing";
    }
    let ids: Vec<String> = editing.keys().cloned().collect();
    let mut out = Vec::with_capacity(ids.len());
    for row in crate::db::schema::users::table
        .filter(crate::db::schema::users::id.eq_any(&ids))
        .select(users::UserRow::as_select())
        .load(conn)?
    {
        let u = users::User::try_from(&row)?;
        out.push(Watcher {
            user_id: u.id,
            username: u.username,
            display_name: u.display_name,
            editing: editing.get(&row.id).copied().unwrap_or(false),
        });
    }
    out.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(out)
}

/// What the sweep of dead nodes released: whose presence and which tickets' watchers changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expired {
    pub users: Vec<UserId>,
    pub tickets: Vec<TicketId>,
}

/// Deletes the rows of nodes whose heartbeat is older than `cutoff`.
pub fn expire(conn: &mut DbConn, cutoff: DateTime<Utc>) -> Result<Expired, StoreError> {
    let dead: Vec<String> = console_nodes::table
        .filter(console_nodes::heartbeat_at.lt(to_db(cutoff)))
        .select(console_nodes::node_id)
        .load(conn)?;
    if dead.is_empty() {
        return Ok(Expired::default());
    }
    remove_nodes(conn, &dead)
}

/// Deletes these nodes' rows; returns whose presence and which tickets' watchers changed.
fn remove_nodes(conn: &mut DbConn, dead: &[String]) -> Result<Expired, StoreError> {
    let mut users: Vec<String> = console_connections::table
        .filter(console_connections::node_id.eq_any(dead))
        .select(console_connections::user_id)
        .distinct()
        .load(conn)?;
    let mut tickets: Vec<String> = console_watching::table
        .filter(console_watching::node_id.eq_any(dead))
        .select(console_watching::ticket_id)
        .distinct()
        .load(conn)?;
    users.sort();
    tickets.sort();
    diesel::delete(console_watching::table.filter(console_watching::node_id.eq_any(dead)))
        .execute(conn)?;
    diesel::delete(console_connections::table.filter(console_connections::node_id.eq_any(dead)))
        .execute(conn)?;
    diesel::delete(console_nodes::table.filter(console_nodes::node_id.eq_any(dead)))
        .execute(conn)?;
    Ok(Expired {
        users: users
            .iter()
            .map(|u| parse_col("console_connections.user_id", u))
            .collect::<Result<_, _>>()?,
        tickets: tickets
            .iter()
            .map(|t| parse_col("console_watching.ticket_id", t))
            .collect::<Result<_, _>>()?,
    })
}

/// Announces a change to the other nodes (PostgreSQL; delivered when the transaction commits).
pub fn notify(conn: &mut DbConn, payload: &str) -> Result<(), StoreError> {
    if let DbConn::Pg(_) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(NOTIFY_CHANNEL)
            .bind::<diesel::sql_types::Text, _>(payload)
            .execute(conn)?;
    }
    Ok(())
}
