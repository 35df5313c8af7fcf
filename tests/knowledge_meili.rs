#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! `hotline serve --search meilisearch` against a real Meilisearch server: the demo base is
//! indexed at start, a published article is searchable within seconds, and an article
//! published while Meilisearch is down arrives once it is back (the change log is the outbox;
//! its cursor moves only after Meilisearch confirmed).

mod common;
#[path = "../knowledge/tests/support/mod.rs"]
mod meili_support;

use std::time::{Duration, Instant};

use common::{Api, Backend, TestApp, TestDb, add_reviewers, seed, start};
use meili_support::{KEY, Meili};
use serde_json::json;

async fn search(api: &Api, q: &str) -> (u16, Vec<String>) {
    let (s, r) = api
        .get(&format!(
            "/api/v1/knowledge/search?q={}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        ))
        .await;
    let hits = r["hits"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| h["slug"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    (s, hits)
}

async fn until_found(api: &Api, q: &str, slug: &str, secs: u64) {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let (s, hits) = search(api, q).await;
        if s == 200 && hits.iter().any(|h| h == slug) {
            return;
        }
        assert!(
            Instant::now() < until,
            "{q}: {slug} not found ({s} {hits:?})"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn publish(writer: &Api, reviewer: &Api, slug: &str, title: &str, body: &str) {
    let (s, a) = writer
        .post(
            "/api/v1/knowledge/articles",
            json!({"slug": slug, "title": title, "body": body,
                   "category": "城乡建设/城市建设和市政管理", "tags": ["夜市"]}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_str().unwrap();
    for (who, step) in [(writer, "submit"), (reviewer, "publish")] {
        let (s, r) = who
            .post(
                &format!("/api/v1/knowledge/articles/{id}/steps"),
                json!({"step": step, "expected_version": 1}),
            )
            .await;
        assert_eq!(s, 200, "{r}");
    }
}

async fn through_meilisearch(backend: Backend) {
    let mut meili = Meili::start();
    let mut db = TestDb::new(backend);
    seed(db.db());
    add_reviewers(db.db());
    hotline::knowledge_base::seed_demo(db.db()).unwrap();
    db.close();
    let env = [
        ("HOTLINE_SEARCH__ENGINE", "meilisearch"),
        ("HOTLINE_SEARCH__MEILI_URL", meili.url.as_str()),
        ("HOTLINE_SEARCH__MEILI_KEY", KEY),
    ];
    let (child, base) = start(&db, &["serve"], &env);
    let app = TestApp::new(base, db, child);
    let agent = app.login("agent").await;
    let writer = app.login("a2admin").await;
    let reviewer = app.login("reviewer").await;
    until_found(&agent, "租房提取公积金", "gjj-withdraw-rent", 60).await;

    publish(
        &writer,
        &reviewer,
        "a2-night-market",
        "桂花坪夜市几点开到几点？",
        "桂花坪夜市每天17:00至次日1:00营业。",
    )
    .await;
    until_found(&agent, "桂花坪夜市营业时间", "a2-night-market", 15).await;

    // Meilisearch goes away: publishing still works, the search says it is unavailable.
    meili.stop();
    publish(
        &writer,
        &reviewer,
        "a2-flower-market",
        "桂花坪花鸟市场周末开吗？",
        "桂花坪花鸟市场周六周日8:00至18:00开放。",
    )
    .await;
    let (s, _) = search(&agent, "花鸟市场").await;
    assert_eq!(s, 503, "the search names the outage");
    // The robot hands a citizen to a person rather than failing.
    let (s, r) = app
        .anonymous()
        .post(
            "/api/v1/robot/ask",
            serde_json::json!({"text": "花鸟市场周末开吗"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["reply"]["handoff"]["reason"], "search_down", "{r}");
    // Back: the change published meanwhile arrives.
    meili.restart();
    until_found(&agent, "花鸟市场周末", "a2-flower-market", 60).await;
}
both_backends!(meilisearch, through_meilisearch);
