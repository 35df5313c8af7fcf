#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The real SMTP server of the mail tests (Python's aiosmtpd running `smtp_sink.py` on a free
//! port) and a sender that talks to it.
#![allow(dead_code)] // each test file uses part of it

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::TimeDelta;
use hotline_core::Db;
use hotline_core::workflow::Now;
use hotline_dispatch::mail::{MailConfig, Sender};
use serde_json::Value;

use crate::scheduler_support::FROM;

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The aiosmtpd process; killed when dropped.
pub struct Sink {
    child: Child,
    dir: PathBuf,
}

impl Sink {
    pub fn start(port: u16, dir: &Path) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail_support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 (with aiosmtpd: python3 -m pip install aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            format!("ready {port}"),
            "aiosmtpd did not start"
        );
        Self {
            child,
            dir: dir.to_path_buf(),
        }
    }

    /// What the server accepted, in order.
    pub fn delivered(&self) -> Vec<Value> {
        let mut files: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn sender(db: &Db, now: &Now, port: u16, max_attempts: i32) -> Sender {
    let cfg = MailConfig {
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        username: None,
        password: None,
        from: FROM.into(),
        starttls: false,
        tls: false,
        max_attempts,
        retry_base: TimeDelta::seconds(60),
        retry_max: TimeDelta::hours(1),
        timeout: Duration::from_secs(10),
        batch: 20,
        hello_name: Some("hotline.test".into()),
    };
    Sender::new(db.clone(), now.clone(), cfg).expect("sender")
}
