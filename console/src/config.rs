//! What an operator may tune about the hub (the binary maps its settings file onto this).

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// Messages one connection may have waiting to be written; a consumer that lets more pile
    /// up is closed with [`crate::protocol::CLOSE_TOO_SLOW`].
    pub buffer: usize,
    /// How often the server pings; a connection silent for two intervals is closed.
    pub heartbeat: Duration,
    /// The most events a `resume` replays; further behind, the client is told to reload.
    pub replay_limit: i64,
    /// Topics one connection may hold at once.
    pub max_topics: usize,
    /// How often a connection checks that its session is still live (logout, password change
    /// or a deactivated account end it).
    pub session_check: Duration,
    /// Origins other than the server's own that may open `/ws` (`https://host[:port]`).
    pub allowed_origins: Vec<String>,
    /// How often the follower reads the event table even when nothing woke it (a safety net
    /// behind the local bus and PostgreSQL notifications).
    pub poll: Duration,
    /// A node whose presence heartbeat is older than this is taken for dead and its
    /// connections' presence released; each node beats every third of it.
    pub presence_ttl: Duration,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            buffer: 256,
            heartbeat: Duration::from_secs(30),
            replay_limit: 1000,
            max_topics: 100,
            session_check: Duration::from_secs(300),
            allowed_origins: Vec::new(),
            poll: Duration::from_secs(5),
            presence_ttl: Duration::from_secs(30),
        }
    }
}

impl ConsoleConfig {
    /// The allowed origins as compared with a request's `Origin`: lower case, no trailing slash.
    pub fn normalized_origins(&self) -> Vec<String> {
        self.allowed_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect()
    }
}
