//! `hotline loadgen ws`: a centre's consoles on the websocket hub. Opens `--connections`
//! authenticated connections (the tokens come from `hotline loadgen ws-setup`): the units' users
//! subscribed to their own queue and the dispatchers' wallboards, then changes one ticket of one
//! unit `--rate` times a second through the API (the unit's handler suspends it, then resumes
//! it: one event each), so every change reaches that unit's users and every wallboard. Reports
//! the delivery latency (event stamped in its transaction → read by the console), deliveries per
//! second, deliveries missing, connections refused or dropped, and the server's resident memory.

mod connection;
mod report;
pub mod setup;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use tokio::sync::{Mutex, Semaphore, watch};

use self::connection::{Console, Shared, Who};
pub use self::report::WsReport;
use self::setup::Tokens;
use super::Report;

/// The reason given with each suspension.
const SUSPEND_REASON: &str = "负载测试：等待市民补充材料";

/// What a unit's user subscribes to.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UnitTopic {
    /// `queue:me`: the unit workbench's own queue.
    Queue,
    /// `unit:<code>`: the unit's queue by its code.
    Unit,
}

#[derive(Debug, Clone, Args)]
#[command(after_help = "\
The tokens file comes from `hotline loadgen ws-setup` on the server's database (the standard run: \
--units 500 --users-per-unit 20 --wallboards 100). Every change is one event on a ticket held by \
one unit, so it should reach that unit's connections and every wallboard; `missing` counts what \
did not arrive within --drain seconds after the last change. The latency is measured from the \
event's occurred_at (stamped by the server inside the transaction that commits it), so the \
client's clock must be the server's: run on the same host.

The last line is for scripts: `result rate=… connections=… opened=… refused=… failed=… dropped=… \
changes=… errors=… deliveries=… missing=… out_of_order=… other_events=… deliveries_per_s=… \
p50_ms=… p99_ms=… p999_ms=… max_ms=… rss_mib=… peak_rss_mib=…` (the memory figures only with --server-pid).

Each connection is an open file on both sides: this process raises its soft RLIMIT_NOFILE to \
the hard limit and refuses to start when that is too low; raise the hard limit with `ulimit -n` \
(or LimitNOFILE= in a systemd unit), for the server too.")]
pub struct WsArgs {
    /// The server's base URL, e.g. http://127.0.0.1:8080 (the websocket is URL/ws).
    #[arg(long)]
    pub url: String,
    /// The tokens file written by `hotline loadgen ws-setup`.
    #[arg(long)]
    pub tokens: PathBuf,
    /// Connections to open in all: the wallboards and the units' users (spread evenly over the
    /// units; with more connections than a unit has users, a user has several).
    #[arg(long)]
    pub connections: usize,
    /// Ticket changes per second (open loop: on a fixed schedule whatever the server does).
    #[arg(long, default_value_t = 500)]
    pub rate: u32,
    /// Seconds of changes.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Units to use: the first U of the tokens file (default all of them).
    #[arg(long)]
    pub units: Option<usize>,
    /// Connections on the wallboard (the centre's dispatchers), counted in --connections.
    #[arg(long, default_value_t = 100)]
    pub wallboards: usize,
    /// What the units' users subscribe to.
    #[arg(long, value_enum, default_value = "queue")]
    pub unit_topic: UnitTopic,
    /// Handshakes in flight at once while opening the connections.
    #[arg(long, default_value_t = 64)]
    pub open_concurrency: usize,
    /// Most changes in flight at once.
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// Seconds to wait after the last change for its deliveries.
    #[arg(long, default_value_t = 5)]
    pub drain: u64,
    /// The server's process id: report its resident memory (VmRSS and VmHWM of /proc/PID/status).
    #[arg(long)]
    pub server_pid: Option<u32>,
}

/// The ticket a unit's handler changes, and whether it is suspended now.
struct UnitTicket {
    ticket: String,
    token: String,
    suspended: Mutex<bool>,
}

/// Raises the soft limit on open files to the hard limit; returns the limit now in force, or
/// None where it cannot be read.
#[cfg(target_os = "linux")]
fn raise_open_files() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    // An unlimited hard limit still stops at the kernel's nr_open (1,048,576 by default).
    let hard = now.maximum.unwrap_or(1 << 20);
    if now.current.is_some_and(|c| c < hard) {
        let raised = Rlimit {
            current: Some(hard),
            maximum: now.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_err() {
            return now.current;
        }
    }
    getrlimit(Resource::Nofile).current.or(Some(hard))
}

#[cfg(not(target_os = "linux"))]
fn raise_open_files() -> Option<u64> {
    None
}

/// A field of /proc/PID/status in MiB (`VmRSS`, `VmHWM`).
fn proc_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The websocket URL of a server's base URL.
fn ws_url(base: &str) -> anyhow::Result<String> {
    let base = base.trim_end_matches('/');
    match base.split_once("://") {
        Some(("http", rest)) => Ok(format!("ws://{rest}/ws")),
        Some(("ws", rest)) => Ok(format!("ws://{}/ws", rest.trim_end_matches("/ws"))),
        Some(("https" | "wss", _)) => {
            bail!("this load generator speaks plain HTTP only (no TLS): run it next to the server")
        }
        _ => bail!("--url must be http://HOST:PORT"),
    }
}

/// The consoles to open: the wallboards first, then the units' users round-robin.
fn consoles(args: &WsArgs, tokens: &Tokens, units: usize) -> anyhow::Result<Vec<Console>> {
    if args.wallboards > 0 && tokens.wallboards.is_empty() {
        bail!("the tokens file has no wallboard tokens: give --wallboards 0 or set them up");
    }
    if args.connections < args.wallboards + units {
        bail!(
            "--connections {} is too few for {} wallboards and one user in each of {units} units",
            args.connections,
            args.wallboards
        );
    }
    let mut out = Vec::with_capacity(args.connections);
    for k in 0..args.wallboards {
        out.push(Console {
            index: out.len(),
            who: Who::Wallboard,
            token: tokens.wallboards[k % tokens.wallboards.len()].clone(),
            topic: "wallboard".into(),
        });
    }
    for k in 0..args.connections - args.wallboards {
        let (u, nth) = (k % units, k / units);
        let unit = &tokens.units[u];
        out.push(Console {
            index: out.len(),
            who: Who::Unit(u),
            token: unit.tokens[nth % unit.tokens.len()].clone(),
            topic: match args.unit_topic {
                UnitTopic::Queue => "queue:me".into(),
                UnitTopic::Unit => format!("unit:{}", unit.code),
            },
        });
    }
    Ok(out)
}

/// Whether the ticket is suspended now (an earlier run may have left it so).
async fn is_suspended(
    http: &reqwest::Client,
    base: &str,
    unit: &UnitTicket,
) -> anyhow::Result<bool> {
    let res = http
        .get(format!("{base}/api/v1/tickets/{}", unit.ticket))
        .bearer_auth(&unit.token)
        .send()
        .await
        .context("cannot read a unit's ticket")?;
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    match body["ticket"]["status"].as_str() {
        Some(s) if status.is_success() => Ok(s == "suspended"),
        _ => bail!(
            "GET /api/v1/tickets/{} answered {status}: are the tokens of this server's database?",
            unit.ticket
        ),
    }
}

/// One change: the unit's handler suspends its ticket, or resumes it. Returns whether the server
/// took it.
async fn change(http: &reqwest::Client, base: &str, unit: &UnitTicket) -> bool {
    let mut suspended = unit.suspended.lock().await;
    let (action, body) = if *suspended {
        ("resume", serde_json::json!({}))
    } else {
        ("suspend", serde_json::json!({ "reason": SUSPEND_REASON }))
    };
    let sent = http
        .post(format!("{base}/api/v1/tickets/{}/{action}", unit.ticket))
        .bearer_auth(&unit.token)
        .json(&body)
        .send()
        .await;
    match sent.map(|r| r.status().as_u16()) {
        Ok(200) => {
            *suspended = !*suspended;
            true
        }
        // The ticket is not where this side thought (an earlier answer was lost): the other
        // action is the right one next time.
        Ok(409) => {
            *suspended = !*suspended;
            false
        }
        Ok(status) => {
            tracing::debug!(status, action, "change refused");
            false
        }
        Err(e) => {
            tracing::debug!(error = %e, action, "change failed");
            false
        }
    }
}

pub async fn run(args: WsArgs) -> anyhow::Result<WsReport> {
    let text = std::fs::read_to_string(&args.tokens)
        .with_context(|| format!("cannot read {}", args.tokens.display()))?;
    let tokens = Tokens::parse(&text)?;
    let units = args.units.unwrap_or(tokens.units.len());
    if units == 0 || units > tokens.units.len() {
        bail!(
            "--units {units}: the tokens file has {} units",
            tokens.units.len()
        );
    }
    let consoles = consoles(&args, &tokens, units)?;
    // The connections, the API's pool, the standard streams and some slack.
    let need = u64::try_from(args.connections + args.concurrency + 64).unwrap_or(u64::MAX);
    if let Some(limit) = raise_open_files()
        && need > limit
    {
        bail!(
            "{} connections need about {need} open files, but this process may open {limit}: \
             raise the limit (`ulimit -n {need}` in the shell, LimitNOFILE= in a systemd unit; \
             the server needs as many)",
            args.connections
        );
    }
    let base = args.url.trim_end_matches('/').to_owned();
    let url: Arc<str> = ws_url(&base)?.into();
    // The units' tickets and where they stand, read first so a wrong tokens file fails early.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(1))
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")?;
    let tickets: Arc<Vec<UnitTicket>> = Arc::new(
        tokens.units[..units]
            .iter()
            .map(|u| UnitTicket {
                ticket: u.ticket.to_string(),
                token: u.tokens[0].clone(),
                suspended: Mutex::new(false),
            })
            .collect(),
    );
    for chunk in tickets.chunks(32) {
        let states =
            futures_util::future::join_all(chunk.iter().map(|u| is_suspended(&http, &base, u)))
                .await;
        for (u, state) in chunk.iter().zip(states) {
            *u.suspended.lock().await = state?;
        }
    }
    let shared = Arc::new(Shared::new(units)?);
    let (stop_tx, stop_rx) = watch::channel(false);
    let opening = Arc::new(Semaphore::new(args.open_concurrency.max(1)));
    let started = Instant::now();
    let mut readers = Vec::with_capacity(consoles.len());
    for c in consoles {
        readers.push(tokio::spawn(connection::run(
            shared.clone(),
            url.clone(),
            c,
            opening.clone(),
            stop_rx.clone(),
        )));
    }
    let total = u64::try_from(args.connections).unwrap_or(u64::MAX);
    let done = |s: &Shared| {
        s.opened.load(Ordering::Acquire)
            + s.refused.load(Ordering::Acquire)
            + s.failed.load(Ordering::Acquire)
    };
    while done(&shared) < total {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let open_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "opened {} of {} connections in {open_secs:.1} s",
        shared.opened.load(Ordering::Acquire),
        args.connections
    );
    let rss_idle = args.server_pid.and_then(|p| proc_mib(p, "VmRSS:"));

    // The changes, on a fixed schedule, round-robin over the units.
    let expected = Arc::new(AtomicU64::new(0));
    let report = Arc::new(Mutex::new(Report::new()?));
    // The bits of a positive f64 order as the numbers do, so fetch_max keeps the largest.
    let rss_max = Arc::new(AtomicU64::new(0));
    let sampler = args.server_pid.map(|pid| {
        let rss_max = rss_max.clone();
        tokio::spawn(async move {
            loop {
                if let Some(mib) = proc_mib(pid, "VmRSS:") {
                    rss_max.fetch_max(mib.to_bits(), Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    });
    let start = Instant::now();
    let end = start + Duration::from_secs(args.duration);
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1)));
    let gate = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let mut producers = Vec::new();
    for n in 0u64.. {
        let due = start + interval.mul_f64(n as f64);
        if due >= end {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let u = usize::try_from(n).unwrap_or(0) % units;
        let (http, base, tickets, gate) =
            (http.clone(), base.clone(), tickets.clone(), gate.clone());
        let (shared, expected, report) = (shared.clone(), expected.clone(), report.clone());
        producers.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await;
            let ok = change(&http, &base, &tickets[u]).await;
            if ok {
                // Who should get it: the unit's consoles and the wallboards subscribed now.
                let reach = shared.live_per_unit[u].load(Ordering::Acquire)
                    + shared.live_wallboards.load(Ordering::Acquire);
                expected.fetch_add(reach, Ordering::AcqRel);
            }
            // From when it was due, not from when it could start (no coordinated omission).
            let micros = u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX);
            report.lock().await.record(ok, micros);
        }));
    }
    for p in producers {
        let _ = p.await;
    }
    let produced = start.elapsed();
    let drain_until = Instant::now() + Duration::from_secs(args.drain);
    while shared.deliveries.load(Ordering::Acquire) < expected.load(Ordering::Acquire)
        && Instant::now() < drain_until
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deliveries_secs = start.elapsed().as_secs_f64();
    if let Some(s) = sampler {
        s.abort();
    }
    let rss_peak = args.server_pid.and_then(|p| proc_mib(p, "VmHWM:"));
    let _ = stop_tx.send(true);
    for r in readers {
        let _ = r.await;
    }
    let mut changes = std::mem::replace(&mut *report.lock().await, Report::new()?);
    // The schedule's length, or longer when the last answers came late.
    changes.elapsed = produced.max(Duration::from_secs(args.duration));
    let reasons = shared
        .reasons
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let rss_max = rss_max.load(Ordering::Relaxed);
    Ok(WsReport {
        connections: args.connections,
        units,
        wallboards: args.wallboards,
        opened: shared.opened.load(Ordering::Acquire),
        refused: shared.refused.load(Ordering::Acquire),
        failed: shared.failed.load(Ordering::Acquire),
        dropped: shared.dropped.load(Ordering::Acquire),
        open_secs,
        changes,
        expected: expected.load(Ordering::Acquire),
        deliveries: shared.deliveries.load(Ordering::Acquire),
        other_events: shared.other_events.load(Ordering::Acquire),
        out_of_order: shared.out_of_order.load(Ordering::Acquire),
        server_errors: shared.server_errors.load(Ordering::Acquire),
        deliveries_secs,
        latency: shared.latency()?,
        reasons,
        rss_idle,
        rss_max: (rss_max > 0).then(|| f64::from_bits(rss_max)),
        rss_peak,
    })
}
