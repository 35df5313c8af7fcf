//! `hotline loadgen intake`: signed appeals from a registered app client, as fast as the server
//! takes them (closed loop: `--concurrency` workers back to back) or at a fixed rate (open loop:
//! `--rate`, one request started every 1/rate s whatever the server does, latency measured from
//! when each request was due, so a slow server cannot hide its queueing — no coordinated omission).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use tokio::sync::Mutex;

use super::Report;

#[derive(Debug, Clone, Args)]
pub struct IntakeArgs {
    /// The server's base URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub url: String,
    /// The app client (from `hotline admin client create`).
    #[arg(long, env = "HOTLINE_CLIENT_ID")]
    pub client_id: String,
    #[arg(long, env = "HOTLINE_CLIENT_SECRET")]
    pub secret: String,
    /// Appeals per second (open loop); without it, a closed loop as fast as the server answers.
    #[arg(long)]
    pub rate: Option<u32>,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Workers of the closed loop; in the open loop, the most requests in flight at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Stop after this many appeals (used by the crash test); 0: no limit.
    #[arg(long, default_value_t = 0)]
    pub max_requests: u64,
    /// Print each acknowledged ticket number and its Idempotency-Key on stdout (`ack KEY NUMBER`).
    #[arg(long)]
    pub print_acks: bool,
}

struct Shared {
    /// The real appeals shipped with the demo, sent in turn: bodies, words and places as
    /// citizens write them, so the repeat check does the work it does in production.
    appeals: Vec<(String, String)>,
    report: Mutex<Report>,
    http: reqwest::Client,
    args: IntakeArgs,
}

async fn one(shared: &Shared, n: u64) -> bool {
    let (title, detail) = &shared.appeals[usize::try_from(n).unwrap_or(0) % shared.appeals.len()];
    let body = serde_json::json!({
        "appeal_type": "complaint",
        "title": title,
        "detail": detail,
        "citizen_phone": format!("139{:08}", n % 100_000_000),
    });
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let ts = chrono::Utc::now().timestamp().to_string();
    let nonce = format!("lg{}", uuid::Uuid::new_v4().simple());
    let key = format!("lg-{}", uuid::Uuid::new_v4().simple());
    let sig = hotline_intake::clients::sign(
        &shared.args.secret,
        "POST",
        "/api/v1/appeals",
        &ts,
        &nonce,
        &bytes,
    );
    let sent = shared
        .http
        .post(format!(
            "{}/api/v1/appeals",
            shared.args.url.trim_end_matches('/')
        ))
        .header("content-type", "application/json")
        .header("x-client-id", &shared.args.client_id)
        .header("x-timestamp", ts)
        .header("x-nonce", nonce)
        .header("x-signature", sig)
        .header("idempotency-key", &key)
        .body(bytes)
        .send()
        .await;
    match sent {
        Ok(res) if res.status().as_u16() == 201 => {
            if shared.args.print_acks {
                let number = res
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v["number"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                println!("ack {key} {number}");
            }
            true
        }
        Ok(res) => {
            tracing::debug!(status = %res.status(), "refused");
            false
        }
        Err(e) => {
            tracing::debug!(error = %e, "failed");
            false
        }
    }
}

pub async fn run(args: IntakeArgs) -> anyhow::Result<Report> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(1))
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")?;
    let appeals = crate::demo::real_appeals()?;
    anyhow::ensure!(!appeals.is_empty(), "no real appeals to send");
    let shared = Arc::new(Shared {
        appeals,
        report: Mutex::new(Report::new()?),
        http,
        args: args.clone(),
    });
    let start = Instant::now();
    let end = start + Duration::from_secs(args.duration);
    let limit = if args.max_requests == 0 {
        u64::MAX
    } else {
        args.max_requests
    };
    match args.rate {
        None => {
            let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let mut workers = Vec::new();
            for _ in 0..args.concurrency.max(1) {
                let (shared, counter) = (shared.clone(), counter.clone());
                workers.push(tokio::spawn(async move {
                    loop {
                        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if Instant::now() >= end || n >= limit {
                            break;
                        }
                        let t = Instant::now();
                        let ok = one(&shared, n).await;
                        let micros = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                        shared.report.lock().await.record(ok, micros);
                    }
                }));
            }
            for w in workers {
                let _ = w.await;
            }
        }
        Some(rate) => {
            let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
            let gate = Arc::new(tokio::sync::Semaphore::new(args.concurrency.max(1) * 64));
            let mut tasks = Vec::new();
            let mut n = 0u64;
            loop {
                let due = start + interval.mul_f64(n as f64);
                if due >= end || n >= limit {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                let (shared, gate) = (shared.clone(), gate.clone());
                tasks.push(tokio::spawn(async move {
                    let _permit = gate.acquire_owned().await;
                    let ok = one(&shared, n).await;
                    // From when it was due, not from when it could start.
                    let micros = u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX);
                    shared.report.lock().await.record(ok, micros);
                }));
                n += 1;
            }
            for t in tasks {
                let _ = t.await;
            }
        }
    }
    let mut report = std::mem::replace(&mut *shared.report.lock().await, Report::new()?);
    report.elapsed = start.elapsed();
    Ok(report)
}
