//! What `hotline loadgen ws` measured, and how it prints it.

use super::super::{Report, max_ms, quantile_ms};

/// Everything the run measured.
pub struct WsReport {
    pub(super) connections: usize,
    pub(super) units: usize,
    pub(super) wallboards: usize,
    pub(super) opened: u64,
    pub(super) refused: u64,
    pub(super) failed: u64,
    pub(super) dropped: u64,
    pub(super) open_secs: f64,
    pub(super) changes: Report,
    pub(super) expected: u64,
    pub(super) deliveries: u64,
    pub(super) other_events: u64,
    pub(super) out_of_order: u64,
    pub(super) server_errors: u64,
    pub(super) deliveries_secs: f64,
    pub(super) latency: hdrhistogram::Histogram<u64>,
    pub(super) reasons: Vec<(String, u64)>,
    /// Server memory in MiB: with the connections open before the load, the most sampled during
    /// it, and the process's peak (VmHWM).
    pub(super) rss_idle: Option<f64>,
    pub(super) rss_max: Option<f64>,
    pub(super) rss_peak: Option<f64>,
}

impl WsReport {
    /// Deliveries expected but not received.
    pub fn missing(&self) -> u64 {
        self.expected.saturating_sub(self.deliveries)
    }

    pub fn print(&self) {
        let mib = |m: Option<f64>| m.map_or_else(|| "-".to_owned(), |m| format!("{m:.0}"));
        let c = &self.changes;
        let secs = c.elapsed.as_secs_f64().max(1e-9);
        println!(
            "ws: {} connections ({} users of {} units, {} wallboards): opened {} in {:.1} s, refused {}, failed {}",
            self.connections,
            self.connections - self.wallboards,
            self.units,
            self.wallboards,
            self.opened,
            self.open_secs,
            self.refused,
            self.failed
        );
        println!(
            "  changes: {} in {secs:.1} s ({:.0}/s), ok {}, errors {}; request ms p50 {:.2} p99 {:.2} max {:.2}",
            c.sent,
            c.ok as f64 / secs,
            c.ok,
            c.errors,
            quantile_ms(&c.latency, 0.5),
            quantile_ms(&c.latency, 0.99),
            max_ms(&c.latency)
        );
        let per_s = self.deliveries as f64 / self.deliveries_secs.max(1e-9);
        println!(
            "  deliveries: {} of {} expected ({per_s:.0}/s), missing {}, out of order {}, other events {}, server errors {}",
            self.deliveries,
            self.expected,
            self.missing(),
            self.out_of_order,
            self.other_events,
            self.server_errors
        );
        let l = &self.latency;
        println!(
            "  delivery latency ms (occurred_at → received): p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
            quantile_ms(l, 0.5),
            quantile_ms(l, 0.9),
            quantile_ms(l, 0.99),
            quantile_ms(l, 0.999),
            max_ms(l)
        );
        println!("  connections dropped during the run: {}", self.dropped);
        for (why, n) in &self.reasons {
            println!("    {n} × {why}");
        }
        if self.rss_idle.is_some() || self.rss_peak.is_some() {
            println!(
                "  server resident memory MiB: {} with the connections open, {} at most during the load, peak {}",
                mib(self.rss_idle),
                mib(self.rss_max),
                mib(self.rss_peak)
            );
        }
        println!(
            "result rate={:.0} connections={} opened={} refused={} failed={} dropped={} changes={} errors={} deliveries={} missing={} out_of_order={} other_events={} deliveries_per_s={per_s:.0} p50_ms={:.2} p99_ms={:.2} p999_ms={:.2} max_ms={:.2} rss_mib={} peak_rss_mib={}",
            c.ok as f64 / secs,
            self.connections,
            self.opened,
            self.refused,
            self.failed,
            self.dropped,
            c.ok,
            c.errors,
            self.deliveries,
            self.missing(),
            self.out_of_order,
            self.other_events,
            quantile_ms(l, 0.5),
            quantile_ms(l, 0.99),
            quantile_ms(l, 0.999),
            max_ms(l),
            mib(self.rss_max.or(self.rss_idle)),
            mib(self.rss_peak)
        );
    }
}
