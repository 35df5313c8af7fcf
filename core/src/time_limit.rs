//! The official time limits (时限) as data an administrator edits, the deadlines they give a
//! dispatched ticket, and the warning colours (green, yellow, red, overdue) of the time used.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoEnumIterator};

use crate::calendar::{CalendarError, Span, WorkCalendar};
use crate::domain::{AppealType, Urgency};

/// The limits of one appeal type at one urgency, all counted from dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeLimit {
    /// The unit must sign for the ticket within this.
    pub sign_for: Span,
    /// The unit must reply within this.
    pub handle: Span,
    /// The most one extension may add to the handling deadline; `None`: no extension allowed.
    pub max_extension: Option<Span>,
}

/// One row of a [`TimeLimitTable`] in its serialized form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeLimitRule {
    pub appeal_type: AppealType,
    pub urgency: Urgency,
    pub sign_for: Span,
    pub handle: Span,
    #[serde(default)]
    pub max_extension: Option<Span>,
}

/// Why a time-limit table was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeLimitTableError {
    /// A combination has no rule.
    #[error("no time limit for appeal type `{appeal_type}` at urgency `{urgency}`")]
    Missing {
        appeal_type: AppealType,
        urgency: Urgency,
    },
    /// A combination has more than one rule.
    #[error("the time limit for appeal type `{appeal_type}` at urgency `{urgency}` is given twice")]
    Duplicate {
        appeal_type: AppealType,
        urgency: Urgency,
    },
}

const TYPES: usize = 6;
const URGENCIES: usize = 2;

/// The time limits of every (appeal type, urgency) combination plus the return and return-visit
/// windows. Every combination is always present, so [`TimeLimitTable::lookup`] cannot fail; a
/// serialized table missing one is refused on deserialization.
///
/// Serde form:
/// `{"limits": [{"appeal_type": "consult", "urgency": "normal", "sign_for": {"unit": "working_hours",
/// "value": 2}, "handle": {"unit": "working_days", "value": 3}, "max_extension": null}, …],
/// "return_window": {"unit": "working_days", "value": 1}, "return_visit_window": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TableRepr", into = "TableRepr")]
pub struct TimeLimitTable {
    limits: [[TimeLimit; URGENCIES]; TYPES],
    return_window: Span,
    return_visit_window: Span,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableRepr {
    limits: Vec<TimeLimitRule>,
    return_window: Span,
    return_visit_window: Span,
}

fn type_index(t: AppealType) -> usize {
    match t {
        AppealType::Consult => 0,
        AppealType::Help => 1,
        AppealType::Complaint => 2,
        AppealType::Report => 3,
        AppealType::Suggestion => 4,
        AppealType::Praise => 5,
    }
}

fn urgency_index(u: Urgency) -> usize {
    match u {
        Urgency::Normal => 0,
        Urgency::Urgent => 1,
    }
}

/// The defaults of DESIGN.md, "Time limits".
fn default_limit(t: AppealType, u: Urgency) -> TimeLimit {
    let normal = |handle_days, max_extension| TimeLimit {
        sign_for: Span::WorkingHours(2),
        handle: Span::WorkingDays(handle_days),
        max_extension,
    };
    match (u, t) {
        (Urgency::Urgent, _) => TimeLimit {
            sign_for: Span::CalendarHours(1),
            handle: Span::CalendarHours(24),
            max_extension: None,
        },
        (Urgency::Normal, AppealType::Consult) => normal(3, None),
        (Urgency::Normal, AppealType::Help | AppealType::Complaint) => {
            normal(5, Some(Span::WorkingDays(10)))
        }
        (Urgency::Normal, AppealType::Report | AppealType::Suggestion | AppealType::Praise) => {
            normal(15, None)
        }
    }
}

impl Default for TimeLimitTable {
    /// DESIGN.md: urgent (any type) sign for 1 hour and handle in 24 calendar hours; consult 2
    /// working hours / 3 working days; help and complaint 2 working hours / 5 working days with one
    /// extension of up to 10 working days; report, suggestion and praise 2 working hours / 15 working
    /// days; returns and return visits within 1 working day.
    fn default() -> Self {
        let mut table = Self {
            limits: [[default_limit(AppealType::Consult, Urgency::Normal); URGENCIES]; TYPES],
            return_window: Span::WorkingDays(1),
            return_visit_window: Span::WorkingDays(1),
        };
        for t in AppealType::iter() {
            for u in Urgency::iter() {
                table.set(t, u, default_limit(t, u));
            }
        }
        table
    }
}

impl TimeLimitTable {
    /// The limits of appeal type `t` at urgency `u`.
    pub fn lookup(&self, t: AppealType, u: Urgency) -> &TimeLimit {
        &self.limits[type_index(t)][urgency_index(u)]
    }

    /// Replaces the limits of appeal type `t` at urgency `u`.
    pub fn set(&mut self, t: AppealType, u: Urgency, limit: TimeLimit) {
        self.limits[type_index(t)][urgency_index(u)] = limit;
    }

    /// How long after dispatch a unit may return a wrongly routed ticket (退单).
    pub fn return_window(&self) -> Span {
        self.return_window
    }

    /// Replaces the return window.
    pub fn set_return_window(&mut self, span: Span) {
        self.return_window = span;
    }

    /// How long after the reply the centre has for the return visit (回访).
    pub fn return_visit_window(&self) -> Span {
        self.return_visit_window
    }

    /// Replaces the return-visit window.
    pub fn set_return_visit_window(&mut self, span: Span) {
        self.return_visit_window = span;
    }

    /// Every combination, in appeal-type then urgency order.
    pub fn rules(&self) -> Vec<TimeLimitRule> {
        AppealType::iter()
            .flat_map(|t| Urgency::iter().map(move |u| (t, u)))
            .map(|(t, u)| {
                let limit = self.lookup(t, u);
                TimeLimitRule {
                    appeal_type: t,
                    urgency: u,
                    sign_for: limit.sign_for,
                    handle: limit.handle,
                    max_extension: limit.max_extension,
                }
            })
            .collect()
    }

    /// A table from rules that name every combination exactly once.
    pub fn from_rules(
        rules: impl IntoIterator<Item = TimeLimitRule>,
        return_window: Span,
        return_visit_window: Span,
    ) -> Result<Self, TimeLimitTableError> {
        let mut slots: [[Option<TimeLimit>; URGENCIES]; TYPES] = Default::default();
        for rule in rules {
            let slot = &mut slots[type_index(rule.appeal_type)][urgency_index(rule.urgency)];
            if slot.is_some() {
                return Err(TimeLimitTableError::Duplicate {
                    appeal_type: rule.appeal_type,
                    urgency: rule.urgency,
                });
            }
            *slot = Some(TimeLimit {
                sign_for: rule.sign_for,
                handle: rule.handle,
                max_extension: rule.max_extension,
            });
        }
        let mut table = Self {
            return_window,
            return_visit_window,
            ..Self::default()
        };
        for t in AppealType::iter() {
            for u in Urgency::iter() {
                let limit =
                    slots[type_index(t)][urgency_index(u)].ok_or(TimeLimitTableError::Missing {
                        appeal_type: t,
                        urgency: u,
                    })?;
                table.set(t, u, limit);
            }
        }
        Ok(table)
    }
}

impl TryFrom<TableRepr> for TimeLimitTable {
    type Error = TimeLimitTableError;
    fn try_from(repr: TableRepr) -> Result<Self, Self::Error> {
        Self::from_rules(repr.limits, repr.return_window, repr.return_visit_window)
    }
}

impl From<TimeLimitTable> for TableRepr {
    fn from(table: TimeLimitTable) -> Self {
        Self {
            limits: table.rules(),
            return_window: table.return_window,
            return_visit_window: table.return_visit_window,
        }
    }
}

/// The warning colour of a running time limit, ordered from calm to overdue.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum WarningLevel {
    Green,
    Yellow,
    Red,
    Overdue,
}

impl WarningLevel {
    /// The label the consoles show: 正常, 黄灯, 红灯, 超期.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Green => "正常",
            Self::Yellow => "黄灯",
            Self::Red => "红灯",
            Self::Overdue => "超期",
        }
    }
}

/// The colour of a limit of which `used_fraction` is used: green below 0.70, yellow from 0.70, red
/// from 0.90 up to and including 1.0 (at exactly 1.0 the time is used up but not yet exceeded),
/// overdue above 1.0. A NaN fraction (nothing can be said) is red, so that it draws attention
/// without claiming a breach.
pub fn warning_level(used_fraction: f64) -> WarningLevel {
    if used_fraction.is_nan() {
        WarningLevel::Red
    } else if used_fraction > 1.0 {
        WarningLevel::Overdue
    } else if used_fraction >= 0.90 {
        WarningLevel::Red
    } else if used_fraction >= 0.70 {
        WarningLevel::Yellow
    } else {
        WarningLevel::Green
    }
}

/// Deadlines of a ticket dispatched at `dispatched_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// Sign for (签收) by.
    pub sign_by: DateTime<Utc>,
    /// Reply (答复) by, before any extension or suspension.
    pub handle_by: DateTime<Utc>,
    /// Last moment to return (退单) the ticket.
    pub return_by: DateTime<Utc>,
}

/// The deadlines of a ticket of type `t` and urgency `u` dispatched at `dispatched_at`. Refused if a
/// working-time limit reaches into a year whose calendar is not loaded.
pub fn deadlines_from_dispatch(
    cal: &WorkCalendar,
    table: &TimeLimitTable,
    t: AppealType,
    u: Urgency,
    dispatched_at: DateTime<Utc>,
) -> Result<Deadlines, CalendarError> {
    let limit = table.lookup(t, u);
    Ok(Deadlines {
        sign_by: cal.add(dispatched_at, limit.sign_for)?,
        handle_by: cal.add(dispatched_at, limit.handle)?,
        return_by: cal.add(dispatched_at, table.return_window())?,
    })
}

/// The colour at `now` of a limit running from `start` to `deadline`, measuring the fraction of
/// working time (`working`) or of elapsed calendar time used (see [`warning_level`]).
///
/// Once `now` is past `deadline` the limit is overdue whatever the fraction says: on the working
/// clock a Friday 18:00 deadline is still "exactly 100 % used" all weekend, yet it has been missed.
/// A limit of zero length is green before its deadline and red at it.
pub fn warning_at(
    cal: &WorkCalendar,
    start: DateTime<Utc>,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    working: bool,
) -> Result<WarningLevel, CalendarError> {
    if now > deadline {
        return Ok(WarningLevel::Overdue);
    }
    let (total, used) = if working {
        (
            cal.working_seconds_between(start, deadline)?,
            cal.working_seconds_between(start, now)?,
        )
    } else {
        (
            (deadline - start).num_milliseconds(),
            (now - start).num_milliseconds().max(0),
        )
    };
    if total <= 0 {
        return Ok(if now >= deadline {
            WarningLevel::Red
        } else {
            WarningLevel::Green
        });
    }
    Ok(warning_level(used as f64 / total as f64))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Unwrapping is how a test says "this must succeed".
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::calendar::tests::{calendar_2026, sh};

    #[test]
    fn default_table_matches_design_for_every_combination() {
        let table = TimeLimitTable::default();
        for t in AppealType::iter() {
            let urgent = table.lookup(t, Urgency::Urgent);
            assert_eq!(urgent.sign_for, Span::CalendarHours(1), "{t}");
            assert_eq!(urgent.handle, Span::CalendarHours(24), "{t}");
            assert_eq!(urgent.max_extension, None, "{t}");
            let normal = table.lookup(t, Urgency::Normal);
            assert_eq!(normal.sign_for, Span::WorkingHours(2), "{t}");
            let (days, extension) = match t {
                AppealType::Consult => (3, None),
                AppealType::Help | AppealType::Complaint => (5, Some(Span::WorkingDays(10))),
                AppealType::Report | AppealType::Suggestion | AppealType::Praise => (15, None),
            };
            assert_eq!(normal.handle, Span::WorkingDays(days), "{t}");
            assert_eq!(normal.max_extension, extension, "{t}");
        }
        assert_eq!(table.return_window(), Span::WorkingDays(1));
        assert_eq!(table.return_visit_window(), Span::WorkingDays(1));
        assert_eq!(table.rules().len(), 12);
    }

    #[test]
    fn set_changes_one_combination_only() {
        let mut table = TimeLimitTable::default();
        let limit = TimeLimit {
            sign_for: Span::WorkingHours(1),
            handle: Span::WorkingDays(2),
            max_extension: Some(Span::WorkingDays(3)),
        };
        table.set(AppealType::Report, Urgency::Normal, limit);
        assert_eq!(*table.lookup(AppealType::Report, Urgency::Normal), limit);
        assert_eq!(
            table.lookup(AppealType::Suggestion, Urgency::Normal).handle,
            Span::WorkingDays(15)
        );
        assert_eq!(
            table.lookup(AppealType::Report, Urgency::Urgent).handle,
            Span::CalendarHours(24)
        );
    }

    #[test]
    fn table_serde_round_trips_and_requires_every_combination() {
        let table = TimeLimitTable::default();
        let json = serde_json::to_value(&table).unwrap();
        assert_eq!(
            json["limits"][0],
            serde_json::json!({
                "appeal_type": "consult",
                "urgency": "normal",
                "sign_for": {"unit": "working_hours", "value": 2},
                "handle": {"unit": "working_days", "value": 3},
                "max_extension": null,
            })
        );
        let back: TimeLimitTable = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, table);

        let mut missing = json.clone();
        missing["limits"].as_array_mut().unwrap().pop();
        let err = serde_json::from_value::<TimeLimitTable>(missing).unwrap_err();
        assert!(
            err.to_string()
                .contains("no time limit for appeal type `praise` at urgency `urgent`"),
            "{err}"
        );

        let mut duplicate = json;
        let first = duplicate["limits"][0].clone();
        duplicate["limits"].as_array_mut().unwrap().push(first);
        let err = serde_json::from_value::<TimeLimitTable>(duplicate).unwrap_err();
        assert!(err.to_string().contains("given twice"), "{err}");
    }

    #[test]
    fn warning_thresholds() {
        let cases = [
            (-0.5, WarningLevel::Green),
            (0.0, WarningLevel::Green),
            (0.69, WarningLevel::Green),
            (0.70, WarningLevel::Yellow),
            (0.8999, WarningLevel::Yellow),
            (0.90, WarningLevel::Red),
            (1.0, WarningLevel::Red),
            (1.0001, WarningLevel::Overdue),
            (f64::INFINITY, WarningLevel::Overdue),
            (f64::NAN, WarningLevel::Red),
        ];
        for (fraction, level) in cases {
            assert_eq!(warning_level(fraction), level, "{fraction}");
        }
        let labels: Vec<_> = [
            WarningLevel::Green,
            WarningLevel::Yellow,
            WarningLevel::Red,
            WarningLevel::Overdue,
        ]
        .map(WarningLevel::label_zh)
        .into();
        assert_eq!(labels, ["正常", "黄灯", "红灯", "超期"]);
        assert_eq!(
            serde_json::to_string(&WarningLevel::Overdue).unwrap(),
            "\"overdue\""
        );
        assert!(WarningLevel::Yellow < WarningLevel::Red);
    }

    #[test]
    fn warning_at_on_the_working_clock() {
        let cal = calendar_2026();
        // Mon 2026-06-01 09:00 + 5 working days is Fri 06-05 18:00 (no holiday that week).
        let start = sh(2026, 6, 1, 9, 0);
        let deadline = cal.add(start, Span::WorkingDays(5)).unwrap();
        assert_eq!(deadline, sh(2026, 6, 5, 18, 0));
        let at = |minutes| cal.add_working_minutes(start, minutes).unwrap();
        let level = |now| warning_at(&cal, start, deadline, now, true).unwrap();
        // 70 % of 2250 minutes is 1575: three full days and 225 minutes, Thu 06-04 14:15.
        assert_eq!(at(1575), sh(2026, 6, 4, 14, 15));
        assert_eq!(level(start - TimeDelta::hours(1)), WarningLevel::Green);
        assert_eq!(level(at(1574)), WarningLevel::Green);
        assert_eq!(level(at(1575)), WarningLevel::Yellow);
        assert_eq!(level(at(2025)), WarningLevel::Red);
        assert_eq!(level(deadline), WarningLevel::Red);
        // Saturday: no working time has passed since the deadline, but the deadline has.
        assert_eq!(level(sh(2026, 6, 6, 10, 0)), WarningLevel::Overdue);
    }

    #[test]
    fn warning_at_on_the_calendar_clock() {
        let cal = calendar_2026();
        let start = sh(2026, 10, 1, 10, 0);
        let deadline = start + TimeDelta::hours(24);
        let level = |minutes| {
            warning_at(
                &cal,
                start,
                deadline,
                start + TimeDelta::minutes(minutes),
                false,
            )
            .unwrap()
        };
        assert_eq!(level(1007), WarningLevel::Green);
        assert_eq!(level(1008), WarningLevel::Yellow);
        assert_eq!(level(1296), WarningLevel::Red);
        assert_eq!(level(1440), WarningLevel::Red);
        assert_eq!(level(1441), WarningLevel::Overdue);
        // A zero-length limit.
        let zero = |now| warning_at(&cal, start, start, now, false).unwrap();
        assert_eq!(zero(start - TimeDelta::minutes(1)), WarningLevel::Green);
        assert_eq!(zero(start), WarningLevel::Red);
    }

    #[test]
    fn deadlines_of_an_urgent_complaint() {
        // Dispatched Wed 2026-09-30 17:00, the eve of National Day: calendar hours ignore the holiday,
        // the return window does not (60 minutes on 09-30, 390 on Thu 10-08: 09:00-12:00, 13:30-17:00).
        let cal = calendar_2026();
        let table = TimeLimitTable::default();
        let dispatched = sh(2026, 9, 30, 17, 0);
        let d = deadlines_from_dispatch(
            &cal,
            &table,
            AppealType::Complaint,
            Urgency::Urgent,
            dispatched,
        )
        .unwrap();
        assert_eq!(d.sign_by, sh(2026, 9, 30, 18, 0));
        assert_eq!(d.handle_by, sh(2026, 10, 1, 17, 0));
        assert_eq!(d.return_by, sh(2026, 10, 8, 17, 0));
    }

    #[test]
    fn deadlines_of_a_normal_complaint_and_its_extension() {
        // Dispatched Wed 2026-09-30 10:00. Sign for: 2 working hours, 12:00 the same day (a period
        // end). Handle: 2250 minutes; 390 on 09-30, 450 each on 10-08, 10-09, the make-up Saturday
        // 10-10 and Mon 10-12 (2190), the last 60 on Tue 10-13: 10:00. Return: 390 on 09-30 and 60 on
        // 10-08, 10:00.
        let cal = calendar_2026();
        let table = TimeLimitTable::default();
        let dispatched = sh(2026, 9, 30, 10, 0);
        let d = deadlines_from_dispatch(
            &cal,
            &table,
            AppealType::Complaint,
            Urgency::Normal,
            dispatched,
        )
        .unwrap();
        assert_eq!(d.sign_by, sh(2026, 9, 30, 12, 0));
        assert_eq!(d.handle_by, sh(2026, 10, 13, 10, 0));
        assert_eq!(d.return_by, sh(2026, 10, 8, 10, 0));
        // The full extension: ten more working days, 10-14 to 10-27.
        let extension = table
            .lookup(AppealType::Complaint, Urgency::Normal)
            .max_extension
            .unwrap();
        assert_eq!(
            cal.add(d.handle_by, extension).unwrap(),
            sh(2026, 10, 27, 10, 0)
        );
        let json = serde_json::to_value(d).unwrap();
        assert_eq!(json["handle_by"], "2026-10-13T02:00:00Z");
    }
}
