//! Claims (认领): one user works a ticket of a shared queue at a time. A claim is an event like
//! any other (`claimed`, `claim_released`), so it bumps the ticket's version, goes to every
//! console over the event stream, and the row's `claimed_by` is the fold of the history.
//!
//! The rules, all pure:
//! - A ticket waiting at the centre (received, returned, replied, visited) is claimed by the
//!   centre's agents and dispatchers; one with a unit (dispatched, handling, suspended) by the
//!   staff of its handling unit. An ended ticket cannot be claimed.
//! - A claim holds the ticket in its queue: when the ticket moves to another queue (dispatched,
//!   replied, ended…) the claim ends by itself (see `apply`).
//! - While claimed, others may read, view and watch it, but their actions are refused with 409
//!   `claimed` naming the holder, except for supervisors: dispatchers (派单员/班长) and leaders,
//!   the handling unit's administrator on its unit's tickets, and the system and the citizen,
//!   whose actions no claim blocks. Supervision (督办) is never blocked.
//! - Dispatchers (on the centre's tickets) and unit administrators (on their unit's) may take a
//!   claim over or end it; anyone else gets 409 `claimed`.

use crate::domain::{Actor, Role};
use crate::ids::UnitId;
use crate::ticket::action::ActionKind;
use crate::ticket::change::Change;
use crate::ticket::machine::TransitionError;
use crate::ticket::state::{Status, Ticket};

/// Which shared queue a ticket waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// The centre's (to dispatch, rule on, visit, close).
    Centre,
    /// The handling unit's (to sign for, handle, reply).
    Unit(UnitId),
    /// None: the ticket has ended.
    Ended,
}

pub fn queue_of(t: &Ticket) -> Queue {
    match t.status {
        Status::Received | Status::Returned | Status::Replied | Status::Visited => Queue::Centre,
        Status::Dispatched | Status::Handling | Status::Suspended => {
            t.main_unit_id.map_or(Queue::Centre, Queue::Unit)
        }
        Status::Closed | Status::Merged | Status::Withdrawn => Queue::Ended,
    }
}

/// True when `actor` works the queue the ticket is in (and so may claim it).
fn works_queue(t: &Ticket, role: Role, unit: UnitId) -> bool {
    match queue_of(t) {
        Queue::Centre => role.is_centre_staff(),
        Queue::Unit(u) => role.is_unit_staff() && u == unit,
        Queue::Ended => false,
    }
}

/// True when `actor` supervises the queue: may act despite a claim, take it over or end it.
fn supervises(t: &Ticket, role: Role, unit: UnitId) -> bool {
    match queue_of(t) {
        Queue::Centre => role == Role::Dispatcher,
        Queue::Unit(u) => role == Role::Dispatcher || (role == Role::UnitAdmin && u == unit),
        Queue::Ended => false,
    }
}

/// Whether the claim lets `actor` take `kind` on the ticket now.
pub fn check(t: &Ticket, kind: ActionKind, actor: &Actor) -> Result<(), TransitionError> {
    let (
        Some(holder),
        Actor::Staff {
            user_id,
            role,
            unit,
        },
    ) = (t.claimed_by, actor)
    else {
        return Ok(());
    };
    if holder == *user_id
        || kind == ActionKind::Supervise
        || *role == Role::Leader
        || supervises(t, *role, unit.id)
    {
        return Ok(());
    }
    Err(TransitionError::Claimed {
        holder,
        version: t.version,
    })
}

/// Decides a claim. The holder claiming again changes nothing; `take_over` lets a supervisor of
/// the queue take another user's claim.
pub fn decide_claim(
    t: &Ticket,
    actor: &Actor,
    take_over: bool,
) -> Result<Vec<Change>, TransitionError> {
    let Actor::Staff {
        user_id,
        role,
        unit,
    } = actor
    else {
        return Err(TransitionError::ClaimForbidden {
            reason: "only staff claim tickets",
        });
    };
    if queue_of(t) == Queue::Ended {
        return Err(TransitionError::ClaimState {
            status: t.status,
            reason: "an ended ticket cannot be claimed",
        });
    }
    if !works_queue(t, *role, unit.id) {
        return Err(TransitionError::ClaimForbidden {
            reason: "a ticket is claimed by the staff of the queue it waits in: the centre's agents and dispatchers, or its handling unit's staff",
        });
    }
    match t.claimed_by {
        None => Ok(vec![Change::Claimed {
            taken_over_from: None,
        }]),
        Some(h) if h == *user_id => Ok(Vec::new()),
        Some(h) if take_over && supervises(t, *role, unit.id) => Ok(vec![Change::Claimed {
            taken_over_from: Some(h),
        }]),
        Some(_) if take_over => Err(TransitionError::ClaimForbidden {
            reason: "only a dispatcher, or the handling unit's administrator, takes over a claim",
        }),
        Some(h) => Err(TransitionError::Claimed {
            holder: h,
            version: t.version,
        }),
    }
}

/// Decides the end of a claim: by its holder, or by a supervisor of the queue.
pub fn decide_release(t: &Ticket, actor: &Actor) -> Result<Vec<Change>, TransitionError> {
    let Some(holder) = t.claimed_by else {
        return Err(TransitionError::ClaimState {
            status: t.status,
            reason: "the ticket is not claimed",
        });
    };
    let allowed = match actor {
        Actor::Staff {
            user_id,
            role,
            unit,
        } => *user_id == holder || supervises(t, *role, unit.id),
        _ => false,
    };
    if !allowed {
        return Err(TransitionError::Claimed {
            holder,
            version: t.version,
        });
    }
    Ok(vec![Change::ClaimReleased { holder }])
}
