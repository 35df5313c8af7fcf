#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Answering from the knowledge base in the agent console, through the real binary on both
//! backends: the panel's fragment finds the answers to what the agent typed (escaped), "登记并直接
//! 办结" registers and closes a consultation citing the article in one form, the API's answer
//! cites an article too (an unknown or unpublished one is refused by name), the history shows
//! the citation and the editors' statistics count the answer as used; a handling unit's staff
//! find only the answers for their unit and the units above it.

#[macro_use]
mod common;
mod pages_support;

use common::{Backend, spawn_with_answers};
use pages_support::{Browser, hidden};
use serde_json::{Value, json};

fn q(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn answering(backend: Backend) {
    let app = spawn_with_answers(backend).await;
    let agent = Browser::signed_in(&app, "agent").await;

    // The panel as the agent types: the matching answers, with the button and the text to copy.
    let page = agent.get("/console").await;
    assert!(page.body.contains("id=\"kb-answers\""), "{}", page.body);
    assert!(!page.body.contains("尚未接入"), "the placeholder is gone");
    let p = agent
        .get(&format!(
            "/console/answers?q={}",
            q("租房能不能取公积金交房租")
        ))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body.contains("data-slug=\"gjj-withdraw-rent\""),
        "{}",
        p.body
    );
    assert!(p.body.contains("class=\"secondary kb-use\""));
    assert!(p.body.contains("<mark>"), "{}", p.body);
    let p = agent
        .get(&format!(
            "/console/answers?q={}",
            q("<script>alert(1)</script>公积金")
        ))
        .await;
    assert_eq!(p.status, 200);
    assert!(!p.body.contains("<script>"), "{}", p.body);
    let p = agent.get("/console/answers?q=").await;
    assert!(p.body.contains("输入诉求内容后"), "{}", p.body);
    // Answers for one district reach the centre's agents and that district, not another's:
    // A3区's lift answer (areas 990104) for A2区's handler (990103) is left out, the city-wide
    // ones are not.
    let lift = format!("/console/answers?q={}", q("老小区加装电梯怎么申请"));
    assert!(
        agent
            .get(&lift)
            .await
            .body
            .contains("data-slug=\"reply-2849\"")
    );
    let a2 = Browser::signed_in(&app, "a2").await;
    let p = a2.get(&lift).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(!p.body.contains("reply-2849"), "{}", p.body);
    let rent = a2
        .get(&format!("/console/answers?q={}", q("租房提取公积金")))
        .await;
    assert!(rent.body.contains("gjj-withdraw-rent"), "{}", rent.body);
    let a2_api = app.login("a2").await;
    let (s, r) = a2_api
        .get(&format!(
            "/api/v1/knowledge/search?q={}",
            q("老小区加装电梯怎么申请")
        ))
        .await;
    assert_eq!(s, 200, "{r}");
    assert!(
        !r["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["slug"] == "reply-2849"),
        "{r}"
    );
    let nobody = Browser::new(&app).get("/console/answers?q=gjj").await;
    assert!(matches!(nobody.status, 303 | 401), "{}", nobody.status);

    // 登记并直接办结: one form registers the consultation and closes it, citing the article.
    let page = agent.get("/console").await.body;
    let (csrf, key) = (
        hidden(&page, "csrf_token"),
        hidden(&page, "idempotency_key"),
    );
    let mut form = vec![
        ("csrf_token", csrf.as_str()),
        ("idempotency_key", key.as_str()),
        ("next", "/console"),
        ("appeal_type", "consult"),
        ("urgency", "normal"),
        ("title", "租房提取公积金"),
        ("detail", "来电人在外租房，问能否提取公积金交房租。"),
        ("then", "answer"),
        ("article", "no-such-article"),
        ("answer", "可以提取。"),
    ];
    let p = agent.post("/tickets/new", &form).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("租房提取公积金"), "what was typed stays");
    let api = app.login("agent").await;
    let (_, list) = api.get("/api/v1/tickets?limit=100").await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        0,
        "nothing registered: {list}"
    );
    form[8] = ("article", "gjj-withdraw-rent");
    let p = agent.post("/tickets/new", &form).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let location = p.location.unwrap();
    assert!(location.ends_with("&done=answer"), "{location}");
    let id = location
        .split("ticket=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let (s, d) = api.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(d["ticket"]["status"], "closed", "{d}");
    assert_eq!(d["ticket"]["resolution"], "可以提取。");
    let answered = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "answered_directly")
        .unwrap();
    assert_eq!(
        answered["payload"]["article"]["slug"], "gjj-withdraw-rent",
        "{answered}"
    );
    assert_eq!(answered["payload"]["article"]["version"], 1);
    assert!(
        answered["payload"]["article"]["title"]
            .as_str()
            .unwrap()
            .contains("租房")
    );
    let page = agent.get(&format!("/tickets/{id}")).await.body;
    assert!(page.contains("引用知识"), "{page}");
    // The same form sent again (a double click): the one ticket, and a word that the answer
    // was not given twice.
    let p = agent.post("/tickets/new", &form).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let again = p.location.unwrap();
    assert!(
        again.contains(&format!("ticket={id}")) && again.ends_with("&unanswered=1"),
        "{again}"
    );
    assert!(agent.get(&again).await.body.contains("直接办结未完成"));
    let (_, list) = api.get("/api/v1/tickets?limit=100").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");

    // The API: a received consultation answered with a citation; a bad key is named.
    let (s, t) = api
        .post(
            "/api/v1/tickets",
            json!({"appeal_type": "consult", "title": "社保卡丢了", "detail": "问社保卡丢了怎么补办。"}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let tid = t["ticket"]["id"]
        .as_str()
        .or(t["id"].as_str())
        .unwrap()
        .to_owned();
    let (s, r) = api
        .post(
            &format!("/api/v1/tickets/{tid}/answer"),
            json!({"answer": "挂失后补办。", "article": "nope"}),
        )
        .await;
    assert_eq!(
        (s, r["error"]["field"].as_str()),
        (422, Some("article")),
        "{r}"
    );
    let (s, r) = api
        .post(
            &format!("/api/v1/tickets/{tid}/answer"),
            json!({"answer": "先挂失，再到社保服务网点或线上补办。", "article": "shebao-card-replace"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["ticket"]["status"], "closed");

    // The answers used count for the editors (counted after the answer, in the background).
    let editor = app.login("a2admin").await;
    let mut uses = Value::Null;
    for _ in 0..50 {
        let (s, stats) = editor.get("/api/v1/knowledge/stats").await;
        assert_eq!(s, 200, "{stats}");
        uses = stats["used"].clone();
        let used = |slug: &str| {
            uses.as_array()
                .is_some_and(|a| a.iter().any(|u| u["slug"] == slug))
        };
        if used("gjj-withdraw-rent") && used("shebao-card-replace") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("answers not counted: {uses}");
}

both_backends!(console, answering);
