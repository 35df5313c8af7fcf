#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Ticket actions through the page forms of the real binary, on SQLite and PostgreSQL: the CSRF
//! token, the version the page was rendered from, field errors next to the form, and the whole
//! closed loop taken form by form.

mod common;
mod pages_support;

use common::{Backend, TestApp, spawn_app};
use pages_support::{Browser, act, done, hidden, ticket};
use serde_json::json;

const STALE: &str = "工单已被他人更新，请刷新后重试";

async fn action_forms(app: &TestApp) {
    let agent_api = app.login("agent").await;
    let dispatcher_api = app.login("dispatcher").await;
    let a2_unit = agent_api.unit("990103").await;
    let id = agent_api.new_ticket("help").await;
    let agent = Browser::signed_in(app, "agent").await;
    let page = agent.get(&format!("/tickets/{id}")).await.body;
    let (csrf, version) = (
        hidden(&page, "csrf_token"),
        hidden(&page, "expected_version"),
    );
    let path = format!("/tickets/{id}/act/dispatch");

    // Without the token, or with another one, nothing happens.
    let unchanged = ticket(&agent_api, &id).await["version"].clone();
    for token in [None, Some("forged-token")] {
        let mut form = vec![
            ("main_unit_id", a2_unit.as_str()),
            ("expected_version", version.as_str()),
        ];
        form.extend(token.map(|t| ("csrf_token", t)));
        let p = agent.post(&path, &form).await;
        assert_eq!(p.status, 403, "{token:?}");
        assert!(p.body.contains("页面已过期"), "{}", p.body);
    }
    let t = ticket(&agent_api, &id).await;
    assert_eq!(
        (t["status"].as_str(), &t["version"]),
        (Some("received"), &unchanged)
    );

    // A field error comes back on the page, next to the form.
    let p = agent
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("expected_version", &version),
                ("note", "请尽快处理"),
            ],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(
        p.body.contains("主办单位：不能为空") && p.body.contains("请尽快处理"),
        "{}",
        p.body
    );

    // Someone else moved the ticket since the page was read: a clear 409, nothing done.
    let stale = agent_api.new_ticket("help").await;
    let stale_page = agent.get(&format!("/tickets/{stale}")).await.body;
    dispatcher_api
        .act(&stale, "supervise", json!({"reason": "市民多次来电"}))
        .await;
    let p = agent
        .post(
            &format!("/tickets/{stale}/act/dispatch"),
            &[
                ("csrf_token", &csrf),
                ("main_unit_id", &a2_unit),
                ("expected_version", &hidden(&stale_page, "expected_version")),
            ],
        )
        .await;
    assert_eq!(p.status, 409);
    assert!(p.body.contains(STALE), "{}", p.body);
    assert_eq!(ticket(&agent_api, &stale).await["status"], "received");

    // With the token and the version read, the form dispatches.
    let p = agent
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("main_unit_id", &a2_unit),
                ("expected_version", &version),
                ("note", "请核实"),
            ],
        )
        .await;
    assert_eq!(
        (p.status, p.location.clone()),
        (303, Some(format!("/tickets/{id}?done=dispatch"))),
        "{}",
        p.body
    );
    let page = agent
        .get(&format!("/tickets/{id}?done=dispatch"))
        .await
        .body;
    assert!(
        page.contains("待签收") && page.contains("已完成“派单”") && page.contains("请核实"),
        "{page}"
    );
    assert_eq!(ticket(&agent_api, &id).await["status"], "dispatched");

    // The unit signs through its own page.
    let a2 = Browser::signed_in(app, "a2").await;
    let page = a2.get(&format!("/tickets/{id}")).await.body;
    let form = [
        ("csrf_token", hidden(&page, "csrf_token")),
        ("expected_version", hidden(&page, "expected_version")),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let p = a2.post(&format!("/tickets/{id}/act/sign"), &form).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(ticket(&agent_api, &id).await["status"], "handling");
    let history = a2.get(&format!("/tickets/{id}")).await.body;
    for step in ["受理", "派单", "签收", "承办人", "A2区"] {
        assert!(history.contains(step), "{step} missing in the history");
    }
}

/// The rest of the loop, every action through its form.
async fn whole_loop_through_forms(app: &TestApp) {
    let api = app.login("agent").await;
    let (a2_unit, street_unit) = (api.unit("990103").await, api.unit("990103001").await);
    let agent = Browser::signed_in(app, "agent").await;
    let dispatcher = Browser::signed_in(app, "dispatcher").await;
    let a2 = Browser::signed_in(app, "a2").await;
    let street = Browser::signed_in(app, "a2street").await;
    let status = |id: String| {
        let api = api.clone();
        async move {
            ticket(&api, &id).await["status"]
                .as_str()
                .expect("status")
                .to_owned()
        }
    };

    let id = api.new_ticket("help").await;
    done(
        &agent,
        &id,
        "dispatch",
        &[("main_unit_id", &a2_unit), ("co_unit_ids", &street_unit)],
    )
    .await;
    done(&a2, &id, "sign", &[]).await;
    done(&dispatcher, &id, "supervise", &[("reason", "群众反映强烈")]).await;
    done(
        &a2,
        &id,
        "pass-down",
        &[("to_unit_id", &street_unit), ("note", "请街道核实")],
    )
    .await;
    done(&street, &id, "sign", &[]).await;
    let p = act(
        &street,
        &id,
        "request-extension",
        &[("days", "99"), ("reason", "需协调多个部门")],
    )
    .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("延期天数"), "{}", p.body);
    done(
        &street,
        &id,
        "request-extension",
        &[("days", "5"), ("reason", "需协调多个部门")],
    )
    .await;
    done(
        &dispatcher,
        &id,
        "approve-extension",
        &[("days", "3"), ("note", "同意延期3个工作日")],
    )
    .await;
    done(&street, &id, "suspend", &[("reason", "等待来电人补充材料")]).await;
    assert_eq!(status(id.clone()).await, "suspended");
    done(&street, &id, "resume", &[]).await;
    done(
        &street,
        &id,
        "reply",
        &[("reply", "已协调物业修复楼道灯。")],
    )
    .await;
    done(
        &agent,
        &id,
        "return-visit",
        &[("reached", "true"), ("note", "来电人确认已修复")],
    )
    .await;
    done(
        &agent,
        &id,
        "rate",
        &[("rating", "dissatisfied"), ("comment", "修得太慢")],
    )
    .await;
    done(
        &agent,
        &id,
        "redo",
        &[("reason", "来电人不满意，请重新办理")],
    )
    .await;
    done(&street, &id, "sign", &[]).await;
    done(
        &street,
        &id,
        "reply",
        &[("reply", "已加装感应灯，并向来电人致歉。")],
    )
    .await;
    done(&agent, &id, "return-visit", &[]).await;
    done(
        &agent,
        &id,
        "close",
        &[("resolution", "楼道灯已修复并加装感应灯。")],
    )
    .await;
    assert_eq!(status(id.clone()).await, "closed");
    let page = agent.get(&format!("/tickets/{id}")).await.body;
    for text in [
        "同意延期",
        "3个工作日",
        "修得太慢",
        "不满意",
        "重办",
        "桂花坪街道",
        "办结情况",
        "未联系上来电人",
    ] {
        assert!(page.contains(text), "{text} missing on the closed ticket");
    }

    // Returned, ruled back; answered directly; withdrawn; merged by number.
    let returned = api.new_ticket("complaint").await;
    done(&agent, &returned, "dispatch", &[("main_unit_id", &a2_unit)]).await;
    done(&a2, &returned, "return", &[("reason", "不属于本单位职责")]).await;
    let p = act(
        &dispatcher,
        &returned,
        "rule",
        &[("decision", "redispatch"), ("ruling", "改派")],
    )
    .await;
    assert!(
        p.status == 422 && p.body.contains("重新派单时必须选择主办单位"),
        "{}",
        p.body
    );
    done(
        &dispatcher,
        &returned,
        "rule",
        &[
            ("decision", "send_back"),
            ("ruling", "属于属地职责，请继续办理"),
        ],
    )
    .await;
    assert_eq!(status(returned.clone()).await, "dispatched");
    let consult = api.new_ticket("consult").await;
    done(
        &agent,
        &consult,
        "answer",
        &[("answer", "社保卡可在各区政务服务中心办理。")],
    )
    .await;
    assert_eq!(status(consult).await, "closed");
    let withdrawn = api.new_ticket("help").await;
    done(
        &agent,
        &withdrawn,
        "withdraw",
        &[("reason", "来电人表示问题已自行解决")],
    )
    .await;
    assert_eq!(status(withdrawn).await, "withdrawn");
    let duplicate = api.new_ticket("complaint").await;
    let target = ticket(&api, &returned).await["number"]
        .as_str()
        .expect("number")
        .to_owned();
    let p = act(
        &agent,
        &duplicate,
        "merge",
        &[("target_number", "20990101000001"), ("reason", "重复")],
    )
    .await;
    assert!(
        p.status == 422 && p.body.contains("找不到该工单"),
        "{}",
        p.body
    );
    done(
        &agent,
        &duplicate,
        "merge",
        &[("target_number", &target), ("reason", "同一事项重复来电")],
    )
    .await;
    assert_eq!(status(duplicate).await, "merged");
}

async fn ticket_action_forms(backend: Backend) {
    let app = spawn_app(backend).await;
    action_forms(&app).await;
    whole_loop_through_forms(&app).await;
}

both_backends!(action_forms_csrf_versions, ticket_action_forms);
