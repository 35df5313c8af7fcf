//! Topics a connection subscribes to, and what each means in terms the hub indexes: a unit, a
//! ticket, or everything the caller's scope covers. Who may subscribe to what follows the
//! Foundation's rules: a unit or ticket outside the caller's scope is refused.

use std::collections::HashSet;
use std::fmt;

use hotline_core::domain::Role;
use hotline_core::http::Caller;
use hotline_core::ids::{TicketId, UnitId};
use hotline_core::store::{tickets, units};
use hotline_core::{DbConn, StoreError};

use crate::protocol::Refusal;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// The caller's own work: a centre's staff, every ticket of their centre; unit staff, the
    /// tickets their unit holds; a leader, everything in scope.
    QueueMe,
    /// One unit's queue, by the unit's code.
    Unit(String),
    Ticket(TicketId),
    /// Every ticket in the caller's scope, and the presence of everyone in it (dispatchers and
    /// leaders).
    Wallboard,
    /// The presence of the caller's own unit's staff (a centre's agents: their colleagues).
    PresenceMe,
    /// The presence of one unit's staff, by the unit's code.
    Presence(String),
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QueueMe => f.write_str("queue:me"),
            Self::Unit(code) => write!(f, "unit:{code}"),
            Self::Ticket(id) => write!(f, "ticket:{id}"),
            Self::Wallboard => f.write_str("wallboard"),
            Self::PresenceMe => f.write_str("presence:me"),
            Self::Presence(code) => write!(f, "presence:{code}"),
        }
    }
}

impl Topic {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "queue:me" => return Ok(Self::QueueMe),
            "wallboard" => return Ok(Self::Wallboard),
            "presence:me" => return Ok(Self::PresenceMe),
            _ => {}
        }
        let unit_code = |code: &str| {
            let ok = !code.is_empty()
                && code.len() <= 64
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if ok {
                Ok(code.to_owned())
            } else {
                Err("a unit code is 1–64 ASCII letters, digits, `-` or `_`".to_owned())
            }
        };
        if let Some(code) = s.strip_prefix("unit:") {
            return unit_code(code).map(Self::Unit);
        }
        if let Some(code) = s.strip_prefix("presence:") {
            return unit_code(code).map(Self::Presence);
        }
        if let Some(id) = s.strip_prefix("ticket:") {
            return id
                .parse()
                .map(Self::Ticket)
                .map_err(|_| "a ticket id is a UUID".into());
        }
        Err(format!(
            "unknown topic {s:?}: expected queue:me, unit:<code>, ticket:<id>, wallboard, presence:me or presence:<code>"
        ))
    }
}

/// What a topic selects, as the hub indexes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Events of tickets the unit holds (centre, main or co-handling unit) and those its staff
    /// make.
    Unit(UnitId),
    Ticket(TicketId),
    /// Every event the connection's scope may see.
    Scope,
    /// Every event and everyone's presence the connection's scope may see.
    Wallboard,
    /// The presence of the unit's staff.
    Presence(UnitId),
}

/// The union of a connection's targets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    pub units: HashSet<UnitId>,
    pub tickets: HashSet<TicketId>,
    pub scope: bool,
    /// Presence of these units' staff.
    pub presence_units: HashSet<UnitId>,
    /// Presence of everyone in the scope.
    pub presence_scope: bool,
}

impl Targets {
    pub fn of<'a>(all: impl IntoIterator<Item = &'a Target>) -> Self {
        let mut t = Self::default();
        for target in all {
            match target {
                Target::Unit(u) => {
                    t.units.insert(*u);
                }
                Target::Ticket(id) => {
                    t.tickets.insert(*id);
                }
                Target::Scope => t.scope = true,
                Target::Wallboard => {
                    t.scope = true;
                    t.presence_scope = true;
                }
                Target::Presence(u) => {
                    t.presence_units.insert(*u);
                }
            }
        }
        t
    }

    /// True when some presence is selected.
    pub fn wants_presence(&self) -> bool {
        self.presence_scope || !self.presence_units.is_empty()
    }

    /// True when an event of `ticket` with these holders is selected (scope is checked apart).
    pub fn selects(&self, ticket: TicketId, holders: &[UnitId]) -> bool {
        self.scope
            || self.tickets.contains(&ticket)
            || holders.iter().any(|u| self.units.contains(u))
    }
}

/// Roles that may watch the wallboard.
fn may_watch_wallboard(role: Role) -> bool {
    matches!(role, Role::Dispatcher | Role::Leader)
}

/// Checks every topic of one `subscribe` against the caller's role and scope, in one pass over
/// the database. All or nothing: the first refused topic is the answer, naming `topics[i]`.
pub fn resolve(
    conn: &mut DbConn,
    caller: &Caller,
    topics: &[String],
) -> Result<Result<Vec<(Topic, Target)>, Refusal>, StoreError> {
    let mut out = Vec::with_capacity(topics.len());
    for (i, raw) in topics.iter().enumerate() {
        let field = format!("topics[{i}]");
        let topic = match Topic::parse(raw) {
            Ok(t) => t,
            Err(reason) => return Ok(Err(Refusal::invalid(field, reason))),
        };
        let target = match &topic {
            Topic::QueueMe => match caller.user.role {
                Role::Leader => Target::Scope,
                _ => Target::Unit(caller.unit.id),
            },
            Topic::Wallboard => {
                if !may_watch_wallboard(caller.user.role) {
                    return Ok(Err(Refusal::new(
                        "forbidden",
                        Some(field),
                        format!(
                            "the wallboard is for dispatchers and leaders, not the role {}",
                            caller.user.role
                        ),
                    )));
                }
                Target::Wallboard
            }
            Topic::PresenceMe => Target::Presence(caller.unit.id),
            Topic::Unit(code) | Topic::Presence(code) => match units::by_code(conn, code)? {
                Some(u) if caller.scope.contains(u.id) => match topic {
                    Topic::Presence(_) => Target::Presence(u.id),
                    _ => Target::Unit(u.id),
                },
                Some(_) => {
                    return Ok(Err(Refusal::new(
                        "forbidden",
                        Some(field),
                        format!("the unit {code} is outside your scope"),
                    )));
                }
                None => {
                    return Ok(Err(Refusal::new(
                        "not_found",
                        Some(field),
                        format!("no unit has the code {code}"),
                    )));
                }
            },
            Topic::Ticket(id) => match tickets::get_visible(conn, *id, &caller.scope) {
                Ok(_) => Target::Ticket(*id),
                // Outside the scope reads as absent, as in the API: existence does not leak.
                Err(StoreError::NotFound(_)) => {
                    return Ok(Err(Refusal::new(
                        "not_found",
                        Some(field),
                        format!("no ticket {id}"),
                    )));
                }
                Err(e) => return Err(e),
            },
        };
        out.push((topic, target));
    }
    Ok(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip() {
        for s in [
            "queue:me",
            "wallboard",
            "unit:990103",
            "unit:990100-12345",
            "presence:me",
            "presence:990103",
            "ticket:6f1c1a52-5d43-4f0e-9d6c-6f3b1f1d2a10",
        ] {
            assert_eq!(Topic::parse(s).unwrap().to_string(), s);
        }
        for bad in ["", "queue:you", "unit:", "unit:a b", "ticket:42", "wall"] {
            assert!(Topic::parse(bad).is_err(), "{bad}");
        }
    }
}
