#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The citizens' Q&A robot through the real binary on the demo base, on both backends: an
//! answer with its confidence, a clarifying question and its choice, bad input named by field,
//! and the hand-off end to end — "转人工" registers one consultation ticket (however often or
//! concurrently it is asked) that reaches an agent's live console over the websocket; the agent
//! claims it and reads the transcript, a district handler cannot. The portal page does the same
//! with forms and a cookie.

#[macro_use]
mod common;
mod pages_support;
mod portal_support;

use std::time::Duration;

use common::{Backend, TestApp, TestDb, spawn_with_answers};
use futures_util::{SinkExt, StreamExt};
use portal_support::Citizen;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

async fn ask(app: &TestApp, body: Value) -> (u16, Value) {
    app.anonymous().post("/api/v1/robot/ask", body).await
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// An agent's console subscribed to their queue.
async fn console(app: &TestApp, token: &str) -> Ws {
    let url = format!("{}/ws", app.base.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let hello = next(&mut ws).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    let sub = json!({"v": 1, "id": 1, "type": "subscribe", "topics": ["queue:me"]});
    ws.send(Message::text(sub.to_string())).await.unwrap();
    loop {
        let m = next(&mut ws).await;
        if m["type"] == "subscribed" {
            return ws;
        }
    }
}

async fn next(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(15), ws.next())
            .await
            .expect("nothing arrived on the console")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = m {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

/// The `received` event of the ticket numbered `number`.
async fn received(ws: &mut Ws, number: &str) -> Value {
    loop {
        let m = next(ws).await;
        if m["type"] == "event" && m["kind"] == "received" && m["ticket"]["number"] == number {
            return m;
        }
    }
}

async fn api_and_handoff(backend: Backend) {
    let app = spawn_with_answers(backend).await;

    // An answer, with its confidence and the article's safe body; a token to go on with.
    let (s, r) = ask(&app, json!({"text": "公积金租房提取需要什么条件"})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["reply"]["kind"], "answer", "{r}");
    let c = r["reply"]["confidence"].as_f64().unwrap();
    assert!((0.35..=1.0).contains(&c), "{c}");
    assert_eq!(r["reply"]["article"]["slug"], "gjj-withdraw-rent", "{r}");
    assert!(
        r["reply"]["article"]["body_html"]
            .as_str()
            .unwrap()
            .contains("<p>")
    );
    let conv = r["conversation"].as_str().unwrap().to_owned();
    let token = r["token"].as_str().unwrap().to_owned();

    // Two close answers: which one? The choice answers; a slug not offered is refused.
    let (s, r) = ask(
        &app,
        json!({"conversation": conv, "token": token, "text": "首付能用公积金吗"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["reply"]["kind"], "clarify", "{r}");
    assert!(r["token"].is_null(), "the token is given once");
    let options: Vec<String> = r["reply"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap().to_owned())
        .collect();
    assert!(options.len() >= 2, "{r}");
    assert!(
        options.contains(&"gjj-withdraw-purchase".to_owned()),
        "{options:?}"
    );
    let (s, r) = ask(
        &app,
        json!({"conversation": conv, "token": token, "choice": "gjj-withdraw-rent"}),
    )
    .await;
    assert_eq!(
        (s, r["error"]["field"].as_str()),
        (422, Some("choice")),
        "{r}"
    );
    let (s, r) = ask(
        &app,
        json!({"conversation": conv, "token": token, "choice": options[0]}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["reply"]["kind"], "answer");
    assert_eq!(r["reply"]["article"]["slug"], options[0].as_str());

    // Bad input: named by field, never a 500.
    for (body, status, field) in [
        (json!({"text": ""}), 422, "text"),
        (json!({"text": "问".repeat(501)}), 422, "text"),
        (json!({"conversation": conv, "text": "x"}), 422, "token"),
        (json!({"token": token, "text": "x"}), 422, "conversation"),
        (
            json!({"conversation": conv, "token": "wrong", "text": "x"}),
            404,
            "",
        ),
        (
            json!({"text": "转人工", "citizen_phone": "12345"}),
            422,
            "citizen_phone",
        ),
    ] {
        let (s, r) = ask(&app, body.clone()).await;
        assert_eq!(s, status, "{body}: {r}");
        if !field.is_empty() {
            assert_eq!(r["error"]["field"], field, "{body}: {r}");
        }
    }
    let (s, _) = ask(&app, json!({"text": "x", "mood": "angry"})).await;
    assert!((400..500).contains(&s), "{s}");

    // The citizen reads the conversation back with the token only.
    let path = format!("/api/v1/robot/conversations/{conv}");
    let res = app
        .http()
        .get(app.url(&path))
        .header("Robot-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["state"], "open");
    let kinds: Vec<&str> = view["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "question", "answer", "question", "clarify", "choice", "answer"
        ]
    );
    let res = app
        .http()
        .get(app.url(&path))
        .header("Robot-Token", "not-it")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // 转人工: one consultation ticket, in the agent's live console.
    let agent = app.login("agent").await;
    let mut ws = console(&app, agent.token.as_deref().unwrap()).await;
    let (s, r) = ask(
        &app,
        json!({"conversation": conv, "token": token, "text": "转人工", "citizen_phone": "13800138000"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["reply"]["kind"], "handoff", "{r}");
    assert_eq!(r["reply"]["handoff"]["reason"], "asked");
    let number = r["reply"]["handoff"]["number"].as_str().unwrap().to_owned();
    assert_eq!(
        r["reply"]["handoff"]["query_code"].as_str().unwrap().len(),
        6
    );
    let event = received(&mut ws, &number).await;
    let ticket = event["ticket"]["id"].as_str().unwrap().to_owned();

    // Asking again (the citizen adds something) keeps the one ticket.
    let (s, r) = ask(
        &app,
        json!({"conversation": conv, "token": token, "text": "我是租房住的，房东不给开发票"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["reply"]["kind"], "note");
    assert_eq!(r["reply"]["handoff"]["number"], number.as_str());
    let (s, r) = ask(
        &app,
        json!({"conversation": conv, "token": token, "choice": options[0]}),
    )
    .await;
    assert_eq!(
        (s, r["error"]["field"].as_str()),
        (422, Some("choice")),
        "{r}"
    );

    // The agent takes it and reads the transcript, with what was added after the hand-off.
    let (s, r) = agent
        .post(&format!("/api/v1/tickets/{ticket}/claim"), json!({}))
        .await;
    assert_eq!(s, 200, "{r}");
    let (s, t) = agent.get(&format!("/api/v1/tickets/{ticket}")).await;
    assert_eq!(s, 200, "{t}");
    let t = &t["ticket"];
    assert_eq!(t["appeal_type"], "consult", "{t}");
    assert!(
        t["title"].as_str().unwrap().contains("公积金租房提取"),
        "{t}"
    );
    assert!(
        t["detail"].as_str().unwrap().contains("首付能用公积金吗"),
        "{t}"
    );
    let (s, turns) = agent
        .get(&format!("/api/v1/tickets/{ticket}/robot-transcript"))
        .await;
    assert_eq!(s, 200, "{turns}");
    let texts: Vec<&str> = turns
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts[0], "公积金租房提取需要什么条件");
    assert!(texts.contains(&"转人工"), "{texts:?}");
    assert!(texts.contains(&"我是租房住的，房东不给开发票"), "{texts:?}");
    let page = agent
        .http
        .get(app.url(&format!("/tickets/{ticket}")))
        .bearer_auth(agent.token.as_deref().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("智能问答记录"), "{page}");
    assert!(page.contains("我是租房住的，房东不给开发票"));

    // A district's handler sees neither the ticket nor its transcript.
    let a1 = app.login("a1").await;
    let (s, _) = a1
        .get(&format!("/api/v1/tickets/{ticket}/robot-transcript"))
        .await;
    assert_eq!(s, 404);

    // Ten hand-offs of one conversation at once make one ticket.
    let (_, r) = ask(&app, json!({"text": "人工客服"})).await;
    assert_eq!(r["reply"]["kind"], "handoff", "{r}");
    let (s, r) = ask(&app, json!({"text": "今天天气怎么样"})).await;
    assert_eq!(s, 200);
    assert_eq!(r["reply"]["kind"], "handoff", "{r}");
    assert_eq!(r["reply"]["handoff"]["reason"], "low_confidence", "{r}");
    // The editors see it among the questions the robot could not answer (counted in the
    // background).
    let editor = app.login("a2admin").await;
    let mut gaps = Value::Null;
    for _ in 0..50 {
        let (s, stats) = editor.get("/api/v1/knowledge/stats").await;
        assert_eq!(s, 200, "{stats}");
        gaps = stats["unanswered"].clone();
        if gaps
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["query"] == "今天天气怎么样")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        gaps.as_array()
            .unwrap()
            .iter()
            .any(|g| g["query"] == "今天天气怎么样"),
        "{gaps}"
    );
    assert!(
        !gaps
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["query"] == "人工客服"),
        "{gaps}"
    );
    let (_, r) = ask(&app, json!({"text": "医保怎么报销"})).await;
    let (c2, t2) = (
        r["conversation"].as_str().unwrap().to_owned(),
        r["token"].as_str().unwrap().to_owned(),
    );
    let all = futures_util::future::join_all((0..10).map(|_| {
        ask(
            &app,
            json!({"conversation": c2, "token": t2, "text": "转人工"}),
        )
    }))
    .await;
    let numbers: std::collections::HashSet<String> = all
        .iter()
        .map(|(s, r)| {
            assert_eq!(*s, 200, "{r}");
            r["reply"]["handoff"]["number"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(numbers.len(), 1, "{numbers:?}");
    let number2 = numbers.into_iter().next().unwrap();
    let (s, list) = agent.get("/api/v1/tickets?limit=100").await;
    assert_eq!(s, 200, "{list}");
    let same = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["number"] == number2.as_str())
        .count();
    assert_eq!(same, 1);
}

both_backends!(api, api_and_handoff);

/// Conversations nobody touched for the retention period are deleted, turns and all (what the
/// server's hourly purge runs); newer ones stay.
async fn purging(backend: Backend) {
    use hotline_knowledge::store::robot::{self as talk, NewTurn};
    let db = TestDb::new(backend);
    let now = chrono::Utc::now();
    let (old, kept) = db
        .db()
        .write(move |c| {
            let turn = NewTurn {
                speaker: "citizen",
                kind: "question",
                text: "公积金怎么取".into(),
                article_slug: None,
                confidence: None,
                options: Vec::new(),
            };
            let old = talk::start(c, "old-token", now - chrono::Duration::days(31))?;
            talk::append(
                c,
                &old.id,
                std::slice::from_ref(&turn),
                now - chrono::Duration::days(31),
            )?;
            let kept = talk::start(c, "new-token", now)?;
            talk::append(c, &kept.id, &[turn], now)?;
            Ok::<_, hotline_core::StoreError>((old.id, kept.id))
        })
        .await
        .unwrap();
    let before = now - chrono::Duration::days(talk::RETENTION_DAYS);
    let purged: usize = db
        .db()
        .write(move |c| talk::purge(c, before))
        .await
        .unwrap();
    assert_eq!(purged, 1);
    let (o, k) = (old.clone(), kept.clone());
    let (gone, left, turns_old, turns_kept) = db
        .db()
        .run(move |c| {
            Ok::<_, hotline_core::StoreError>((
                talk::open(c, &o, "old-token")?,
                talk::open(c, &k, "new-token")?,
                talk::transcript(c, &o)?.len(),
                talk::transcript(c, &k)?.len(),
            ))
        })
        .await
        .unwrap();
    assert!(gone.is_none());
    assert!(left.is_some());
    assert_eq!((turns_old, turns_kept), (0, 1));
    // A wrong token opens nothing.
    let wrong = db
        .db()
        .run(move |c| talk::open(c, &kept, "old-token"))
        .await
        .unwrap();
    assert!(wrong.is_none());
}

both_backends!(purge, purging);

/// The robot's page as the browser holding the conversation cookie `pair` sees it.
async fn robot_page(me: &Citizen, pair: &str) -> String {
    let res = me
        .http
        .get(format!("{}/portal/robot", me.base))
        .header("Cookie", pair)
        .send()
        .await
        .unwrap();
    res.text().await.unwrap()
}

async fn portal_page(backend: Backend) {
    let app = spawn_with_answers(backend).await;
    let me = Citizen::new(&app);
    let home = me.get("/portal").await;
    assert!(
        home.body.contains("/portal/robot"),
        "the home page leads to the robot"
    );
    let page = me.get("/portal/robot").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("智能问答"));

    // A question: see-other to the page, with the conversation in a cookie for this page only.
    let res = me
        .http
        .post(app.url("/portal/robot"))
        .header("Origin", &me.origin)
        .form(&[("text", "社保卡丢了怎么补办"), ("citizen_phone", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "/portal/robot#latest");
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/portal/robot"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    let shown = robot_page(&me, &pair).await;
    assert!(shown.contains("社保卡丢了怎么补办"), "{shown}");
    assert!(shown.contains("answer-title"), "{shown}");

    // 转人工 by the button: the ticket number and query code on the page.
    let res = me
        .http
        .post(app.url("/portal/robot"))
        .header("Origin", &me.origin)
        .header("Cookie", &pair)
        .form(&[("text", "转人工")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let shown = robot_page(&me, &pair).await;
    assert!(shown.contains("handoff-number"), "{shown}");

    // An empty question is refused on the page; another site's form is refused.
    let res = me
        .http
        .post(app.url("/portal/robot"))
        .header("Origin", &me.origin)
        .form(&[("text", "  ")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("robot-error"));
    let evil = me.elsewhere();
    let page = evil.post("/portal/robot", &[("text", "公积金")]).await;
    assert_eq!(page.status, 403);
}

both_backends!(portal, portal_page);
