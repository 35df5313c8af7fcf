//! A real Meilisearch server for a test: the one shipped in `shared/tools` (or the binary named
//! by `HOTLINE_MEILISEARCH`) on a free port, with a fresh data dir, stopped when dropped.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test binary uses part; tests may fail loudly

pub mod base;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const KEY: &str = "hotline-test-master-key";

/// A running server; killed on drop.
pub struct Meili {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    pub url: String,
}

/// The server binary: `HOTLINE_MEILISEARCH`, or the shipped tool beside the workspace.
/// (Looked for above the crate's manifest, so the workspace's root tests find it too.)
pub fn tool() -> PathBuf {
    if let Some(p) = std::env::var_os("HOTLINE_MEILISEARCH") {
        return PathBuf::from(p);
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|d| d.join("shared/tools/meilisearch"))
        .find(|p| p.exists())
        .unwrap_or_else(|| here.join("../../shared/tools/meilisearch"))
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().unwrap().port()
}

/// `GET /health` answers `available`.
fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_millis(200),
    ) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req =
        format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.contains("available")
}

impl Meili {
    /// Starts a server; panics with what to do when the tool is missing or does not start.
    pub fn start() -> Self {
        let mut m = Self {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("a temporary dir"),
            url: String::new(),
        };
        m.url = format!("http://127.0.0.1:{}", m.port);
        m.restart();
        m
    }

    /// Starts the server again (same port and data) after [`Meili::stop`].
    pub fn restart(&mut self) {
        let tool = tool();
        assert!(
            tool.exists(),
            "the Meilisearch server is missing: {} does not exist (set HOTLINE_MEILISEARCH to a \
             meilisearch binary, or lay shared/ beside the workspace)",
            tool.display()
        );
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = Command::new(&tool)
            .args(["--http-addr", &format!("127.0.0.1:{}", self.port)])
            .arg("--db-path")
            .arg(self.dir.path().join("db"))
            .args([
                "--master-key",
                KEY,
                "--no-analytics",
                "--env",
                "development",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", tool.display()));
        self.child = Some(child);
        let started = Instant::now();
        while !healthy(self.port) {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "the Meilisearch server exited ({status}) before it was up:\n{}",
                    self.log()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the Meilisearch server did not come up in 60 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server (its data stays).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Where the server keeps its data.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("db")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for Meili {
    fn drop(&mut self) {
        self.stop();
    }
}
