//! `hotline loadgen …`: load generators that play the part of many clients against a running
//! server, and report latency percentiles from an HDR histogram.

pub mod intake;
pub mod seed;
pub mod ws;

use std::time::Duration;

use hdrhistogram::Histogram;

/// The longest latency a histogram keeps, in microseconds (a minute); longer ones count as that.
const MAX_MICROS: u64 = 60_000_000;

/// A latency histogram in microseconds, up to a minute, 3 significant figures.
pub fn latency_histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, MAX_MICROS, 3)?)
}

pub fn record_micros(h: &mut Histogram<u64>, micros: u64) {
    let _ = h.record(micros.clamp(1, MAX_MICROS));
}

/// The latency at quantile `q`, in milliseconds.
pub fn quantile_ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

pub fn max_ms(h: &Histogram<u64>) -> f64 {
    h.max() as f64 / 1000.0
}

/// What a run measured.
pub struct Report {
    pub sent: u64,
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub latency: Histogram<u64>,
}

impl Report {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            sent: 0,
            ok: 0,
            errors: 0,
            elapsed: Duration::ZERO,
            latency: latency_histogram()?,
        })
    }

    pub fn record(&mut self, ok: bool, micros: u64) {
        self.sent += 1;
        if ok {
            self.ok += 1;
        } else {
            self.errors += 1;
        }
        record_micros(&mut self.latency, micros);
    }

    fn ms(&self, q: f64) -> f64 {
        quantile_ms(&self.latency, q)
    }

    pub fn print(&self, what: &str) {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        println!("{what}: {} requests in {secs:.1} s", self.sent);
        println!("  ok {}  errors {}", self.ok, self.errors);
        println!("  throughput {:.0} ok/s", self.ok as f64 / secs);
        println!(
            "  latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
            self.ms(0.50),
            self.ms(0.90),
            self.ms(0.99),
            self.ms(0.999),
            self.latency.max() as f64 / 1000.0
        );
        // One line for scripts.
        println!(
            "result rate={:.0} p50_ms={:.2} p99_ms={:.2} p999_ms={:.2} max_ms={:.2} errors={} ok={}",
            self.ok as f64 / secs,
            self.ms(0.50),
            self.ms(0.99),
            self.ms(0.999),
            self.latency.max() as f64 / 1000.0,
            self.errors,
            self.ok
        );
    }
}
