//! The ticket state machine: `decide` says which changes an action makes (or why it may not),
//! `apply` folds a change into the ticket. Both are pure: no I/O, no clock but the one passed in.

use chrono::{DateTime, Utc};
use strum::IntoEnumIterator;

use crate::domain::{Actor, AppealType, Role, UnitKind, UnitRef, Urgency};
use crate::ids::{QueryCode, TicketId, TicketNumber};
use crate::ticket::action::{Action, ActionKind, NewAppeal, Ruling};
use crate::ticket::change::{Assignment, Change, Event, Received};
use crate::ticket::state::{ExtensionState, Rating, Status, Ticket};
use crate::time_limit::Deadlines;

/// The most co-handling units one dispatch may name.
pub const MAX_CO_UNITS: usize = 10;

/// The time limits the machine needs, computed from the working-day calendar. Every method answers
/// None when the calendar does not cover the period: the ticket still moves, without a deadline.
pub trait Clock {
    /// Deadlines of a ticket of this type and urgency dispatched at `at`.
    fn deadlines(&self, t: AppealType, u: Urgency, at: DateTime<Utc>) -> Option<Deadlines>;
    /// `deadline` moved later by the time the clock stood still between `from` and `to`.
    fn shift(
        &self,
        deadline: DateTime<Utc>,
        u: Urgency,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Option<DateTime<Utc>>;
    /// `deadline` plus `days` working days.
    fn extend(&self, deadline: DateTime<Utc>, days: u32) -> Option<DateTime<Utc>>;
    /// The longest extension this type allows, in working days; None when it allows none.
    fn max_extension_days(&self, t: AppealType, u: Urgency) -> Option<u32>;
    /// When the return visit of a ticket replied at `replied_at` is due.
    fn visit_deadline(&self, replied_at: DateTime<Utc>) -> Option<DateTime<Utc>>;
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The action does not apply to a ticket in this state (HTTP 409).
    #[error("cannot {action} a ticket whose status is {status}{}", detail.map(|d| format!(": {d}")).unwrap_or_default())]
    InvalidState {
        action: ActionKind,
        status: Status,
        detail: Option<&'static str>,
    },
    /// The actor may not take this action on this ticket (HTTP 403).
    #[error("not allowed to {action}: {reason}")]
    Forbidden {
        action: ActionKind,
        reason: &'static str,
    },
    /// A value of the request is unacceptable (HTTP 422).
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// Another user has claimed the ticket (HTTP 409 `claimed`, naming the holder).
    #[error("the ticket is claimed by another user (now at version {version})")]
    Claimed {
        holder: crate::ids::UserId,
        version: i32,
    },
    /// A release of a ticket nobody has claimed, or a claim of an ended one (HTTP 409).
    #[error("{reason}")]
    ClaimState {
        status: Status,
        reason: &'static str,
    },
    /// The actor may not claim this ticket, or take over or end another's claim (HTTP 403).
    #[error("not allowed: {reason}")]
    ClaimForbidden { reason: &'static str },
}

/// Everything besides the ticket and the action that a decision depends on.
pub struct Ctx<'a> {
    pub actor: &'a Actor,
    pub now: DateTime<Utc>,
    pub clock: &'a dyn Clock,
    /// Where the ticket's units sit in the tree, for decisions that escalate (supervision);
    /// None when the caller did not resolve them (supervision then reaches the centre only).
    pub placement: Option<&'a Placement>,
}

/// The ticket's centre and main unit, resolved to their places in the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub centre: UnitRef,
    pub main: Option<UnitRef>,
}

/// The ids in a unit path `/id/id/…/id/`, root first.
fn path_ids(path: &str) -> Vec<crate::ids::UnitId> {
    path.split('/')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The unit the `level`-th supervision (1 for the first) of a ticket escalates to: the handling
/// unit's parent the first time, one level higher each time after, but never above the
/// government the centre serves (the top of the centre's area).
pub fn escalation_target(placement: &Placement, level: i32) -> Option<crate::ids::UnitId> {
    let main = placement.main.as_ref()?;
    let ids = path_ids(&main.path);
    let top = path_ids(jurisdiction(&placement.centre));
    let ancestors = &ids[..ids.len().saturating_sub(1)];
    // Inside the centre's area escalation stops at the centre's government; a unit outside it
    // (a province department, say) escalates to its own parent only.
    let floor = if ids.starts_with(&top) {
        top.len().saturating_sub(1)
    } else {
        ancestors.len().saturating_sub(1)
    };
    let nearest_first: Vec<_> = ancestors[floor.min(ancestors.len())..]
        .iter()
        .rev()
        .copied()
        .collect();
    let step = usize::try_from(level.max(1)).unwrap_or(1);
    nearest_first
        .get(step.min(nearest_first.len()).checked_sub(1)?)
        .copied()
}

/// The unit tree a centre (or any other unit) may route to: a centre serves the area of the
/// government it sits under, any other unit its own subtree.
pub fn jurisdiction(unit: &UnitRef) -> &str {
    if unit.kind == UnitKind::Centre {
        let trimmed = unit.path.trim_end_matches('/');
        match trimmed.rfind('/') {
            Some(i) if i > 0 => &unit.path[..=i],
            _ => &unit.path,
        }
    } else {
        &unit.path
    }
}

/// Registers a new appeal as a ticket received by `centre`.
pub fn receive(
    appeal: &NewAppeal,
    number: TicketNumber,
    query_code: QueryCode,
    centre: &UnitRef,
    actor: &Actor,
) -> Result<Change, TransitionError> {
    if let Actor::Staff { role, .. } = actor
        && !role.is_centre_staff()
    {
        return Err(TransitionError::Forbidden {
            action: ActionKind::Dispatch,
            reason: "only hotline agents and dispatchers register appeals",
        });
    }
    if centre.kind != UnitKind::Centre {
        return Err(TransitionError::Invalid {
            field: "centre_id",
            reason: "appeals are received by a 12345 centre".into(),
        });
    }
    Ok(Change::Received(Received {
        number,
        query_code,
        channel: appeal.channel,
        appeal_type: appeal.appeal_type,
        urgency: appeal.urgency,
        category_id: appeal.category_id,
        title: appeal.title.as_str().to_owned(),
        detail: appeal.detail.as_str().to_owned(),
        address: appeal.address.as_ref().map(|a| a.as_str().to_owned()),
        latitude: appeal.latitude,
        longitude: appeal.longitude,
        citizen_name: appeal.citizen_name.as_ref().map(|a| a.as_str().to_owned()),
        citizen_phone: appeal.citizen_phone.as_ref().map(|p| p.as_str().to_owned()),
        citizen_id_number: appeal
            .citizen_id_number
            .as_ref()
            .map(|p| p.as_str().to_owned()),
        centre_id: centre.id,
    }))
}

/// The statuses each action starts from: the transition table of the closed loop.
pub fn from_statuses(kind: ActionKind) -> &'static [Status] {
    use ActionKind as A;
    use Status as S;
    match kind {
        A::Answer | A::Dispatch | A::Withdraw => &[S::Received],
        A::Sign => &[S::Dispatched],
        A::PassDown | A::Suspend | A::Reply | A::RequestExtension => &[S::Handling],
        A::Return => &[S::Dispatched, S::Handling],
        A::Rule => &[S::Returned],
        A::ApproveExtension | A::DenyExtension => &[S::Handling, S::Suspended],
        A::Resume => &[S::Suspended],
        A::ReturnVisit => &[S::Replied],
        A::Rate | A::Redo => &[S::Replied, S::Visited],
        A::Close => &[S::Visited],
        A::Supervise => &[
            S::Received,
            S::Dispatched,
            S::Handling,
            S::Returned,
            S::Suspended,
            S::Replied,
            S::Visited,
        ],
        A::Merge => &[
            S::Received,
            S::Dispatched,
            S::Handling,
            S::Returned,
            S::Suspended,
        ],
    }
}

/// Checks state and actor for an action, without looking at its values.
pub fn precheck(t: &Ticket, kind: ActionKind, actor: &Actor) -> Result<(), TransitionError> {
    use ActionKind as A;
    let invalid = |detail| TransitionError::InvalidState {
        action: kind,
        status: t.status,
        detail,
    };
    if !from_statuses(kind).contains(&t.status) {
        return Err(invalid(None));
    }
    match kind {
        A::RequestExtension if t.extension != ExtensionState::None => {
            return Err(invalid(Some("a ticket gets one extension request")));
        }
        A::ApproveExtension | A::DenyExtension if t.extension != ExtensionState::Requested => {
            return Err(invalid(Some("no extension request is pending")));
        }
        A::Rate if t.rating.is_some() => return Err(invalid(Some("the ticket is already rated"))),
        A::Redo if t.rating != Some(Rating::Dissatisfied) => {
            return Err(invalid(Some("redo follows a 不满意 rating")));
        }
        _ => {}
    }
    let forbidden = |reason| {
        Err(TransitionError::Forbidden {
            action: kind,
            reason,
        })
    };
    let Actor::Staff { role, unit, .. } = actor else {
        return match (actor, kind) {
            (Actor::Citizen, A::Rate | A::Withdraw) => Ok(()),
            (Actor::System, A::Supervise) => Ok(()),
            _ => forbidden("only staff may take this action"),
        };
    };
    let of_main_unit = role.is_unit_staff() && t.main_unit_id == Some(unit.id);
    match kind {
        A::Answer
        | A::Dispatch
        | A::Withdraw
        | A::ReturnVisit
        | A::Rate
        | A::Redo
        | A::Close
        | A::Merge => {
            if role.is_centre_staff() {
                Ok(())
            } else {
                forbidden("this is the hotline centre's action")
            }
        }
        A::Rule | A::ApproveExtension | A::DenyExtension => {
            if *role == Role::Dispatcher {
                Ok(())
            } else {
                forbidden("this is the dispatcher's decision")
            }
        }
        A::Supervise => {
            if matches!(role, Role::Dispatcher | Role::Leader) {
                Ok(())
            } else {
                forbidden("supervision is for dispatchers and leaders")
            }
        }
        A::Resume => {
            if of_main_unit || *role == Role::Dispatcher {
                Ok(())
            } else {
                forbidden("only the handling unit or a dispatcher may resume")
            }
        }
        A::Sign | A::PassDown | A::Return | A::RequestExtension | A::Suspend | A::Reply => {
            if of_main_unit {
                Ok(())
            } else {
                forbidden("only staff of the unit handling the ticket may do this")
            }
        }
    }
}

/// The actions `actor` may take on `t` now (the buttons a page shows).
pub fn available_actions(t: &Ticket, actor: &Actor) -> Vec<ActionKind> {
    ActionKind::iter()
        .filter(|k| precheck(t, *k, actor).is_ok())
        .collect()
}

fn check_route_target(
    actor: &Actor,
    target: &UnitRef,
    field: &'static str,
) -> Result<(), TransitionError> {
    if target.kind == UnitKind::Centre {
        return Err(TransitionError::Invalid {
            field,
            reason: "a ticket is dispatched to a handling unit, not to a 12345 centre".into(),
        });
    }
    if let Some(unit) = actor.unit()
        && !target.path.starts_with(jurisdiction(unit))
    {
        return Err(TransitionError::Invalid {
            field,
            reason: "the unit is outside this centre's area".into(),
        });
    }
    Ok(())
}

fn assignment(
    t: &Ticket,
    main: &UnitRef,
    co: &[UnitRef],
    ctx: &Ctx<'_>,
) -> Result<Assignment, TransitionError> {
    check_route_target(ctx.actor, main, "main_unit_id")?;
    if co.len() > MAX_CO_UNITS {
        return Err(TransitionError::Invalid {
            field: "co_unit_ids",
            reason: format!("at most {MAX_CO_UNITS} co-handling units"),
        });
    }
    let mut co_ids = Vec::with_capacity(co.len());
    for unit in co {
        check_route_target(ctx.actor, unit, "co_unit_ids")?;
        if unit.id == main.id || co_ids.contains(&unit.id) {
            return Err(TransitionError::Invalid {
                field: "co_unit_ids",
                reason: "co-handling units must differ from each other and from the main unit"
                    .into(),
            });
        }
        co_ids.push(unit.id);
    }
    Ok(Assignment {
        main_unit_id: main.id,
        co_unit_ids: co_ids,
        deadlines: ctx.clock.deadlines(t.appeal_type, t.urgency, ctx.now),
    })
}

fn text(r: &crate::domain::text::Reason) -> String {
    r.as_str().to_owned()
}

fn opt_text(r: &Option<crate::domain::text::Reason>) -> Option<String> {
    r.as_ref().map(text)
}

/// Decides the changes `action` makes to `t`, or why it may not.
pub fn decide(t: &Ticket, action: &Action, ctx: &Ctx<'_>) -> Result<Vec<Change>, TransitionError> {
    let kind = action.kind();
    precheck(t, kind, ctx.actor)?;
    let change = match action {
        Action::Answer { answer, article } => Change::AnsweredDirectly {
            answer: text(answer),
            article: article.clone(),
        },
        Action::Dispatch { main, co, note } => Change::Dispatched {
            assignment: assignment(t, main, co, ctx)?,
            note: opt_text(note),
        },
        Action::Sign => Change::Signed,
        Action::PassDown { to, note } => {
            let from = ctx.actor.unit();
            if from.is_none_or(|f| !to.is_below(f)) {
                return Err(TransitionError::Invalid {
                    field: "to_unit_id",
                    reason: "a ticket is passed down only to a unit below the handling unit".into(),
                });
            }
            if to.kind == UnitKind::Centre {
                return Err(TransitionError::Invalid {
                    field: "to_unit_id",
                    reason: "a ticket is passed down to a handling unit, not a 12345 centre".into(),
                });
            }
            let d = ctx.clock.deadlines(t.appeal_type, t.urgency, ctx.now);
            Change::PassedDown {
                to_unit_id: to.id,
                sign_deadline: d.as_ref().map(|d| d.sign_by),
                return_deadline: d.as_ref().map(|d| d.return_by),
                note: opt_text(note),
            }
        }
        Action::Return { reason } => {
            if t.return_deadline.is_some_and(|d| ctx.now > d) {
                return Err(TransitionError::InvalidState {
                    action: kind,
                    status: t.status,
                    detail: Some("the return window has closed"),
                });
            }
            // Returned before: the ping-pong guard sends it to the centre's shift lead.
            let to_shift_lead = t.return_count >= 1;
            let back_to_unit_id = match t.chain.as_slice() {
                [.., above, _current] if !to_shift_lead => Some(*above),
                _ => None,
            };
            Change::Returned {
                reason: text(reason),
                back_to_unit_id,
                to_shift_lead,
            }
        }
        Action::Rule { ruling, decision } => Change::Ruled {
            ruling: text(ruling),
            redispatch: match decision {
                Ruling::Redispatch { main, co } => Some(assignment(t, main, co, ctx)?),
                Ruling::SendBack => None,
            },
        },
        Action::RequestExtension { days, reason } => {
            let Some(max) = ctx.clock.max_extension_days(t.appeal_type, t.urgency) else {
                return Err(TransitionError::Invalid {
                    field: "days",
                    reason: "this type of appeal has no extension".into(),
                });
            };
            if *days == 0 || *days > max {
                return Err(TransitionError::Invalid {
                    field: "days",
                    reason: format!("must be 1 to {max} working days"),
                });
            }
            if t.handle_deadline.is_some_and(|d| ctx.now > d) {
                return Err(TransitionError::InvalidState {
                    action: kind,
                    status: t.status,
                    detail: Some("an extension is asked for before the deadline"),
                });
            }
            Change::ExtensionRequested {
                days: i32::try_from(*days).unwrap_or(i32::MAX),
                reason: text(reason),
            }
        }
        Action::ApproveExtension { days, note } => {
            let requested = u32::try_from(t.extension_days.unwrap_or(0)).unwrap_or(0);
            let granted = days.unwrap_or(requested);
            if granted == 0 || granted > requested {
                return Err(TransitionError::Invalid {
                    field: "days",
                    reason: format!("must be 1 to the {requested} working days requested"),
                });
            }
            Change::ExtensionApproved {
                days: i32::try_from(granted).unwrap_or(i32::MAX),
                handle_deadline: t.handle_deadline.and_then(|d| ctx.clock.extend(d, granted)),
                note: opt_text(note),
            }
        }
        Action::DenyExtension { reason } => Change::ExtensionDenied {
            reason: text(reason),
        },
        Action::Suspend { reason } => Change::Suspended {
            reason: text(reason),
        },
        Action::Resume => {
            let since = t.suspended_at.unwrap_or(ctx.now);
            let shift = |d: Option<DateTime<Utc>>| {
                d.and_then(|d| ctx.clock.shift(d, t.urgency, since, ctx.now))
            };
            Change::Resumed {
                sign_deadline: shift(t.sign_deadline),
                handle_deadline: shift(t.handle_deadline),
                return_deadline: shift(t.return_deadline),
            }
        }
        Action::Reply { reply } => Change::Replied {
            reply: text(reply),
            visit_deadline: ctx.clock.visit_deadline(ctx.now),
        },
        Action::ReturnVisit { reached, note } => Change::ReturnVisited {
            reached: *reached,
            note: opt_text(note),
        },
        Action::Rate { rating, comment } => {
            let rated = Change::Rated {
                rating: *rating,
                comment: opt_text(comment),
            };
            // The citizen's own 不满意 sends the ticket back at once; a rating the centre records
            // on a return visit leaves redo to the agent's judgement.
            if matches!(ctx.actor, Actor::Citizen) && *rating == Rating::Dissatisfied {
                return Ok(vec![
                    rated,
                    Change::RedoOrdered {
                        reason: "群众评价不满意，自动重办".into(),
                        deadlines: ctx.clock.deadlines(t.appeal_type, t.urgency, ctx.now),
                    },
                ]);
            }
            rated
        }
        Action::Redo { reason } => Change::RedoOrdered {
            reason: text(reason),
            deadlines: ctx.clock.deadlines(t.appeal_type, t.urgency, ctx.now),
        },
        Action::Supervise { reason } => Change::Supervised {
            reason: text(reason),
            escalated_to: ctx
                .placement
                .filter(|p| p.main.as_ref().map(|m| m.id) == t.main_unit_id)
                .and_then(|p| escalation_target(p, t.supervision_count + 1)),
        },
        Action::Withdraw { reason } => Change::Withdrawn {
            reason: text(reason),
        },
        Action::Close { resolution } => Change::Closed {
            resolution: text(resolution),
        },
    };
    Ok(crate::ticket::personal::with_erasure(t, change))
}

/// Decides a merge of duplicate `source` into `target`: the source ends as merged, the target
/// records what it absorbed.
pub fn decide_merge(
    source: &Ticket,
    target: &Ticket,
    reason: &crate::domain::text::Reason,
    actor: &Actor,
) -> Result<(Change, Change), TransitionError> {
    precheck(source, ActionKind::Merge, actor)?;
    if source.id == target.id {
        return Err(TransitionError::Invalid {
            field: "target_id",
            reason: "a ticket cannot be merged into itself".into(),
        });
    }
    if target.status.is_terminal() {
        return Err(TransitionError::Invalid {
            field: "target_id",
            reason: format!("the target ticket is {}", target.status),
        });
    }
    Ok((
        Change::MergedInto {
            target_id: target.id,
            reason: text(reason),
        },
        Change::Absorbed {
            source_id: source.id,
        },
    ))
}

/// Why a history cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("the first event of ticket {0} is not `received`")]
    NotStartedByReceived(TicketId),
    #[error("ticket {0} is received twice")]
    ReceivedTwice(TicketId),
    #[error("event version {found} of ticket {ticket} follows version {expected_before}")]
    OutOfOrder {
        ticket: TicketId,
        found: i32,
        expected_before: i32,
    },
}

fn set_deadlines(t: &mut Ticket, d: &Option<Deadlines>) {
    t.sign_deadline = d.as_ref().map(|d| d.sign_by);
    t.handle_deadline = d.as_ref().map(|d| d.handle_by);
    t.return_deadline = d.as_ref().map(|d| d.return_by);
}

fn assign(t: &mut Ticket, a: &Assignment, at: DateTime<Utc>) {
    t.status = Status::Dispatched;
    t.main_unit_id = Some(a.main_unit_id);
    t.co_unit_ids = a.co_unit_ids.clone();
    t.chain = vec![a.main_unit_id];
    t.dispatched_at = Some(at);
    t.signed_at = None;
    set_deadlines(t, &a.deadlines);
}

/// Folds one event into the ticket it belongs to (None before `received`).
pub fn apply(state: Option<Ticket>, e: &Event) -> Result<Ticket, ReplayError> {
    let at = e.occurred_at;
    let mut t = match (state, &e.change) {
        (None, Change::Received(r)) => {
            return Ok(Ticket {
                id: e.ticket_id,
                number: r.number.clone(),
                query_code: r.query_code.clone(),
                channel: r.channel,
                appeal_type: r.appeal_type,
                urgency: r.urgency,
                category_id: r.category_id,
                title: r.title.clone(),
                detail: r.detail.clone(),
                address: r.address.clone(),
                latitude: r.latitude,
                longitude: r.longitude,
                citizen_name: r.citizen_name.clone(),
                citizen_phone: r.citizen_phone.clone(),
                citizen_id_number: r.citizen_id_number.clone(),
                status: Status::Received,
                centre_id: r.centre_id,
                main_unit_id: None,
                co_unit_ids: Vec::new(),
                chain: Vec::new(),
                extension: ExtensionState::None,
                extension_days: None,
                supervised: false,
                supervision_count: 0,
                escalated_unit_id: None,
                reply: None,
                rating: None,
                rating_comment: None,
                resolution: None,
                merged_into: None,
                return_count: 0,
                redo_count: 0,
                received_at: at,
                dispatched_at: None,
                signed_at: None,
                replied_at: None,
                visited_at: None,
                closed_at: None,
                suspended_at: None,
                sign_deadline: None,
                handle_deadline: None,
                return_deadline: None,
                visit_deadline: None,
                created_by: e.actor_id,
                erasure_requested: false,
                erased_at: None,
                claimed_by: None,
                claimed_at: None,
                version: e.version,
                updated_at: at,
            });
        }
        (None, _) => return Err(ReplayError::NotStartedByReceived(e.ticket_id)),
        (Some(_), Change::Received(_)) => return Err(ReplayError::ReceivedTwice(e.ticket_id)),
        (Some(t), _) => t,
    };
    if e.version != t.version + 1 {
        return Err(ReplayError::OutOfOrder {
            ticket: t.id,
            found: e.version,
            expected_before: t.version,
        });
    }
    let queue_before = crate::ticket::claim::queue_of(&t);
    match &e.change {
        Change::Received(_) => {}
        Change::AnsweredDirectly { answer, .. } => {
            t.status = Status::Closed;
            t.resolution = Some(answer.clone());
            t.closed_at = Some(at);
        }
        Change::Dispatched { assignment, .. } => assign(&mut t, assignment, at),
        Change::Signed => {
            t.status = Status::Handling;
            t.signed_at = Some(at);
        }
        Change::PassedDown {
            to_unit_id,
            sign_deadline,
            return_deadline,
            ..
        } => {
            t.status = Status::Dispatched;
            t.main_unit_id = Some(*to_unit_id);
            t.chain.push(*to_unit_id);
            t.signed_at = None;
            t.sign_deadline = *sign_deadline;
            t.return_deadline = *return_deadline;
        }
        Change::Returned {
            back_to_unit_id, ..
        } => {
            t.return_count += 1;
            match back_to_unit_id {
                Some(unit) => {
                    t.chain.pop();
                    t.main_unit_id = Some(*unit);
                    t.status = Status::Handling;
                }
                None => t.status = Status::Returned,
            }
        }
        Change::Ruled { redispatch, .. } => match redispatch {
            Some(a) => assign(&mut t, a, at),
            None => {
                t.status = Status::Dispatched;
                t.chain = t.main_unit_id.into_iter().collect();
                t.signed_at = None;
            }
        },
        Change::ExtensionRequested { days, .. } => {
            t.extension = ExtensionState::Requested;
            t.extension_days = Some(*days);
        }
        Change::ExtensionApproved {
            days,
            handle_deadline,
            ..
        } => {
            t.extension = ExtensionState::Approved;
            t.extension_days = Some(*days);
            if handle_deadline.is_some() {
                t.handle_deadline = *handle_deadline;
            }
        }
        Change::ExtensionDenied { .. } => t.extension = ExtensionState::Denied,
        Change::Suspended { .. } => {
            t.status = Status::Suspended;
            t.suspended_at = Some(at);
        }
        Change::Resumed {
            sign_deadline,
            handle_deadline,
            return_deadline,
        } => {
            t.status = Status::Handling;
            t.suspended_at = None;
            t.sign_deadline = *sign_deadline;
            t.handle_deadline = *handle_deadline;
            t.return_deadline = *return_deadline;
        }
        Change::Replied {
            reply,
            visit_deadline,
        } => {
            t.status = Status::Replied;
            t.reply = Some(reply.clone());
            t.replied_at = Some(at);
            t.visit_deadline = *visit_deadline;
        }
        Change::ReturnVisited { .. } => {
            t.status = Status::Visited;
            t.visited_at = Some(at);
        }
        Change::Rated { rating, comment } => {
            t.rating = Some(*rating);
            t.rating_comment = comment.clone();
        }
        Change::RedoOrdered { deadlines, .. } => {
            t.status = Status::Dispatched;
            t.redo_count += 1;
            t.reply = None;
            t.replied_at = None;
            t.visited_at = None;
            t.rating = None;
            t.rating_comment = None;
            t.signed_at = None;
            t.visit_deadline = None;
            t.dispatched_at = Some(at);
            set_deadlines(&mut t, deadlines);
        }
        Change::Supervised { escalated_to, .. } => {
            t.supervised = true;
            t.supervision_count += 1;
            if escalated_to.is_some() {
                t.escalated_unit_id = *escalated_to;
            }
        }
        Change::MergedInto { target_id, .. } => {
            t.status = Status::Merged;
            t.merged_into = Some(*target_id);
            t.closed_at = Some(at);
        }
        Change::Absorbed { .. } => {}
        Change::Withdrawn { .. } => {
            t.status = Status::Withdrawn;
            t.closed_at = Some(at);
        }
        Change::Closed { resolution } => {
            t.status = Status::Closed;
            t.resolution = Some(resolution.clone());
            t.closed_at = Some(at);
        }
        Change::PersonalDataViewed { .. } => {}
        Change::ContactCorrected {
            citizen_name,
            citizen_phone,
        } => {
            if citizen_name.is_some() {
                t.citizen_name = citizen_name.clone();
            }
            if citizen_phone.is_some() {
                t.citizen_phone = citizen_phone.clone();
            }
        }
        Change::ErasureRequested => t.erasure_requested = true,
        Change::PersonalDataErased => {
            t.citizen_name = None;
            t.citizen_phone = None;
            t.citizen_id_number = None;
            t.erased_at = Some(at);
        }
        Change::Claimed { .. } => {
            t.claimed_by = e.actor_id;
            t.claimed_at = Some(at);
        }
        Change::ClaimReleased { .. } => {
            t.claimed_by = None;
            t.claimed_at = None;
        }
    }
    // A claim holds the ticket in one queue: when it moves to another (dispatched to a unit,
    // replied back to the centre, ended), the claim ends with it.
    if crate::ticket::claim::queue_of(&t) != queue_before {
        t.claimed_by = None;
        t.claimed_at = None;
    }
    t.version = e.version;
    t.updated_at = at;
    Ok(t)
}

/// Replays a whole history (ordered by version) into the ticket it describes.
pub fn replay<'a>(
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<Option<Ticket>, ReplayError> {
    let mut state = None;
    for e in events {
        state = Some(apply(state, e)?);
    }
    Ok(state)
}
