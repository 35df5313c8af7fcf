#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The three live pages in real headless Chromium (see `browser_support`): an agent on the agent
//! console, a unit handler on the unit workbench and a dispatcher on the wallboard, signed in at
//! once in three browser sessions. When the agent dispatches a ticket, the handler's workbench and
//! the wallboard show it without a reload; when the handler signs for it, the agent's console shows
//! the new state, and who is viewing it, without a reload. The ticket's text holds script payloads,
//! and no script of them runs on any of the pages, before or after the live updates.
//!
//! SQLite only, like `browser.rs`: what is tested is the pages' script in the browser; the
//! websocket hub underneath is tested on both backends in `console_ws.rs`.

mod browser_support;
mod common;

use browser_support::{click, js, nothing_ran, page_text, sign_in, wait_until, with_browsers};
use common::{Backend, spawn_app};
use fantoccini::Client;
use serde_json::{Value, json};

const TITLE: &str = "<script>window.__xss=1</script>路灯不亮<img src=x onerror=\"window.__xss=2\">";
const DETAIL: &str = "<img src=x onerror=\"window.__xss=2\"> A2区桂花坪街道某小区门口路灯不亮 <script>window.__xss=1</script>";

/// Marks the page so that a reload (a new document) would show: the mark is gone.
async fn mark(b: &Client) {
    js(b, "window.__same_page = true; return true;").await;
}

async fn not_reloaded(b: &Client) -> bool {
    js(b, "return window.__same_page === true").await == Value::Bool(true)
}

/// The live script says it is connected (subscribed and resumed).
async fn connected(b: &Client) {
    wait_until(
        b,
        "document.querySelector('#live-status.live-on')",
        "the live script connected",
    )
    .await;
}

/// No payload ran and none became an element, anywhere in the document.
async fn inert(b: &Client, page: &str) {
    assert!(nothing_ran(b).await, "a script ran on the {page}");
    assert_eq!(
        js(
            b,
            "return document.querySelectorAll('img[src=x], main script, #live-feed script').length"
        )
        .await,
        0,
        "a payload became markup on the {page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_pages_follow_each_other_and_keep_payloads_inert() {
    let app = spawn_app(Backend::Sqlite).await;
    let agent_api = app.login("agent").await;
    let dispatcher_api = app.login("dispatcher").await;
    let a2_unit = agent_api.unit("990103").await;
    let (s, t) = agent_api
        .post(
            "/api/v1/tickets",
            json!({"appeal_type": "complaint", "title": TITLE, "detail": DETAIL,
                   "citizen_phone": "13800138000"}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let id = t["id"].as_str().unwrap().to_owned();

    with_browsers(&app, 3, |browsers, base| async move {
        let (agent, handler, board) = (&browsers[0], &browsers[1], &browsers[2]);
        sign_in(agent, &base, "agent").await;
        sign_in(handler, &base, "a2").await;
        sign_in(board, &base, "dispatcher").await;

        // The agent console: the new ticket in the incoming queue, as text.
        agent.goto(&format!("{base}/console")).await.unwrap();
        connected(agent).await;
        assert!(page_text(agent).await.contains(TITLE), "the queue shows the ticket's title as text");
        inert(agent, "agent console").await;

        // The unit workbench: nothing of the ticket yet.
        handler.goto(&format!("{base}/workbench")).await.unwrap();
        connected(handler).await;
        assert!(!page_text(handler).await.contains("路灯不亮"));
        mark(handler).await;

        // The wallboard: the agent is online (presence from the agent's console).
        board.goto(&format!("{base}/wallboard")).await.unwrap();
        connected(board).await;
        wait_until(board, "document.querySelector('#agents tr[data-user=agent]')", "the agent listed on the wallboard").await;
        let dispatched_before = js(board, "return document.querySelector('tr[data-status=dispatched] td:nth-child(2)').textContent").await;
        assert_eq!(dispatched_before, "0");
        mark(board).await;

        // The agent opens the ticket from the queue (keyboard: J selects the first row, Enter
        // opens it) and dispatches it to A2区 with the dispatch form.
        js(agent, "document.activeElement && document.activeElement.blur(); return true;").await;
        agent.active_element().await.unwrap().send_keys("j").await.unwrap();
        let opened = js(
            agent,
            &format!("return Array.from(document.querySelectorAll('a[data-queue-row]')).findIndex(a => a.getAttribute('href').endsWith('{id}'))"),
        )
        .await;
        let index = opened.as_i64().unwrap();
        assert!(index >= 0, "the ticket is a row of the queue");
        for _ in 0..index {
            agent.active_element().await.unwrap().send_keys("j").await.unwrap();
        }
        agent.active_element().await.unwrap().send_keys("\u{E007}").await.unwrap(); // Enter
        wait_until(agent, &format!("location.search.includes('{id}')"), "the ticket opened in the console").await;
        connected(agent).await;
        inert(agent, "agent console's ticket panel").await;
        js(
            agent,
            &format!("document.querySelector('#act-dispatch select[name=main_unit_id]').value = '{a2_unit}'; return true;"),
        )
        .await;
        click(agent, "#act-dispatch button[type=submit]").await;
        wait_until(agent, "location.search.includes('done=dispatch')", "the console came back after dispatching").await;
        connected(agent).await;
        mark(agent).await;

        // A dispatcher supervises it (so the wallboard lists it with its payloads).
        let (s, r) = dispatcher_api
            .post(&format!("/api/v1/tickets/{id}/supervise"), json!({"reason": "群众反映强烈，请加快办理"}))
            .await;
        assert_eq!(s, 200, "{r}");

        // Without a reload: the handler's workbench lists it to sign for, the wallboard counts it
        // and lists it under supervision.
        wait_until(handler, "document.querySelector('#to_sign') && document.querySelector('#to_sign').textContent.includes('路灯不亮')", "the workbench shows the dispatched ticket").await;
        assert!(not_reloaded(handler).await, "the workbench was reloaded");
        inert(handler, "unit workbench").await;
        wait_until(board, "document.querySelector('tr[data-status=dispatched] td:nth-child(2)').textContent === '1'", "the wallboard counts the dispatched ticket").await;
        wait_until(board, "document.querySelector('#supervised').textContent.includes('路灯不亮')", "the wallboard lists the supervised ticket").await;
        assert!(not_reloaded(board).await, "the wallboard was reloaded");
        inert(board, "wallboard").await;

        // The handler opens the ticket and signs for it; the agent's console follows.
        handler.goto(&format!("{base}/tickets/{id}")).await.unwrap();
        connected(handler).await;
        wait_until(agent, "document.getElementById('watchers').textContent.includes('a2')", "the console shows the handler viewing the ticket").await;
        click(handler, "#act-sign button[type=submit]").await;
        wait_until(handler, "location.search.includes('done=sign')", "the handler signed").await;
        wait_until(agent, "document.querySelector('#ticket-panel').textContent.includes('办理中')", "the console shows the ticket in hand").await;
        assert!(not_reloaded(agent).await, "the console was reloaded");
        inert(agent, "agent console after the live update").await;
        let feed = js(agent, "return document.getElementById('live-feed').textContent").await;
        assert!(feed.as_str().unwrap().contains(TITLE), "the live feed shows the title as text: {feed}");
        inert(handler, "ticket page").await;
    })
    .await;
}
