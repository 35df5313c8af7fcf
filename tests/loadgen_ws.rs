#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The websocket load generator at a small scale against the real binary: `loadgen ws-setup` on
//! the database, `serve`, then `loadgen ws`, whose every change must reach each console of its
//! unit and every wallboard, with no connection refused or dropped.

mod common;

use std::collections::HashMap;
use std::process::{Command, Output};

use common::{Backend, TestDb, binary, seed, start};

fn hotline(db: &TestDb, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .envs(db.env())
        .env("RUST_LOG", "error")
        .output()
        .expect("run hotline")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The `key=value` pairs of the `result` line.
fn result_of(o: &Output) -> HashMap<String, String> {
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("result "))
        .unwrap_or_else(|| panic!("no result line in:\n{}", text(o)));
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn num(r: &HashMap<String, String>, key: &str) -> f64 {
    r.get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number {key} in {r:?}"))
}

async fn small_load(backend: Backend) {
    let mut db = TestDb::new(backend);
    seed(db.db());
    db.close();
    let dir = db.dir.path().to_str().unwrap().to_owned();
    let tokens = db.dir.path().join("tokens.txt");
    let setup = hotline(
        &db,
        &[
            "loadgen",
            "ws-setup",
            "--units",
            "5",
            "--users-per-unit",
            "9",
            "--wallboards",
            "5",
            "--data-dir",
            &dir,
            "--out",
            tokens.to_str().unwrap(),
        ],
    );
    assert!(setup.status.success(), "{}", text(&setup));
    // A second setup on the same database is refused rather than half done.
    let again = hotline(
        &db,
        &["loadgen", "ws-setup", "--units", "1", "--data-dir", &dir],
    );
    assert!(!again.status.success(), "{}", text(&again));

    let (mut server, base) = start(&db, &["serve"], &[]);
    let pid = server.id().to_string();
    // 5 wallboards and 45 users: 9 per unit, so each change should reach 9 + 5 consoles.
    let run = hotline(
        &db,
        &[
            "loadgen",
            "ws",
            "--url",
            &base,
            "--tokens",
            tokens.to_str().unwrap(),
            "--connections",
            "50",
            "--wallboards",
            "5",
            "--rate",
            "20",
            "--duration",
            "3",
            "--server-pid",
            &pid,
        ],
    );
    let _ = server.kill();
    let _ = server.wait();
    assert!(run.status.success(), "{}", text(&run));
    let r = result_of(&run);
    let report = text(&run);
    assert_eq!(num(&r, "opened"), 50.0, "{report}");
    assert_eq!(num(&r, "refused"), 0.0, "{report}");
    assert_eq!(num(&r, "failed"), 0.0, "{report}");
    assert_eq!(num(&r, "dropped"), 0.0, "{report}");
    assert_eq!(num(&r, "errors"), 0.0, "{report}");
    let changes = num(&r, "changes");
    assert!(
        changes >= 50.0,
        "3 s at 20/s made only {changes} changes: {report}"
    );
    assert!(num(&r, "deliveries") > 0.0, "{report}");
    assert_eq!(num(&r, "missing"), 0.0, "{report}");
    assert_eq!(num(&r, "out_of_order"), 0.0, "{report}");
    // The setup's own events were numbered before the server started, not delivered as new.
    assert_eq!(num(&r, "other_events"), 0.0, "{report}");
    assert_eq!(num(&r, "deliveries"), changes * 14.0, "{report}");
    assert!(num(&r, "p99_ms") > 0.0, "{report}");
    assert!(num(&r, "rss_mib") > 0.0, "{report}");
}

both_backends!(a_small_centre_gets_every_change, small_load);

#[test]
fn help_documents_the_load_generator() {
    let out = Command::new(binary())
        .args(["loadgen", "ws", "--help"])
        .output()
        .expect("run hotline");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for word in [
        "--connections",
        "--rate",
        "--duration",
        "--units",
        "--wallboards",
        "--server-pid",
        "ws-setup",
        "ulimit -n",
        "result rate=",
    ] {
        assert!(help.contains(word), "{word} missing from:\n{help}");
    }
}
