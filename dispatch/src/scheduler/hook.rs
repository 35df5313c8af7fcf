//! The hook every ticket command runs in its transaction: it brings the ticket's due work in line
//! with its new state (created at dispatch, moved by extension, suspension and resumption,
//! cancelled by the reply, close, merge …) and queues the notices the events call for.

use std::sync::Arc;

use hotline_core::StoreError;
use hotline_core::clock::TimeRules;
use hotline_core::db::DbConn;
use hotline_core::hooks::EventHook;
use hotline_core::ids::UnitId;
use hotline_core::store::units;
use hotline_core::ticket::{Change, Event, Ticket};
use serde_json::json;

use super::jobs;
use super::plan::plan;
use crate::mail::notices::{Audience, Notices};
use crate::mail::templates::NoticeKind;

pub struct TicketHook {
    pub time: TimeRules,
    /// None when mail is not configured: no notices are queued.
    pub notices: Option<Arc<Notices>>,
}

/// Changes that cannot move a ticket's clock or state: no need to look at its jobs.
fn leaves_clock_alone(c: &Change) -> bool {
    matches!(
        c,
        Change::Received(_)
            | Change::Supervised { .. }
            | Change::Absorbed { .. }
            | Change::ExtensionRequested { .. }
            | Change::PersonalDataViewed { .. }
            | Change::ContactCorrected { .. }
            | Change::ErasureRequested
    )
}

impl EventHook for TicketHook {
    fn on_events(
        &self,
        conn: &mut DbConn,
        before: Option<&Ticket>,
        after: &Ticket,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let Some(now) = events.last().map(|e| e.occurred_at) else {
            return Ok(());
        };
        if !events.iter().all(|e| leaves_clock_alone(&e.change)) {
            let planned = plan(after, &self.time.snapshot());
            jobs::reconcile(conn, after.id, &planned, now)?;
        }
        if let Some(n) = &self.notices {
            for e in events {
                notify(n, conn, before, after, e)?;
            }
        }
        Ok(())
    }
}

fn unit_name(conn: &mut DbConn, id: UnitId) -> Result<String, StoreError> {
    Ok(units::get(conn, id)?.name)
}

/// The notices one event calls for.
fn notify(
    n: &Notices,
    conn: &mut DbConn,
    before: Option<&Ticket>,
    t: &Ticket,
    e: &Event,
) -> Result<usize, StoreError> {
    let key = format!("event:{}:{}", t.id, e.version);
    let now = e.occurred_at;
    let new_ticket = |how: &str, note: Option<&str>| json!({"how": how, "note": note});
    let send = |conn: &mut DbConn, kind, to: Vec<(UnitId, serde_json::Value)>| {
        n.send(conn, kind, Some(t), &to, Audience::Unit, &key, now)
    };
    match &e.change {
        Change::Dispatched { assignment, note } => {
            let mut to = vec![(assignment.main_unit_id, new_ticket("派单", note.as_deref()))];
            for co in &assignment.co_unit_ids {
                to.push((*co, new_ticket("协办", note.as_deref())));
            }
            send(conn, NoticeKind::NewTicket, to)
        }
        Change::PassedDown {
            to_unit_id, note, ..
        } => send(
            conn,
            NoticeKind::NewTicket,
            vec![(*to_unit_id, new_ticket("下派", note.as_deref()))],
        ),
        Change::RedoOrdered { reason, .. } => match t.main_unit_id {
            Some(main) => send(
                conn,
                NoticeKind::NewTicket,
                vec![(main, new_ticket("群众不满意，重办", Some(reason)))],
            ),
            None => Ok(0),
        },
        Change::Ruled { ruling, redispatch } => {
            let Some(returner) = before.and_then(|b| b.main_unit_id) else {
                return Ok(0);
            };
            let new_unit = match redispatch {
                Some(a) => Some(unit_name(conn, a.main_unit_id)?),
                None => None,
            };
            let mut sent = send(
                conn,
                NoticeKind::ReturnRuled,
                vec![(
                    returner,
                    json!({"ruling": ruling, "redispatched": redispatch.is_some(), "new_unit": new_unit}),
                )],
            )?;
            if let Some(a) = redispatch {
                let mut to = vec![(a.main_unit_id, new_ticket("退单审定后改派", Some(ruling)))];
                for co in &a.co_unit_ids {
                    to.push((*co, new_ticket("协办", Some(ruling))));
                }
                // A second key: the returner's ruling notice already used this event's.
                let key = format!("{key}:redispatch");
                sent += n.send(
                    conn,
                    NoticeKind::NewTicket,
                    Some(t),
                    &to,
                    Audience::Unit,
                    &key,
                    now,
                )?;
            }
            Ok(sent)
        }
        Change::ExtensionApproved { days, note, .. } => match t.main_unit_id {
            Some(main) => send(
                conn,
                NoticeKind::ExtensionDecided,
                vec![(
                    main,
                    json!({"approved": true, "days": days, "comment": note}),
                )],
            ),
            None => Ok(0),
        },
        Change::ExtensionDenied { reason } => match t.main_unit_id {
            Some(main) => send(
                conn,
                NoticeKind::ExtensionDecided,
                vec![(
                    main,
                    json!({"approved": false, "days": 0, "comment": reason}),
                )],
            ),
            None => Ok(0),
        },
        // The scheduler's own supervision of an overdue ticket sends the overdue notice.
        Change::Supervised {
            reason,
            escalated_to,
        } if e.actor_role != "system" => {
            let Some(main) = t.main_unit_id else {
                return Ok(0);
            };
            let main_unit = unit_name(conn, main)?;
            let c = |role: &str| {
                json!({"role": role, "main_unit": main_unit, "reason": reason,
                    "count": t.supervision_count})
            };
            let mut to = vec![(main, c("main"))];
            if let Some(up) = escalated_to.filter(|u| *u != main && *u != t.centre_id) {
                to.push((up, c("escalated")));
            }
            send(conn, NoticeKind::Supervised, to)
        }
        _ => Ok(0),
    }
}
