#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The API's edges: the OpenAPI document, bad input on every write route, operations endpoints,
//! login lockout.

mod common;

use common::{Backend, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

async fn api_edges(backend: Backend) {
    let app = spawn_app(backend).await;
    let agent = app.login("agent").await;
    let admin = app.login("admin").await;
    let ticket = agent.new_ticket("complaint").await;
    let unit = agent.unit("990103").await;
    let (_, users) = admin.get("/api/v1/users").await;
    let user = users[0]["id"].as_str().expect("user").to_owned();
    let (_, cats) = admin.get("/api/v1/categories").await;
    let category = cats[0]["id"].as_str().expect("category").to_owned();

    // Operations.
    let http = app.http();
    let res = http.get(app.url("/healthz")).send().await.expect("healthz");
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().contains_key("x-request-id"),
        "every answer carries its request id"
    );
    let ready: Value = http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    assert_eq!(ready["status"], "ready", "{ready}");
    let metrics = http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for family in [
        "hotline_http_requests_total",
        "hotline_http_request_duration_seconds_bucket",
        "hotline_tickets{status=\"received\"}",
        "hotline_db_pool_connections",
    ] {
        assert!(metrics.contains(family), "metrics lack {family}");
    }
    assert!(
        metrics.contains("route=\"/api/v1/tickets/{id}\"")
            || metrics.contains("route=\"/api/v1/tickets\""),
        "routes are labelled by pattern"
    );

    // The OpenAPI document lists every route; every write route refuses bad JSON with a 4xx.
    let doc: Value = http
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    // Schemas are keyed by their name alone: two types of one name would leave one of them
    // described by the other (see `schema_names_are_unique`). Spot-check the pairs that collided.
    let schemas = &doc["components"]["schemas"];
    let level = schemas["Level"]["enum"].as_array().expect("org Level");
    assert!(level.iter().any(|v| v == "city"), "{level:?}");
    assert!(
        schemas["Rule"]["properties"]["kind"].is_object(),
        "{}",
        schemas["Rule"]
    );
    assert!(schemas["EarlyWarningRule"]["properties"]["window_days"].is_object());
    assert!(schemas["EarlyWarningLevel"]["enum"].is_array());
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 15, "only {} paths", paths.len());
    let mut writes = 0;
    for (path, item) in paths {
        for method in ["post", "put", "patch"] {
            if item.get(method).is_none() {
                continue;
            }
            writes += 1;
            let concrete = path
                .replace("/tickets/{id}", &format!("/tickets/{ticket}"))
                .replace("/org-units/{id}", &format!("/org-units/{unit}"))
                .replace("/users/{id}", &format!("/users/{user}"))
                .replace("/categories/{id}", &format!("/categories/{category}"));
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            // Login is public; every other route is tried as the admin and as the agent.
            for client in [&admin, &agent] {
                for (content_type, body) in [
                    ("application/json", "{\"title\": "),
                    ("application/json", "[1, 2"),
                    ("application/json", "not json"),
                    ("application/json", "{\"reason\": \"x\"} trailing"),
                    ("text/plain", "{}"),
                ] {
                    let (status, err) = client.raw(m.clone(), &concrete, content_type, body).await;
                    assert!(
                        (400..500).contains(&status),
                        "{method} {concrete} with {body:?} as {content_type}: {status} {err}"
                    );
                    assert!(
                        err["error"]["code"].is_string(),
                        "{method} {concrete}: no error body: {err}"
                    );
                }
            }
        }
    }
    assert!(writes >= 20, "only {writes} write routes in the document");

    // Refusals name the field and the reason.
    let cases: Vec<(Value, &str, u16)> = vec![
        (
            json!({"appeal_type": "complaint", "detail": "x"}),
            "title",
            422,
        ),
        (
            json!({"appeal_type": "complaint", "title": "x", "detail": "x", "colour": 1}),
            "colour",
            422,
        ),
        (
            json!({"appeal_type": "complaint", "title": 5, "detail": "x"}),
            "title",
            422,
        ),
        (
            json!({"appeal_type": "gossip", "title": "x", "detail": "x"}),
            "appeal_type",
            422,
        ),
        (
            json!({"appeal_type": "complaint", "title": "路".repeat(201), "detail": "x"}),
            "title",
            422,
        ),
        (
            json!({"appeal_type": "complaint", "title": "x", "detail": "长".repeat(10_001)}),
            "detail",
            422,
        ),
        (
            json!({"appeal_type": "complaint", "title": "  ", "detail": "x"}),
            "title",
            422,
        ),
        (
            json!({"appeal_type": "complaint", "title": "x", "detail": "x", "citizen_phone": "12345"}),
            "citizen_phone",
            422,
        ),
        (
            json!({"appeal_type": "complaint", "title": "x", "detail": "x", "latitude": 91.0, "longitude": 1.0}),
            "latitude",
            422,
        ),
        (
            json!({"appeal_type": "complaint", "title": "x", "detail": "x", "category_id": "00000000-0000-0000-0000-000000000000"}),
            "category_id",
            422,
        ),
    ];
    for (body, field, status) in cases {
        let (s, err) = agent.post("/api/v1/tickets", body.clone()).await;
        assert_eq!(
            (s, err["error"]["field"].as_str()),
            (status, Some(field)),
            "{body}: {err}"
        );
    }
    let (s, err) = agent
        .post(
            &format!("/api/v1/tickets/{ticket}/dispatch"),
            json!({"main_unit_id": "not-a-uuid"}),
        )
        .await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (422, Some("main_unit_id")),
        "{err}"
    );
    let (s, err) = agent
        .post(
            &format!("/api/v1/tickets/{ticket}/dispatch"),
            json!({"main_unit_id": unit, "co_unit_ids": [unit]}),
        )
        .await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (422, Some("co_unit_ids")),
        "{err}"
    );
    let (s, err) = agent.get("/api/v1/tickets?limit=0").await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (422, Some("limit")),
        "{err}"
    );
    let (s, err) = agent.get("/api/v1/tickets?status=lost").await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (422, Some("status")),
        "{err}"
    );
    let (s, err) = agent.get("/api/v1/tickets?overdue=perhaps").await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (422, Some("overdue")),
        "{err}"
    );
    let (s, err) = agent.get("/api/v1/tickets?from=yesterday").await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (422, Some("from")),
        "{err}"
    );
    let (s, err) = agent.get("/api/v1/events?after=-1").await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (422, Some("after")),
        "{err}"
    );
    // An oversized body is refused before it is read whole.
    let huge = format!(
        "{{\"appeal_type\":\"complaint\",\"title\":\"x\",\"detail\":\"{}\"}}",
        "x".repeat(200_000)
    );
    let (s, _) = agent
        .raw(Method::POST, "/api/v1/tickets", "application/json", &huge)
        .await;
    assert_eq!(s, 413);
    // Unknown API routes answer JSON 404s.
    let (s, err) = agent.get("/api/v1/nothing-here").await;
    assert_eq!((s, err["error"]["code"].as_str()), (404, Some("not_found")));

    // Filters and cursor paging.
    for _ in 0..3 {
        agent.new_ticket("consult").await;
    }
    let (_, page1) = agent
        .get("/api/v1/tickets?appeal_type=consult&limit=2")
        .await;
    assert_eq!(page1["items"].as_array().expect("items").len(), 2);
    let cursor = page1["next_cursor"].as_str().expect("cursor");
    let (_, page2) = agent
        .get(&format!(
            "/api/v1/tickets?appeal_type=consult&limit=2&cursor={cursor}"
        ))
        .await;
    let page2 = page2["items"].as_array().expect("items");
    assert_eq!(page2.len(), 1);
    assert!(
        page1["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|t| t["id"] != page2[0]["id"])
    );
    let (_, received) = agent
        .get("/api/v1/tickets?status=received,dispatched&limit=200")
        .await;
    assert!(
        received["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|t| t["status"] == "received" || t["status"] == "dispatched")
    );
    let (_, by_phone) = agent.get("/api/v1/tickets?citizen_phone=13800138000").await;
    assert_eq!(
        by_phone["items"].as_array().expect("items").len(),
        4,
        "the caller's earlier tickets"
    );
    assert_eq!(
        by_phone["items"][0]["citizen_phone"], "138****8000",
        "phone numbers are masked"
    );

    // Repeated wrong passwords lock the account; the right one does not open it while locked.
    let anon = app.anonymous();
    for i in 0..5 {
        let (s, err) = anon
            .post(
                "/api/v1/auth/login",
                json!({"username": "zjj", "password": "wrong password"}),
            )
            .await;
        let expected = if i < 4 { 401 } else { 423 };
        assert_eq!(s, expected, "attempt {i}: {err}");
    }
    let (s, err) = anon
        .post(
            "/api/v1/auth/login",
            json!({"username": "zjj", "password": common::password_of("zjj")}),
        )
        .await;
    assert_eq!(
        (s, err["error"]["code"].as_str()),
        (423, Some("account_locked")),
        "{err}"
    );
    // Unknown users get the same answer as wrong passwords.
    let (s, err) = anon
        .post(
            "/api/v1/auth/login",
            json!({"username": "nobody", "password": "whatever-it-is"}),
        )
        .await;
    assert_eq!(
        (s, err["error"]["message"].as_str()),
        (401, Some("wrong username or password"))
    );
}

both_backends!(api_edges_and_openapi, api_edges);

/// Every type the OpenAPI document describes has its own schema name: utoipa keys components by
/// name, so a second `Rule` silently replaced the routing rule's schema with the warning rule's and
/// every rule answer broke the document (schemathesis found it). Reads the workspace's sources:
/// each `#[derive(.., ToSchema, ..)]` type, under its `#[schema(as = ..)]` name when it has one.
#[test]
fn schema_names_are_unique() {
    use std::collections::BTreeMap;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // The root crate and the workspace's members, as Cargo.toml lists them.
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let members = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("members = ["))
        .expect("workspace members");
    let mut dirs = vec![root.join("src")];
    for member in members.trim_end_matches(']').split(',') {
        dirs.push(root.join(member.trim().trim_matches('"')).join("src"));
    }
    assert!(dirs.len() > 5, "members: {members}");
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 50, "only {} source files", files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        let mut rest = text.as_str();
        while let Some(at) = rest.find("#[derive(") {
            rest = &rest[at + "#[derive(".len()..];
            let close = rest.find(")]").expect("derive closes");
            if !rest[..close].contains("ToSchema") {
                continue;
            }
            // The item follows its attributes: the first `struct`/`enum` line.
            let mut alias = None;
            let mut name = None;
            for line in rest[close..].lines().take(30) {
                let line = line.trim();
                if let Some(a) = line.strip_prefix("#[schema(")
                    && let Some(i) = a.find("as = ")
                {
                    let a = &a[i + 5..];
                    let end = a.find([',', ')']).unwrap_or(a.len());
                    alias = Some(
                        a[..end]
                            .rsplit("::")
                            .next()
                            .expect("name")
                            .trim()
                            .to_owned(),
                    );
                }
                let item = line.strip_prefix("pub ").unwrap_or(line);
                let item = if item.starts_with("pub(") {
                    item.split_once(") ").map_or(item, |(_, r)| r)
                } else {
                    item
                };
                if let Some(n) = item.strip_prefix("struct ").or(item.strip_prefix("enum ")) {
                    let end = n
                        .find(|c: char| !c.is_alphanumeric() && c != '_')
                        .unwrap_or(n.len());
                    name = Some(n[..end].to_owned());
                    break;
                }
            }
            let name = name
                .unwrap_or_else(|| panic!("no item after a ToSchema derive in {}", path.display()));
            names.entry(alias.unwrap_or(name)).or_default().push(
                path.strip_prefix(root)
                    .expect("inside")
                    .display()
                    .to_string(),
            );
        }
    }
    assert!(names.len() > 100, "only {} schema types found", names.len());
    assert!(names.contains_key("Level") && names.contains_key("EarlyWarningLevel"));
    let repeated: Vec<_> = names.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(repeated.is_empty(), "schema names used twice: {repeated:?}");
}
