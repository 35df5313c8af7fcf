//! The early-warning rule on synthetic series: what must flag, what must not, and the false
//! alarm rate on random counts at a constant rate.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use chrono::{Datelike, NaiveDate, Weekday};
use hotline_analytics::warning::{Level, Rule, Warning, check};
use proptest::prelude::*;

/// A Monday.
fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, 4).unwrap()
}

fn day(offset: u64) -> NaiveDate {
    monday()
        .checked_add_days(chrono::Days::new(offset))
        .unwrap()
}

fn run(series: &[u32]) -> Option<Warning> {
    check(series, monday(), &Rule::default())
}

/// About four a day, with the small wobble of real counts.
fn flat_four(days: usize) -> Vec<u32> {
    [3, 4, 5, 4, 4, 3, 5]
        .iter()
        .copied()
        .cycle()
        .take(days)
        .collect()
}

/// Weekdays 20, weekends 3, the first day being `first`.
fn weekly(days: usize, first: NaiveDate) -> Vec<u32> {
    (0..days as u64)
        .map(|t| match day_of(first, t) {
            Weekday::Sat | Weekday::Sun => 3,
            _ => 20,
        })
        .collect()
}

fn day_of(first: NaiveDate, t: u64) -> Weekday {
    first
        .checked_add_days(chrono::Days::new(t))
        .unwrap()
        .weekday()
}

/// xorshift64*: a small deterministic generator, so the false-alarm rate is reproducible.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Knuth's method: multiply uniforms until the product drops below e^−λ.
    fn poisson(&mut self, lambda: f64) -> u32 {
        let limit = (-lambda).exp();
        let (mut k, mut p) = (0, self.next_f64());
        while p > limit {
            k += 1;
            p *= self.next_f64();
        }
        k
    }
}

#[test]
fn the_defaults_are_the_documented_ones() {
    let r = Rule::default();
    assert_eq!((r.window_days, r.history_days, r.min_count), (3, 28, 5));
    assert_eq!((r.z, r.min_ratio), (3.0, 2.0));
}

#[test]
fn levels_read_in_chinese_and_snake_case() {
    assert_eq!(Level::Yellow.label_zh(), "警示");
    assert_eq!(Level::Red.label_zh(), "严重");
    assert_eq!(Level::Red.to_string(), "red");
    assert_eq!(serde_json::to_string(&Level::Yellow).unwrap(), "\"yellow\"");
}

#[test]
fn a_burst_is_flagged() {
    let mut series = flat_four(28);
    series.extend([15, 18, 20]);
    let w = run(&series).expect("the burst flags");
    assert_eq!(w.observed, 53);
    assert!((w.expected - 12.0).abs() < 1.5, "{w:?}");
    assert!(w.ratio > 4.0 && w.z > 6.0, "{w:?}");
    assert!(
        w.threshold < 53.0 && w.threshold >= 2.0 * w.expected,
        "{w:?}"
    );
    assert_eq!(w.level, Level::Red);
}

#[test]
fn a_smaller_burst_is_yellow() {
    let mut series = flat_four(28);
    series.extend([9, 10, 10]);
    let w = run(&series).expect("flags");
    assert_eq!(w.level, Level::Yellow, "{w:?}");
}

#[test]
fn a_flat_series_is_not_flagged() {
    assert_eq!(run(&[10; 31]), None);
    assert_eq!(run(&flat_four(31)), None);
    assert_eq!(run(&flat_four(90)), None, "older days are ignored");
}

#[test]
fn a_slowly_growing_series_is_not_flagged() {
    let grow = |base: f64, rate: f64| -> Vec<u32> {
        (0..31)
            .map(|t| (base * rate.powi(t)).round() as u32)
            .collect()
    };
    assert_eq!(run(&grow(5.0, 1.03)), None);
    assert_eq!(run(&grow(20.0, 1.03)), None);
    // Even +6 % a day, which doubles the history's mean by the window and would trip a flat
    // baseline, is expected by the trend.
    let fast = grow(10.0, 1.06);
    let history_mean = fast[..28].iter().sum::<u32>() as f64 / 28.0;
    assert!(fast[28..].iter().sum::<u32>() as f64 >= 2.0 * 3.0 * history_mean);
    assert_eq!(run(&fast), None);
}

#[test]
fn a_weekly_cycle_is_not_flagged_wherever_the_window_falls() {
    for shift in 0..7 {
        let first = day(shift);
        let series = weekly(31, first);
        assert_eq!(
            check(&series, first, &Rule::default()),
            None,
            "starting {}",
            first.weekday()
        );
    }
    // The window Monday to Wednesday, right after a quiet weekend.
    let first = monday(); // and so is day 28
    assert_eq!(day_of(first, 28), Weekday::Mon);
    assert_eq!(check(&weekly(31, first), first, &Rule::default()), None);
}

#[test]
fn a_burst_on_a_weekend_is_flagged_against_the_weekly_cycle() {
    // The window is Saturday, Sunday, Monday: normally 3 + 3 + 20.
    let first = day(5); // a Saturday, and so is day 28
    assert_eq!(day_of(first, 28), Weekday::Sat);
    let mut series = weekly(28, first);
    series.extend([18, 18, 30]);
    let w = check(&series, first, &Rule::default()).expect("flags");
    assert!((w.expected - 28.0).abs() < 3.0, "{w:?}");
    // A baseline blind to weekdays would expect 3 × the mean (≈ 45) and miss it.
    let mean = series[..28].iter().sum::<u32>() as f64 / 28.0;
    assert!(66.0 < 2.0 * 3.0 * mean);
}

#[test]
fn a_burst_on_top_of_a_weekly_cycle_is_flagged_on_weekdays_too() {
    let first = monday();
    let mut series = weekly(28, first);
    series.extend([45, 50, 55]);
    assert!(check(&series, first, &Rule::default()).is_some());
}

#[test]
fn a_burst_below_the_minimum_count_is_not_flagged() {
    let mut series = vec![0; 28];
    series[5] = 1;
    series.extend([1, 2, 1]);
    assert_eq!(run(&series), None);
    // The same shape one appeal larger is a real signal.
    let n = series.len();
    series[n - 3..].copy_from_slice(&[2, 2, 2]);
    assert!(run(&series).is_some());
}

#[test]
fn a_burst_below_the_minimum_ratio_is_not_flagged() {
    // Steady 100 a day; 165 a day is far beyond Poisson noise, but not twice the usual.
    let mut series = vec![100; 28];
    series.extend([160, 165, 170]);
    assert_eq!(run(&series), None);
}

#[test]
fn too_short_a_history_returns_none() {
    let mut series = vec![4; 20];
    series.extend([30, 30, 30]);
    assert_eq!(run(&series), None);
    assert_eq!(run(&[]), None);
    let short = Rule {
        history_days: 7,
        ..Rule::default()
    };
    assert_eq!(
        check(&[4, 4, 4, 4, 4, 4, 4, 30, 30, 30], monday(), &short),
        None
    );
    let no_window = Rule {
        window_days: 0,
        ..Rule::default()
    };
    assert_eq!(check(&[4; 40], monday(), &no_window), None);
}

#[test]
fn an_all_zero_series_returns_none() {
    assert_eq!(run(&[0; 31]), None);
    assert_eq!(run(&[0; 365]), None);
}

#[test]
fn a_new_issue_on_a_silent_series_is_flagged() {
    let mut series = vec![0; 28];
    series.extend([2, 3, 4]);
    let w = run(&series).expect("flags");
    assert_eq!(w.expected, 1.0, "the floor");
}

#[test]
fn random_poisson_series_at_a_constant_rate_rarely_flag() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let rule = Rule::default();
    let (mut flagged, total) = (0, 500);
    for i in 0..total {
        // Rates from a trickle to a busy street.
        let lambda = [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0][i % 7];
        let series: Vec<u32> = (0..31).map(|_| rng.poisson(lambda)).collect();
        if let Some(w) = check(&series, day(i as u64 % 7), &rule) {
            println!("λ = {lambda}: {w:?} {series:?}");
            flagged += 1;
        }
    }
    println!("false alarms: {flagged}/{total}");
    assert!(flagged as f64 / total as f64 <= 0.02, "{flagged}/{total}");
}

#[test]
fn random_overdispersed_series_rarely_flag() {
    // A gamma-ish mix: each day's rate itself varies ±50 %, as real counts do.
    let mut rng = Rng(42);
    let (mut flagged, total) = (0, 500);
    for i in 0..total {
        let lambda = [3.0, 6.0, 12.0, 25.0][i % 4];
        let series: Vec<u32> = (0..31)
            .map(|_| {
                let rate = lambda * (0.5 + rng.next_f64());
                rng.poisson(rate)
            })
            .collect();
        if let Some(w) = run(&series) {
            println!("λ ≈ {lambda}: {w:?} {series:?}");
            flagged += 1;
        }
    }
    println!("false alarms: {flagged}/{total}");
    assert!(flagged as f64 / total as f64 <= 0.02, "{flagged}/{total}");
}

#[test]
fn the_rule_finds_bursts_in_random_series() {
    let mut rng = Rng(7);
    let (mut found, total) = (0, 200);
    for _ in 0..total {
        let mut series: Vec<u32> = (0..28).map(|_| rng.poisson(4.0)).collect();
        series.extend((0..3).map(|_| rng.poisson(16.0)));
        if run(&series).is_some() {
            found += 1;
        }
    }
    println!("bursts found: {found}/{total}");
    assert!(found as f64 / total as f64 >= 0.95, "{found}/{total}");
}

proptest! {
    #[test]
    fn any_series_gives_a_consistent_answer(
        series in proptest::collection::vec(0u32..500, 0..80),
        weekday in 0u64..7,
    ) {
        let rule = Rule::default();
        if let Some(w) = check(&series, day(weekday), &rule) {
            prop_assert!(w.observed >= rule.min_count);
            prop_assert!(w.expected >= 1.0 && w.expected.is_finite());
            prop_assert!(w.ratio >= rule.min_ratio && w.z >= rule.z);
            prop_assert!(f64::from(w.observed) >= w.threshold - 1e-9);
        }
    }
}
