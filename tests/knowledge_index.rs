#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The embedded index as an operator meets it: rebuilt at start when it is missing or corrupt,
//! `hotline knowledge reindex` from the command line, and two nodes on one PostgreSQL each
//! keeping their own index current from the change log.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Api, Backend, TestApp, TestDb, add_reviewers, binary, seed, start, start_in};
use serde_json::{Value, json};

fn index_dir(db: &TestDb) -> std::path::PathBuf {
    db.dir.path().join("knowledge").join("index")
}

async fn top_hit(api: &Api, q: &str) -> Option<String> {
    let (s, r) = api
        .get(&format!(
            "/api/v1/knowledge/search?q={}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(s, 200, "{r}");
    r["hits"][0]["slug"].as_str().map(str::to_owned)
}

const QUERY: &str = "租房提取公积金";
const ANSWER: &str = "gjj-withdraw-rent";

fn demo_db(backend: Backend) -> TestDb {
    let mut db = TestDb::new(backend);
    seed(db.db());
    assert_eq!(hotline::knowledge_base::seed_demo(db.db()).unwrap(), 310);
    db.close();
    db
}

/// Starts a node on `db`, searches, stops it (the database stays for the next start).
async fn serve_and_search(db: TestDb) -> (TestDb, Option<String>) {
    let (child, base) = start(&db, &["serve"], &[]);
    let mut app = TestApp::new(base, TestDb::new(Backend::Sqlite), child);
    let agent = app.login("agent").await;
    let hit = top_hit(&agent, QUERY).await;
    app.kill();
    (db, hit)
}

async fn recovery(backend: Backend) {
    let db = demo_db(backend);
    let (db, hit) = serve_and_search(db).await;
    assert_eq!(hit.as_deref(), Some(ANSWER), "built at the first start");
    let dir = index_dir(&db);
    assert!(dir.join("applied-changes").exists());

    // Corrupt: the index's metadata overwritten with garbage.
    std::fs::write(dir.join("meta.json"), b"{ not json").unwrap();
    let (db, hit) = serve_and_search(db).await;
    assert_eq!(hit.as_deref(), Some(ANSWER), "rebuilt after corruption");

    // Missing: the whole directory gone.
    std::fs::remove_dir_all(&dir).unwrap();
    let (db, hit) = serve_and_search(db).await;
    assert_eq!(hit.as_deref(), Some(ANSWER), "rebuilt when missing");

    // Reindex from the command line.
    std::fs::remove_dir_all(&dir).unwrap();
    let out = Command::new(binary())
        .args(["knowledge", "reindex", "--data-dir"])
        .arg(db.dir.path())
        .envs(db.env())
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("search index rebuilt: 310 published articles in the embedded engine"),
        "{stdout}"
    );
    assert!(dir.join("applied-changes").exists());
    let (_db, hit) = serve_and_search(db).await;
    assert_eq!(hit.as_deref(), Some(ANSWER));
}
both_backends!(rebuilt_when_missing_or_corrupt, recovery);

/// Node A publishes; node B, with its own data dir and index, finds it within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_keep_their_indexes_current() {
    let mut db = TestDb::new(Backend::Postgres);
    seed(db.db());
    add_reviewers(db.db());
    db.close();
    let key = [(
        "HOTLINE_SECRET_KEY",
        "two nodes share this key of at least 32 chars",
    )];
    let holder = TestDb::new(Backend::Sqlite);
    let (child_a, base_a) = start(&db, &["serve"], &key);
    let (child_b, base_b) = start_in(&db, holder.dir.path(), &["serve"], &key);
    let node_a = TestApp::new(base_a, db, child_a);
    let node_b = TestApp::new(base_b, holder, child_b);
    let writer = node_a.login("a2admin").await;
    let reviewer = node_a.login("reviewer").await;
    let agent_b = node_b.login("agent").await;
    let (s, a) = writer
        .post(
            "/api/v1/knowledge/articles",
            json!({
                "slug": "a2-street-market-hours",
                "title": "A2区桂花坪夜市几点开到几点？",
                "body": "桂花坪夜市每天17:00至次日1:00营业，周边禁止占道停车。",
                "category": "城乡建设/城市建设和市政管理",
                "tags": ["夜市", "营业时间"],
            }),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_str().unwrap();
    for (who, step) in [(&writer, "submit"), (&reviewer, "publish")] {
        let (s, r): (u16, Value) = who
            .post(
                &format!("/api/v1/knowledge/articles/{id}/steps"),
                json!({"step": step, "expected_version": 1}),
            )
            .await;
        assert_eq!(s, 200, "{r}");
    }
    let until = Instant::now() + Duration::from_secs(15);
    while top_hit(&agent_b, "桂花坪夜市营业时间").await.as_deref() != Some("a2-street-market-hours")
    {
        assert!(Instant::now() < until, "node B never saw the article");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
