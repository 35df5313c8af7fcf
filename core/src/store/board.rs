//! What the dispatcher's wallboard counts: the clocks of the open tickets in a scope (their
//! warning colours are worked out from these with the calendar) and the day's counts. Narrow
//! reads: a few columns of the open tickets, and four counts on indexed timestamps.

use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;

use crate::db::schema::{ticket_units, tickets};
use crate::db::{DbConn, StoreError, from_db, to_db};
use crate::domain::{AppealType, Urgency};
use crate::scope::Scope;
use crate::store::parse_col;
use crate::ticket::{Status, Ticket};

/// The statuses of a ticket that is not finished (closed, merged and withdrawn are).
pub const OPEN: [Status; 7] = [
    Status::Received,
    Status::Dispatched,
    Status::Handling,
    Status::Returned,
    Status::Suspended,
    Status::Replied,
    Status::Visited,
];

/// What a ticket's clock depends on: enough to tell its warning colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Clock {
    pub status: Status,
    pub appeal_type: AppealType,
    pub urgency: Urgency,
    pub supervised: bool,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub sign_deadline: Option<DateTime<Utc>>,
    pub handle_deadline: Option<DateTime<Utc>>,
}

impl Clock {
    pub fn of(t: &Ticket) -> Self {
        Self {
            status: t.status,
            appeal_type: t.appeal_type,
            urgency: t.urgency,
            supervised: t.supervised,
            dispatched_at: t.dispatched_at,
            signed_at: t.signed_at,
            sign_deadline: t.sign_deadline,
            handle_deadline: t.handle_deadline,
        }
    }
}

type ClockRow = (
    String,
    String,
    String,
    bool,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
);

fn unit_strings(units: &[crate::ids::UnitId]) -> Vec<String> {
    units.iter().map(ToString::to_string).collect()
}

/// The clocks of every open ticket visible in `scope`.
pub fn open_clocks(conn: &mut DbConn, scope: &Scope) -> Result<Vec<Clock>, StoreError> {
    let open: Vec<String> = OPEN.iter().map(ToString::to_string).collect();
    let mut q = tickets::table
        .filter(tickets::status.eq_any(open))
        .select((
            tickets::status,
            tickets::appeal_type,
            tickets::urgency,
            tickets::supervised,
            tickets::dispatched_at,
            tickets::signed_at,
            tickets::sign_deadline,
            tickets::handle_deadline,
        ))
        .into_boxed();
    if let Scope::Units(units) = scope {
        q = q.filter(
            tickets::id.eq_any(
                ticket_units::table
                    .filter(ticket_units::unit_id.eq_any(unit_strings(units)))
                    .select(ticket_units::ticket_id),
            ),
        );
    }
    let rows: Vec<ClockRow> = q.load(conn)?;
    rows.into_iter()
        .map(
            |(status, kind, urgency, supervised, dispatched, signed, sign, handle)| {
                Ok(Clock {
                    status: parse_col("tickets.status", &status)?,
                    appeal_type: parse_col("tickets.appeal_type", &kind)?,
                    urgency: parse_col("tickets.urgency", &urgency)?,
                    supervised,
                    dispatched_at: dispatched.map(from_db),
                    signed_at: signed.map(from_db),
                    sign_deadline: sign.map(from_db),
                    handle_deadline: handle.map(from_db),
                })
            },
        )
        .collect()
}

/// How many tickets visible in `scope` were received, dispatched, replied to and closed since
/// `since` (the start of the day).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DayCounts {
    pub received: i64,
    pub dispatched: i64,
    pub replied: i64,
    pub closed: i64,
}

pub fn counts_since(
    conn: &mut DbConn,
    scope: &Scope,
    since: DateTime<Utc>,
) -> Result<DayCounts, StoreError> {
    let since = to_db(since);
    let units = match scope {
        Scope::All => None,
        Scope::Units(u) => Some(unit_strings(u)),
    };
    // One count per timestamp column; each is an indexed range or a short scan of the day.
    macro_rules! count_from {
        ($column:expr) => {{
            let mut q = tickets::table
                .filter($column.ge(since))
                .select(count_star())
                .into_boxed();
            if let Some(units) = &units {
                q = q.filter(
                    tickets::id.eq_any(
                        ticket_units::table
                            .filter(ticket_units::unit_id.eq_any(units.clone()))
                            .select(ticket_units::ticket_id),
                    ),
                );
            }
            q.first::<i64>(conn)?
        }};
    }
    Ok(DayCounts {
        received: count_from!(tickets::received_at),
        dispatched: count_from!(tickets::dispatched_at),
        replied: count_from!(tickets::replied_at),
        closed: count_from!(tickets::closed_at),
    })
}
