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
    pub mail: MailSettings,
}

/// Outgoing mail for notices (used by the dispatch notifications).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    pub starttls: bool,
}

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
            mail: MailSettings {
                smtp_port: 25,
                from: "12345热线 <noreply@hotline.example>".into(),
                ..MailSettings::default()
            },
        }
    }
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
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
