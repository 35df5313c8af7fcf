//! Which due work a ticket has, as a pure function of the ticket and the time rules: the deadline
//! warnings (the first moment [`warning_at`] says yellow, then red), the moment it becomes overdue
//! (when [`Ticket::is_overdue`] turns true), and the return visit due one window after the reply.
//! The hook compares this plan with the stored jobs after every event; the scheduler checks it
//! again before it acts, so a job whose ticket moved on is dropped.

use chrono::{DateTime, TimeDelta, Utc};
use hotline_core::clock::TimeKeeper;
use hotline_core::ticket::{Status, Ticket};
use hotline_core::time_limit::{WarningLevel, warning_at};
use serde_json::json;

/// What a job does when it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
    /// Notice to the unit: 70 % of the handling time is used (黄灯).
    WarnYellow,
    /// Notice to the unit: 90 % is used (红灯).
    WarnRed,
    /// The ticket is supervised by the system, escalated to the unit above and the centre.
    Overdue,
    /// The return-visit window after the reply has run out: the centre is reminded.
    ReturnVisit,
    /// The daily digest of overdue tickets to every unit's admins (no ticket).
    Digest,
}

impl JobKind {
    /// The kinds a ticket's plan can hold.
    pub const OF_TICKET: [JobKind; 4] = [
        JobKind::WarnYellow,
        JobKind::WarnRed,
        JobKind::Overdue,
        JobKind::ReturnVisit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::WarnYellow => "warn_yellow",
            Self::WarnRed => "warn_red",
            Self::Overdue => "overdue",
            Self::ReturnVisit => "return_visit",
            Self::Digest => "digest",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::WarnYellow,
            Self::WarnRed,
            Self::Overdue,
            Self::ReturnVisit,
            Self::Digest,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One job a ticket should have.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub kind: JobKind,
    pub due_at: DateTime<Utc>,
    /// What the notice needs besides the ticket (the deadline it is about).
    pub payload: serde_json::Value,
}

/// The jobs `t` should have under `keeper`'s rules. Empty for a ticket no unit is working on.
pub fn plan(t: &Ticket, keeper: &TimeKeeper) -> Vec<Planned> {
    let mut out = Vec::new();
    match t.status {
        Status::Dispatched | Status::Handling => {
            if let (Some(start), Some(deadline)) = (t.dispatched_at, t.handle_deadline) {
                let working = keeper
                    .limits
                    .lookup(t.appeal_type, t.urgency)
                    .handle
                    .is_working();
                for (kind, level) in [
                    (JobKind::WarnYellow, WarningLevel::Yellow),
                    (JobKind::WarnRed, WarningLevel::Red),
                ] {
                    if let Some(at) = first_at(keeper, start, deadline, working, level) {
                        out.push(Planned {
                            kind,
                            due_at: at,
                            payload: json!({"level": level.to_string(), "deadline": deadline}),
                        });
                    }
                }
            }
            let sign = match t.status {
                Status::Dispatched => t.sign_deadline,
                _ => None,
            };
            let breach = match (sign, t.handle_deadline) {
                (Some(s), Some(h)) if s <= h => Some(("sign", s)),
                (_, Some(h)) => Some(("handle", h)),
                (Some(s), None) => Some(("sign", s)),
                (None, None) => None,
            };
            if let Some((which, at)) = breach {
                out.push(Planned {
                    kind: JobKind::Overdue,
                    due_at: at,
                    payload: json!({"deadline_kind": which, "deadline": at}),
                });
            }
        }
        Status::Replied => match t.visit_deadline {
            // The deadline the reply set (the window in force then).
            Some(at) => out.push(Planned {
                kind: JobKind::ReturnVisit,
                due_at: at,
                payload: json!({"deadline": at}),
            }),
            None => tracing::warn!(ticket = %t.id,
                "no return-visit reminder: the working-day calendar does not cover it"),
        },
        _ => {}
    }
    out
}

/// The first moment, to the second, at which the limit from `start` to `deadline` shows `level`
/// or worse; None when the calendar does not cover the period.
fn first_at(
    keeper: &TimeKeeper,
    start: DateTime<Utc>,
    deadline: DateTime<Utc>,
    working: bool,
    level: WarningLevel,
) -> Option<DateTime<Utc>> {
    let at = |now| warning_at(&keeper.calendar, start, deadline, now, working).ok();
    if at(start)? >= level {
        return Some(start);
    }
    if at(deadline)? < level {
        return None;
    }
    // The level only rises with time: bisect on whole seconds after `start`.
    let (mut lo, mut hi) = (0_i64, (deadline - start).num_seconds().max(1));
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if at(start + TimeDelta::seconds(mid))? >= level {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let found = start + TimeDelta::seconds(hi);
    Some(if found < deadline && at(found)? >= level {
        found
    } else {
        deadline
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;
    use hotline_core::calendar::{WorkCalendar, WorkingHours};
    use hotline_core::time_limit::TimeLimitTable;

    use super::*;

    const CALENDAR: &str = include_str!("../../../demo/calendar/cn-2026.csv");

    fn keeper() -> TimeKeeper {
        let mut cal = WorkCalendar::new(WorkingHours::default(), chrono_tz::Asia::Shanghai);
        cal.load_csv(CALENDAR).unwrap();
        TimeKeeper::new(cal, TimeLimitTable::default())
    }

    fn china(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn warnings_fall_where_the_colour_changes_on_the_working_clock() {
        let k = keeper();
        let start = china(2026, 11, 2, 9, 0); // Monday
        // 5 working days of 7.5 h = 37.5 h; 70 % = 26.25 h = 3 days + 3.75 h: Thursday 09:00–12:00
        // is 3 h, then 13:30 + 0.75 h = 14:15. 90 % = 33.75 h: Friday at 14:15.
        let deadline = k
            .calendar
            .add(start, hotline_core::calendar::Span::WorkingDays(5))
            .unwrap();
        let yellow = first_at(&k, start, deadline, true, WarningLevel::Yellow).unwrap();
        let red = first_at(&k, start, deadline, true, WarningLevel::Red).unwrap();
        assert_eq!(yellow, china(2026, 11, 5, 14, 15));
        assert_eq!(red, china(2026, 11, 6, 14, 15));
        let level = |now| warning_at(&k.calendar, start, deadline, now, true).unwrap();
        assert_eq!(level(yellow - TimeDelta::seconds(1)), WarningLevel::Green);
        assert_eq!(level(yellow), WarningLevel::Yellow);
        assert_eq!(level(red - TimeDelta::seconds(1)), WarningLevel::Yellow);
        assert_eq!(level(red), WarningLevel::Red);
    }

    #[test]
    fn kinds_round_trip() {
        for k in JobKind::OF_TICKET.into_iter().chain([JobKind::Digest]) {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(JobKind::parse("nothing"), None);
    }

    #[test]
    fn urgent_tickets_warn_on_calendar_hours() {
        let k = keeper();
        let start = china(2026, 11, 7, 22, 0); // Saturday night
        let deadline = start + TimeDelta::hours(24);
        let yellow = first_at(&k, start, deadline, false, WarningLevel::Yellow).unwrap();
        // 70 % of 24 h = 16.8 h = 16 h 48 min, weekend or not.
        let expected = start + TimeDelta::minutes(16 * 60 + 48);
        assert!((yellow - expected).num_seconds().abs() <= 1, "{yellow}");
    }
}
