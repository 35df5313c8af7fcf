#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The knowledge base's articles through the real binary, on both backends: unit admins write,
//! the centre's reviewers publish, every edit is a version with a readable diff, stale edits
//! and concurrent steps answer 409, the search follows the workflow (and an answer's expiry),
//! bad input names its field, and the demo loads its 310 articles once.

mod common;

use std::time::{Duration, Instant};

use common::{Api, Backend, TestApp, TestDb, add_reviewers, seed, start};
use reqwest::Method;
use serde_json::{Value, json};

pub async fn knowledge_app(backend: Backend) -> TestApp {
    let mut db = TestDb::new(backend);
    seed(db.db());
    add_reviewers(db.db());
    db.close();
    let (child, base) = start(&db, &["serve"], &[]);
    TestApp::new(base, db, child)
}

fn article(title: &str, body: &str) -> Value {
    json!({
        "slug": "gjj-house-purchase-2026",
        "title": title,
        "body": body,
        "category": "城乡建设/住房保障与房地产",
        "tags": ["公积金", "购房提取"],
        "areas": ["990103"],
        "source": "《A市住房公积金提取管理办法》"
    })
}

/// Slugs the search returns for `q`.
async fn found(api: &Api, q: &str) -> Vec<String> {
    let (s, r) = api
        .get(&format!(
            "/api/v1/knowledge/search?q={}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(s, 200, "{r}");
    r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["slug"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits (up to 15 s) until the search agrees with `want`.
async fn until_search(api: &Api, q: &str, slug: &str, want: bool) {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let hits = found(api, q).await;
        if hits.iter().any(|h| h == slug) == want {
            return;
        }
        assert!(
            Instant::now() < until,
            "search for {q}: {slug} present should be {want}, got {hits:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn step(api: &Api, id: &str, step: &str, version: i64, note: Option<&str>) -> (u16, Value) {
    api.post(
        &format!("/api/v1/knowledge/articles/{id}/steps"),
        json!({"step": step, "expected_version": version, "note": note}),
    )
    .await
}

async fn the_workflow(backend: Backend) {
    let app = knowledge_app(backend).await;
    let writer = app.login("a2admin").await;
    let reviewer = app.login("reviewer").await;
    let agent = app.login("agent").await;

    // A unit handler does not write; a unit admin does, for their unit.
    let handler = app.login("a2").await;
    let (s, r) = handler
        .post(
            "/api/v1/knowledge/articles",
            article("购房能提取公积金吗？", "可以。"),
        )
        .await;
    assert_eq!(s, 403, "{r}");
    let body =
        "在A2区购买自住住房的职工，可凭购房合同和发票提取住房公积金。\n\n提取额度不超过购房款。\n";
    let (s, a) = writer
        .post(
            "/api/v1/knowledge/articles",
            article("买房可以提取住房公积金吗？", body),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["state"], "draft");
    assert_eq!(a["version"], 1);
    let id = a["id"].as_str().unwrap().to_owned();

    // A draft is nobody's business but its writers' and reviewers'.
    let (s, _) = agent.get(&format!("/api/v1/knowledge/articles/{id}")).await;
    assert_eq!(s, 404);
    let (s, v) = reviewer
        .get(&format!("/api/v1/knowledge/articles/{id}"))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["steps"],
        json!(["archive"]),
        "a draft is not the reviewer's yet"
    );

    // Writers do not publish; reviewers do not write.
    let (s, r) = step(&writer, &id, "submit", 1, None).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["state"], "in_review");
    let (s, r) = step(&writer, &id, "publish", 1, None).await;
    assert_eq!(s, 403, "{r}");
    let (s, r) = reviewer
        .send(
            Method::PUT,
            &format!("/api/v1/knowledge/articles/{id}"),
            json!({"expected_version": 1, "title": "改个标题行不行", "body": body, "category": "城乡建设/住房保障与房地产"}),
        )
        .await;
    assert_eq!(s, 403, "{r}");
    // Sending back needs a reason.
    let (s, r) = step(&reviewer, &id, "reject", 1, None).await;
    assert_eq!(
        (s, r["error"]["field"].as_str()),
        (422, Some("note")),
        "{r}"
    );
    let (s, r) = step(&reviewer, &id, "publish", 1, Some("核对无误")).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["state"].as_str(), r["published_version"].as_i64()),
        (Some("published"), Some(1))
    );
    until_search(&agent, "买房提取公积金", "gjj-house-purchase-2026", true).await;

    // An edit of a published article is a new draft version; the search keeps the published one.
    let body2 = body.replace("购房款", "实际购房款总额");
    let mut edit = article("买房可以提取住房公积金吗？", &body2);
    edit.as_object_mut().unwrap().remove("slug");
    edit["expected_version"] = json!(1);
    edit["note"] = json!("额度口径按新办法");
    let path = format!("/api/v1/knowledge/articles/{id}");
    let (s, r) = writer.send(Method::PUT, &path, edit.clone()).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["state"].as_str(), r["version"].as_i64()),
        (Some("draft"), Some(2))
    );
    // The same edit again was made from version 1: refused with the current version.
    let (s, r) = writer.send(Method::PUT, &path, edit).await;
    assert_eq!(s, 409, "{r}");
    assert_eq!(r["error"]["details"]["version"], 2, "{r}");
    // Readers see the published text, not the draft.
    let (s, v) = agent.get(&path).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["shown_version"], 1);
    assert!(
        !v["shown"]["body"]
            .as_str()
            .unwrap()
            .contains("实际购房款总额")
    );
    assert_eq!(v["editor"], false);
    let (s, _) = agent.get(&format!("{path}/versions")).await;
    assert_eq!(s, 403);

    // Versions and their readable diff.
    let (s, vs) = writer.get(&format!("{path}/versions")).await;
    assert_eq!(s, 200, "{vs}");
    assert_eq!(vs.as_array().unwrap().len(), 2);
    assert_eq!(vs[0]["note"], "额度口径按新办法");
    let (s, d) = writer.get(&format!("{path}/diff?from=1&to=2")).await;
    assert_eq!(s, 200, "{d}");
    let changed: Vec<(&str, &str)> = d["body"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| {
            l["pieces"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["changed"] == true)
                .map(move |p| (l["tag"].as_str().unwrap(), p["text"].as_str().unwrap()))
        })
        .collect();
    assert_eq!(changed, [("insert", "实际"), ("insert", "总额")], "{d}");
    let (s, d) = writer.get(&format!("{path}/diff?from=1&to=9")).await;
    assert_eq!((s, d["error"]["field"].as_str()), (422, Some("to")), "{d}");

    // Two reviewers approve the same version at once: exactly one wins.
    let (s, _) = step(&writer, &id, "submit", 2, None).await;
    assert_eq!(s, 200);
    let reviewer2 = app.login("reviewer2").await;
    let (a, b) = tokio::join!(
        step(&reviewer, &id, "publish", 2, None),
        step(&reviewer2, &id, "publish", 2, None)
    );
    let mut codes = [a.0, b.0];
    codes.sort_unstable();
    assert_eq!(codes, [200, 409], "{a:?} {b:?}");
    until_search(&agent, "实际购房款总额", "gjj-house-purchase-2026", true).await;

    // The trail names every step.
    let (s, log) = writer.get(&format!("{path}/log")).await;
    assert_eq!(s, 200, "{log}");
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["create", "submit", "publish", "edit", "submit", "publish"]
    );

    // Archived: out of search and out of readers' sight.
    let (s, r) = step(&writer, &id, "archive", 2, Some("政策调整")).await;
    assert_eq!(s, 200, "{r}");
    until_search(&agent, "买房提取公积金", "gjj-house-purchase-2026", false).await;
    let (s, _) = agent.get(&path).await;
    assert_eq!(s, 404);
    // Restored: a draft again, searchable only after a new review.
    let (s, r) = step(&writer, &id, "restore", 2, None).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["state"].as_str(), r["published_version"].as_i64()),
        (Some("draft"), None)
    );
}
both_backends!(workflow, the_workflow);

async fn refusals_and_expiry(backend: Backend) {
    let app = knowledge_app(backend).await;
    let writer = app.login("a2admin").await;
    let reviewer = app.login("reviewer").await;
    let agent = app.login("agent").await;
    let create = |v: Value| {
        let w = writer.clone();
        async move { w.post("/api/v1/knowledge/articles", v).await }
    };
    let base = article("买房可以提取住房公积金吗？", "可以提取。");
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    for (body, field) in [
        (with("title", json!("公积")), "title"),
        (with("body", json!("  ")), "body"),
        (with("category", json!("没有这个分类")), "category"),
        (with("areas", json!(["990103", "000000"])), "areas[1]"),
        (
            with(
                "tags",
                json!(["一", "超过二十个字的标签超过二十个字的标签超过二十个字"]),
            ),
            "tags[1]",
        ),
        (with("slug", json!("Not A Slug")), "slug"),
        (
            with("valid_to", json!("2020-01-01")).tap(|b| b["valid_from"] = json!("2021-01-01")),
            "valid_to",
        ),
        (
            with(
                "owner_unit_id",
                json!("00000000-0000-4000-8000-000000000000"),
            ),
            "owner_unit_id",
        ),
        (with("owner_unit_id", json!(7)), "owner_unit_id"),
        (with("colour", json!("red")), "colour"),
    ] {
        let (s, r) = create(body).await;
        assert!((400..500).contains(&s), "{field}: {s} {r}");
        assert_eq!(r["error"]["field"], field, "{r}");
    }
    // A unit admin writes only for their own unit and those below it.
    let other = app.login("admin").await.unit("990102").await;
    let (s, r) = create(with("owner_unit_id", json!(other))).await;
    assert_eq!(s, 403, "{r}");
    let (s, r) = writer.get("/api/v1/knowledge/search?q=").await;
    assert_eq!((s, r["error"]["field"].as_str()), (422, Some("q")), "{r}");
    let (s, r) = writer.get("/api/v1/knowledge/search?q=社保&limit=0").await;
    assert_eq!(
        (s, r["error"]["field"].as_str()),
        (422, Some("limit")),
        "{r}"
    );

    // An answer that expired yesterday is not found; one valid until next year is.
    let today = chrono::Utc::now().date_naive();
    for (slug, to, title) in [
        (
            "heating-expired",
            today - chrono::Days::new(1),
            "去年冬季供暖补贴怎么申领？",
        ),
        (
            "heating-current",
            today + chrono::Days::new(365),
            "今年冬季供暖补贴怎么申领？",
        ),
    ] {
        let mut b = base.clone();
        b["slug"] = json!(slug);
        b["title"] = json!(title);
        b["body"] = json!("低保家庭向社区申领供暖补贴，每户按面积补助。");
        b["valid_to"] = json!(to.to_string());
        let (s, a) = create(b).await;
        assert_eq!(s, 201, "{a}");
        let id = a["id"].as_str().unwrap();
        assert_eq!(step(&writer, id, "submit", 1, None).await.0, 200);
        assert_eq!(step(&reviewer, id, "publish", 1, None).await.0, 200);
    }
    until_search(&agent, "供暖补贴申领", "heating-current", true).await;
    assert!(
        !found(&agent, "供暖补贴申领")
            .await
            .contains(&"heating-expired".to_owned())
    );
}
both_backends!(refusals, refusals_and_expiry);

trait Tap: Sized {
    fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
}
impl Tap for Value {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}

/// The demo publishes its 310 articles once, searchable by how citizens type.
async fn demo_articles(backend: Backend) {
    let mut db = TestDb::new(backend);
    seed(db.db());
    assert_eq!(hotline::knowledge_base::seed_demo(db.db()).unwrap(), 310);
    assert_eq!(
        hotline::knowledge_base::seed_demo(db.db()).unwrap(),
        0,
        "once"
    );
    db.close();
    let (child, base) = start(&db, &["serve"], &[]);
    let app = TestApp::new(base, db, child);
    let agent = app.login("agent").await;
    // Pinyin initials, as in the shipped evaluation set.
    let hits = found(&agent, "sbk gs").await;
    assert!(
        hits[..3].contains(&"shebao-card-replace".to_owned()),
        "{hits:?}"
    );
    let (s, list) = agent.get("/api/v1/knowledge/articles?limit=500").await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().unwrap().len(), 310);
}
both_backends!(demo, demo_articles);
