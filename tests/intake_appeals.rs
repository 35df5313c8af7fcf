#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Appeals from registered apps and mini-programs: signed requests, exactly once per
//! Idempotency-Key (also under 20 concurrent retries), validation with normalisation, masked
//! personal data, and rate limits — through the real binary on both backends.

mod common;

use common::{Backend, TestApp, TestDb, seed, start};
use serde_json::{Value, json};

type Client = common::AppClient;

fn register_client(db: &TestDb, channel: &str) -> Client {
    common::register_client(db, "市民通", channel)
}

struct Signed {
    timestamp: i64,
    nonce: String,
    tamper: bool,
}

impl Signed {
    fn now() -> Self {
        Self {
            timestamp: chrono::Utc::now().timestamp(),
            nonce: format!("n{}", uuid::Uuid::new_v4().simple()),
            tamper: false,
        }
    }
}

async fn send(
    app: &TestApp,
    client: &Client,
    key: Option<&str>,
    body: &Value,
    s: &Signed,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    let ts = s.timestamp.to_string();
    let mut signature = hotline_intake::clients::sign(
        &client.secret,
        "POST",
        "/api/v1/appeals",
        &ts,
        &s.nonce,
        &bytes,
    );
    if s.tamper {
        signature = signature.replace('a', "b").replace('0', "1");
    }
    let mut req = app
        .http()
        .post(app.url("/api/v1/appeals"))
        .header("content-type", "application/json")
        .header("x-client-id", &client.id)
        .header("x-timestamp", ts)
        .header("x-nonce", &s.nonce)
        .header("x-signature", signature)
        .body(bytes);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let res = req.send().await.expect("send");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap_or(Value::Null))
}

fn appeal() -> Value {
    json!({
        "appeal_type": "complaint",
        "title": "小区门口路灯不亮",
        "detail": "A2区桂花坪街道云塘社区门口路灯连续一周不亮，晚上出行不便。",
        "citizen_phone": "１３８００１３８０００",
        "citizen_id_number": "11010519491231002x"
    })
}

async fn app_with(backend: Backend, env: &[(&str, &str)]) -> TestApp {
    let mut db = TestDb::new(backend);
    seed(db.db());
    db.close();
    let (child, base) = start(&db, &["serve"], env);
    TestApp::new(base, db, child)
}

async fn signed_appeals(backend: Backend) {
    let app = app_with(backend, &[]).await;
    let client = register_client(&app.db, "app");
    let dispatcher = app.login("dispatcher").await;

    let (status, headers, receipt) =
        send(&app, &client, Some("k-1"), &appeal(), &Signed::now()).await;
    assert_eq!(status, 201, "{receipt}");
    assert!(headers.get("idempotent-replayed").is_none());
    let number = receipt["number"].as_str().expect("number");
    assert_eq!(number.len(), 14);
    assert_eq!(receipt["query_code"].as_str().expect("code").len(), 6);
    let id = receipt["ticket_id"].as_str().expect("id").to_owned();

    // A retry (signed anew, same key) gets the same receipt and creates nothing.
    let (status, headers, again) =
        send(&app, &client, Some("k-1"), &appeal(), &Signed::now()).await;
    assert_eq!((status, &again), (201, &receipt));
    assert_eq!(headers["idempotent-replayed"], "true");
    let count = |v: &Value| v["items"].as_array().expect("items").len();
    let (_, list) = dispatcher
        .get("/api/v1/tickets?channel=app&limit=200")
        .await;
    assert_eq!(count(&list), 1);
    // The same key for another request is refused.
    let mut other = appeal();
    other["title"] = json!("另一件事");
    let (status, _, err) = send(&app, &client, Some("k-1"), &other, &Signed::now()).await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("Idempotency-Key")),
        "{err}"
    );

    // Signatures, clocks and nonces.
    let s = Signed::now();
    assert_eq!(send(&app, &client, Some("k-2"), &appeal(), &s).await.0, 201);
    let (status, _, err) = send(&app, &client, Some("k-3"), &appeal(), &s).await;
    assert_eq!(status, 401, "a reused nonce: {err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("X-Nonce")
    );
    // Also when the key would be answered from the first request: a replayed request is refused.
    let (status, _, err) = send(&app, &client, Some("k-2"), &appeal(), &s).await;
    assert_eq!(status, 401, "a replayed request: {err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("X-Nonce")
    );
    for (label, s) in [
        (
            "old",
            Signed {
                timestamp: chrono::Utc::now().timestamp() - 301,
                ..Signed::now()
            },
        ),
        (
            "future",
            Signed {
                timestamp: chrono::Utc::now().timestamp() + 400,
                ..Signed::now()
            },
        ),
        (
            "tampered",
            Signed {
                tamper: true,
                ..Signed::now()
            },
        ),
    ] {
        let (status, _, err) = send(&app, &client, Some("k-4"), &appeal(), &s).await;
        assert_eq!(status, 401, "{label}: {err}");
    }
    let stranger = Client {
        id: "cli_nobody".into(),
        secret: client.secret.clone(),
    };
    assert_eq!(
        send(&app, &stranger, Some("k-5"), &appeal(), &Signed::now())
            .await
            .0,
        401
    );
    let unsigned = app
        .http()
        .post(app.url("/api/v1/appeals"))
        .json(&appeal())
        .send()
        .await
        .expect("unsigned");
    assert_eq!(unsigned.status(), 401, "unsigned");
    let (status, _, err) = send(&app, &client, None, &appeal(), &Signed::now()).await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("Idempotency-Key"))
    );

    // Validation names the field; full-width input is normalised.
    let mut bad = appeal();
    bad["citizen_phone"] = json!("12345");
    let (status, _, err) = send(&app, &client, Some("k-6"), &bad, &Signed::now()).await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("citizen_phone"))
    );
    let mut bad = appeal();
    bad["citizen_id_number"] = json!("110105194912310021");
    let (status, _, err) = send(&app, &client, Some("k-7"), &bad, &Signed::now()).await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("citizen_id_number"))
    );
    let (status, _, err) = send(
        &app,
        &client,
        Some("k-8"),
        &json!({"title": "x"}),
        &Signed::now(),
    )
    .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("detail")),
        "{err}"
    );

    // Personal data is masked for everyone; the centre reveals it one ticket at a time, audited.
    let (_, detail) = dispatcher.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(detail["ticket"]["citizen_phone"], "138****8000");
    assert_eq!(detail["ticket"]["citizen_id_number"], "110***********002X");
    assert_eq!(detail["ticket"]["channel"], "app");
    let (status, shown) = dispatcher
        .post(
            &format!("/api/v1/tickets/{id}/reveal"),
            json!({"field": "citizen_phone"}),
        )
        .await;
    assert_eq!(
        (status, shown["value"].as_str()),
        (200, Some("13800138000")),
        "{shown}"
    );
    let (_, shown) = dispatcher
        .post(
            &format!("/api/v1/tickets/{id}/reveal"),
            json!({"field": "citizen_id_number"}),
        )
        .await;
    assert_eq!(shown["value"], "11010519491231002X");
    let leader = app.login("leader").await;
    assert_eq!(
        leader
            .post(
                &format!("/api/v1/tickets/{id}/reveal"),
                json!({"field": "citizen_phone"})
            )
            .await
            .0,
        403
    );
    let (_, detail) = dispatcher.get(&format!("/api/v1/tickets/{id}")).await;
    let viewed = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "personal_data_viewed")
        .count();
    assert_eq!(viewed, 2, "each unmask is an audit event");
    let (_, events) = dispatcher.get("/api/v1/events?after=0&limit=1000").await;
    assert!(
        !events.to_string().contains("13800138000"),
        "the event stream carries no full number"
    );

    // The raw request is kept beside the ticket.
    let db = hotline_core::Db::connect(&hotline_core::DbUrl::parse(&app.db.url), 1).unwrap();
    let mut c = db.get().unwrap();
    use diesel::prelude::*;
    let raw: String = hotline_intake::schema::intake_submissions::table
        .find(&id)
        .select(hotline_intake::schema::intake_submissions::raw_payload)
        .first(&mut *c)
        .unwrap();
    assert!(
        raw.contains("１３８００１３８０００"),
        "as delivered: {raw}"
    );
}

both_backends!(signed_app_appeals, signed_appeals);

async fn concurrent_retries(backend: Backend) {
    let app = app_with(backend, &[]).await;
    let client = register_client(&app.db, "miniprogram");
    let body = appeal();
    let signs: Vec<Signed> = (0..20).map(|_| Signed::now()).collect();
    let sends = signs
        .iter()
        .map(|s| send(&app, &client, Some("same-key"), &body, s));
    let answers = futures_util::future::join_all(sends).await;
    let first = &answers[0].2;
    for (status, _, receipt) in &answers {
        assert_eq!((*status, receipt), (201, first));
    }
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.1.get("idempotent-replayed").is_none())
            .count(),
        1,
        "one created, the rest replayed"
    );
    let dispatcher = app.login("dispatcher").await;
    let (_, list) = dispatcher
        .get("/api/v1/tickets?channel=mini_program&limit=200")
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // The staff API honours the header the same way.
    let agent = app.login("agent").await;
    let posts = (0..20).map(|_| {
        agent
            .http
            .post(format!("{}/api/v1/tickets", agent.base))
            .bearer_auth(agent.token.as_deref().unwrap())
            .header("idempotency-key", "phone-call-1")
            .json(&json!({"appeal_type": "consult", "title": "公积金提取", "detail": "咨询公积金提取条件"}))
            .send()
    });
    let answers = futures_util::future::join_all(posts).await;
    let mut ids = Vec::new();
    for a in answers {
        let a = a.expect("post");
        assert_eq!(a.status(), 201);
        ids.push(a.json::<Value>().await.unwrap()["id"].clone());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one ticket for twenty requests");
    let (_, list) = dispatcher
        .get("/api/v1/tickets?appeal_type=consult&limit=200")
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

both_backends!(
    twenty_concurrent_retries_make_one_ticket,
    concurrent_retries
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_rate_limit_is_told_when_to_retry() {
    let app = app_with(Backend::Sqlite, &[("HOTLINE_RATE_LIMIT_PER_IP", "3")]).await;
    let client = register_client(&app.db, "app");
    for i in 0..3 {
        let (status, _, r) = send(
            &app,
            &client,
            Some(&format!("r-{i}")),
            &appeal(),
            &Signed::now(),
        )
        .await;
        assert_eq!(status, 201, "{r}");
    }
    let (status, headers, err) = send(&app, &client, Some("r-4"), &appeal(), &Signed::now()).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (429, Some("too_many_requests")),
        "{err}"
    );
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}
