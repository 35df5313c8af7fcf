//! One console of the load: opens `/ws` with a bearer token (no Origin, as a non-browser client),
//! subscribes like the real page would, then reads events until told to stop, recording each
//! event's delivery latency (its `occurred_at`, stamped by the server in the transaction that
//! commits it, to the moment it is read here) and why the connection ended if the server ended it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Deserialize;
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Latency histograms are sharded so ten thousand readers rarely wait on one lock.
const SHARDS: usize = 16;

/// The event kinds the load produces; anything else a console receives is counted apart.
const LOAD_KINDS: [&str; 2] = ["suspended", "resumed"];

/// What every connection and the producer count together.
pub struct Shared {
    pub opened: AtomicU64,
    pub refused: AtomicU64,
    pub failed: AtomicU64,
    /// Connections the server closed (or that broke) while the run was on.
    pub dropped: AtomicU64,
    /// Events of the load's kinds received, over all connections.
    pub deliveries: AtomicU64,
    /// Other events received (not produced by this run).
    pub other_events: AtomicU64,
    /// Events whose sequence number was not above the connection's last one.
    pub out_of_order: AtomicU64,
    /// `error` messages from the server after subscribing.
    pub server_errors: AtomicU64,
    /// Subscribed connections per unit (index into the run's units) and on the wallboard: what
    /// one change of that unit's ticket should reach.
    pub live_per_unit: Vec<AtomicU64>,
    pub live_wallboards: AtomicU64,
    /// Why connections failed or ended: "refused: HTTP 401", "closed: 4008", …
    pub reasons: Mutex<BTreeMap<String, u64>>,
    latency: Vec<Mutex<Histogram<u64>>>,
}

impl Shared {
    pub fn new(units: usize) -> anyhow::Result<Self> {
        Ok(Self {
            opened: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            deliveries: AtomicU64::new(0),
            other_events: AtomicU64::new(0),
            out_of_order: AtomicU64::new(0),
            server_errors: AtomicU64::new(0),
            live_per_unit: (0..units).map(|_| AtomicU64::new(0)).collect(),
            live_wallboards: AtomicU64::new(0),
            reasons: Mutex::new(BTreeMap::new()),
            latency: (0..SHARDS)
                .map(|_| super::super::latency_histogram().map(Mutex::new))
                .collect::<anyhow::Result<_>>()?,
        })
    }

    fn reason(&self, why: String) {
        *self
            .reasons
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(why)
            .or_default() += 1;
    }

    fn live(&self, who: Who) -> &AtomicU64 {
        match who {
            Who::Unit(u) => &self.live_per_unit[u],
            Who::Wallboard => &self.live_wallboards,
        }
    }

    /// All delivery latencies so far, merged.
    pub fn latency(&self) -> anyhow::Result<Histogram<u64>> {
        let mut all = super::super::latency_histogram()?;
        for shard in &self.latency {
            all.add(&*shard.lock().unwrap_or_else(PoisonError::into_inner))?;
        }
        Ok(all)
    }
}

/// Whose console a connection is.
#[derive(Debug, Clone, Copy)]
pub enum Who {
    /// A user of the run's unit with this index.
    Unit(usize),
    Wallboard,
}

/// One connection to open.
pub struct Console {
    pub index: usize,
    pub who: Who,
    pub token: String,
    pub topic: String,
}

#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    seq: Option<i64>,
    #[serde(default)]
    occurred_at: Option<DateTime<Utc>>,
    /// An event's kind (`suspended`, …).
    #[serde(default, rename = "kind", borrow)]
    event_kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    code: Option<Cow<'a, str>>,
    #[serde(default)]
    id: Option<serde_json::Value>,
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

enum Refusal {
    /// The server said no (an HTTP status before the handshake, or an `error` to subscribe).
    Refused(String),
    /// The connection could not be made or broke while opening.
    Failed(String),
}

/// Reads the next text message, skipping pings and pongs.
async fn next_text(ws: &mut Ws) -> Result<String, Refusal> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Close(frame))) => {
                let code = frame.map_or(1005, |f| u16::from(f.code));
                return Err(Refusal::Refused(format!("closed {code} while opening")));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(Refusal::Failed(format!("while opening: {e}"))),
            None => return Err(Refusal::Failed("ended while opening".into())),
        }
    }
}

/// Connects, reads `hello`, subscribes and waits for `subscribed`.
async fn open(url: &str, c: &Console) -> Result<Ws, Refusal> {
    let mut req = url
        .into_client_request()
        .map_err(|e| Refusal::Failed(format!("bad url: {e}")))?;
    let auth = HeaderValue::from_str(&format!("Bearer {}", c.token))
        .map_err(|_| Refusal::Failed("a token is not a header value".into()))?;
    req.headers_mut().insert("authorization", auth);
    // Small buffers: ten thousand connections at the default 128 KiB each would take over a
    // gigabyte here, and one event is a couple of KiB.
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0);
    let (mut ws, _) =
        match tokio_tungstenite::connect_async_with_config(req, Some(config), true).await {
            Ok(ok) => ok,
            Err(WsError::Http(res)) => {
                return Err(Refusal::Refused(format!("HTTP {}", res.status().as_u16())));
            }
            Err(e) => return Err(Refusal::Failed(format!("connect: {e}"))),
        };
    let hello = next_text(&mut ws).await?;
    if !hello.contains("\"hello\"") {
        return Err(Refusal::Failed(
            "the first message is not `hello`".to_owned(),
        ));
    }
    let subscribe = serde_json::json!({
        "v": 1, "type": "subscribe", "topics": [c.topic], "id": 1
    });
    ws.send(Message::text(subscribe.to_string()))
        .await
        .map_err(|e| Refusal::Failed(format!("subscribe: {e}")))?;
    loop {
        let text = next_text(&mut ws).await?;
        let Ok(m) = serde_json::from_str::<Incoming<'_>>(&text) else {
            continue;
        };
        if m.id.as_ref().and_then(serde_json::Value::as_i64) != Some(1) {
            continue;
        }
        return match &*m.kind {
            "subscribed" => Ok(ws),
            _ => Err(Refusal::Refused(format!(
                "subscribe {}: {}",
                c.topic,
                m.code.as_deref().unwrap_or(&m.kind)
            ))),
        };
    }
}

/// Runs one console: opens it (holding `opening` meanwhile, so only so many handshakes are in
/// flight), then reads until `stop` turns true.
pub async fn run(
    shared: Arc<Shared>,
    url: Arc<str>,
    c: Console,
    opening: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    let permit = opening.acquire_owned().await;
    let opened = tokio::time::timeout(Duration::from_secs(60), open(&url, &c)).await;
    drop(permit);
    let mut ws = match opened {
        Ok(Ok(ws)) => ws,
        Ok(Err(Refusal::Refused(why))) => {
            shared.refused.fetch_add(1, Ordering::Relaxed);
            shared.reason(format!("refused: {why}"));
            return;
        }
        Ok(Err(Refusal::Failed(why))) => {
            shared.failed.fetch_add(1, Ordering::Relaxed);
            shared.reason(format!("failed: {why}"));
            return;
        }
        Err(_) => {
            shared.failed.fetch_add(1, Ordering::Relaxed);
            shared.reason("failed: no answer within 60 s while opening".into());
            return;
        }
    };
    shared.live(c.who).fetch_add(1, Ordering::AcqRel);
    shared.opened.fetch_add(1, Ordering::AcqRel);
    let shard = &shared.latency[c.index % SHARDS];
    let mut last_seq = 0i64;
    let ended = loop {
        tokio::select! {
            _ = stop.changed() => break None,
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let Ok(m) = serde_json::from_str::<Incoming<'_>>(t.as_str()) else {
                        shared.server_errors.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    match &*m.kind {
                        "event" => {}
                        "error" => {
                            shared.server_errors.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        _ => continue,
                    }
                    let seq = m.seq.unwrap_or(0);
                    if seq <= last_seq {
                        shared.out_of_order.fetch_add(1, Ordering::Relaxed);
                    }
                    last_seq = last_seq.max(seq);
                    if !m.event_kind.as_deref().is_some_and(|k| LOAD_KINDS.contains(&k)) {
                        tracing::debug!(seq, kind = ?m.event_kind, "an event this run did not make");
                        shared.other_events.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    shared.deliveries.fetch_add(1, Ordering::Relaxed);
                    if let Some(at) = m.occurred_at {
                        let micros = (Utc::now() - at).num_microseconds().unwrap_or(i64::MAX);
                        let micros = u64::try_from(micros).unwrap_or(1);
                        super::super::record_micros(
                            &mut shard.lock().unwrap_or_else(PoisonError::into_inner),
                            micros,
                        );
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    break Some(format!("closed by the server: {}", frame.map_or(1005, |f| u16::from(f.code))));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => break Some(format!("broken: {e}")),
                None => break Some("ended without a close frame".into()),
            }
        }
    };
    shared.live(c.who).fetch_sub(1, Ordering::AcqRel);
    match ended {
        Some(why) => {
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            shared.reason(why);
        }
        None => {
            // A clean close: send ours and read until the server's answer (briefly).
            let _ = ws.close(None).await;
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while let Some(Ok(_)) = ws.next().await {}
            })
            .await;
        }
    }
}
