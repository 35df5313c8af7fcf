// Unwrapping is how a test says "this must succeed"; the workspace denies it elsewhere.
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use proptest::prelude::*;

use super::*;

/// The official 2026 calendar, a copy of shared/data/calendar/cn-2026.csv (see demo/calendar/SOURCE.md).
pub(crate) const CN_2026_CSV: &str = include_str!("../../../demo/calendar/cn-2026.csv");

/// Default hours in Asia/Shanghai with the official 2026 calendar loaded.
pub(crate) fn calendar_2026() -> WorkCalendar {
    let mut cal = WorkCalendar::default();
    cal.load_csv(CN_2026_CSV).unwrap();
    cal
}

/// An Asia/Shanghai wall-clock time as UTC.
pub(crate) fn sh(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(y, m, d, h, mi, 0)
        .single()
        .unwrap()
        .to_utc()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

#[test]
fn default_hours_are_seven_and_a_half_hours() {
    let hours = WorkingHours::default();
    assert_eq!(hours.minutes_per_day(), 450);
    assert_eq!(hours.to_string(), "09:00-12:00,13:30-18:00");
    assert_eq!(
        WorkingHours::parse("09:00-12:00,13:30-18:00").unwrap(),
        hours
    );
    assert_eq!(
        serde_json::to_string(&hours).unwrap(),
        "\"09:00-12:00,13:30-18:00\""
    );
    let back: WorkingHours = serde_json::from_str("\" 13:30-18:00 , 09:00-12:00 \"").unwrap();
    assert_eq!(back, hours);
}

#[test]
fn working_hours_reject_bad_periods_and_merge_touching_ones() {
    for bad in [
        "",
        "09:00",
        "9-12",
        "12:00-09:00",
        "09:00-09:00",
        "09:00-12:00,11:00-13:00",
        "25:00-26:00",
    ] {
        assert!(
            matches!(
                WorkingHours::parse(bad),
                Err(CalendarError::InvalidHours(_))
            ),
            "{bad:?} accepted"
        );
    }
    let with_seconds = NaiveTime::from_hms_opt(9, 0, 30).unwrap();
    assert!(WorkingHours::new(vec![(with_seconds, time(12, 0))]).is_err());
    let merged = WorkingHours::parse("08:00-10:00,10:00-12:00").unwrap();
    assert_eq!(merged.periods(), &[(time(8, 0), time(12, 0))]);
}

#[test]
fn parses_the_official_2026_file() {
    let entries = WorkCalendar::parse_csv(CN_2026_CSV).unwrap();
    assert_eq!(entries.len(), 39);
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.kind == DayKind::Workday)
            .count(),
        6
    );
    assert_eq!(entries[0].date, date(2026, 1, 1));
    assert_eq!(entries[0].name, "元旦");
    assert_eq!(DayKind::Workday.to_string(), "workday");
    assert_eq!(
        serde_json::to_string(&DayKind::Holiday).unwrap(),
        "\"holiday\""
    );
    let cal = calendar_2026();
    assert_eq!(cal.loaded_years(), vec![2026]);
    assert_eq!(cal.entry(date(2026, 10, 1)).unwrap().name, "国庆节");
}

#[test]
fn csv_errors_name_line_and_field() {
    let err = |text: &str| WorkCalendar::parse_csv(text).unwrap_err();
    let csv = |line, field| CalendarError::Csv {
        line,
        field,
        message: String::new(),
    };
    let strip = |e: CalendarError| match e {
        CalendarError::Csv { line, field, .. } => csv(line, field),
        other => other,
    };
    assert_eq!(strip(err("")), csv(1, "header"));
    assert_eq!(strip(err("2026-01-01,holiday,元旦\n")), csv(1, "header"));
    let head = "date,kind,name\n";
    assert_eq!(
        strip(err(&format!("{head}2026-02-30,holiday,x\n"))),
        csv(2, "date")
    );
    assert_eq!(
        strip(err(&format!("{head}\n2026-01-01,day_off,x\n"))),
        csv(3, "kind")
    );
    assert_eq!(strip(err(&format!("{head}2026-01-01\n"))), csv(2, "kind"));
    assert_eq!(
        strip(err(&format!("{head}2026-01-01,holiday\n"))),
        csv(2, "name")
    );
    let dup = err(&format!(
        "{head}2026-01-01,holiday,a\n2026-01-01,workday,b\n"
    ));
    assert_eq!(
        dup.to_string(),
        "calendar CSV line 3, field `date`: 2026-01-01 is already listed on line 2"
    );
    // A BOM, CRLF endings and a comma inside the name are fine.
    let ok =
        WorkCalendar::parse_csv("\u{feff}date,kind,name\r\n2026-01-01,holiday,New Year, day 1\r\n");
    assert_eq!(ok.unwrap()[0].name, "New Year, day 1");
}

#[test]
fn official_2026_working_days() {
    let cal = calendar_2026();
    let working = |y, m, d| cal.is_working_day(date(y, m, d)).unwrap();
    assert!(
        working(2026, 9, 20),
        "Sunday 2026-09-20 is a make-up working day"
    );
    assert!(
        working(2026, 10, 10),
        "Saturday 2026-10-10 is a make-up working day"
    );
    assert!(
        !working(2026, 9, 25),
        "Friday 2026-09-25 is Mid-Autumn Festival"
    );
    for day in 1..=7 {
        assert!(!working(2026, 10, day), "2026-10-0{day} is National Day");
    }
    assert!(working(2026, 9, 28), "Monday 2026-09-28");
    assert!(!working(2026, 9, 19), "an ordinary Saturday");
    assert!(working(2026, 6, 1), "an ordinary Monday");
    assert_eq!(
        cal.is_working_day(date(2027, 1, 4)),
        Err(CalendarError::YearNotLoaded(2027))
    );
    assert_eq!(
        cal.is_working_time(sh(2027, 1, 4, 10, 0)),
        Err(CalendarError::YearNotLoaded(2027))
    );
    assert_eq!(
        CalendarError::YearNotLoaded(2027).to_string(),
        "the working-day calendar for 2027 is not loaded"
    );
}

#[test]
fn loading_marks_years_and_replaces_them() {
    let mut cal = WorkCalendar::default();
    let entry = |y, m, d, kind| CalendarEntry {
        date: date(y, m, d),
        kind,
        name: String::new(),
    };
    cal.load_entries(vec![
        entry(2030, 1, 1, DayKind::Holiday),
        entry(2031, 1, 4, DayKind::Workday),
    ]);
    assert_eq!(cal.loaded_years(), vec![2030, 2031]);
    assert!(!cal.is_working_day(date(2030, 1, 1)).unwrap());
    assert!(
        cal.is_working_day(date(2031, 1, 4)).unwrap(),
        "Saturday listed as workday"
    );
    // An empty year is a loaded year; entries of other years passed to load_year are ignored.
    cal.load_year(2030, [entry(2031, 1, 5, DayKind::Workday)]);
    assert!(
        cal.is_working_day(date(2030, 1, 1)).unwrap(),
        "replaced by an empty 2030"
    );
    assert!(!cal.is_working_day(date(2031, 1, 5)).unwrap());
    cal.load_year(2032, []);
    assert_eq!(cal.loaded_years(), vec![2030, 2031, 2032]);
}

#[test]
fn working_time_boundaries() {
    let cal = calendar_2026();
    let monday = |h, m| sh(2026, 6, 1, h, m);
    let cases = [
        (monday(8, 59), false, false),
        (monday(9, 0), true, true),
        (monday(11, 59), true, true),
        (monday(12, 0), false, true),
        (monday(13, 0), false, false),
        (monday(13, 30), true, true),
        (monday(18, 0), false, true),
        (monday(18, 1), false, false),
        (sh(2026, 10, 1, 10, 0), false, false),
        (sh(2026, 10, 10, 10, 0), true, true),
    ];
    for (t, working, deadline_ok) in cases {
        assert_eq!(cal.is_working_time(t).unwrap(), working, "{t}");
        assert_eq!(cal.is_deadline_time_valid(t).unwrap(), deadline_ok, "{t}");
    }
}

#[test]
fn one_working_day_from_monday_17_00_is_tuesday_17_00() {
    // Mon 17:00-18:00 gives 60 min, Tue 09:00-12:00 180 min, the remaining 210 min run 13:30-17:00.
    let cal = calendar_2026();
    let due = cal
        .add(sh(2026, 6, 1, 17, 0), Span::WorkingDays(1))
        .unwrap();
    assert_eq!(due, sh(2026, 6, 2, 17, 0));
    assert_eq!(
        cal.working_minutes_between(sh(2026, 6, 1, 17, 0), due)
            .unwrap(),
        450
    );
}

#[test]
fn zero_span_and_rest_time_start() {
    let cal = calendar_2026();
    let zero = Span::WorkingHours(0);
    assert_eq!(
        cal.add(sh(2026, 6, 1, 10, 0), zero).unwrap(),
        sh(2026, 6, 1, 10, 0)
    );
    assert_eq!(
        cal.add(sh(2026, 6, 1, 12, 0), zero).unwrap(),
        sh(2026, 6, 1, 13, 30)
    );
    assert_eq!(
        cal.add(sh(2026, 6, 5, 18, 0), zero).unwrap(),
        sh(2026, 6, 8, 9, 0)
    );
    assert_eq!(
        cal.next_working_moment(sh(2026, 6, 6, 3, 0)).unwrap(),
        sh(2026, 6, 8, 9, 0)
    );
    // Lunch does not count: a limit starting at 12:10 starts at 13:30.
    assert_eq!(
        cal.add(sh(2026, 6, 1, 12, 10), Span::WorkingHours(1))
            .unwrap(),
        sh(2026, 6, 1, 14, 30)
    );
    assert!(cal.add_working_minutes(sh(2026, 6, 1, 10, 0), -1).is_err());
}

#[test]
fn deadline_at_a_period_end_is_that_end() {
    let cal = calendar_2026();
    assert_eq!(
        cal.add(sh(2026, 6, 1, 9, 0), Span::WorkingHours(3))
            .unwrap(),
        sh(2026, 6, 1, 12, 0)
    );
    assert_eq!(
        cal.add_working_minutes(sh(2026, 6, 5, 9, 0), 450).unwrap(),
        sh(2026, 6, 5, 18, 0)
    );
    // Extending a period-end deadline continues in the next period.
    assert_eq!(
        cal.add_working_minutes(sh(2026, 6, 1, 12, 0), 30).unwrap(),
        sh(2026, 6, 1, 14, 0)
    );
}

#[test]
fn three_working_days_across_national_day() {
    // Dispatched Wed 2026-09-30 10:00: 09-30 gives 120 + 270 = 390 of the 1350 minutes; 10-01..10-07
    // are holidays; Thu 10-08 and Fri 10-09 give 450 each (1290); the make-up Saturday 10-10 gives the
    // last 60 minutes, so the deadline is Sat 2026-10-10 10:00 CST (02:00 UTC).
    let cal = calendar_2026();
    let start = sh(2026, 9, 30, 10, 0);
    let due = cal.add(start, Span::WorkingDays(3)).unwrap();
    assert_eq!(due, sh(2026, 10, 10, 10, 0));
    assert_eq!(due, Utc.with_ymd_and_hms(2026, 10, 10, 2, 0, 0).unwrap());
    assert_eq!(
        cal.working_seconds_between(start, due).unwrap(),
        3 * 450 * 60
    );
}

#[test]
fn spans_into_an_unloaded_year_are_refused() {
    let mut cal = calendar_2026();
    let start = sh(2026, 12, 31, 10, 0);
    assert_eq!(
        cal.add(start, Span::WorkingDays(1)),
        Err(CalendarError::YearNotLoaded(2027))
    );
    // The same day still works, and a range that ends before 2027 does not need 2027.
    assert_eq!(
        cal.add(start, Span::WorkingHours(2)).unwrap(),
        sh(2026, 12, 31, 12, 0)
    );
    assert_eq!(
        cal.working_seconds_between(start, sh(2026, 12, 31, 23, 59))
            .unwrap(),
        (2 * 60 + 270) * 60
    );
    // Calendar hours need no calendar at all.
    assert_eq!(
        cal.add(start, Span::CalendarHours(24)).unwrap(),
        sh(2027, 1, 1, 10, 0)
    );
    cal.load_year(2027, []);
    assert_eq!(
        cal.add(start, Span::WorkingDays(1)).unwrap(),
        sh(2027, 1, 1, 10, 0)
    );
}

#[test]
fn working_time_between() {
    let cal = calendar_2026();
    let between = |a, b| cal.working_seconds_between(a, b).unwrap();
    assert_eq!(between(sh(2026, 6, 1, 10, 0), sh(2026, 6, 1, 10, 0)), 0);
    assert_eq!(between(sh(2026, 6, 2, 10, 0), sh(2026, 6, 1, 10, 0)), 0);
    assert_eq!(
        between(sh(2026, 6, 1, 0, 0), sh(2026, 6, 2, 0, 0)),
        450 * 60
    );
    // Friday 17:00 to Monday 10:00 across a weekend: 60 + 60 minutes.
    assert_eq!(
        cal.working_minutes_between(sh(2026, 6, 5, 17, 0), sh(2026, 6, 8, 10, 0))
            .unwrap(),
        120
    );
    // 2026 has 248 working days once holidays and make-up days are counted.
    let year = between(sh(2026, 1, 1, 0, 0), sh(2026, 12, 31, 23, 59));
    assert_eq!(year, 248 * 450 * 60);
    // Sub-second instants are handled exactly.
    let t = sh(2026, 6, 1, 10, 0) + TimeDelta::milliseconds(250);
    let due = cal.add_working_seconds(t, 3600).unwrap();
    assert_eq!(due, t + TimeDelta::hours(1));
    assert_eq!(between(t, due), 3600);
}

#[test]
fn twenty_five_working_days_walks_periods_not_minutes() {
    let cal = calendar_2026();
    let start = sh(2026, 9, 1, 9, 0);
    let due = cal.add(start, Span::WorkingDays(25)).unwrap();
    // September has 22 working days (09-20 in, 09-25 out); then 10-08, 10-09 and the make-up 10-10.
    assert_eq!(due, sh(2026, 10, 10, 18, 0));
}

#[test]
fn span_serde_form() {
    let json = serde_json::to_string(&Span::WorkingDays(3)).unwrap();
    assert_eq!(json, r#"{"unit":"working_days","value":3}"#);
    for span in [
        Span::CalendarHours(24),
        Span::WorkingHours(2),
        Span::WorkingDays(15),
    ] {
        let back: Span = serde_json::from_str(&serde_json::to_string(&span).unwrap()).unwrap();
        assert_eq!(back, span);
    }
    assert_eq!(Span::WorkingDays(1).to_string(), "1 working day");
    assert_eq!(Span::CalendarHours(24).to_string(), "24 calendar hours");
    assert_eq!(
        Span::WorkingDays(2).working_seconds(&WorkingHours::default()),
        Some(54_000)
    );
    assert_eq!(
        Span::CalendarHours(2).working_seconds(&WorkingHours::default()),
        None
    );
}

#[test]
fn dst_days_count_real_elapsed_time() {
    // Europe/Berlin springs forward at 02:00 on 2026-03-29 and falls back at 03:00 on 2026-10-25.
    let berlin = chrono_tz::Europe::Berlin;
    let mut cal = WorkCalendar::new(WorkingHours::parse("01:00-04:00").unwrap(), berlin);
    let workday = |m, d| CalendarEntry {
        date: date(2026, m, d),
        kind: DayKind::Workday,
        name: String::new(),
    };
    cal.load_year(2026, [workday(3, 29), workday(10, 25)]);
    let utc = |m, d, h| Utc.with_ymd_and_hms(2026, m, d, h, 0, 0).unwrap();
    // 01:00 CET is 00:00 UTC, 04:00 CEST is 02:00 UTC: two real hours.
    assert_eq!(
        cal.working_seconds_between(utc(3, 28, 12), utc(3, 29, 12))
            .unwrap(),
        2 * 3600
    );
    // 01:00 CEST is 23:00 UTC the day before, 04:00 CET is 03:00 UTC: four real hours.
    assert_eq!(
        cal.working_seconds_between(utc(10, 24, 12), utc(10, 25, 12))
            .unwrap(),
        4 * 3600
    );
    // A wall-clock time in the gap maps to the end of the gap.
    let gap = NaiveDate::from_ymd_opt(2026, 3, 29)
        .unwrap()
        .and_time(time(2, 30));
    assert_eq!(local_to_utc(berlin, gap), utc(3, 29, 1));
    let hours = WorkingHours::parse("02:15-02:45,03:30-04:00").unwrap();
    let cal = WorkCalendar { hours, ..cal };
    // The first period falls entirely in the gap and vanishes.
    assert_eq!(
        cal.working_seconds_between(utc(3, 28, 12), utc(3, 29, 12))
            .unwrap(),
        1800
    );
    assert_eq!(
        cal.next_working_moment(utc(3, 28, 12)).unwrap(),
        utc(3, 29, 1) + TimeDelta::minutes(30)
    );
}

fn cal_2026_2027() -> WorkCalendar {
    let mut cal = calendar_2026();
    // A synthetic 2027 without holidays, so that spans starting late in 2026 can finish.
    cal.load_year(2027, []);
    cal
}

fn instant_2026() -> impl Strategy<Value = DateTime<Utc>> {
    let base = sh(2026, 1, 1, 0, 0);
    (0i64..365 * 86_400).prop_map(move |s| base + TimeDelta::seconds(s))
}

fn working_span() -> impl Strategy<Value = Span> {
    prop_oneof![
        (0u32..=48).prop_map(Span::WorkingHours),
        (0u32..=25).prop_map(Span::WorkingDays),
    ]
}

proptest! {
    #[test]
    fn deadline_is_working_time_and_uses_exactly_the_limit(start in instant_2026(), span in working_span()) {
        let cal = cal_2026_2027();
        let limit = span.working_seconds(cal.hours()).unwrap();
        let due = cal.add(start, span).unwrap();
        prop_assert!(due >= start);
        prop_assert!(cal.is_deadline_time_valid(due).unwrap(), "{due} is rest time");
        prop_assert_eq!(cal.working_seconds_between(start, due).unwrap(), limit);
        if limit > 0 {
            // The first such instant, not a later one.
            let before = due - TimeDelta::seconds(1);
            prop_assert_eq!(cal.working_seconds_between(start, before).unwrap(), limit - 1);
        } else {
            prop_assert!(cal.is_working_time(due).unwrap());
        }
    }

    #[test]
    fn suspension_moves_the_deadline_by_its_working_time(
        start in instant_2026(),
        span in working_span(),
        a in 0.0f64..=1.0,
        b in 0.0f64..=1.0,
    ) {
        let cal = cal_2026_2027();
        let limit = span.working_seconds(cal.hours()).unwrap();
        let due = cal.add(start, span).unwrap();
        let length = (due - start).num_seconds() as f64;
        let s = start + TimeDelta::seconds((length * a.min(b)) as i64);
        let e = start + TimeDelta::seconds((length * a.max(b)) as i64);
        let suspended = cal.working_seconds_between(s, e).unwrap();
        let moved = cal.add_working_seconds(due, suspended).unwrap();
        prop_assert!(moved >= due);
        prop_assert!(cal.is_deadline_time_valid(moved).unwrap());
        prop_assert_eq!(cal.working_seconds_between(start, moved).unwrap() - suspended, limit);
    }

    #[test]
    fn a_later_start_never_gives_an_earlier_deadline(
        start in instant_2026(),
        delay in 0i64..10 * 86_400,
        span in working_span(),
    ) {
        let cal = cal_2026_2027();
        let later = start + TimeDelta::seconds(delay);
        prop_assert!(cal.add(later, span).unwrap() >= cal.add(start, span).unwrap());
    }
}
