#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Nothing lost, nothing doubled: the server is killed with SIGKILL several times in the middle of
//! a stream of appeals and restarted. Every appeal acknowledged with a 2xx is there afterwards, and
//! none is there twice — also when clients retry what failed with the same Idempotency-Key.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use common::{Backend, TestDb, seed, start};
use diesel::prelude::*;
use tokio::sync::Mutex;

fn client(db: &TestDb) -> (String, String) {
    let c = common::register_client(db, "crash", "app");
    (c.id, c.secret)
}

/// Sends one appeal with `key`; true when the server acknowledged it with a 2xx.
async fn send(http: &reqwest::Client, base: &str, id: &str, secret: &str, key: &str) -> bool {
    let body = serde_json::to_vec(&serde_json::json!({
        "appeal_type": "help",
        "title": format!("崩溃测试 {key}"),
        "detail": "服务进程被强制终止时提交的诉求",
    }))
    .unwrap();
    let ts = chrono::Utc::now().timestamp().to_string();
    let nonce = format!("n{}", uuid::Uuid::new_v4().simple());
    let sig = hotline_intake::clients::sign(secret, "POST", "/api/v1/appeals", &ts, &nonce, &body);
    http.post(format!("{base}/api/v1/appeals"))
        .header("content-type", "application/json")
        .header("x-client-id", id)
        .header("x-timestamp", ts)
        .header("x-nonce", nonce)
        .header("x-signature", sig)
        .header("idempotency-key", key)
        .body(body)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

async fn killed_mid_stream(backend: Backend) {
    let mut db = TestDb::new(backend);
    seed(db.db());
    db.close();
    let (id, secret) = client(&db);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let failed: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut next = 0u64;
    for round in 0..4 {
        let (mut child, base) = start(&db, &["serve"], &[("HOTLINE_RATE_LIMIT_PER_IP", "1000000")]);
        // Clients retry what failed before the crash, with the same keys.
        let retry: Vec<String> = failed.lock().await.drain().collect();
        let mut keys = retry;
        keys.extend((0..400).map(|_| {
            next += 1;
            format!("crash-{next}")
        }));
        let mut tasks = Vec::new();
        for chunk in keys.chunks(keys.len().div_ceil(16)) {
            let (http, base, id, secret) = (http.clone(), base.clone(), id.clone(), secret.clone());
            let (acked, failed) = (acked.clone(), failed.clone());
            let chunk = chunk.to_vec();
            tasks.push(tokio::spawn(async move {
                for key in chunk {
                    if send(&http, &base, &id, &secret, &key).await {
                        acked.lock().await.insert(key);
                    } else {
                        failed.lock().await.insert(key);
                    }
                }
            }));
        }
        // Kill it in the middle of the stream (the last round runs to the end).
        if round < 3 {
            tokio::time::sleep(Duration::from_millis(700 + 300 * round)).await;
            child.kill().expect("SIGKILL");
        }
        for t in tasks {
            t.await.unwrap();
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    // One more pass for whatever still failed, on a fresh server.
    let (mut child, base) = start(&db, &["serve"], &[]);
    let leftover: Vec<String> = failed.lock().await.drain().collect();
    for key in leftover {
        if send(&http, &base, &id, &secret, &key).await {
            acked.lock().await.insert(key);
        }
    }
    let _ = child.kill();
    let _ = child.wait();

    let acked = acked.lock().await.clone();
    assert!(
        acked.len() > 1000,
        "the stream ran: {} acknowledged",
        acked.len()
    );
    let store = hotline_core::Db::connect(&hotline_core::DbUrl::parse(&db.url), 2).unwrap();
    let mut c = store.get().unwrap();
    use hotline_intake::schema::idempotency_keys as k;
    let rows: Vec<(String, String)> = k::table
        .select((k::key, k::ticket_id))
        .load(&mut *c)
        .unwrap();
    let by_key: HashMap<String, String> = rows.iter().cloned().collect();
    assert_eq!(by_key.len(), rows.len());
    for key in &acked {
        assert!(
            by_key.contains_key(key),
            "acknowledged appeal {key} is missing"
        );
    }
    // Every stored appeal came from one key, and no key made two tickets.
    let tickets: i64 = hotline_core::store::tickets::count_by_status(&mut c)
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        tickets as usize,
        rows.len(),
        "tickets without a key, or a key with two tickets"
    );
    let distinct: HashSet<&String> = rows.iter().map(|(_, t)| t).collect();
    assert_eq!(distinct.len(), rows.len(), "two keys share a ticket");
    // And every one of them replays to its row.
    for t in hotline_core::store::tickets::all_ids(&mut c).unwrap() {
        assert!(!hotline_core::workflow::rebuild_ticket(&mut c, t, false).unwrap());
    }
}

both_backends!(sigkill_loses_and_doubles_nothing, killed_mid_stream);
