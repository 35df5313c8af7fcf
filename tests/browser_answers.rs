#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Answering from the knowledge base in the agent console, in real headless Chromium: as the agent
//! types the appeal the matching answers appear (no reload), 用此答复 fills the answer and the
//! article it cites, and 登记并直接办结 registers the consultation closed with that citation.
//! SQLite only, like the other browser tests: the storage underneath is tested on both backends
//! in `console_answers.rs`.

mod browser_support;
mod common;

use browser_support::{click, fill, js, sign_in, wait_until, with_browser};
use common::{Backend, spawn_with_answers};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_follow_typing_and_close_a_consultation() {
    let app = spawn_with_answers(Backend::Sqlite).await;
    let api = app.login("agent").await;

    with_browser(&app, |b, base| async move {
        sign_in(&b, &base, "agent").await;
        b.goto(&format!("{base}/console")).await.unwrap();
        js(&b, "window.__same_page = true; return true;").await;
        assert_eq!(
            js(&b, "return document.getElementById('answer-now').hidden").await,
            Value::Bool(true),
            "the direct answer opens only with an article"
        );
        click(&b, "input[name=appeal_type][value=consult]").await;
        fill(&b, "#title", "在外面租房子住").await;
        fill(&b, "#detail", "来电人问租房能不能把公积金取出来交房租").await;
        wait_until(
            &b,
            "document.querySelector('#kb-answers li[data-slug=gjj-withdraw-rent]')",
            "the rent withdrawal answer listed",
        )
        .await;
        assert_eq!(
            js(&b, "return window.__same_page === true").await,
            Value::Bool(true),
            "the answers came without a reload"
        );
        click(&b, "#kb-answers li[data-slug=gjj-withdraw-rent] .kb-use").await;
        assert_eq!(
            js(&b, "return document.getElementById('answer-article').value").await,
            "gjj-withdraw-rent"
        );
        let answer = js(&b, "return document.getElementById('answer').value").await;
        assert!(answer.as_str().unwrap().contains("租"), "{answer}");
        assert!(
            js(
                &b,
                "return document.getElementById('answer-cite').textContent"
            )
            .await
            .as_str()
            .unwrap()
            .starts_with("引用知识：《"),
        );
        click(&b, "button[name=then][value=answer]").await;
        wait_until(
            &b,
            "location.search.includes('done=answer')",
            "back on the console, answered",
        )
        .await;
    })
    .await;

    let (s, list) = api.get("/api/v1/tickets?limit=10").await;
    assert_eq!(s, 200, "{list}");
    let t = &list["items"][0];
    assert_eq!(t["status"], "closed", "{list}");
    let (_, d) = api
        .get(&format!("/api/v1/tickets/{}", t["id"].as_str().unwrap()))
        .await;
    let cited = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "answered_directly")
        .map(|e| e["payload"]["article"]["slug"].clone());
    assert_eq!(cited, Some(Value::from("gjj-withdraw-rent")), "{d}");
}
