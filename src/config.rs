//! Configuration: defaults, then a TOML file (`--config FILE`), then environment variables
//! (`HOTLINE_…`, nested keys with `__`, and the standard `DATABASE_URL`), then command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Where the SQLite file, the secret key and (later) indexes and attachments live.
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL; empty for the SQLite file `DATA_DIR/hotline.db`.
    pub database_url: String,
    /// Connections in the pool.
    pub pool_size: u32,
    /// Key for hashing session tokens (hex or any text of at least 32 characters). Every node of
    /// a deployment needs the same one; on SQLite a missing key is generated into the data dir.
    pub secret_key: String,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// How long a login lasts.
    pub session_hours: i64,
    /// Mark the session cookie `Secure` (set when served over HTTPS).
    pub cookie_secure: bool,
    /// When set, `/metrics` asks for `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// Failed logins before an account is locked, and for how long.
    pub login_max_failures: i32,
    pub login_lock_minutes: i64,
    /// Block size of the daily ticket counter each node reserves at a time.
    pub number_block: i64,
    /// Largest JSON body, in bytes.
    pub max_body_bytes: usize,
    /// The code of the 12345 centre that receives online appeals (portal, apps, Open311); empty:
    /// the only city-level centre.
    pub intake_centre: String,
    /// Appeals a minute one client address may send to the public doors (burst of the same size).
    pub rate_limit_per_ip: u32,
    /// Appeals a minute one registered app or mini-program may send.
    pub rate_limit_per_client: u32,
    /// Where attachments (photos, recordings) are stored: empty for `DATA_DIR/attachments`,
    /// `s3://bucket/prefix` for S3 or an S3-compatible service (credentials, region and endpoint
    /// from the `AWS_*` variables), or `file:///dir`.
    pub attachments_url: String,
    /// Below this confidence (0–1) a dispatch suggestion puts the ticket in the dispatcher's
    /// manual queue.
    pub dispatch_threshold: f32,
    pub mail: MailSettings,
    pub scheduler: SchedulerSettings,
    pub console: ConsoleSettings,
    pub search: SearchSettings,
}

/// The knowledge base's search engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSettings {
    /// `embedded` (tantivy, under `DATA_DIR/knowledge/index`, one per node) or `meilisearch`
    /// (one shared server for large or multi-node deployments).
    pub engine: String,
    /// Meilisearch's address, e.g. `http://127.0.0.1:7700`.
    pub meili_url: String,
    /// Meilisearch's API key (its master key or a key allowed to manage the index).
    pub meili_key: String,
    /// The Meilisearch index the articles go to.
    pub meili_index: String,
    /// The synonym list (百姓体 → official words; `knowledge/demo/FORMAT.md`); empty: the list
    /// shipped with the demo. Read at start; an edit rebuilds the index at the next start.
    pub synonyms_file: String,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            engine: "embedded".into(),
            meili_url: String::new(),
            meili_key: String::new(),
            meili_index: "hotline-articles".into(),
            synonyms_file: String::new(),
        }
    }
}

/// The agent console's websocket hub (`/ws`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    /// Messages one connection may have waiting; a consumer that falls further behind is closed
    /// with code 4008.
    pub buffer: usize,
    /// Seconds between the server's pings; a connection silent for two of them is closed.
    pub heartbeat_seconds: f64,
    /// The most events a `resume` replays; further behind, the client is told to reload.
    pub replay_limit: i64,
    /// Topics one connection may hold.
    pub max_topics: usize,
    /// Seconds between a connection's checks that its session is still live.
    pub session_check_seconds: u64,
    /// Origins besides the server's own (and `mail.site_url`) that may open `/ws`, e.g.
    /// `["https://12345.example.gov.cn"]`.
    pub allowed_origins: Vec<String>,
    /// Seconds after which a node that stopped its presence heartbeat (a crash) counts as gone,
    /// and its agents as offline.
    pub presence_ttl_seconds: f64,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        let d = hotline_console::ConsoleConfig::default();
        Self {
            buffer: d.buffer,
            heartbeat_seconds: d.heartbeat.as_secs_f64(),
            replay_limit: d.replay_limit,
            max_topics: d.max_topics,
            session_check_seconds: d.session_check.as_secs(),
            allowed_origins: d.allowed_origins,
            presence_ttl_seconds: d.presence_ttl.as_secs_f64(),
        }
    }
}

impl ConsoleSettings {
    /// The hub's configuration; `site_url` (the staff pages' address) is an allowed origin too.
    pub fn config(&self, site_url: &str) -> anyhow::Result<hotline_console::ConsoleConfig> {
        if self.buffer == 0 {
            anyhow::bail!("console.buffer: must be 1 or more");
        }
        if !(self.heartbeat_seconds.is_finite() && (0.1..=3600.0).contains(&self.heartbeat_seconds))
        {
            anyhow::bail!("console.heartbeat_seconds: must be 0.1 to 3600");
        }
        if self.replay_limit < 1 {
            anyhow::bail!("console.replay_limit: must be 1 or more");
        }
        if self.max_topics == 0 {
            anyhow::bail!("console.max_topics: must be 1 or more");
        }
        if !(self.presence_ttl_seconds.is_finite()
            && (1.0..=3600.0).contains(&self.presence_ttl_seconds))
        {
            anyhow::bail!("console.presence_ttl_seconds: must be 1 to 3600");
        }
        let mut origins = self.allowed_origins.clone();
        if !site_url.trim().is_empty() {
            // The origin of the staff pages' URL: scheme and authority, no path.
            let s = site_url.trim();
            let end = s
                .find("://")
                .and_then(|i| s[i + 3..].find('/').map(|j| i + 3 + j))
                .unwrap_or(s.len());
            origins.push(s[..end].to_owned());
        }
        Ok(hotline_console::ConsoleConfig {
            buffer: self.buffer,
            heartbeat: std::time::Duration::from_secs_f64(self.heartbeat_seconds),
            replay_limit: self.replay_limit,
            max_topics: self.max_topics,
            session_check: std::time::Duration::from_secs(self.session_check_seconds.max(1)),
            allowed_origins: origins,
            presence_ttl: std::time::Duration::from_secs_f64(self.presence_ttl_seconds),
            ..hotline_console::ConsoleConfig::default()
        })
    }
}

/// Outgoing mail for notices. Without `smtp_host` no notice is queued and no sender runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    /// STARTTLS after connecting (port 587).
    pub starttls: bool,
    /// TLS from the first byte (port 465).
    pub tls: bool,
    /// Tries of a message before it is dead.
    pub max_attempts: i32,
    /// Wait after the first failed try, doubled after each further one up to `retry_max_seconds`.
    pub retry_seconds: i64,
    pub retry_max_seconds: i64,
    /// Timeout of each SMTP command.
    pub timeout_seconds: u64,
    /// Address of the staff pages, for links in notices (e.g. `https://12345.example.gov.cn`);
    /// empty: no links.
    pub site_url: String,
    /// The host name given in EHLO; empty: the address literal.
    pub hello_name: String,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_host: None,
            smtp_port: 25,
            username: None,
            password: None,
            from: "12345热线 <noreply@hotline.example>".into(),
            starttls: false,
            tls: false,
            max_attempts: 8,
            retry_seconds: 60,
            retry_max_seconds: 6 * 3600,
            timeout_seconds: 30,
            site_url: String::new(),
            hello_name: String::new(),
        }
    }
}

/// The durable scheduler (deadline warnings, overdue supervision, return visits, digest).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerSettings {
    /// Run the scheduler and the mail sender on this node (every node may: work is claimed).
    pub enabled: bool,
    /// How often to look for due work and due mail, in milliseconds.
    pub poll_ms: u64,
    /// Jobs claimed per transaction.
    pub batch: i64,
    /// When the daily digest of overdue tickets goes out, China time (`HH:MM`).
    pub digest_time: String,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_ms: 1000,
            batch: 50,
            digest_time: "08:30".into(),
        }
    }
}

/// The default confidence below which a ticket waits for a dispatcher (see the README's dispatch
/// section for how it was chosen).
pub const DEFAULT_DISPATCH_THRESHOLD: f32 = 0.6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            pool_size: 16,
            secret_key: String::new(),
            log_format: LogFormat::Text,
            session_hours: 12,
            cookie_secure: false,
            metrics_token: None,
            login_max_failures: 5,
            login_lock_minutes: 15,
            number_block: 50,
            max_body_bytes: 64 * 1024,
            intake_centre: String::new(),
            rate_limit_per_ip: 120,
            rate_limit_per_client: 60_000,
            attachments_url: String::new(),
            mail: MailSettings::default(),
            scheduler: SchedulerSettings::default(),
            console: ConsoleSettings::default(),
            search: SearchSettings::default(),
            dispatch_threshold: DEFAULT_DISPATCH_THRESHOLD,
        }
    }
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    pub search: Option<String>,
    pub meili_url: Option<String>,
    pub meili_key: Option<String>,
}

impl Settings {
    pub fn load(config_file: Option<&Path>, o: &Overrides) -> Result<Self, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = config_file {
            fig = fig.merge(Toml::file_exact(file));
        }
        // Only the keys the settings have: other HOTLINE_* variables (HOTLINE_CONFIG, test
        // harness settings) share the prefix without being settings. The file stays strict.
        let known: Vec<String> = match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        fig = fig
            .merge(
                Env::prefixed("HOTLINE_")
                    .filter(move |key| {
                        let top = key.as_str().split("__").next().unwrap_or_default();
                        known.iter().any(|k| k.eq_ignore_ascii_case(top))
                    })
                    .split("__"),
            )
            .merge(Env::raw().only(&["DATABASE_URL"]));
        let mut s: Settings = fig.extract().map_err(Box::new)?;
        if let Some(l) = o.listen {
            s.listen = l;
        }
        if let Some(d) = &o.data_dir {
            s.data_dir = d.clone();
        }
        if let Some(f) = o.log_format {
            s.log_format = f;
        }
        if let Some(e) = &o.search {
            s.search.engine = e.clone();
        }
        if let Some(u) = &o.meili_url {
            s.search.meili_url = u.clone();
        }
        if let Some(k) = &o.meili_key {
            s.search.meili_key = k.clone();
        }
        Ok(s)
    }

    /// The database URL, defaulting to the SQLite file in the data dir.
    pub fn database(&self) -> hotline_core::DbUrl {
        if self.database_url.trim().is_empty() {
            hotline_core::DbUrl::parse(&self.data_dir.join("hotline.db").to_string_lossy())
        } else {
            hotline_core::DbUrl::parse(self.database_url.trim())
        }
    }
}

impl MailSettings {
    /// The sender's settings, when mail is configured.
    pub fn sender(&self) -> Option<hotline_dispatch::MailConfig> {
        let host = self
            .smtp_host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())?;
        Some(hotline_dispatch::MailConfig {
            smtp_host: host.to_owned(),
            smtp_port: self.smtp_port,
            username: self.username.clone(),
            password: self.password.clone(),
            from: self.from.clone(),
            starttls: self.starttls,
            tls: self.tls,
            max_attempts: self.max_attempts.max(1),
            retry_base: chrono::TimeDelta::seconds(self.retry_seconds.max(1)),
            retry_max: chrono::TimeDelta::seconds(self.retry_max_seconds.max(1)),
            timeout: std::time::Duration::from_secs(self.timeout_seconds.max(1)),
            batch: 20,
            hello_name: Some(self.hello_name.clone()).filter(|n| !n.trim().is_empty()),
        })
    }
}

impl SchedulerSettings {
    /// The scheduler's settings; a malformed `digest_time` is refused naming the key.
    pub fn config(&self) -> anyhow::Result<hotline_dispatch::scheduler::SchedulerConfig> {
        let digest_at = chrono::NaiveTime::parse_from_str(self.digest_time.trim(), "%H:%M")
            .map_err(|_| anyhow::anyhow!("scheduler.digest_time: expected HH:MM, e.g. 08:30"))?;
        Ok(hotline_dispatch::scheduler::SchedulerConfig {
            batch: self.batch.clamp(1, 1000),
            poll: std::time::Duration::from_millis(self.poll_ms.max(10)),
            digest_at,
            ..hotline_dispatch::scheduler::SchedulerConfig::default()
        })
    }
}
