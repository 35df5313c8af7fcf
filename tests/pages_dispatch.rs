#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The dispatch pages through the real binary, as a browser uses them, on SQLite and
//! PostgreSQL: the suggestion panel of the ticket page (ranked units, explanation, one-click
//! dispatch and re-dispatch with the CSRF token and version, the ping-pong guard, the manual
//! queue's mark), and the rules pages (list, create, change, delete, audit trail, who may).

mod common;
mod dispatch_support;
mod pages_support;

use common::{Backend, TestApp};
use dispatch_support::{eventually, register, spawn_dispatch_app};
use pages_support::{Browser, hidden, ticket};
use serde_json::json;

/// The suggestion panel of a page, if there is one.
fn panel(page: &str) -> Option<&str> {
    let start = page.find("id=\"suggest\"")?;
    let end = page[start..].find("</section>")? + start;
    Some(&page[start..end])
}

/// The fields of the first one-click form of a panel.
fn first_form(panel: &str) -> (String, Vec<(String, String)>) {
    let start = panel.find("<form").expect("a form");
    let end = panel[start..].find("</form>").expect("form end") + start;
    let form = &panel[start..end];
    let action = form
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let fields = form
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|s| {
            let name = s.split('"').next().unwrap().to_owned();
            (name.clone(), hidden(form, &name))
        })
        .collect();
    (action, fields)
}

async fn post_form(b: &Browser, action: &str, fields: &[(String, String)]) -> pages_support::Page {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post(action, &pairs).await
}

async fn panel_and_one_click(app: &TestApp) {
    let (agent, dispatcher_api, a2_api) = (
        app.login("agent").await,
        app.login("dispatcher").await,
        app.login("a2").await,
    );
    let a2_unit = dispatcher_api.unit("990103").await;
    let zjj = dispatcher_api.unit("990100-ZJJ").await;
    let id = register(
        &agent,
        "A2区景蓉华苑物业管理有问题",
        "位于A市A2区桂花坪街道的景蓉华苑小区物业公司要征收停车费",
    )
    .await;
    let dispatcher = Browser::signed_in(app, "dispatcher").await;
    let page = dispatcher.get(&format!("/tickets/{id}")).await;
    assert_eq!(page.status, 200);
    let p = panel(&page.body).expect("a suggestion panel");
    for text in [
        "智能派单建议",
        "A2区",
        "识别地点",
        "桂花坪街道（A2区）",
        "可下派至桂花坪街道。",
        "分类模型判断为「城乡建设」",
    ] {
        assert!(p.contains(text), "{text} missing in {p}");
    }
    // The threshold is 0.999: the ticket waits for a person, and the page says so.
    assert!(p.contains("待人工派单"), "{p}");
    eventually("the sweep marks the ticket", || {
        let b = &dispatcher;
        let id = id.clone();
        async move {
            let list = b.get("/tickets?manual_dispatch=true").await.body;
            list.contains(&format!("/tickets/{id}\""))
                && list.contains("<span class=\"flag\">待人工派单</span>")
        }
    })
    .await;
    assert!(
        dispatcher
            .get(&format!("/tickets/{id}"))
            .await
            .body
            .contains("<span class=\"flag\">待人工派单</span>")
    );

    // One click: the form dispatches to the first unit with the page's token and version.
    let (action, fields) = first_form(p);
    assert_eq!(action, format!("/tickets/{id}/act/dispatch"));
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("main_unit_id").as_deref(), Some(a2_unit.as_str()));
    assert_eq!(
        get("expected_version"),
        Some(hidden(&page.body, "expected_version"))
    );
    assert_eq!(get("csrf_token"), Some(hidden(&page.body, "csrf_token")));
    // Without the token the form is refused.
    let forged: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k != "csrf_token")
        .cloned()
        .collect();
    assert_eq!(post_form(&dispatcher, &action, &forged).await.status, 403);
    let done = post_form(&dispatcher, &action, &fields).await;
    assert_eq!(
        (done.status, done.location),
        (303, Some(format!("/tickets/{id}?done=dispatch")))
    );
    let t = ticket(&dispatcher_api, &id).await;
    assert_eq!(
        (t["status"].as_str(), t["main_unit_id"].as_str()),
        (Some("dispatched"), Some(a2_unit.as_str()))
    );
    // The same form again is stale.
    assert_eq!(post_form(&dispatcher, &action, &fields).await.status, 409);

    // The unit has no panel; after its return the dispatcher's panel re-dispatches elsewhere.
    let a2 = Browser::signed_in(app, "a2").await;
    assert!(panel(&a2.get(&format!("/tickets/{id}")).await.body).is_none());
    a2_api
        .act(&id, "return", json!({"reason": "物业收费不归本区管"}))
        .await;
    let page = dispatcher.get(&format!("/tickets/{id}")).await.body;
    let p = panel(&page).expect("a panel for the ruling");
    assert!(p.contains("曾退单的单位不再推荐：A2区。"), "{p}");
    assert!(
        !p.contains(&format!("value=\"{a2_unit}\"")),
        "A2区 is offered again: {p}"
    );
    let (action, fields) = first_form(p);
    assert_eq!(action, format!("/tickets/{id}/act/rule"));
    assert!(
        fields
            .iter()
            .any(|(k, v)| k == "decision" && v == "redispatch")
    );
    assert_eq!(post_form(&dispatcher, &action, &fields).await.status, 303);
    let t = ticket(&dispatcher_api, &id).await;
    assert_eq!(
        (t["status"].as_str(), t["main_unit_id"].as_str()),
        (Some("dispatched"), Some(zjj.as_str()))
    );

    // The pages keep their policy: only the site's own script file may run, never inline script.
    let res = dispatcher.response(&format!("/tickets/{id}")).await;
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("script-src 'self';")
            && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    let body = res.text().await.unwrap();
    assert_eq!(
        body.matches("<script").count(),
        body.matches(r#"<script src="/static/live.js" defer></script>"#)
            .count(),
        "{body}"
    );
}

async fn suggestion_panel(backend: Backend) {
    let app = spawn_dispatch_app(backend, &[("HOTLINE_DISPATCH_THRESHOLD", "0.999")]).await;
    panel_and_one_click(&app).await;
}
both_backends!(suggestion_panel_and_one_click_dispatch, suggestion_panel);

async fn rules_through_forms(app: &TestApp) {
    let api = app.login("dispatcher").await;
    let gjj = api.unit("990100-GJJ").await;
    let b = Browser::signed_in(app, "dispatcher").await;
    let page = b.get("/dispatch/rules").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("关键词「公积金」 → A市住房公积金管理中心")
    );
    assert!(page.body.contains("分类「城乡建设」 → 事发地所属区县"));
    assert!(
        page.body.contains("系统（默认规则）"),
        "the trail names the system"
    );
    let csrf = hidden(&page.body, "csrf_token");
    // A keyword rule without keywords: the form comes back with the reason, and what was typed.
    let bad = b
        .post(
            "/dispatch/rules",
            &[
                ("csrf_token", &csrf),
                ("kind", "keyword"),
                ("target", "unit"),
                ("unit_id", &gjj),
                ("note", "公积金贷款专线"),
                ("active", "true"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.body
            .contains("关键词：按关键词的规则须填写1至20个关键词"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"公积金贷款专线\""));
    let made = b
        .post(
            "/dispatch/rules",
            &[
                ("csrf_token", &csrf),
                ("kind", "keyword"),
                ("target", "unit"),
                ("unit_id", &gjj),
                ("keywords", "公积金贷款、 贷款额度"),
                ("note", "公积金贷款专线"),
                ("active", "true"),
            ],
        )
        .await;
    assert_eq!(
        (made.status, made.location.as_deref()),
        (303, Some("/dispatch/rules?done=created")),
        "{}",
        made.body
    );
    let list = b.get("/dispatch/rules?done=created").await.body;
    assert!(
        list.contains("规则已新建")
            && list.contains("关键词「公积金贷款、贷款额度」 → A市住房公积金管理中心")
    );
    let (_, rules) = api.get("/api/v1/dispatch/rules").await;
    let rule = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["note"] == "公积金贷款专线")
        .unwrap()
        .clone();
    let id = rule["id"].as_str().unwrap();

    // Change it through its page; a stale form is refused.
    let page = b.get(&format!("/dispatch/rules/{id}")).await;
    assert_eq!(page.status, 200);
    let version = hidden(&page.body, "version");
    assert_eq!(version, "1");
    let form = |v: &str, priority: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("version", v.to_owned()),
            ("kind", "keyword".into()),
            ("target", "unit".into()),
            ("unit_id", gjj.clone()),
            ("keywords", "公积金贷款".into()),
            ("priority", priority.into()),
        ]
    };
    let pairs =
        |f: &[(&'static str, String)]| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let f = pairs(&form("1", "350"));
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let p = b.post(&format!("/dispatch/rules/{id}"), &refs).await;
    assert_eq!(
        (p.status, p.location.as_deref()),
        (303, Some("/dispatch/rules?done=updated")),
        "{}",
        p.body
    );
    let stale = b.post(&format!("/dispatch/rules/{id}"), &refs).await;
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("规则已被他人修改"), "{}", stale.body);
    let (_, r) = api.get(&format!("/api/v1/dispatch/rules/{id}")).await;
    assert_eq!(
        (
            r["priority"].as_i64(),
            r["active"].as_bool(),
            r["keywords"].clone()
        ),
        (Some(350), Some(false), json!(["公积金贷款"]))
    );
    let page = b.get(&format!("/dispatch/rules/{id}")).await.body;
    assert!(
        page.contains("修改") && page.contains("新建") && page.contains("dispatcher（dispatcher）"),
        "{page}"
    );
    // Delete it; the trail stays.
    let p = b
        .post(
            &format!("/dispatch/rules/{id}/delete"),
            &[("csrf_token", &csrf), ("version", "2")],
        )
        .await;
    assert_eq!(
        (p.status, p.location.as_deref()),
        (303, Some("/dispatch/rules?done=deleted"))
    );
    assert_eq!(b.get(&format!("/dispatch/rules/{id}")).await.status, 404);
    let (_, trail) = api
        .get(&format!("/api/v1/dispatch/rule-audit?rule_id={id}"))
        .await;
    assert_eq!(trail.as_array().unwrap().len(), 3);
    // Without the token nothing changes.
    assert_eq!(
        b.post("/dispatch/rules", &[("kind", "area")]).await.status,
        403
    );

    // Who may: an agent reads without a form; a unit's handler neither sees the link nor the page.
    let agent = Browser::signed_in(app, "agent").await;
    let page = agent.get("/dispatch/rules").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("id=\"new-rule\""));
    let a2 = Browser::signed_in(app, "a2").await;
    assert!(!a2.get("/tickets").await.body.contains("/dispatch/rules"));
    assert_eq!(a2.get("/dispatch/rules").await.status, 403);
    let a2_csrf = hidden(&a2.get("/tickets").await.body, "csrf_token");
    assert_eq!(
        a2.post(
            "/dispatch/rules",
            &[
                ("csrf_token", &a2_csrf),
                ("kind", "area"),
                ("target", "district")
            ]
        )
        .await
        .status,
        403
    );
}

async fn rules_pages(backend: Backend) {
    rules_through_forms(&spawn_dispatch_app(backend, &[]).await).await;
}
both_backends!(rules_pages_forms_and_trail, rules_pages);
