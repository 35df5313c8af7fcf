//! The official working-day calendar (节假日、调休) and the working-time clock that time limits run on.
//!
//! A date listed in the calendar data is a holiday or a working day as listed; any other date is a
//! working day Monday–Friday and a rest day Saturday–Sunday. Calendars are published year by year, so
//! a year whose calendar has not been loaded is refused ([`CalendarError::YearNotLoaded`]) rather than
//! guessed: a guessed deadline over an unpublished Spring Festival would be wrong by a week.
//!
//! All instants are `DateTime<Utc>`; working hours are wall-clock times in the calendar's time zone.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::ControlFlow;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Timelike,
    Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString};

/// What the calendar data says about a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Display, EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DayKind {
    /// A rest day even if it falls Monday–Friday (public holiday).
    Holiday,
    /// A working day even if it falls on a weekend (调休上班).
    Workday,
}

/// One line of the calendar data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEntry {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// Informational, e.g. 国庆节 or 国庆节调休上班.
    pub name: String,
}

/// Why the calendar could not answer or could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The calendar of this year has not been loaded, so its holidays are unknown.
    #[error("the working-day calendar for {0} is not loaded")]
    YearNotLoaded(i32),
    /// A line of calendar CSV is malformed; `line` is 1-based and the header is line 1.
    #[error("calendar CSV line {line}, field `{field}`: {message}")]
    Csv {
        line: usize,
        field: &'static str,
        message: String,
    },
    /// Working hours that are empty, reversed, overlapping or unparsable.
    #[error("invalid working hours: {0}")]
    InvalidHours(String),
    /// A negative amount of working time, or an instant beyond what chrono can represent.
    #[error("working time out of range: {0}")]
    OutOfRange(String),
}

/// The daily working periods, as wall-clock times: sorted, non-overlapping, each `start < end`, on
/// whole minutes. Serialized as the string form accepted by [`WorkingHours::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    periods: Vec<(NaiveTime, NaiveTime)>,
}

impl WorkingHours {
    /// Validates the periods. They may be given in any order; periods that touch (one ends when the
    /// next starts) are merged, because a boundary inside continuous working time would otherwise
    /// count as a "period end" for deadlines.
    pub fn new(mut periods: Vec<(NaiveTime, NaiveTime)>) -> Result<Self, CalendarError> {
        if periods.is_empty() {
            return Err(CalendarError::InvalidHours("no working period".into()));
        }
        for &(start, end) in &periods {
            if start.second() != 0
                || start.nanosecond() != 0
                || end.second() != 0
                || end.nanosecond() != 0
            {
                return Err(CalendarError::InvalidHours(format!(
                    "{start}-{end} is not on whole minutes"
                )));
            }
            if start >= end {
                return Err(CalendarError::InvalidHours(format!(
                    "period {}-{} does not end after it starts",
                    start.format("%H:%M"),
                    end.format("%H:%M")
                )));
            }
        }
        periods.sort();
        let mut merged: Vec<(NaiveTime, NaiveTime)> = Vec::with_capacity(periods.len());
        for (start, end) in periods {
            match merged.last_mut() {
                Some(last) if start < last.1 => {
                    return Err(CalendarError::InvalidHours(format!(
                        "periods {}-{} and {}-{} overlap",
                        last.0.format("%H:%M"),
                        last.1.format("%H:%M"),
                        start.format("%H:%M"),
                        end.format("%H:%M")
                    )));
                }
                Some(last) if start == last.1 => last.1 = end,
                _ => merged.push((start, end)),
            }
        }
        Ok(Self { periods: merged })
    }

    /// Parses `"09:00-12:00,13:30-18:00"` (24-hour `HH:MM`, comma-separated periods).
    pub fn parse(s: &str) -> Result<Self, CalendarError> {
        let mut periods = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || CalendarError::InvalidHours(format!("`{part}` is not HH:MM-HH:MM"));
            let (start, end) = part.split_once('-').ok_or_else(bad)?;
            let start = NaiveTime::parse_from_str(start.trim(), "%H:%M").map_err(|_| bad())?;
            let end = NaiveTime::parse_from_str(end.trim(), "%H:%M").map_err(|_| bad())?;
            periods.push((start, end));
        }
        Self::new(periods)
    }

    /// The periods, sorted.
    pub fn periods(&self) -> &[(NaiveTime, NaiveTime)] {
        &self.periods
    }

    /// Working minutes of one working day: the length of "1 working day" of time limit.
    pub fn minutes_per_day(&self) -> u32 {
        let seconds: i64 = self
            .periods
            .iter()
            .map(|&(s, e)| (e - s).num_seconds())
            .sum();
        u32::try_from(seconds / 60).unwrap_or(u32::MAX)
    }

    fn seconds_per_day(&self) -> i64 {
        i64::from(self.minutes_per_day()) * 60
    }
}

impl Default for WorkingHours {
    /// 09:00–12:00 and 13:30–18:00, 7.5 hours.
    fn default() -> Self {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
        Self {
            periods: vec![(t(9, 0), t(12, 0)), (t(13, 30), t(18, 0))],
        }
    }
}

impl fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (start, end)) in self.periods.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(f, "{sep}{}-{}", start.format("%H:%M"), end.format("%H:%M"))?;
        }
        Ok(())
    }
}

impl FromStr for WorkingHours {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for WorkingHours {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WorkingHours {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A time limit as an amount of time.
///
/// Serde form (adjacently tagged): `{"unit": "working_days", "value": 3}`; the units are
/// `calendar_hours`, `working_hours` and `working_days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "unit", content = "value", rename_all = "snake_case")]
pub enum Span {
    /// Elapsed hours, nights and holidays included (urgent tickets).
    CalendarHours(u32),
    /// Hours of working time.
    WorkingHours(u32),
    /// Days of working time, each worth [`WorkingHours::minutes_per_day`] minutes, so a limit that
    /// starts mid-afternoon ends mid-afternoon.
    WorkingDays(u32),
}

impl Span {
    /// The working seconds this span stands for, or `None` for calendar hours.
    pub fn working_seconds(self, hours: &WorkingHours) -> Option<i64> {
        match self {
            Self::CalendarHours(_) => None,
            Self::WorkingHours(h) => Some(i64::from(h) * 3600),
            Self::WorkingDays(d) => Some(i64::from(d) * hours.seconds_per_day()),
        }
    }

    /// Whether the span runs on the working-time clock.
    pub fn is_working(self) -> bool {
        !matches!(self, Self::CalendarHours(_))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, unit) = match *self {
            Self::CalendarHours(n) => (n, "calendar hour"),
            Self::WorkingHours(n) => (n, "working hour"),
            Self::WorkingDays(n) => (n, "working day"),
        };
        let plural = if n == 1 { "" } else { "s" };
        write!(f, "{n} {unit}{plural}")
    }
}

/// A half-open `[start, end)` stretch of working time.
type Interval = (DateTime<Utc>, DateTime<Utc>);

/// The working-day calendar plus working hours and time zone: the clock of every working-time limit.
///
/// Conventions:
/// - Working time is the union of the working periods of working days, each period `[start, end)`.
/// - A deadline is the instant at which the required working time has been used up. When that is
///   exactly the end of a period (12:00, 18:00), the deadline *is* that end instant, the last moment
///   of working time, not the start of the next period: "3 working hours from 09:00" is 12:00 the
///   same day. Check deadlines with [`WorkCalendar::is_deadline_time_valid`], which accepts period ends.
/// - Time before a working moment does not count: adding working time from rest time starts the clock
///   at the next working moment, and adding zero returns the start if it is working time, else the
///   next working moment.
/// - Wall-clock times map to the first instant at which the local clock shows that time or later: in
///   a DST fold the earlier instant, in a DST gap the end of the gap. Working time is real elapsed
///   time, so a working day with a DST change has an hour more or less of it.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    hours: WorkingHours,
    tz: Tz,
    days: BTreeMap<NaiveDate, CalendarEntry>,
    years: BTreeSet<i32>,
}

impl Default for WorkCalendar {
    /// Default working hours in Asia/Shanghai, with no year loaded.
    fn default() -> Self {
        Self::new(WorkingHours::default(), chrono_tz::Asia::Shanghai)
    }
}

impl WorkCalendar {
    /// A calendar with no year loaded: every question about a date is refused until its year is.
    pub fn new(hours: WorkingHours, tz: Tz) -> Self {
        Self {
            hours,
            tz,
            days: BTreeMap::new(),
            years: BTreeSet::new(),
        }
    }

    /// The daily working periods.
    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }

    /// The time zone the working hours are wall-clock times in.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// Parses calendar CSV: a `date,kind,name` header, then one `YYYY-MM-DD,holiday|workday,name`
    /// line per date. The name is the rest of the line (it may contain commas); blank lines are
    /// skipped. Bad dates, unknown kinds and a date listed twice are errors.
    pub fn parse_csv(text: &str) -> Result<Vec<CalendarEntry>, CalendarError> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
        let header = lines.next().map(|(_, l)| l.trim_start_matches('\u{feff}'));
        let header_fields: Option<Vec<&str>> =
            header.map(|h| h.split(',').map(str::trim).collect());
        if header_fields.as_deref() != Some(&["date", "kind", "name"][..]) {
            return Err(CalendarError::Csv {
                line: 1,
                field: "header",
                message: format!(
                    "expected `date,kind,name`, found `{}`",
                    header.unwrap_or("")
                ),
            });
        }
        let mut seen: BTreeMap<NaiveDate, usize> = BTreeMap::new();
        let mut entries = Vec::new();
        for (line, text) in lines.filter(|(_, l)| !l.is_empty()) {
            let csv = |field, message: String| CalendarError::Csv {
                line,
                field,
                message,
            };
            let mut fields = text.splitn(3, ',').map(str::trim);
            let date = fields.next().unwrap_or("");
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|e| csv("date", format!("`{date}` is not a YYYY-MM-DD date: {e}")))?;
            if let Some(first) = seen.insert(date, line) {
                return Err(csv(
                    "date",
                    format!("{date} is already listed on line {first}"),
                ));
            }
            let kind = fields.next().ok_or_else(|| csv("kind", "missing".into()))?;
            let kind = DayKind::from_str(kind).map_err(|_| {
                csv(
                    "kind",
                    format!("`{kind}` is neither `holiday` nor `workday`"),
                )
            })?;
            let name = fields.next().ok_or_else(|| csv("name", "missing".into()))?;
            entries.push(CalendarEntry {
                date,
                kind,
                name: name.to_owned(),
            });
        }
        Ok(entries)
    }

    /// Parses calendar CSV and loads every year that appears in it.
    pub fn load_csv(&mut self, text: &str) -> Result<(), CalendarError> {
        let entries = Self::parse_csv(text)?;
        self.load_entries(entries);
        Ok(())
    }

    /// Loads (or replaces) the calendar of `year` and marks it loaded, even with no entries (a year
    /// with no holidays and no make-up days). Entries dated in other years are ignored: load those
    /// with [`WorkCalendar::load_entries`].
    pub fn load_year(&mut self, year: i32, entries: impl IntoIterator<Item = CalendarEntry>) {
        self.days.retain(|date, _| date.year() != year);
        for entry in entries.into_iter().filter(|e| e.date.year() == year) {
            self.days.insert(entry.date, entry);
        }
        self.years.insert(year);
    }

    /// Loads (or replaces) every year that has an entry in `entries`.
    pub fn load_entries(&mut self, entries: Vec<CalendarEntry>) {
        let mut by_year: BTreeMap<i32, Vec<CalendarEntry>> = BTreeMap::new();
        for entry in entries {
            by_year.entry(entry.date.year()).or_default().push(entry);
        }
        for (year, entries) in by_year {
            self.load_year(year, entries);
        }
    }

    /// The loaded years, ascending.
    pub fn loaded_years(&self) -> Vec<i32> {
        self.years.iter().copied().collect()
    }

    /// The calendar entry of `date`, if it is listed (for showing e.g. 国庆节 next to a date).
    pub fn entry(&self, date: NaiveDate) -> Option<&CalendarEntry> {
        self.days.get(&date)
    }

    /// Whether `date` is a working day: as listed, else Monday–Friday. Refused if its year is not loaded.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        if !self.years.contains(&date.year()) {
            return Err(CalendarError::YearNotLoaded(date.year()));
        }
        Ok(match self.days.get(&date).map(|e| e.kind) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        })
    }

    /// Whether `t` is inside a working period of a working day (start inclusive, end exclusive).
    pub fn is_working_time(&self, t: DateTime<Utc>) -> Result<bool, CalendarError> {
        let intervals = self.day_intervals(self.local_date(t))?;
        Ok(intervals.iter().any(|&(s, e)| s <= t && t < e))
    }

    /// Whether `t` can be a deadline: inside a working period of a working day or exactly at its end.
    pub fn is_deadline_time_valid(&self, t: DateTime<Utc>) -> Result<bool, CalendarError> {
        let intervals = self.day_intervals(self.local_date(t))?;
        Ok(intervals.iter().any(|&(s, e)| s <= t && t <= e))
    }

    /// `t` if it is working time, else the start of the next working period.
    pub fn next_working_moment(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        self.add_working_seconds(t, 0)
    }

    /// The instant at which `seconds` of working time counted from `start` are used up (see the
    /// conventions on [`WorkCalendar`]). Walks period by period, so long spans cost a few dozen steps.
    pub fn add_working_seconds(
        &self,
        start: DateTime<Utc>,
        seconds: i64,
    ) -> Result<DateTime<Utc>, CalendarError> {
        if seconds < 0 {
            return Err(CalendarError::OutOfRange(format!(
                "cannot add a negative amount of working time ({seconds} s)"
            )));
        }
        let mut remaining = TimeDelta::try_seconds(seconds)
            .ok_or_else(|| CalendarError::OutOfRange(format!("{seconds} s")))?;
        let found = self.walk(start, None, |s, e| {
            let available = e - s;
            if remaining <= available {
                ControlFlow::Break(s + remaining)
            } else {
                remaining -= available;
                ControlFlow::Continue(())
            }
        })?;
        // Without an end bound the walk only stops by finding the instant or by an error.
        found.ok_or_else(|| CalendarError::OutOfRange(format!("{seconds} s after {start}")))
    }

    /// [`WorkCalendar::add_working_seconds`] in minutes; `minutes` must not be negative.
    pub fn add_working_minutes(
        &self,
        start: DateTime<Utc>,
        minutes: i64,
    ) -> Result<DateTime<Utc>, CalendarError> {
        let seconds = minutes
            .checked_mul(60)
            .ok_or_else(|| CalendarError::OutOfRange(format!("{minutes} min")))?;
        self.add_working_seconds(start, seconds)
    }

    /// The deadline `span` after `start`: calendar hours are plain elapsed time (no calendar needed),
    /// working spans run on the working-time clock.
    pub fn add(&self, start: DateTime<Utc>, span: Span) -> Result<DateTime<Utc>, CalendarError> {
        let seconds = match span {
            Span::CalendarHours(h) => {
                return start
                    .checked_add_signed(TimeDelta::hours(i64::from(h)))
                    .ok_or_else(|| CalendarError::OutOfRange(format!("{span} after {start}")));
            }
            Span::WorkingHours(h) => i64::from(h) * 3600,
            Span::WorkingDays(d) => i64::from(d) * self.hours.seconds_per_day(),
        };
        self.add_working_seconds(start, seconds)
    }

    /// Working seconds in `[from, to)`; 0 if `to <= from`. Only the years the range touches must be
    /// loaded.
    pub fn working_seconds_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<i64, CalendarError> {
        if to <= from {
            return Ok(0);
        }
        let mut total = TimeDelta::zero();
        self.walk(from, Some(to), |s, e| {
            if s >= to {
                return ControlFlow::Break(());
            }
            total += e.min(to) - s;
            if e >= to {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        Ok(total.num_seconds())
    }

    /// Whole working minutes in `[from, to)`; 0 if `to <= from`.
    pub fn working_minutes_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<i64, CalendarError> {
        Ok(self.working_seconds_between(from, to)? / 60)
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    fn to_utc(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        local_to_utc(self.tz, date.and_time(time))
    }

    /// The working periods of `date` as UTC intervals (empty on rest days). A period swallowed by a
    /// DST gap comes out empty and is dropped.
    fn day_intervals(&self, date: NaiveDate) -> Result<Vec<Interval>, CalendarError> {
        if !self.is_working_day(date)? {
            return Ok(Vec::new());
        }
        Ok(self
            .hours
            .periods
            .iter()
            .map(|&(s, e)| (self.to_utc(date, s), self.to_utc(date, e)))
            .filter(|(s, e)| s < e)
            .collect())
    }

    /// Feeds `visit` the working intervals ending after `from`, in order, clipped to start no earlier
    /// than `from`, day by day until `visit` breaks. With `until`, stops (returning `None`) at the
    /// first day that starts at or after it, so that a range ending before a new year does not need
    /// that year loaded. Without it, the walk ends at the first year that is not loaded.
    fn walk<B>(
        &self,
        from: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        mut visit: impl FnMut(DateTime<Utc>, DateTime<Utc>) -> ControlFlow<B>,
    ) -> Result<Option<B>, CalendarError> {
        // Intervals of earlier local dates all end at or before `from`, because wall-clock times map
        // to UTC monotonically and `from` is at or after the start of its own local date.
        let mut date = self.local_date(from);
        loop {
            if until.is_some_and(|u| self.to_utc(date, NaiveTime::MIN) >= u) {
                return Ok(None);
            }
            for (s, e) in self.day_intervals(date)? {
                if e <= from {
                    continue;
                }
                if let ControlFlow::Break(b) = visit(s.max(from), e) {
                    return Ok(Some(b));
                }
            }
            date = date
                .succ_opt()
                .ok_or(CalendarError::YearNotLoaded(date.year().saturating_add(1)))?;
        }
    }
}

/// The first instant at which the wall clock in `tz` shows `local` or later. Unlike chrono's
/// `earliest()` alone this is defined in DST gaps too (the end of the gap), and it never decreases as
/// `local` increases, which keeps working periods ordered and non-overlapping in UTC.
fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return t.to_utc();
    }
    // `local` lies in a gap: the transition instant T satisfies local - after < T <= local - before.
    let as_utc = |offset_from: NaiveDateTime| {
        let offset = tz
            .offset_from_utc_datetime(&offset_from)
            .fix()
            .local_minus_utc();
        local
            .checked_sub_signed(TimeDelta::seconds(i64::from(offset)))
            .unwrap_or(local)
            .and_utc()
    };
    let day = TimeDelta::days(1);
    let mut hi = as_utc(local.checked_sub_signed(day).unwrap_or(local));
    let mut lo = as_utc(local.checked_add_signed(day).unwrap_or(local));
    let shows_at_least = |x: DateTime<Utc>| x.with_timezone(&tz).naive_local() >= local;
    if shows_at_least(lo) || !shows_at_least(hi) {
        // Not the shape of a single forward transition; `hi` is past the gap either way.
        return hi;
    }
    while hi - lo > TimeDelta::seconds(1) {
        let mid = lo + (hi - lo) / 2;
        if shows_at_least(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
pub(crate) mod tests;
