//! hotline-console: the agent console's websocket hub. `GET /ws` upgrades an authenticated
//! request; the client subscribes to topics (its own queue, a unit's queue, one ticket, the
//! wallboard) and receives every committed event those topics select and its scope may see, in
//! sequence order, with the ticket's summary. The protocol is in the README ("Agent console: the
//! websocket protocol").
//!
//! How events get here: [`feed::Feed`] follows the event table by sequence number, woken by this
//! node's bus and, on PostgreSQL, by [`listener`] (LISTEN/NOTIFY from every node's sequencer).

pub mod config;
mod connection;
pub mod feed;
pub mod hub;
pub mod listener;
pub mod presence;
pub mod protocol;
pub mod routes;
pub mod topics;

use std::sync::Arc;

use hotline_core::Backend;
use hotline_core::store::events;
use hotline_core::workflow::Hotline;

pub use config::ConsoleConfig;
pub use routes::configure;

/// The hub and its settings, shared by the `/ws` handler of every worker.
pub struct Console {
    pub config: ConsoleConfig,
    pub hub: Arc<hub::Hub>,
    wake: Arc<feed::Wake>,
    pub presence: Arc<presence::Presence>,
    inbox: std::sync::Mutex<Option<presence::Inbox>>,
    /// Allowed origins besides the server's own, normalized.
    origins: Vec<String>,
}

/// What [`Console::start`] runs; dropping it stops the listener (abort the task to stop the feed).
pub struct Running {
    pub feed: tokio::task::JoinHandle<()>,
    pub presence: tokio::task::JoinHandle<()>,
    pub listener: Option<listener::Listener>,
}

impl Console {
    pub fn new(config: ConsoleConfig) -> Arc<Self> {
        let (presence, inbox) = presence::Presence::new(config.presence_ttl);
        Arc::new(Self {
            origins: config.normalized_origins(),
            presence,
            inbox: std::sync::Mutex::new(Some(inbox)),
            config,
            hub: Arc::new(hub::Hub::new()),
            wake: Arc::new(feed::Wake::default()),
        })
    }

    /// Starts following the event table from its end, and on PostgreSQL (`database_url`) the
    /// listener for other nodes' events. Consoles see events committed from now on; earlier ones
    /// come by `resume`.
    pub async fn start(
        &self,
        hotline: &Hotline,
        database_url: &str,
    ) -> Result<Running, Box<dyn std::error::Error + Send + Sync>> {
        let last = hotline.db.run(events::last_seq).await?;
        self.hub.start_at(last);
        let listener = match hotline.db.backend() {
            Backend::Postgres => Some(listener::spawn(
                database_url.to_owned(),
                self.wake.clone(),
                self.presence.clone(),
            )?),
            Backend::Sqlite => None,
        };
        let feed = feed::Feed {
            hub: self.hub.clone(),
            db: hotline.db.clone(),
            wake: self.wake.clone(),
            poll: self.config.poll,
        };
        let feed = tokio::spawn(feed.run(hotline.bus.clone()));
        let inbox = self
            .inbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .ok_or("the console hub is already started")?;
        let presence = tokio::spawn(self.presence.clone().run(
            inbox,
            hotline.db.clone(),
            self.hub.clone(),
        ));
        Ok(Running {
            feed,
            presence,
            listener,
        })
    }

    /// Removes this node's presence (a clean shutdown; a crash expires by the heartbeat).
    pub async fn stop(&self, running: Running, hotline: &Hotline) {
        running.feed.abort();
        running.presence.abort();
        drop(running.listener);
        if let Err(e) = self.presence.forget_node(&hotline.db).await {
            tracing::warn!(error = %e, "console presence: removing this node failed");
        }
    }
}
