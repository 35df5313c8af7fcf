//! Events across nodes on PostgreSQL: a dedicated connection `LISTEN`s on the channel the
//! sequencer notifies after each run (the payload is the highest sequence number it gave out)
//! and wakes the feed, which reads the rows itself. Diesel has no blocking wait for
//! notifications, so the thread asks libpq for what arrived every few milliseconds (a
//! non-blocking read of the socket, no round trip) and sends `SELECT 1` now and then to notice a
//! dead connection. On any failure it reconnects with a growing pause and tells the feed to
//! catch up by sequence, so what was announced while it was away is still delivered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use hotline_core::store::events::NOTIFY_CHANNEL;
use hotline_core::store::presence::NOTIFY_CHANNEL as PRESENCE_CHANNEL;

use crate::presence::Presence;

use crate::feed::Wake;

/// How often arrived notifications are picked up.
const TICK: Duration = Duration::from_millis(10);
/// How often the connection is tested with a round trip.
const KEEPALIVE: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Stops the listener thread when dropped.
pub struct Listener {
    stop: Arc<AtomicBool>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// Starts the listener thread on `url`.
pub fn spawn(url: String, wake: Arc<Wake>, presence: Arc<Presence>) -> std::io::Result<Listener> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::Builder::new()
        .name("hotline-listen".into())
        .spawn(move || run(&url, &wake, &presence, &flag))?;
    Ok(Listener { stop })
}

fn connect(url: &str) -> Result<PgConnection, diesel::result::Error> {
    let mut c = PgConnection::establish(url).map_err(|e| {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UnableToSendCommand,
            Box::new(e.to_string()),
        )
    })?;
    // The name lets an operator (and the tests) find this session in pg_stat_activity.
    c.batch_execute(&format!(
        "SET application_name = 'hotline-listen'; LISTEN {NOTIFY_CHANNEL}; LISTEN {PRESENCE_CHANNEL}"
    ))?;
    Ok(c)
}

fn run(url: &str, wake: &Wake, presence: &Presence, stop: &AtomicBool) {
    let mut backoff = Duration::from_millis(100);
    let mut failed = false;
    while !stop.load(Ordering::Acquire) {
        match connect(url) {
            Ok(mut conn) => {
                if failed {
                    tracing::info!("event listener reconnected; catching up by sequence");
                }
                backoff = Duration::from_millis(100);
                failed = false;
                // Whatever was announced before LISTEN took effect is read now.
                wake.catch_up();
                if failed {
                    presence.resync();
                }
                if let Err(e) = listen(&mut conn, wake, presence, stop) {
                    tracing::warn!(error = %e, "event listener lost its connection; reconnecting");
                    failed = true;
                }
            }
            Err(e) => {
                if !failed {
                    tracing::warn!(error = %e, "event listener cannot connect; retrying");
                }
                failed = true;
            }
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn listen(
    conn: &mut PgConnection,
    wake: &Wake,
    presence: &Presence,
    stop: &AtomicBool,
) -> Result<(), diesel::result::Error> {
    let mut tested = Instant::now();
    while !stop.load(Ordering::Acquire) {
        let mut highest = None;
        for n in conn.notifications_iter() {
            let n = n?;
            if n.channel == PRESENCE_CHANNEL {
                presence.remote(n.payload);
                continue;
            }
            if let Ok(seq) = n.payload.trim().parse::<i64>() {
                highest = highest.max(Some(seq));
            }
        }
        if let Some(seq) = highest {
            wake.announce(seq);
        }
        if tested.elapsed() >= KEEPALIVE {
            conn.batch_execute("SELECT 1")?;
            tested = Instant::now();
        }
        std::thread::sleep(TICK);
    }
    Ok(())
}
