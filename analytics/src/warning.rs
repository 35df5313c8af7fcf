//! Early warning (未诉先办): flag a category × area whose latest days run well above what its
//! recent history predicts, so the units can act before the appeals pile up.
//!
//! # Rule
//!
//! Input: daily appeal counts `y`, oldest first, the first on `first_day`. With `w` =
//! `window_days` (default 3) and `h` = `history_days` (default 28), the **window** is the last
//! `w` days and the **history** the `h` days before it; older days are ignored. No warning
//! (`None`) when `w = 0`, `h < 14` (two weeks are the least that shows a weekly cycle), or the
//! series is shorter than `w + h`.
//!
//! 1. **Weekday factors.** For each weekday `d`, `s_d = (O_d + 5) / (E_d + 5)`, where `O_d` is
//!    the history's count on weekday `d` and `E_d` what the current level predicts for those
//!    days (first the history mean, then the trend of step 2). The 5 pseudo-appeals shrink the
//!    factors of sparse series towards 1, so that a weekday that happened to be quiet in four
//!    weeks of two appeals a day does not get an expectation of zero. The factors are scaled to
//!    average 1 over the history's days (weighted by the level): the level carries the rate,
//!    the factors only the weekly shape.
//! 2. **Trend.** The deseasonalised history `a_t = y_t / s_{d(t)}` (`t = 0 … h−1`) gets a
//!    line `L(t) = max(0, c + b·t)`: `b` is the Theil–Sen slope, the median of
//!    `(a_j − a_i)/(j − i)` over all pairs `i < j` (robust: a past burst does not tilt it), and
//!    `c = (Σ y_t − b·Σ t·s_{d(t)}) / Σ s_{d(t)}` keeps the history's total, as a Poisson fit
//!    would (a mean, not a median: a mostly-zero series keeps its rate). Steps 1 and 2 run
//!    twice (factors against the flat mean, line, factors against the line, line), so that a
//!    trend does not leak into the factors. As in Farrington's algorithm the slope is kept only
//!    if `|b| ≥ 2·se(b)`, `se(b)² = φ·mean(L)·mean(1/s_{d(t)}) / (h(h²−1)/12)` (φ of step 4);
//!    otherwise steps 1, 2 and 4 are redone with `b = 0`: a slope fitted to noise, extrapolated
//!    past the history, would pull the expectation down for half the series.
//! 3. **Expectation.** `E = Σ_{window} L(t)·s_{d(t)}`, at least 1 (a series that was always
//!    zero still has a finite ratio). The line is extrapolated over the window, so a steadily
//!    growing series is expected to keep growing and is not flagged.
//! 4. **Overdispersion.** Pearson residuals of the history `r_t = (y_t − f_t)/√f_t` with
//!    `f_t = L(t)·s_{d(t)}` (floored at 0.5) give the quasi-Poisson dispersion
//!    `φ = max(1, median(r_t²) / 0.455)` (0.455 is the median of χ²₁; the median, not the mean,
//!    keeps one past burst from silencing the rule for a month). Real counts vary more than
//!    Poisson; φ is floored at 1 so the variance is never below the mean.
//! 5. **Variance** of the window total: `V = φ·E·(1 + (4w + 7)/h)`. The factor adds the error of
//!    the estimate itself: a line extrapolated just past `h` days carries about `4/h` of the
//!    level's relative variance per window day, and each weekday factor rests on `h/7` days.
//! 6. **Flag** when the observed window total `O` passes all three tests:
//!    `O ≥ min_count` (default 5), `O ≥ min_ratio·E` (default 2) and
//!    `z = (O − E)/√V ≥ z_rule` (default 3). The warning's `threshold` is the smallest total that
//!    would flag: `max(min_count, min_ratio·E, E + z_rule·√V)`; `ratio = O/E`.
//! 7. **Level.** 严重 (`Red`) when `z ≥ red_z` (default 6) and `ratio ≥ red_ratio` (default 3);
//!    警示 (`Yellow`) otherwise.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The parameters of the rule; [`Rule::default`] is the documented default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = EarlyWarningRule)]
pub struct Rule {
    /// The latest window, in days.
    pub window_days: u32,
    /// The history the expectation is fitted on, in days before the window (at least 14).
    pub history_days: u32,
    /// The fewest appeals in the window that may flag at all.
    pub min_count: u32,
    /// The z-score threshold.
    pub z: f64,
    /// The window must be at least this many times the expectation.
    pub min_ratio: f64,
    /// z-score and ratio at or above which the warning is 严重 (red).
    pub red_z: f64,
    pub red_ratio: f64,
}

impl Default for Rule {
    fn default() -> Self {
        Rule {
            window_days: 3,
            history_days: 28,
            min_count: 5,
            z: 3.0,
            min_ratio: 2.0,
            red_z: 6.0,
            red_ratio: 3.0,
        }
    }
}

/// How serious a warning is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = EarlyWarningLevel)]
#[serde(rename_all = "snake_case")]
#[derive(strum::Display, strum::EnumString, strum::AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum Level {
    Yellow,
    Red,
}

impl Level {
    /// 警示 / 严重.
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Yellow => "警示",
            Level::Red => "严重",
        }
    }
}

/// A flagged window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Warning {
    /// Appeals in the window.
    pub observed: u32,
    /// What the history predicts for the window.
    pub expected: f64,
    /// The smallest window total that flags.
    pub threshold: f64,
    /// `observed / expected`.
    pub ratio: f64,
    /// `(observed − expected) / √variance`.
    pub z: f64,
    pub level: Level,
}

/// The shortest history that shows a weekly cycle twice.
pub const MIN_HISTORY_DAYS: u32 = 14;
/// Pseudo-appeals that shrink each weekday factor towards 1.
const FACTOR_PRIOR: f64 = 5.0;
/// The least expectation of a window, so the ratio stays finite.
const MIN_EXPECTED: f64 = 1.0;
/// The least fitted value a Pearson residual divides by.
const MIN_FITTED: f64 = 0.5;
/// How many standard errors a slope must be from 0 to be extrapolated.
const SLOPE_SIGNIFICANCE: f64 = 2.0;
/// The median of the χ² distribution with one degree of freedom.
const CHI2_1_MEDIAN: f64 = 0.4549;

/// Checks the latest window of one category × area series; `None` unless it flags.
pub fn check(series: &[u32], first_day: NaiveDate, rule: &Rule) -> Option<Warning> {
    let w = usize::try_from(rule.window_days).ok()?;
    let h = usize::try_from(rule.history_days).ok()?;
    if w == 0 || rule.history_days < MIN_HISTORY_DAYS || series.len() < w.checked_add(h)? {
        return None;
    }
    let start = series.len() - w - h;
    let (history, window) = series[start..].split_at(h);
    let observed_sum: u64 = window.iter().map(|&y| u64::from(y)).sum();
    let observed = u32::try_from(observed_sum).unwrap_or(u32::MAX);
    // The cheap test first: most series are far below the minimum.
    if observed < rule.min_count {
        return None;
    }
    let first_weekday = (first_day.weekday().num_days_from_monday() as usize + start) % 7;
    let baseline = Baseline::fit(history, first_weekday);
    let expected = (h..h + w)
        .map(|t| baseline.predict(t))
        .sum::<f64>()
        .max(MIN_EXPECTED);
    let variance = baseline.dispersion * expected * (1.0 + (4.0 * w as f64 + 7.0) / h as f64);
    let sd = variance.sqrt();
    let o = f64::from(observed);
    let z = (o - expected) / sd;
    let ratio = o / expected;
    let threshold = (expected + rule.z * sd)
        .max(rule.min_ratio * expected)
        .max(f64::from(rule.min_count));
    // Spelt out rather than `o >= threshold`, so a NaN parameter never flags.
    if !(ratio >= rule.min_ratio && z >= rule.z) {
        return None;
    }
    let level = if z >= rule.red_z && ratio >= rule.red_ratio {
        Level::Red
    } else {
        Level::Yellow
    };
    Some(Warning {
        observed,
        expected,
        threshold,
        ratio,
        z,
        level,
    })
}

/// The history's expectation model: weekday factors, a robust line, and the dispersion.
#[derive(Debug)]
struct Baseline {
    /// Indexed by weekday, Monday = 0.
    factors: [f64; 7],
    /// The weekday of history day 0.
    first_weekday: usize,
    intercept: f64,
    slope: f64,
    dispersion: f64,
}

impl Baseline {
    fn fit(history: &[u32], first_weekday: usize) -> Baseline {
        let y: Vec<f64> = history.iter().map(|&v| f64::from(v)).collect();
        let n = y.len().max(1) as f64;
        let mean = y.iter().sum::<f64>() / n;
        let mut model = Baseline {
            factors: [1.0; 7],
            first_weekday,
            intercept: mean,
            slope: 0.0,
            dispersion: 1.0,
        };
        if mean <= 0.0 {
            // Nothing to fit: the expectation is the floor and the variance Poisson.
            return model;
        }
        model.fit_level(&y, true);
        // Keep the slope only when it stands out of the noise (Farrington's rule): a slope fitted
        // to noise, extrapolated past the history, drags the expectation down half the time.
        if model.slope.abs() < SLOPE_SIGNIFICANCE * model.slope_se(&y) {
            model.fit_level(&y, false);
        }
        model
    }

    /// Fits the factors and the line (or a flat level), then the dispersion; twice, so that a
    /// trend does not leak into the weekday factors.
    fn fit_level(&mut self, y: &[f64], trend: bool) {
        (self.intercept, self.slope) = (y.iter().sum::<f64>() / y.len().max(1) as f64, 0.0);
        for _ in 0..2 {
            self.factors = self.weekday_factors(y);
            let deseasonalised: Vec<f64> = y
                .iter()
                .enumerate()
                .map(|(t, v)| v / self.factors[self.weekday(t)])
                .collect();
            self.slope = if trend {
                theil_sen(&deseasonalised)
            } else {
                0.0
            };
            // The intercept that keeps the history's total, Σ (c + b·t)·s = Σ y, as a Poisson
            // fit would: a mean, not a median, so a mostly-zero series keeps its rate.
            let (mut total, mut seasonal, mut timed) = (0.0, 0.0, 0.0);
            for (t, v) in y.iter().enumerate() {
                let s = self.factors[self.weekday(t)];
                (total, seasonal, timed) = (total + v, seasonal + s, timed + s * t as f64);
            }
            self.intercept = (total - self.slope * timed) / seasonal;
        }
        let squared: Vec<f64> = y
            .iter()
            .enumerate()
            .map(|(t, v)| {
                let fitted = self.predict(t).max(MIN_FITTED);
                (v - fitted).powi(2) / fitted
            })
            .collect();
        self.dispersion = (median(squared) / CHI2_1_MEDIAN).max(1.0);
    }

    /// The slope's standard error under the quasi-Poisson model: a deseasonalised day
    /// `a_t = y_t / s_d` has variance about `φ·L / s_d`.
    fn slope_se(&self, y: &[f64]) -> f64 {
        let n = y.len() as f64;
        let mean_level = (0..y.len()).map(|t| self.level(t)).sum::<f64>() / n;
        let mean_inverse = (0..y.len())
            .map(|t| 1.0 / self.factors[self.weekday(t)])
            .sum::<f64>()
            / n;
        let sxx = n * (n * n - 1.0) / 12.0;
        (self.dispersion * mean_level.max(MIN_FITTED) * mean_inverse / sxx).sqrt()
    }

    fn weekday(&self, t: usize) -> usize {
        (self.first_weekday + t) % 7
    }

    fn level(&self, t: usize) -> f64 {
        (self.intercept + self.slope * t as f64).max(0.0)
    }

    fn predict(&self, t: usize) -> f64 {
        self.level(t) * self.factors[self.weekday(t)]
    }

    /// Each weekday's count over what the current level predicts for it, shrunk towards 1 and
    /// scaled to average 1 over the history (weighted by the level).
    fn weekday_factors(&self, y: &[f64]) -> [f64; 7] {
        let (mut observed, mut expected) = ([0.0; 7], [0.0; 7]);
        for (t, v) in y.iter().enumerate() {
            observed[self.weekday(t)] += v;
            expected[self.weekday(t)] += self.level(t);
        }
        let mut factors: [f64; 7] =
            std::array::from_fn(|d| (observed[d] + FACTOR_PRIOR) / (expected[d] + FACTOR_PRIOR));
        let level_total: f64 = (0..y.len()).map(|t| self.level(t)).sum();
        let seasonal_total: f64 = (0..y.len())
            .map(|t| self.level(t) * factors[self.weekday(t)])
            .sum();
        if level_total > 0.0 && seasonal_total > 0.0 {
            let scale = level_total / seasonal_total;
            factors.iter_mut().for_each(|f| *f *= scale);
        }
        factors
    }
}

/// The Theil–Sen slope through `(t, a_t)`: the median of the pairwise slopes.
fn theil_sen(a: &[f64]) -> f64 {
    let mut slopes = Vec::with_capacity(a.len() * a.len().saturating_sub(1) / 2);
    for i in 0..a.len() {
        for j in i + 1..a.len() {
            slopes.push((a[j] - a[i]) / (j - i) as f64);
        }
    }
    median(slopes)
}

/// The median; 0 for no values.
fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theil_sen_recovers_a_slope_and_ignores_an_outlier() {
        let mut line: Vec<f64> = (0..20).map(|t| 3.0 + 0.5 * t as f64).collect();
        assert!((theil_sen(&line) - 0.5).abs() < 1e-9);
        line[10] = 100.0;
        assert!((theil_sen(&line) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn a_sparse_history_keeps_its_mean_level() {
        // One appeal every other day: the median day is 0, the rate is not.
        let y: Vec<u32> = (0..28).map(|t| t % 2).collect();
        let model = Baseline::fit(&y, 0);
        assert!(
            (model.predict(28) + model.predict(29) - 1.0).abs() < 0.2,
            "{model:?}"
        );
    }

    #[test]
    fn median_of_even_odd_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(vec![]), 0.0);
    }

    #[test]
    fn weekday_factors_follow_a_weekly_cycle_and_keep_the_total() {
        // Monday first: five weekdays of 20, a weekend of 3, for four weeks.
        let y: Vec<u32> = (0..28).map(|t| if t % 7 < 5 { 20 } else { 3 }).collect();
        let model = Baseline::fit(&y, 0);
        let fitted: f64 = (0..28).map(|t| model.predict(t)).sum();
        let total: f64 = y.iter().map(|&v| f64::from(v)).sum();
        assert!((fitted - total).abs() / total < 0.02, "{fitted} vs {total}");
        assert!(
            (model.predict(28) - 20.0).abs() < 1.0,
            "Monday {}",
            model.predict(28)
        );
        assert!(
            (model.predict(33) - 3.0).abs() < 1.5,
            "Saturday {}",
            model.predict(33)
        );
        assert!(model.slope.abs() < 0.1);
        assert_eq!(model.dispersion, 1.0);
    }

    #[test]
    fn a_trend_does_not_leak_into_the_weekday_factors() {
        let y: Vec<u32> = (0..28).map(|t| 10 + t).collect();
        let model = Baseline::fit(&y, 3);
        for f in model.factors {
            assert!((f - 1.0).abs() < 0.05, "{:?}", model.factors);
        }
        assert!(
            (model.predict(28) - 38.0).abs() < 1.5,
            "{}",
            model.predict(28)
        );
    }

    #[test]
    fn dispersion_grows_with_overdispersed_counts() {
        // Alternating 2 and 18 around a mean of 10: far more spread than Poisson.
        let y: Vec<u32> = (0..28).map(|t| if t % 2 == 0 { 2 } else { 18 }).collect();
        assert!(Baseline::fit(&y, 0).dispersion > 3.0);
    }
}
