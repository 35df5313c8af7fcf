#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Presence, who views and edits a ticket, and claims, against the real binary on SQLite and
//! PostgreSQL (tokio-tungstenite as the websocket client): twenty concurrent claims, one winner;
//! a stale version refused on every ticket-changing route; presence reaching the wallboard and
//! not another district; watchers released when the socket drops; two nodes on one PostgreSQL,
//! and a crashed node's presence expiring by its heartbeat.

mod common;

use std::time::Duration;

use common::{Api, Backend, TestApp, TestDb, seed, start, start_in};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn spawn_with(backend: Backend, env: &[(&str, &str)]) -> TestApp {
    let mut db = TestDb::new(backend);
    seed(db.db());
    db.close();
    let (child, base) = start(&db, &["serve"], env);
    TestApp::new(base, db, child)
}

async fn open(base: &str, token: &str) -> Ws {
    let url = format!("{}/ws", base.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    ws
}

async fn console(app: &TestApp, user: &str) -> Ws {
    let api = app.login(user).await;
    open(&app.base, api.token.as_deref().unwrap()).await
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

async fn next_json(ws: &mut Ws) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("a message in time")
            .expect("open");
        match msg.expect("frame") {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Close(c) => panic!("closed: {c:?}"),
            _ => {}
        }
    }
}

/// Reads until a message of this type that `pick` accepts.
async fn until(ws: &mut Ws, kind: &str, pick: impl Fn(&Value) -> bool) -> Value {
    loop {
        let m = next_json(ws).await;
        if m["type"] == kind && pick(&m) {
            return m;
        }
    }
}

/// Everything that arrives before the answer to a ping.
async fn drain(ws: &mut Ws) -> Vec<Value> {
    send(ws, json!({"v": 1, "type": "ping", "id": "drain"})).await;
    let mut out = Vec::new();
    loop {
        let m = next_json(ws).await;
        if m["type"] == "pong" && m["id"] == "drain" {
            return out;
        }
        out.push(m);
    }
}

async fn subscribe(ws: &mut Ws, topics: &[&str]) {
    send(ws, json!({"v": 1, "type": "subscribe", "topics": topics})).await;
    let m = until(ws, "subscribed", |_| true).await;
    assert!(m["topics"].is_array(), "{m}");
}

fn agent_state<'a>(m: &'a Value, username: &str) -> Option<&'a str> {
    m["agents"]
        .as_array()?
        .iter()
        .find(|a| a["username"] == username)?["state"]
        .as_str()
}

/// Reads presence messages until `username` is in `state`.
async fn presence_of(ws: &mut Ws, username: &str, state: &str) -> Value {
    until(ws, "presence", |m| agent_state(m, username) == Some(state)).await
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|w| w["username"].as_str().unwrap().to_owned())
        .collect()
}

async fn version_of(api: &Api, id: &str) -> i64 {
    let (s, t) = api.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(s, 200, "{t}");
    t["ticket"]["version"].as_i64().unwrap()
}

/// Twenty agents claim one ticket at once: one wins, nineteen get 409 naming the winner; the
/// claim is in the detail and the events; others' actions wait; a dispatcher takes over.
async fn claims(backend: Backend) {
    let app = spawn_with(backend, &[]).await;
    let admin = app.login("admin").await;
    let centre = admin.unit("990100-12345").await;
    let mut agents = Vec::new();
    for i in 0..20 {
        let name = format!("seat{i:02}");
        let (s, u) = admin
            .post(
                "/api/v1/users",
                json!({"username": name, "display_name": format!("坐席{i}"), "role": "agent",
                    "unit_id": centre, "password": "seat-test-password"}),
            )
            .await;
        assert_eq!(s, 201, "{u}");
        agents.push(app.login_with(&name, "seat-test-password").await);
    }
    let id = agents[0].new_ticket("complaint").await;
    let v = version_of(&agents[0], &id).await;
    let path = format!("/api/v1/tickets/{id}/claim");
    let tries = agents.iter().map(|a| {
        let (a, path) = (a.clone(), path.clone());
        tokio::spawn(async move { a.post(&path, json!({"expected_version": v})).await })
    });
    let results: Vec<(u16, Value)> = futures_util::future::join_all(tries)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let won: Vec<_> = results.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    let winner = won[0].1["claim"]["username"].as_str().unwrap().to_owned();
    assert_eq!(won[0].1["ticket"]["version"], v + 1);
    for (s, body) in results.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*s, 409, "{body}");
        assert_eq!(body["error"]["code"], "claimed", "{body}");
        assert_eq!(body["error"]["details"]["version"], v + 1, "{body}");
        assert_eq!(
            body["error"]["details"]["claimed_by"]["username"], winner,
            "{body}"
        );
    }
    let w: usize = winner[4..].parse().unwrap();
    let (holder, other) = (&agents[w], &agents[(w + 1) % 20]);

    // The detail names the holder; the event stream carries the claim.
    let (_, detail) = other.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(detail["claim"]["username"], winner, "{detail}");
    assert_eq!(detail["ticket"]["claimed_by"], detail["claim"]["id"]);
    assert!(detail["actions"].as_array().unwrap().is_empty(), "{detail}");
    let kinds: Vec<_> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["received", "claimed"]);
    // The holder claiming again changes nothing.
    let (s, again) = holder.post(&path, json!({})).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["ticket"]["version"], v + 1);

    // Another agent may view but not act, nor release; the holder may act.
    let (s, refused) = other
        .post(
            &format!("/api/v1/tickets/{id}/supervise"),
            json!({"reason": "看看"}),
        )
        .await;
    assert_eq!(s, 403, "agents do not supervise: {refused}");
    let (s, refused) = other
        .post(
            &format!("/api/v1/tickets/{id}/withdraw"),
            json!({"reason": "群众撤回"}),
        )
        .await;
    assert_eq!(s, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "claimed");
    assert_eq!(
        refused["error"]["details"]["claimed_by"]["username"],
        winner
    );
    let (s, refused) = other.send(reqwest::Method::DELETE, &path, json!({})).await;
    assert_eq!(s, 409, "{refused}");
    // Take-over is a supervisor's: an agent asking gets 403, the dispatcher gets it.
    let (s, refused) = other.post(&path, json!({"take_over": true})).await;
    assert_eq!(s, 403, "{refused}");
    let dispatcher = app.login("dispatcher").await;
    let (s, taken) = dispatcher.post(&path, json!({"take_over": true})).await;
    assert_eq!(s, 200, "{taken}");
    assert_eq!(taken["claim"]["username"], "dispatcher");
    let (s, refused) = holder
        .post(
            &format!("/api/v1/tickets/{id}/withdraw"),
            json!({"reason": "群众撤回"}),
        )
        .await;
    assert_eq!(s, 409, "the former holder waits now: {refused}");
    let (s, released) = dispatcher
        .send(reqwest::Method::DELETE, &path, json!({}))
        .await;
    assert_eq!(s, 200, "{released}");
    assert!(released["claim"].is_null());
    let (s, refused) = dispatcher
        .send(reqwest::Method::DELETE, &path, json!({}))
        .await;
    assert_eq!(s, 409, "nothing to release: {refused}");
    assert_eq!(refused["error"]["code"], "invalid_transition");

    // A claim ends when the ticket moves on: the claimer dispatches it to A2区.
    let (s, _) = holder.post(&path, json!({})).await;
    assert_eq!(s, 200);
    let a2 = admin.unit("990103").await;
    let t = holder
        .act(&id, "dispatch", json!({"main_unit_id": a2}))
        .await;
    assert!(t["claimed_by"].is_null(), "{t}");
    // Now the unit's handler claims it; another agent's claim is refused (not their queue).
    let handler = app.login("a2").await;
    let (s, c) = handler.post(&path, json!({})).await;
    assert_eq!(s, 200, "{c}");
    let (s, c) = other.post(&path, json!({})).await;
    assert_eq!(s, 403, "{c}");
    // The unit's administrator may act despite the handler's claim.
    let (s, c) = app
        .login("a2admin")
        .await
        .post(&format!("/api/v1/tickets/{id}/sign"), json!({}))
        .await;
    assert_eq!(s, 200, "{c}");
    // Bad input names the field.
    let (s, e) = holder.post(&path, json!({"take_over": "yes"})).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["error"]["field"], "take_over");
    let (s, _) = holder
        .post("/api/v1/tickets/not-a-ticket/claim", json!({}))
        .await;
    assert_eq!(s, 404);
}
both_backends!(twenty_claims_one_winner, claims);

/// Every ticket-changing route refuses a stale `expected_version` with 409 and the current one.
async fn stale_versions(backend: Backend) {
    let app = spawn_with(backend, &[]).await;
    let agent = app.login("agent").await;
    let id = agent.new_ticket("complaint").await;
    let other = agent.new_ticket("complaint").await;
    let a2 = agent.unit("990103").await;
    // Version 2: someone changed it after the caller read version 1.
    let dispatcher = app.login("dispatcher").await;
    dispatcher
        .act(&id, "supervise", json!({"reason": "督办"}))
        .await;
    let current = version_of(&agent, &id).await;
    assert!(current >= 2);
    let routes: Vec<(&str, Value)> = vec![
        ("answer", json!({"answer": "已解答"})),
        ("dispatch", json!({"main_unit_id": a2})),
        ("sign", json!({})),
        ("pass-down", json!({"to_unit_id": a2})),
        ("return", json!({"reason": "不属于本单位"})),
        (
            "rule",
            json!({"decision": "send_back", "ruling": "退回原单位"}),
        ),
        (
            "request-extension",
            json!({"days": 1, "reason": "需要时间"}),
        ),
        ("approve-extension", json!({})),
        ("deny-extension", json!({"reason": "不同意"})),
        ("suspend", json!({"reason": "等待补充材料"})),
        ("resume", json!({})),
        ("reply", json!({"reply": "已处理"})),
        ("return-visit", json!({"reached": true})),
        ("rate", json!({"rating": "satisfied"})),
        ("redo", json!({"reason": "重办"})),
        ("supervise", json!({"reason": "督办"})),
        ("merge", json!({"target_id": other, "reason": "重复"})),
        ("withdraw", json!({"reason": "撤回"})),
        ("close", json!({"resolution": "办结"})),
        ("claim", json!({})),
    ];
    for who in [&agent, &dispatcher] {
        for (route, body) in &routes {
            let mut body = body.clone();
            body["expected_version"] = json!(1);
            let (s, e) = who
                .post(&format!("/api/v1/tickets/{id}/{route}"), body)
                .await;
            assert_eq!(s, 409, "{route}: {e}");
            assert_eq!(e["error"]["code"], "version_conflict", "{route}: {e}");
            assert_eq!(e["error"]["details"]["version"], current, "{route}: {e}");
        }
    }
    // The current version passes the check (and the state machine decides).
    let (s, e) = agent
        .post(
            &format!("/api/v1/tickets/{id}/dispatch"),
            json!({"main_unit_id": a2, "expected_version": current}),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(version_of(&agent, &id).await, current + 1);
}
both_backends!(stale_version_is_refused_everywhere, stale_versions);

/// Presence reaches the wallboard and the colleagues' queue, never another district; a user's
/// state is the union of their connections.
async fn presence(backend: Backend) {
    let app = spawn_with(backend, &[]).await;
    let mut board = console(&app, "dispatcher").await;
    subscribe(&mut board, &["wallboard"]).await;
    let snap = until(&mut board, "presence", |m| m["snapshot"] == true).await;
    assert_eq!(agent_state(&snap, "dispatcher"), Some("online"), "{snap}");
    let mut leader = console(&app, "leader").await;
    subscribe(&mut leader, &["wallboard"]).await;
    let mut a1 = console(&app, "a1").await;
    subscribe(&mut a1, &["queue:me", "presence:me"]).await;
    let snap = until(&mut a1, "presence", |m| m["snapshot"] == true).await;
    assert_eq!(agent_state(&snap, "a1"), Some("online"), "{snap}");
    assert_eq!(agent_state(&snap, "dispatcher"), None, "{snap}");
    // The centre's presence is outside a district's scope.
    send(
        &mut a1,
        json!({"v": 1, "type": "subscribe", "topics": ["presence:990100-12345"]}),
    )
    .await;
    let e = until(&mut a1, "error", |_| true).await;
    assert_eq!(e["code"], "forbidden", "{e}");
    assert_eq!(e["field"], "topics[0]", "{e}");

    // The agent comes online, then takes a call.
    let mut agent = console(&app, "agent").await;
    presence_of(&mut board, "agent", "online").await;
    presence_of(&mut leader, "agent", "online").await;
    send(
        &mut agent,
        json!({"v": 1, "type": "presence", "state": "on_call", "id": 1}),
    )
    .await;
    let ok = until(&mut agent, "presence_set", |_| true).await;
    assert_eq!(ok["state"], "on_call");
    assert_eq!(ok["id"], 1);
    let m = presence_of(&mut board, "agent", "on_call").await;
    assert_eq!(m["snapshot"], false);
    assert_eq!(m["agents"][0]["state_label"], "通话中");
    presence_of(&mut leader, "agent", "on_call").await;
    // A bad state names the field.
    send(
        &mut agent,
        json!({"v": 1, "type": "presence", "state": "offline"}),
    )
    .await;
    let e = until(&mut agent, "error", |_| true).await;
    assert_eq!(e["field"], "state", "{e}");

    // A second connection keeps the state; closing one of two leaves the agent on the call.
    let mut second = console(&app, "agent").await;
    drop(agent);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = drain(&mut board).await;
    assert!(
        seen.iter()
            .all(|m| agent_state(m, "agent").is_none_or(|s| s == "on_call")),
        "{seen:?}"
    );
    send(
        &mut second,
        json!({"v": 1, "type": "presence", "state": "after_call_work"}),
    )
    .await;
    presence_of(&mut board, "agent", "after_call_work").await;
    drop(second);
    presence_of(&mut board, "agent", "offline").await;

    // A2区's handler: their own unit's admin and the wallboard see it; A1区 does not.
    let mut a2admin = console(&app, "a2admin").await;
    subscribe(&mut a2admin, &["presence:me"]).await;
    let mut a2 = console(&app, "a2").await;
    send(
        &mut a2,
        json!({"v": 1, "type": "presence", "state": "away"}),
    )
    .await;
    presence_of(&mut a2admin, "a2", "away").await;
    presence_of(&mut board, "a2", "away").await;
    let seen = drain(&mut a1).await;
    for m in &seen {
        assert!(
            m["type"] != "presence"
                || m["agents"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|a| a["username"] == "a1"),
            "A1区 saw others' presence: {m}"
        );
    }
    drop(a2);
}
both_backends!(presence_reaches_the_wallboard_within_scope, presence);

/// Who views and edits a ticket, released when the socket drops.
async fn watchers(backend: Backend) {
    let app = spawn_with(backend, &[]).await;
    let agent_api = app.login("agent").await;
    let id = agent_api.new_ticket("help").await;
    let mut board = console(&app, "dispatcher").await;
    subscribe(&mut board, &[&format!("ticket:{id}")]).await;
    let w = until(&mut board, "watchers", |_| true).await;
    assert_eq!(w["ticket_id"], id.as_str());
    assert!(names(&w["viewing"]).is_empty() && names(&w["editing"]).is_empty());

    let mut agent = open(&app.base, agent_api.token.as_deref().unwrap()).await;
    send(
        &mut agent,
        json!({"v": 1, "type": "viewing", "ticket_id": id, "id": "v"}),
    )
    .await;
    let mine = until(&mut agent, "watching", |_| true).await;
    assert_eq!(mine["tickets"][0]["mode"], "viewing", "{mine}");
    let w = until(&mut board, "watchers", |m| !names(&m["viewing"]).is_empty()).await;
    assert_eq!(names(&w["viewing"]), ["agent"]);
    send(
        &mut agent,
        json!({"v": 1, "type": "editing", "ticket_id": id}),
    )
    .await;
    let w = until(&mut board, "watchers", |m| !names(&m["editing"]).is_empty()).await;
    assert_eq!(names(&w["editing"]), ["agent"]);
    assert!(names(&w["viewing"]).is_empty());
    // A second connection of the same user views it: still one name; `leave` on one keeps it.
    let mut second = open(&app.base, agent_api.token.as_deref().unwrap()).await;
    send(
        &mut second,
        json!({"v": 1, "type": "viewing", "ticket_id": id}),
    )
    .await;
    until(&mut second, "watching", |_| true).await;
    send(
        &mut agent,
        json!({"v": 1, "type": "leave", "ticket_id": id}),
    )
    .await;
    let w = until(&mut board, "watchers", |m| names(&m["editing"]).is_empty()).await;
    assert_eq!(names(&w["viewing"]), ["agent"], "{w}");
    // The socket drops: everything it held goes.
    drop(second);
    let w = until(&mut board, "watchers", |m| names(&m["viewing"]).is_empty()).await;
    assert!(names(&w["editing"]).is_empty());

    // A ticket outside the caller's scope reads as absent; a bad id names the field.
    let mut a1 = console(&app, "a1").await;
    send(&mut a1, json!({"v": 1, "type": "viewing", "ticket_id": id})).await;
    let e = until(&mut a1, "error", |_| true).await;
    assert_eq!(e["code"], "not_found", "{e}");
    send(
        &mut a1,
        json!({"v": 1, "type": "editing", "ticket_id": "nope"}),
    )
    .await;
    let e = until(&mut a1, "error", |_| true).await;
    assert_eq!(e["field"], "ticket_id", "{e}");
    drop(agent);
}
both_backends!(watchers_are_listed_and_released, watchers);

/// Two `hotline serve` nodes on one PostgreSQL: presence and watchers cross, and a node killed
/// without a goodbye has its agents go offline once its heartbeat is older than the TTL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_across_two_nodes() {
    let mut db = TestDb::new(Backend::Postgres);
    seed(db.db());
    db.close();
    let env = [
        (
            "HOTLINE_SECRET_KEY",
            "two nodes share this key of at least 32 chars",
        ),
        ("HOTLINE_CONSOLE__PRESENCE_TTL_SECONDS", "2"),
    ];
    let (child_a, base_a) = start(&db, &["serve"], &env);
    let holder = TestDb::new(Backend::Sqlite);
    let (child_b, base_b) = start_in(&db, holder.dir.path(), &["serve"], &env);
    let mut node_b = TestApp::new(base_b, holder, child_b);
    let node_a = TestApp::new(base_a, db, child_a);

    let agent_api = node_b.login("agent").await;
    let id = agent_api.new_ticket("help").await;
    let mut board = console(&node_a, "dispatcher").await;
    subscribe(&mut board, &["wallboard", &format!("ticket:{id}")]).await;
    let mut agent = open(&node_b.base, agent_api.token.as_deref().unwrap()).await;
    presence_of(&mut board, "agent", "online").await;
    send(
        &mut agent,
        json!({"v": 1, "type": "presence", "state": "on_call"}),
    )
    .await;
    presence_of(&mut board, "agent", "on_call").await;
    send(
        &mut agent,
        json!({"v": 1, "type": "editing", "ticket_id": id}),
    )
    .await;
    let w = until(&mut board, "watchers", |m| !names(&m["editing"]).is_empty()).await;
    assert_eq!(names(&w["editing"]), ["agent"]);
    // A console opening on node A later gets node B's agent in its snapshot.
    let mut late = console(&node_a, "leader").await;
    subscribe(&mut late, &["wallboard"]).await;
    let snap = until(&mut late, "presence", |m| m["snapshot"] == true).await;
    assert_eq!(agent_state(&snap, "agent"), Some("on_call"), "{snap}");

    // Node B dies without a word: its presence expires by the heartbeat.
    node_b.kill();
    let started = std::time::Instant::now();
    presence_of(&mut board, "agent", "offline").await;
    until(&mut board, "watchers", |m| names(&m["editing"]).is_empty()).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    drop(agent);
}
