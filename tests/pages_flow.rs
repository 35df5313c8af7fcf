#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The work-queue page (我的待办) and the time-rules page (时限规则), over HTTP as a browser
//! sends them, on SQLite and PostgreSQL.

mod common;
mod pages_support;

use common::{Backend, TestApp, spawn_app};
use pages_support::{Browser, hidden};
use serde_json::{Value, json};

async fn queue_pages(app: &TestApp) {
    let agent = app.login("agent").await;
    let a2 = app.login("a2").await;
    let street = app.login("a2street").await;
    let a2_unit = agent.unit("990103").await;
    let street_unit = agent.unit("990103001").await;
    // One ticket to sign at A2区, one returned twice to the centre.
    let to_sign = agent.new_ticket("consult").await;
    agent
        .act(&to_sign, "dispatch", json!({"main_unit_id": a2_unit}))
        .await;
    let pong = agent.new_ticket("help").await;
    agent
        .act(&pong, "dispatch", json!({"main_unit_id": a2_unit}))
        .await;
    a2.act(&pong, "sign", json!({})).await;
    for _ in 0..2 {
        a2.act(&pong, "pass-down", json!({"to_unit_id": street_unit}))
            .await;
        street
            .act(&pong, "return", json!({"reason": "不属于本街道"}))
            .await;
    }
    let number = |id: &str| {
        let api = agent.clone();
        let id = id.to_owned();
        async move {
            let (_, d) = api.get(&format!("/api/v1/tickets/{id}")).await;
            d["ticket"]["number"].as_str().unwrap().to_owned()
        }
    };
    let (sign_no, pong_no) = (number(&to_sign).await, number(&pong).await);

    let page = Browser::signed_in(app, "dispatcher")
        .await
        .get("/queues")
        .await;
    assert_eq!(page.status, 200);
    let rulings = section(&page.body, "rulings");
    assert!(
        rulings.contains("退单待审定") && rulings.contains(&pong_no),
        "{rulings}"
    );
    assert!(rulings.contains("多次退单·班长审定"), "{rulings}");
    assert!(!rulings.contains(&sign_no));

    let page = Browser::signed_in(app, "a2").await.get("/queues").await;
    assert_eq!(page.status, 200);
    let mine = section(&page.body, "to_sign");
    assert!(mine.contains("待签收") && mine.contains(&sign_no), "{mine}");
    assert!(!page.body.contains("退单待审定"));

    let page = Browser::signed_in(app, "a1").await.get("/queues").await;
    assert!(
        !page.body.contains(&sign_no),
        "another district's queue is empty of it"
    );
    let page = Browser::signed_in(app, "admin").await.get("/queues").await;
    assert_eq!(page.status, 403);
}

/// The HTML of the queue section `kind` (up to the next section).
fn section<'a>(html: &'a str, kind: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{kind}\""))
        .unwrap_or_else(|| panic!("no section {kind}: {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// The form fields that post `rules` back unchanged.
fn form_of(rules: &Value) -> Vec<(String, String)> {
    let mut f = Vec::new();
    let mut span = |name: &str, s: &Value| {
        if s.is_null() {
            f.push((format!("{name}_unit"), "none".to_owned()));
            f.push((format!("{name}_value"), String::new()));
        } else {
            f.push((
                format!("{name}_unit"),
                s["unit"].as_str().unwrap().to_owned(),
            ));
            f.push((format!("{name}_value"), s["value"].to_string()));
        }
    };
    for (i, l) in rules["limits"].as_array().unwrap().iter().enumerate() {
        span(&format!("limits[{i}].sign_for"), &l["sign_for"]);
        span(&format!("limits[{i}].handle"), &l["handle"]);
        span(&format!("limits[{i}].max_extension"), &l["max_extension"]);
    }
    span("return_window", &rules["return_window"]);
    span("return_visit_window", &rules["return_visit_window"]);
    f.push((
        "working_hours".into(),
        rules["working_hours"].as_str().unwrap().to_owned(),
    ));
    f
}

fn set(form: &mut [(String, String)], name: &str, value: &str) {
    form.iter_mut().find(|(k, _)| k == name).unwrap().1 = value.to_owned();
}

async fn time_rules_page(app: &TestApp) {
    // Read-only for everyone but administrators.
    let page = Browser::signed_in(app, "agent")
        .await
        .get("/admin/time-rules")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("办理时限") && page.body.contains("工作日"));
    assert!(!page.body.contains("保存时限规则") && page.body.contains("disabled"));

    let admin = Browser::signed_in(app, "admin").await;
    let page = admin.get("/admin/time-rules").await;
    assert!(page.body.contains("保存时限规则") && page.body.contains("尚未修改"));
    let csrf = hidden(&page.body, "csrf_token");
    let (_, current) = app.login("agent").await.get("/api/v1/time-rules").await;
    let consult = current["rules"]["limits"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| l["appeal_type"] == "consult" && l["urgency"] == "normal")
        .unwrap();
    let mut form = form_of(&current["rules"]);
    form.push(("csrf_token".into(), csrf.clone()));
    form.push(("expected_version".into(), "0".into()));
    form.push(("note".into(), "咨询类办理时限调整为4个工作日".into()));
    let post = |form: Vec<(String, String)>| {
        let admin = &admin;
        async move {
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            admin.post("/admin/time-rules", &pairs).await
        }
    };
    // A refused value comes back on the page with the reason, and nothing is stored.
    let mut bad = form.clone();
    set(&mut bad, "working_hours", "18:00-09:00");
    let p = post(bad).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("role=\"alert\""), "{}", p.body);
    let mut bad = form.clone();
    set(&mut bad, &format!("limits[{consult}].handle_value"), "0");
    assert_eq!(post(bad).await.status, 422);
    // Without the session's CSRF token nothing happens.
    let mut forged = form.clone();
    set(&mut forged, "csrf_token", "forged");
    assert_eq!(post(forged).await.status, 403);
    // A good change is stored, applied and recorded.
    set(&mut form, &format!("limits[{consult}].handle_value"), "4");
    let p = post(form.clone()).await;
    assert_eq!(
        (p.status, p.location.as_deref()),
        (303, Some("/admin/time-rules?saved=1")),
        "{}",
        p.body
    );
    let page = admin.get("/admin/time-rules?saved=1").await.body;
    assert!(page.contains("时限规则已保存") && page.contains("咨询类办理时限调整为4个工作日"));
    // The change log names who made the change (display name and login), not an id.
    assert!(page.contains("admin（admin）"), "{page}");
    let (_, now) = app.login("agent").await.get("/api/v1/time-rules").await;
    assert_eq!(now["version"], 1);
    assert_eq!(now["rules"]["limits"][consult]["handle"]["value"], 4);
    // The same form again is stale now.
    let p = post(form).await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("role=\"alert\""));
}

async fn pages(backend: Backend) {
    let app = spawn_app(backend).await;
    queue_pages(&app).await;
    time_rules_page(&app).await;
}

both_backends!(queue_and_time_rule_pages, pages);
