#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The three live pages through the real binary without a browser, on SQLite and PostgreSQL:
//! which roles each is for, the parts the live script fetches (what they hold, within the
//! caller's scope), and the script's caching. `browser_console.rs` runs them in Chromium.

mod common;
mod pages_support;

use common::{Backend, TestApp, spawn_app};
use pages_support::{Browser, ticket};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use serde_json::json;

/// The number in the wallboard's today card beside `label` (受理, 派单, …).
fn today(board: &str, label: &str) -> u64 {
    let end = board
        .find(&format!("</strong>{label}"))
        .unwrap_or_else(|| panic!("no {label} count: {board}"));
    let start = board[..end].rfind("<strong>").expect("<strong>") + "<strong>".len();
    board[start..end].parse().expect("a count")
}

async fn who_may_open_which(app: &TestApp) {
    let pages = ["/console", "/wallboard", "/workbench"];
    // (user, the statuses of the three pages)
    let expected: &[(&str, [u16; 3])] = &[
        ("agent", [200, 403, 403]),
        ("dispatcher", [200, 200, 403]),
        ("leader", [403, 200, 403]),
        ("a2", [403, 403, 200]),
        ("a2admin", [403, 403, 200]),
        ("zjj", [403, 403, 200]),
    ];
    for (user, statuses) in expected {
        let b = Browser::signed_in(app, user).await;
        for (path, want) in pages.iter().zip(statuses) {
            let p = b.get(path).await;
            assert_eq!(p.status, *want, "{user} {path}: {}", p.body);
            if *want == 200 {
                assert!(
                    p.body
                        .contains(r#"<script src="/static/live.js" defer></script>"#)
                        && p.body.contains(r#"id="live""#),
                    "{user} {path}: {}",
                    p.body
                );
            } else {
                assert!(!p.body.contains("/static/live.js"), "{user} {path}");
            }
        }
    }
    // Signed out, each leads to the login and back.
    let anon = Browser::new(app);
    for path in pages {
        let p = anon.get(path).await;
        assert_eq!(p.status, 303, "{path}");
        assert!(
            p.location
                .as_deref()
                .is_some_and(|l| l.starts_with("/login?next=")),
            "{path}: {:?}",
            p.location
        );
    }
}

async fn parts_follow_the_loop_within_scope(app: &TestApp) {
    let agent = app.login("agent").await;
    let board = Browser::signed_in(app, "dispatcher").await;
    let a2 = Browser::signed_in(app, "a2").await;
    let a1 = Browser::signed_in(app, "a1").await;

    let before = board.get("/wallboard?part=board").await;
    assert_eq!(before.status, 200, "{}", before.body);
    assert!(!before.body.contains("<html"), "a part, not the page");
    let received = today(&before.body, "受理");
    let dispatched = today(&before.body, "派单");

    // A new ticket is counted as received today and listed in the agent's console queue.
    let id = agent.new_ticket("report").await;
    let number = ticket(&agent, &id).await["number"]
        .as_str()
        .expect("number")
        .to_owned();
    let after = board.get("/wallboard?part=board").await.body;
    assert_eq!(today(&after, "受理"), received + 1, "{after}");
    assert_eq!(today(&after, "派单"), dispatched, "{after}");
    let console = Browser::signed_in(app, "agent").await;
    let queue = console.get("/console?part=queue").await;
    assert_eq!(queue.status, 200);
    assert!(
        queue.body.contains(&number) && queue.body.contains(&format!("console?ticket={id}")),
        "the console's rows open the ticket in the console: {}",
        queue.body
    );
    // The console's ticket part: the ticket with its actions, which come back to the console.
    let part = console
        .get(&format!("/console?ticket={id}&part=ticket"))
        .await;
    assert_eq!(part.status, 200, "{}", part.body);
    assert!(
        part.body.contains(&number)
            && part.body.contains(r#"name="next""#)
            && part.body.contains(&format!("console?ticket={id}")),
        "{}",
        part.body
    );
    assert_eq!(console.get("/console?part=ticket").await.status, 404);
    assert_eq!(console.get("/console?part=nothing").await.status, 404);
    assert_eq!(board.get("/wallboard?part=queue").await.status, 404);
    let bad = console.get("/console?ticket=not-an-id").await;
    assert!(
        (400..500).contains(&bad.status) && bad.body.contains("ticket"),
        "{}: {}",
        bad.status,
        bad.body
    );

    // Not in A2区's workbench until it is dispatched there; never in A1区's.
    assert!(!a2.get("/workbench?part=queue").await.body.contains(&number));
    let a2_unit = agent.unit("990103").await;
    agent
        .act(&id, "dispatch", json!({"main_unit_id": a2_unit}))
        .await;
    let mine = a2.get("/workbench?part=queue").await;
    assert_eq!(mine.status, 200);
    assert!(
        mine.body.contains(&number) && mine.body.contains(&format!("tickets&#x2f;{id}")),
        "{}",
        mine.body
    );
    let theirs = a1.get("/workbench?part=queue").await;
    assert_eq!(theirs.status, 200);
    assert!(!theirs.body.contains(&number), "{}", theirs.body);
    let after = board.get("/wallboard?part=board").await.body;
    assert_eq!(today(&after, "派单"), dispatched + 1, "{after}");

    // Supervised, it is on the wallboard's 督办 list.
    let dispatcher = app.login("dispatcher").await;
    dispatcher
        .act(
            &id,
            "supervise",
            json!({"reason": "群众反映强烈，请加快办理"}),
        )
        .await;
    let after = board.get("/wallboard?part=board").await.body;
    let supervised = &after[after.find(r#"id="supervised""#).expect("督办 list")..];
    assert!(supervised.contains(&number), "{after}");
}

async fn the_script_is_cached_by_its_tag(app: &TestApp) {
    let http = reqwest::Client::new();
    let res = http.get(app.url("/static/live.js")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(res.headers()[CACHE_CONTROL], "no-cache");
    let tag = res.headers()[ETAG].clone();
    assert!(res.text().await.unwrap().contains("\"subscribe\""));
    let again = http
        .get(app.url("/static/live.js"))
        .header(IF_NONE_MATCH, tag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()[ETAG], tag);
    let other = http
        .get(app.url("/static/live.js"))
        .header(IF_NONE_MATCH, "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}

async fn live_page_roles(backend: Backend) {
    who_may_open_which(&spawn_app(backend).await).await;
}

async fn live_page_parts(backend: Backend) {
    parts_follow_the_loop_within_scope(&spawn_app(backend).await).await;
}

async fn live_script(backend: Backend) {
    the_script_is_cached_by_its_tag(&spawn_app(backend).await).await;
}

both_backends!(roles_of_the_live_pages, live_page_roles);
both_backends!(parts_of_the_live_pages, live_page_parts);
both_backends!(the_live_script, live_script);
