//! When appeals arrive: how many per day (fewer on weekends and public holidays, a summer peak,
//! day-to-day noise), at which hours (few at night, peaks mid-morning and mid-afternoon), and a
//! few bursts: dozens of appeals about one matter in one street within a few hours.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Shanghai;
use hotline_core::calendar::WorkCalendar;
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

/// Relative arrivals per hour of the day, China time.
const HOURLY: [f64; 24] = [
    0.25, 0.15, 0.10, 0.08, 0.08, 0.15, 0.40, 1.00, 2.20, 3.20, 3.40, 3.00, 2.00, 1.80, 2.80, 3.10,
    3.00, 2.60, 1.80, 1.60, 1.50, 1.20, 0.80, 0.45,
];

/// A burst's window; what it is about and where are chosen when it is generated.
#[derive(Debug, Clone)]
pub struct Burst {
    pub size: u32,
    pub start: DateTime<Utc>,
    pub minutes: i64,
}

#[derive(Debug, Clone)]
pub struct Day {
    pub date: NaiveDate,
    /// Every appeal of the day, bursts included.
    pub count: u32,
    pub bursts: Vec<Burst>,
}

/// Midnight of `date` in China, as UTC.
pub fn day_start(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    Shanghai
        .from_local_datetime(&midnight)
        .earliest()
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

fn weekday_factor(date: NaiveDate, cal: &WorkCalendar) -> f64 {
    let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
    match cal.is_working_day(date) {
        // A make-up working weekend is busy like a weekday; a holiday quiet like a weekend.
        Ok(true) if weekend => 0.95,
        Ok(false) if !weekend => 0.55,
        _ => match date.weekday() {
            Weekday::Mon => 1.15,
            Weekday::Tue => 1.05,
            Weekday::Wed | Weekday::Thu => 1.0,
            Weekday::Fri => 0.95,
            Weekday::Sat => 0.65,
            Weekday::Sun => 0.6,
        },
    }
}

/// The share of a day's arrivals that has come by `now` (1 for past days).
fn elapsed_share(date: NaiveDate, now: DateTime<Utc>) -> f64 {
    let start = day_start(date);
    let total: f64 = HOURLY.iter().sum();
    let secs = (now - start).num_seconds() as f64;
    let done: f64 = HOURLY
        .iter()
        .enumerate()
        .map(|(h, w)| w * ((secs - h as f64 * 3600.0) / 3600.0).clamp(0.0, 1.0))
        .sum();
    done / total
}

/// Spreads `n` appeals over `from..=to` (no later than `now`).
pub fn plan(
    n: u64,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
    cal: &WorkCalendar,
    rng: &mut StdRng,
) -> Vec<Day> {
    let dates: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    if dates.is_empty() {
        return Vec::new();
    }
    // About 2 % of the appeals come in bursts of ten or more, at most one burst a week.
    let burst_total = if n >= 100 { n / 50 } else { 0 };
    let bursts = (burst_total / 10).min((dates.len() as u64 / 7).max(1));
    let weights: Vec<f64> = dates
        .iter()
        .map(|d| {
            let season =
                1.0 + 0.15 * (std::f64::consts::TAU * (d.ordinal() as f64 - 200.0) / 365.0).cos();
            weekday_factor(*d, cal) * season * rng.random_range(0.88..1.12) * elapsed_share(*d, now)
        })
        .collect();
    let regular = n - if bursts > 0 { burst_total } else { 0 };
    let sum: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    // Largest remainder: the counts add up to exactly `regular`.
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * regular as f64).collect();
    let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut order: Vec<usize> = (0..dates.len()).collect();
    order.sort_by(|a, b| {
        (exact[*b] - exact[*b].floor()).total_cmp(&(exact[*a] - exact[*a].floor()))
    });
    let short = regular.saturating_sub(counts.iter().sum());
    for i in order
        .iter()
        .cycle()
        .take(usize::try_from(short).unwrap_or(0))
    {
        counts[*i] += 1;
    }
    let mut days: Vec<Day> = dates
        .iter()
        .zip(counts)
        .map(|(date, c)| Day {
            date: *date,
            count: u32::try_from(c).unwrap_or(u32::MAX),
            bursts: Vec::new(),
        })
        .collect();
    // Bursts happen on past days, during the day.
    let past: Vec<usize> = (0..days.len())
        .filter(|i| day_start(days[*i].date) + Duration::hours(20) < now)
        .collect();
    for b in 0..bursts {
        let Some(&i) = past.choose(rng) else { break };
        let size = burst_total / bursts + u64::from(b < burst_total % bursts);
        let size = u32::try_from(size).unwrap_or(u32::MAX);
        let start = day_start(days[i].date) + Duration::minutes(rng.random_range(8 * 60..17 * 60));
        days[i].count += size;
        days[i].bursts.push(Burst {
            size,
            start,
            minutes: rng.random_range(90..360),
        });
    }
    days
}

/// `count` arrival times on `date` following the hourly rhythm, none after `now`, in order.
pub fn arrivals(
    date: NaiveDate,
    count: u32,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> Vec<DateTime<Utc>> {
    let start = day_start(date);
    let open: Vec<f64> = HOURLY
        .iter()
        .enumerate()
        .map(|(h, w)| {
            if start + Duration::hours(h as i64) < now {
                *w
            } else {
                0.0
            }
        })
        .collect();
    let Ok(hours) = WeightedIndex::new(&open) else {
        return Vec::new();
    };
    let mut out: Vec<DateTime<Utc>> = (0..count)
        .map(|_| {
            let hour = start + Duration::hours(hours.sample(rng) as i64);
            let room = (now - hour).num_seconds().clamp(1, 3600);
            hour + Duration::seconds(rng.random_range(0..room))
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_plan_places_exactly_n_appeals_and_none_in_the_future() {
        let cal = WorkCalendar::new(Default::default(), Shanghai);
        let mut rng = StdRng::seed_from_u64(3);
        let from = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let to = NaiveDate::from_ymd_opt(2026, 3, 31).expect("date");
        let now = day_start(to) + Duration::hours(10);
        let days = plan(5_000, from, to, now, &cal, &mut rng);
        assert_eq!(days.iter().map(|d| u64::from(d.count)).sum::<u64>(), 5_000);
        assert!(days.iter().any(|d| !d.bursts.is_empty()));
        let last = days.last().expect("days");
        let times = arrivals(last.date, last.count, now, &mut rng);
        assert!(times.iter().all(|t| *t <= now));
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        // Weekdays are busier than weekends.
        let (mut wd, mut we) = (0u64, 0u64);
        for d in &days {
            match d.date.weekday() {
                Weekday::Sat | Weekday::Sun => we += u64::from(d.count),
                _ => wd += u64::from(d.count),
            }
        }
        assert!(wd / 5 > we / 2, "weekday {wd} weekend {we}");
    }
}
