//! The time limits a ticket runs on: the official working-day calendar plus the time-limit table,
//! as the state machine's [`Clock`]. The operator can load a new calendar or edit the limits while
//! the service runs, so the live rules sit behind a lock that hands out snapshots.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use crate::calendar::{Span, WorkCalendar, WorkingHours};
use crate::domain::{AppealType, Urgency};
use crate::ticket::Clock;
use crate::time_limit::{Deadlines, TimeLimitTable, deadlines_from_dispatch};

/// One immutable set of rules: a calendar and a time-limit table.
#[derive(Debug, Clone)]
pub struct TimeKeeper {
    pub calendar: WorkCalendar,
    pub limits: TimeLimitTable,
}

impl TimeKeeper {
    pub fn new(calendar: WorkCalendar, limits: TimeLimitTable) -> Self {
        Self { calendar, limits }
    }

    /// Default working hours in Asia/Shanghai, default limits, no calendar year loaded yet.
    pub fn empty() -> Self {
        Self::new(
            WorkCalendar::new(WorkingHours::default(), chrono_tz::Asia::Shanghai),
            TimeLimitTable::default(),
        )
    }
}

fn warn_missing(what: &str, e: &crate::calendar::CalendarError) {
    tracing::warn!(error = %e, "{what}: no deadline set; load the working-day calendar");
}

impl Clock for TimeKeeper {
    fn deadlines(&self, t: AppealType, u: Urgency, at: DateTime<Utc>) -> Option<Deadlines> {
        deadlines_from_dispatch(&self.calendar, &self.limits, t, u, at)
            .map_err(|e| warn_missing("dispatch", &e))
            .ok()
    }

    fn shift(
        &self,
        deadline: DateTime<Utc>,
        u: Urgency,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if to <= from {
            return Some(deadline);
        }
        if u == Urgency::Urgent {
            return Some(deadline + (to - from));
        }
        let paused = self
            .calendar
            .working_seconds_between(from, to)
            .map_err(|e| warn_missing("resume", &e))
            .ok()?;
        self.calendar
            .add_working_seconds(deadline, paused)
            .map_err(|e| warn_missing("resume", &e))
            .ok()
    }

    fn extend(&self, deadline: DateTime<Utc>, days: u32) -> Option<DateTime<Utc>> {
        self.calendar
            .add(deadline, Span::WorkingDays(days))
            .map_err(|e| warn_missing("extension", &e))
            .ok()
    }

    fn visit_deadline(&self, replied_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.calendar
            .add(replied_at, self.limits.return_visit_window())
            .map_err(|e| warn_missing("reply", &e))
            .ok()
    }

    fn max_extension_days(&self, t: AppealType, u: Urgency) -> Option<u32> {
        let per_day = (i64::from(self.calendar.hours().minutes_per_day()) * 60).max(1);
        match self.limits.lookup(t, u).max_extension? {
            Span::WorkingDays(d) => Some(d),
            Span::WorkingHours(h) => u32::try_from(i64::from(h) * 3600 / per_day).ok(),
            Span::CalendarHours(h) => Some(h / 24),
        }
    }
}

/// The live rules, replaced as a whole when the operator changes them.
#[derive(Debug, Clone)]
pub struct TimeRules(Arc<RwLock<Arc<TimeKeeper>>>);

impl TimeRules {
    pub fn new(keeper: TimeKeeper) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(keeper))))
    }

    pub fn snapshot(&self) -> Arc<TimeKeeper> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn replace(&self, keeper: TimeKeeper) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(keeper);
    }
}
