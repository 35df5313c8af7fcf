//! The deployment's secret key: from the configuration, or (single node) a random key kept in
//! the data dir.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use rand::RngCore;

use crate::config::Settings;

pub fn load_or_create(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    let configured = settings.secret_key.trim();
    if !configured.is_empty() {
        if configured.chars().count() < 32 {
            bail!("secret_key must be at least 32 characters (64 hex digits recommended)");
        }
        return Ok(configured.as_bytes().to_vec());
    }
    let path = settings.data_dir.join("secret.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let key = existing.trim();
        if key.len() >= 32 {
            return Ok(key.as_bytes().to_vec());
        }
    }
    if settings.database().backend == hotline_core::Backend::Postgres {
        tracing::warn!(
            "no secret_key configured: using one generated in {}; every node of a deployment needs the same key (HOTLINE_SECRET_KEY)",
            path.display()
        );
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &key).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(key.into_bytes())
}

/// Writes a file only its owner can read.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}
