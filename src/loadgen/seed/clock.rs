//! The state machine's clock for seeding: the live time rules (calendar and time limits) computed
//! as `TimeKeeper` computes them, but counting, rather than logging, the deadlines the calendar
//! cannot give. The live clock warns once per missing deadline, which is right for a server and
//! would be millions of log lines for a seeded period outside the loaded calendar years.

use std::cell::Cell;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use hotline_core::calendar::Span;
use hotline_core::clock::TimeKeeper;
use hotline_core::domain::{AppealType, Urgency};
use hotline_core::ticket::Clock;
use hotline_core::time_limit::{Deadlines, deadlines_from_dispatch};

pub struct SeedClock {
    pub keeper: Arc<TimeKeeper>,
    missing: Cell<u64>,
}

impl SeedClock {
    pub fn new(keeper: Arc<TimeKeeper>) -> Self {
        Self {
            keeper,
            missing: Cell::new(0),
        }
    }

    /// How many deadlines were left unset because the calendar does not cover their period.
    pub fn missing(&self) -> u64 {
        self.missing.get()
    }

    fn count<T, E>(&self, r: Result<T, E>) -> Option<T> {
        if r.is_err() {
            self.missing.set(self.missing.get() + 1);
        }
        r.ok()
    }

    /// `t` if it is working time, else the start of the next working period (`t` itself when the
    /// calendar does not cover it).
    pub fn working(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        self.keeper.calendar.next_working_moment(t).unwrap_or(t)
    }
}

impl Clock for SeedClock {
    fn deadlines(&self, t: AppealType, u: Urgency, at: DateTime<Utc>) -> Option<Deadlines> {
        let k = &self.keeper;
        self.count(deadlines_from_dispatch(&k.calendar, &k.limits, t, u, at))
    }

    fn shift(
        &self,
        deadline: DateTime<Utc>,
        u: Urgency,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        // As TimeKeeper: an urgent ticket's clock runs in calendar time, the others' in
        // working time.
        if to <= from {
            return Some(deadline);
        }
        if u == Urgency::Urgent {
            return Some(deadline + (to - from));
        }
        let cal = &self.keeper.calendar;
        let paused = self.count(cal.working_seconds_between(from, to))?;
        self.count(cal.add_working_seconds(deadline, paused))
    }

    fn extend(&self, deadline: DateTime<Utc>, days: u32) -> Option<DateTime<Utc>> {
        self.count(self.keeper.calendar.add(deadline, Span::WorkingDays(days)))
    }

    fn max_extension_days(&self, t: AppealType, u: Urgency) -> Option<u32> {
        self.keeper.max_extension_days(t, u)
    }

    fn visit_deadline(&self, replied_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let k = &self.keeper;
        self.count(k.calendar.add(replied_at, k.limits.return_visit_window()))
    }
}
