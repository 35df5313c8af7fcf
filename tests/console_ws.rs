#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The agent console's websocket hub against the real binary, with tokio-tungstenite as an
//! independent client: refusals before the handshake, the protocol, resume and reload, the slow
//! consumer, heartbeats, scope per role, and two nodes on one PostgreSQL.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestApp, TestDb, seed, start, start_in};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn spawn_with(backend: Backend, env: &[(&str, &str)]) -> TestApp {
    let mut db = TestDb::new(backend);
    seed(db.db());
    db.close();
    let (child, base) = start(&db, &["serve"], env);
    TestApp::new(base, db, child)
}

enum Auth<'a> {
    None,
    Bearer(&'a str),
    Cookie(&'a str),
}

async fn open(app_base: &str, auth: Auth<'_>, origin: Option<&str>) -> Result<Ws, WsError> {
    let url = format!("{}/ws", app_base.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().unwrap();
    let h = req.headers_mut();
    match auth {
        Auth::None => {}
        Auth::Bearer(t) => {
            h.insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
            );
        }
        Auth::Cookie(t) => {
            h.insert(
                "cookie",
                HeaderValue::from_str(&format!("hotline_session={t}")).unwrap(),
            );
        }
    }
    if let Some(o) = origin {
        h.insert("origin", HeaderValue::from_str(o).unwrap());
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

fn status_of(r: Result<Ws, WsError>) -> u16 {
    match r {
        Ok(_) => 101,
        Err(WsError::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("unexpected websocket error: {e}"),
    }
}

/// A console of `user`, opened with a bearer token, past its `hello`.
async fn console(app: &TestApp, user: &str) -> (Ws, Value) {
    let api = app.login(user).await;
    let mut ws = open(&app.base, Auth::Bearer(api.token.as_deref().unwrap()), None)
        .await
        .unwrap();
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    (ws, hello)
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

/// The next JSON message (skipping control frames), within 10 s.
async fn next_json(ws: &mut Ws) -> Value {
    next_json_within(ws, Duration::from_secs(10))
        .await
        .expect("a message in time")
}

async fn next_json_within(ws: &mut Ws, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next()).await.ok()??;
        match msg.expect("frame") {
            Message::Text(t) => return Some(serde_json::from_str(&t).unwrap()),
            Message::Close(c) => panic!("closed: {c:?}"),
            _ => {}
        }
    }
}

async fn subscribe(ws: &mut Ws, topics: &[&str]) -> Value {
    send(ws, json!({"v": 1, "type": "subscribe", "topics": topics})).await;
    next_json(ws).await
}

/// Reads until an event of `ticket` of this kind arrives; returns it.
async fn event_of(ws: &mut Ws, ticket: &str, kind: &str) -> Value {
    loop {
        let m = next_json(ws).await;
        if m["type"] == "event" && m["ticket_id"] == ticket && m["kind"] == kind {
            return m;
        }
    }
}

/// Asserts no event arrived meanwhile: a ping's pong is the next message.
async fn assert_quiet(ws: &mut Ws, who: &str) {
    send(ws, json!({"v": 1, "type": "ping", "id": "quiet"})).await;
    let m = next_json(ws).await;
    assert_eq!(m["type"], "pong", "{who} got something it must not: {m}");
}

/// The close frame's code, reading past whatever came before it.
async fn close_code(ws: &mut Ws) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(c))))) => return Some(u16::from(c.code)),
            Ok(Some(Ok(Message::Close(None)))) | Ok(None) => return None,
            Ok(Some(Err(e))) => {
                eprintln!("closed without a close frame: {e}");
                return None;
            }
            Ok(Some(Ok(_))) => {}
            Err(_) => panic!("no close within 20 s"),
        }
    }
}

async fn refused_before_the_handshake(backend: Backend) {
    let app = common::spawn_app(backend).await;
    let own = app.base.clone();
    assert_eq!(
        status_of(open(&app.base, Auth::None, Some(&own)).await),
        401
    );
    assert_eq!(
        status_of(open(&app.base, Auth::Bearer("forged"), Some(&own)).await),
        401
    );
    let admin = app.login("admin").await;
    let admin = admin.token.unwrap();
    assert_eq!(
        status_of(open(&app.base, Auth::Bearer(&admin), None).await),
        403,
        "administrators do not read citizens' appeals"
    );
    let agent = app.login("agent").await.token.unwrap();
    // Cross-site websocket hijacking: another site's page, the victim's cookie.
    assert_eq!(
        status_of(open(&app.base, Auth::Cookie(&agent), Some("http://evil.example")).await),
        403
    );
    assert_eq!(
        status_of(open(&app.base, Auth::Bearer(&agent), Some("null")).await),
        403
    );
    // A cookie without Origin is not a browser on this site: refused; a bearer token may.
    assert_eq!(
        status_of(open(&app.base, Auth::Cookie(&agent), None).await),
        403
    );
    assert_eq!(
        status_of(open(&app.base, Auth::Cookie(&agent), Some(&own)).await),
        101
    );
    assert_eq!(
        status_of(open(&app.base, Auth::Bearer(&agent), None).await),
        101
    );
    // A plain GET is told what it is missing, as an API error.
    let (s, body) = app.login("agent").await.get("/ws").await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(body["error"]["code"], "malformed_body");
}
both_backends!(refused_before_the_handshake, refused_before_the_handshake);

async fn subscribe_and_receive(backend: Backend) {
    let app = common::spawn_app(backend).await;
    let (mut ws, hello) = console(&app, "agent").await;
    assert_eq!(hello["v"], 1);
    assert_eq!(hello["protocol"], 1);
    assert_eq!(hello["user"]["username"], "agent");
    assert_eq!(hello["user"]["role"], "agent");
    let last = hello["last_seq"].as_i64().unwrap();

    // Bad messages are answered with the field and the reason; the connection stays.
    send(
        &mut ws,
        json!({"v": 1, "type": "subscribe", "topics": ["queue:me", 7], "id": 1}),
    )
    .await;
    let e = next_json(&mut ws).await;
    assert_eq!(
        (e["type"].as_str(), e["field"].as_str()),
        (Some("error"), Some("topics[1]")),
        "{e}"
    );
    assert_eq!(e["id"], 1);
    send(&mut ws, json!({"v": 2, "type": "ping"})).await;
    let e = next_json(&mut ws).await;
    assert_eq!(e["code"], "unsupported_version", "{e}");
    ws.send(Message::text("{not json")).await.unwrap();
    assert_eq!(next_json(&mut ws).await["code"], "malformed_message");
    let e = subscribe(&mut ws, &["unit:no-such-unit"]).await;
    assert_eq!(
        (e["code"].as_str(), e["field"].as_str()),
        (Some("not_found"), Some("topics[0]")),
        "{e}"
    );
    let e = subscribe(&mut ws, &["wallboard"]).await;
    assert_eq!(e["code"], "forbidden", "agents have no wallboard: {e}");

    let s = subscribe(&mut ws, &["queue:me"]).await;
    assert_eq!(s["type"], "subscribed", "{s}");
    assert_eq!(s["topics"], json!(["queue:me"]));
    send(&mut ws, json!({"v": 1, "type": "ping", "id": "p"})).await;
    let p = next_json(&mut ws).await;
    assert_eq!(
        (p["type"].as_str(), p["id"].as_str()),
        (Some("pong"), Some("p"))
    );

    let agent = app.login("agent").await;
    let id = agent.new_ticket("complaint").await;
    let e = event_of(&mut ws, &id, "received").await;
    assert!(e["seq"].as_i64().unwrap() > last, "{e}");
    assert_eq!(e["v"], 1);
    assert_eq!(e["ticket"]["id"], id.as_str());
    assert_eq!(e["ticket"]["status"], "received");
    assert!(e["ticket"]["number"].is_string(), "{e}");
    assert_eq!(
        e["payload"]["citizen_phone"], "138****8000",
        "phones stay masked"
    );
    assert!(e["payload"].get("query_code").is_none());

    // One ticket's topic delivers that ticket's events once, whatever else selects them.
    let s = subscribe(&mut ws, &[&format!("ticket:{id}")]).await;
    assert_eq!(s["topics"].as_array().unwrap().len(), 2, "{s}");
    let a2 = agent.unit("990103").await;
    agent
        .act(&id, "dispatch", json!({"main_unit_id": a2}))
        .await;
    let d = event_of(&mut ws, &id, "dispatched").await;
    assert_eq!(d["ticket"]["main_unit_id"], a2.as_str());
    assert!(d["seq"].as_i64() > e["seq"].as_i64());
    assert_quiet(&mut ws, "a console with two topics selecting one event").await;

    send(
        &mut ws,
        json!({"v": 1, "type": "unsubscribe", "topics": ["queue:me"]}),
    )
    .await;
    let s = next_json(&mut ws).await;
    assert_eq!(s["topics"], json!([format!("ticket:{id}")]), "{s}");
}
both_backends!(subscribe_and_receive, subscribe_and_receive);

async fn resume_and_reload(backend: Backend) {
    let app = spawn_with(backend, &[("HOTLINE_CONSOLE__REPLAY_LIMIT", "4")]).await;
    let agent = app.login("agent").await;
    let (ws, hello) = console(&app, "agent").await;
    let last = hello["last_seq"].as_i64().unwrap();
    assert_eq!(hello["replay_limit"], 4);
    drop(ws);
    // Missed while away.
    let missed = [
        agent.new_ticket("consult").await,
        agent.new_ticket("help").await,
    ];
    // Sequencing follows the commit by a moment: wait until both are in the stream.
    let deadline = Instant::now() + Duration::from_secs(10);
    while agent.get(&format!("/api/v1/events?after={last}")).await.1["events"]
        .as_array()
        .map_or(0, Vec::len)
        < missed.len()
    {
        assert!(
            Instant::now() < deadline,
            "the missed events were never sequenced"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (mut ws, _) = console(&app, "agent").await;
    subscribe(&mut ws, &["queue:me"]).await;
    send(
        &mut ws,
        json!({"v": 1, "type": "resume", "after": last, "id": "r"}),
    )
    .await;
    let mut got = Vec::new();
    let done = loop {
        let m = next_json(&mut ws).await;
        match m["type"].as_str() {
            Some("event") => got.push(m),
            Some("resumed") => break m,
            _ => panic!("unexpected {m}"),
        }
    };
    assert_eq!(done["id"], "r");
    assert_eq!(done["replayed"], got.len());
    let seqs: Vec<i64> = got.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
    for id in &missed {
        assert!(
            got.iter()
                .any(|e| e["ticket_id"] == id.as_str() && e["kind"] == "received"),
            "{id} replayed: {got:?}"
        );
    }
    // Live after the replay, nothing twice.
    let live = agent.new_ticket("consult").await;
    let e = event_of(&mut ws, &live, "received").await;
    assert!(e["seq"].as_i64().unwrap() > *seqs.last().unwrap());

    // More than the limit behind: reload.
    for _ in 0..3 {
        let id = agent.new_ticket("suggestion").await;
        // Sequenced once it is live.
        event_of(&mut ws, &id, "received").await;
    }
    send(&mut ws, json!({"v": 1, "type": "resume", "after": last})).await;
    let r = loop {
        let m = next_json(&mut ws).await;
        if m["type"] == "reload" {
            break m;
        }
    };
    assert_eq!(r["after"], last);
    assert!(r["last_seq"].as_i64().unwrap() > last + 4, "{r}");
    // A sequence number from the future (another database) also reloads.
    send(
        &mut ws,
        json!({"v": 1, "type": "resume", "after": 1_000_000_000}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "reload");
    send(&mut ws, json!({"v": 1, "type": "resume", "after": -1})).await;
    let e = next_json(&mut ws).await;
    assert_eq!(
        (e["type"].as_str(), e["field"].as_str()),
        (Some("error"), Some("after")),
        "{e}"
    );
}
both_backends!(resume_and_reload, resume_and_reload);

async fn slow_consumer_is_closed(backend: Backend) {
    let app = spawn_with(backend, &[("HOTLINE_CONSOLE__BUFFER", "2")]).await;
    let (mut ws, hello) = console(&app, "dispatcher").await;
    assert_eq!(hello["buffer"], 2);
    subscribe(&mut ws, &["wallboard"]).await;
    // The console stops reading while appeals come in faster than two at a time.
    let agent = app.login("agent").await;
    for _ in 0..4 {
        let wave: Vec<_> = (0..10)
            .map(|_| {
                let a = agent.clone();
                tokio::spawn(async move { a.new_ticket("complaint").await })
            })
            .collect();
        for t in wave {
            t.await.unwrap();
        }
    }
    assert_eq!(close_code(&mut ws).await, Some(4008));
    // The server is fine, and a new console connects.
    let (mut again, _) = console(&app, "dispatcher").await;
    assert_quiet(&mut again, "a fresh console").await;
}
both_backends!(slow_consumer_is_closed, slow_consumer_is_closed);

/// SIGTERM: open consoles are closed with 1001 (going away) and the server exits without waiting
/// its 30-second shutdown timeout for them.
async fn going_away_on_sigterm(backend: Backend) {
    let mut app = spawn_with(backend, &[]).await;
    let (mut ws, _) = console(&app, "dispatcher").await;
    subscribe(&mut ws, &["wallboard"]).await;
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &app.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    assert_eq!(close_code(&mut ws).await, Some(1001));
    drop(ws);
    let status = app
        .wait_exit(Duration::from_secs(20))
        .expect("the server exits well before its 30-second shutdown timeout");
    assert!(
        status.success(),
        "SIGTERM ends the server cleanly: {status:?}"
    );
}
both_backends!(going_away_on_sigterm, going_away_on_sigterm);

/// A client that completes the handshake and then neither reads nor answers anything (a
/// tungstenite client would answer the pings as soon as it read them).
async fn silent_client(base: &str, token: &str) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    s
}

/// Reads everything the server sent until it hung up; the close frame's code, if one came.
async fn raw_close_code(mut s: tokio::net::TcpStream) -> Option<u16> {
    use tokio::io::AsyncReadExt;
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut bytes))
        .await
        .expect("the server hangs up")
        .ok()?;
    let mut at = 0;
    while at + 2 <= bytes.len() {
        let opcode = bytes[at] & 0x0f;
        let (len, header) = match bytes[at + 1] & 0x7f {
            126 => (
                usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]])),
                4,
            ),
            127 => panic!("no frame here is that long"),
            n => (usize::from(n), 2),
        };
        let body = &bytes[at + header..at + header + len];
        if opcode == 0x8 {
            return (body.len() >= 2).then(|| u16::from_be_bytes([body[0], body[1]]));
        }
        at += header + len;
    }
    None
}

async fn heartbeats(backend: Backend) {
    let app = spawn_with(backend, &[("HOTLINE_CONSOLE__HEARTBEAT_SECONDS", "0.5")]).await;
    let (mut live, _) = console(&app, "agent").await;
    let token = app.login("agent").await.token.unwrap();
    let silent = silent_client(&app.base, &token).await;
    // The live client reads (tungstenite answers pings as it reads): it sees pings, stays open.
    let until = Instant::now() + Duration::from_secs(3);
    let mut pings = 0;
    while Instant::now() < until {
        if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(200), live.next()).await {
            match m.unwrap() {
                Message::Ping(_) => pings += 1,
                Message::Close(c) => panic!("a live client was closed: {c:?}"),
                _ => {}
            }
        }
    }
    assert!(pings >= 3, "pings: {pings}");
    assert_quiet(&mut live, "the live client").await;
    // The silent one never answered: closed as dead.
    assert_eq!(raw_close_code(silent).await, Some(4000));
}
both_backends!(heartbeats, heartbeats);

async fn scope_per_role(backend: Backend) {
    let app = common::spawn_app(backend).await;
    let agent = app.login("agent").await;
    let a2_unit = agent.unit("990103").await;
    let street_unit = agent.unit("990103001").await;
    // The ticket exists before the subscriptions that name it.
    let id = agent.new_ticket("complaint").await;

    let (mut a2, _) = console(&app, "a2").await;
    let (mut a1, _) = console(&app, "a1").await;
    let (mut street, _) = console(&app, "a2street").await;
    let (mut zjj, _) = console(&app, "zjj").await;
    let (mut leader, _) = console(&app, "leader").await;
    let (mut dispatcher, _) = console(&app, "dispatcher").await;
    let (mut ag, _) = console(&app, "agent").await;

    // What each may subscribe to.
    assert_eq!(
        subscribe(&mut a2, &["queue:me", "unit:990103"]).await["type"],
        "subscribed"
    );
    let e = subscribe(&mut a1, &["unit:990103"]).await;
    assert_eq!(
        (e["code"].as_str(), e["field"].as_str()),
        (Some("forbidden"), Some("topics[0]")),
        "{e}"
    );
    let e = subscribe(&mut a1, &["queue:me", &format!("ticket:{id}")]).await;
    assert_eq!(
        (e["code"].as_str(), e["field"].as_str()),
        (Some("not_found"), Some("topics[1]")),
        "{e}"
    );
    let e = subscribe(&mut a1, &["wallboard"]).await;
    assert_eq!(e["code"], "forbidden", "{e}");
    assert_eq!(
        subscribe(&mut a1, &["queue:me"]).await["type"],
        "subscribed"
    );
    let e = subscribe(&mut street, &["unit:990103"]).await;
    assert_eq!(
        e["code"], "forbidden",
        "a street does not watch its district: {e}"
    );
    assert_eq!(
        subscribe(&mut street, &["queue:me"]).await["type"],
        "subscribed"
    );
    assert_eq!(
        subscribe(&mut zjj, &["queue:me"]).await["type"],
        "subscribed"
    );
    assert_eq!(
        subscribe(&mut leader, &["wallboard"]).await["type"],
        "subscribed"
    );
    assert_eq!(
        subscribe(&mut dispatcher, &["wallboard"]).await["type"],
        "subscribed"
    );
    assert_eq!(
        subscribe(
            &mut ag,
            &["queue:me", "unit:990103", &format!("ticket:{id}")]
        )
        .await["type"],
        "subscribed"
    );

    agent
        .act(&id, "dispatch", json!({"main_unit_id": a2_unit}))
        .await;
    for (ws, who) in [
        (&mut a2, "a2"),
        (&mut leader, "leader"),
        (&mut dispatcher, "dispatcher"),
        (&mut ag, "agent"),
    ] {
        let e = event_of(ws, &id, "dispatched").await;
        assert_eq!(e["ticket"]["main_unit_id"], a2_unit.as_str(), "{who}");
    }
    // Another district, the street below (not yet given the ticket) and a city department see
    // nothing of it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_quiet(&mut a1, "A1区").await;
    assert_quiet(&mut street, "the street before the pass-down").await;
    assert_quiet(&mut zjj, "a city department").await;

    // Passed down, the street's queue has it, the district sees it leave, A1区 still nothing.
    let a2api = app.login("a2").await;
    a2api.act(&id, "sign", json!({})).await;
    a2api
        .act(
            &id,
            "pass-down",
            json!({"to_unit_id": street_unit, "note": "请街道核实处理"}),
        )
        .await;
    let e = event_of(&mut street, &id, "passed_down").await;
    assert_eq!(e["ticket"]["main_unit_id"], street_unit.as_str());
    event_of(&mut a2, &id, "passed_down").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_quiet(&mut a1, "A1区 after the pass-down").await;
    assert_quiet(&mut zjj, "a city department after the pass-down").await;
}
both_backends!(scope_per_role, scope_per_role);

/// Two `hotline serve` nodes on one PostgreSQL: a console on node A sees what node B commits,
/// promptly (through LISTEN/NOTIFY, not the slow poll), also after its listener's connection was
/// killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres() {
    let mut db = TestDb::new(Backend::Postgres);
    seed(db.db());
    let url = db.url.clone();
    db.close();
    let key = [(
        "HOTLINE_SECRET_KEY",
        "two nodes share this key of at least 32 chars",
    )];
    let (child_a, base_a) = start(&db, &["serve"], &key);
    let holder = TestDb::new(Backend::Sqlite);
    let (child_b, base_b) = start_in(&db, holder.dir.path(), &["serve"], &key);
    let node_b = TestApp::new(base_b, holder, child_b);
    let node_a = TestApp::new(base_a, db, child_a);

    let (mut ws, _) = console(&node_a, "agent").await;
    subscribe(&mut ws, &["queue:me"]).await;
    let agent_b = node_b.login("agent").await;
    for round in 0..3 {
        let posted = Instant::now();
        let id = agent_b.new_ticket("complaint").await;
        event_of(&mut ws, &id, "received").await;
        let took = posted.elapsed();
        assert!(
            took < Duration::from_secs(1),
            "round {round}: node A saw node B's ticket after {took:?}"
        );
    }

    // Kill every listener's connection: node A reconnects and catches up by sequence.
    let mut admin = {
        use diesel::Connection;
        diesel::PgConnection::establish(&url).unwrap()
    };
    {
        use diesel::RunQueryDsl;
        let killed = diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'hotline-listen' AND pid <> pg_backend_pid()",
        )
        .execute(&mut admin)
        .unwrap();
        assert!(killed >= 2, "both nodes listen: {killed}");
    }
    let posted = Instant::now();
    let id = agent_b.new_ticket("help").await;
    event_of(&mut ws, &id, "received").await;
    assert!(
        posted.elapsed() < Duration::from_secs(3),
        "after the listener was killed: {:?}",
        posted.elapsed()
    );
    let id = agent_b.new_ticket("help").await;
    let posted = Instant::now();
    event_of(&mut ws, &id, "received").await;
    assert!(posted.elapsed() < Duration::from_secs(1));
    drop(admin);
}
