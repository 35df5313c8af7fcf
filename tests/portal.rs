#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The citizen portal through the real binary, as a phone's browser uses it (multipart forms with
//! a photo, `Origin` on every POST, no session), on SQLite and PostgreSQL: lodging an appeal and
//! its receipt, consent, one ticket per form, tracking with a wrong pair, the public timeline
//! without internal notes, withdrawal, rating with redo, the data rights, care mode, the headers,
//! cross-site refusals and the rate limit. The real-browser tests are in `browser.rs`.

mod common;
mod pages_support;
mod portal_support;

use common::{Backend, TestApp, TestDb, seed, spawn_app, start};
use pages_support::hidden;
use portal_support::{Citizen, PHOTO, appeal_fields, by_id, receipt, ticket_by_number, wrong_code};
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, RETRY_AFTER, SET_COOKIE};
use serde_json::{Value, json};

// ---- lodging an appeal -----------------------------------------------------------------------

async fn lodging(backend: Backend) {
    let app = spawn_app(backend).await;
    let me = Citizen::new(&app);
    let agent = app.login("agent").await;

    // Home: the two doors, the hotline, the emergency numbers; the page's headers.
    let home = me.get("/portal").await;
    assert_eq!(home.status, 200);
    for text in [
        "我要反映",
        "查询进度",
        "12345",
        "110",
        "119",
        "120",
        "122",
        "关怀模式",
    ] {
        assert!(home.body.contains(text), "{text}: {}", home.body);
    }
    let csp = home.headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    assert_eq!(home.headers["x-frame-options"], "DENY");
    // The script the pages load is a file of this site.
    let js = me.get("/portal/static/portal.js").await;
    assert_eq!(js.status, 200);
    assert!(
        js.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.body.contains("geolocation"));
    // Without a session, `/` is the portal.
    let root = me.get("/").await;
    assert_eq!(
        (root.status, root.headers[LOCATION].to_str().unwrap()),
        (303, "/portal")
    );

    // The form: multipart with photos, the category tree, per-purpose consent.
    let form = me.get("/portal/appeal").await;
    assert_eq!(form.status, 200);
    assert_eq!(form.headers[CACHE_CONTROL], "no-store");
    for text in [
        "enctype=\"multipart/form-data\"",
        "type=\"file\" id=\"photo\" name=\"photo\" multiple accept=\"image/*\"",
        "<optgroup label=\"城乡建设 · 安全生产\">",
        "联系电话",
        "仅用于承办单位与您联系核实、12345热线回访和满意度调查",
        "仅用于核实和处置您反映的问题",
        "去除个人信息，用于统计分析",
        "使用我的位置",
    ] {
        assert!(form.body.contains(text), "{text}");
    }
    let before = agent.get("/api/v1/tickets?limit=200").await.1["items"]
        .as_array()
        .unwrap()
        .len();

    // Without consent: refused, the field named, what was typed kept, the photo to choose again.
    let key = me.form_key().await;
    let p = me
        .post_appeal(&appeal_fields(&key, "门口路灯不亮", ""), &[PHOTO])
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("id=\"consent-error\""), "{}", p.body);
    assert!(p.body.contains("个人信息收集说明"));
    assert!(p.body.contains("请阅读个人信息收集说明，勾选同意后再提交"));
    assert!(
        p.body.contains("value=\"门口路灯不亮\""),
        "typed values kept"
    );
    assert!(p.body.contains("请重新选择照片"));
    assert_eq!(
        hidden(&p.body, "form_key"),
        key,
        "the same form, not yet used"
    );
    // Without a phone: the reason for asking is given.
    let mut fields = appeal_fields(&key, "门口路灯不亮", "yes");
    fields.retain(|(k, _)| *k != "citizen_phone");
    let p = me.post_appeal(&fields, &[]).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("id=\"citizen_phone-error\""));
    assert!(p.body.contains("承办单位需要与您联系"));
    // A malformed phone number is refused beside its field.
    let mut fields = appeal_fields(&key, "门口路灯不亮", "yes");
    fields.retain(|(k, _)| *k != "citizen_phone");
    fields.push(("citizen_phone", "12345"));
    let p = me.post_appeal(&fields, &[]).await;
    assert_eq!(p.status, 422);
    assert!(
        p.body.contains("请填写11位手机号码或带区号的固定电话"),
        "{}",
        p.body
    );
    // A file that is not a photo.
    let p = me
        .post_appeal(
            &appeal_fields(&key, "门口路灯不亮", "yes"),
            &[b"#!/bin/sh\necho hi\n"],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body.contains("只能上传JPEG、PNG或WebP格式的照片"),
        "{}",
        p.body
    );
    let after = agent.get("/api/v1/tickets?limit=200").await.1["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "nothing stored from refused forms");

    // Accepted: the receipt shows the number and the query code, and says to keep them.
    let p = me
        .post_appeal(&appeal_fields(&key, "门口路灯不亮", "yes"), &[PHOTO])
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.headers[CACHE_CONTROL], "no-store");
    let (number, code) = receipt(&p.body);
    assert!(p.body.contains("请抄下或截图保存工单编号和查询码"));
    let t = ticket_by_number(&agent, &number).await;
    assert_eq!(t["channel"], "web");
    assert_eq!(t["status"], "received");
    assert_eq!(t["title"], "门口路灯不亮");
    assert_eq!(t["citizen_phone"], "138****8000");
    assert_eq!(t["latitude"], 28.123456);
    let files_of = |id: String| {
        let agent = agent.clone();
        async move {
            let (s, files) = agent
                .get(&format!("/api/v1/tickets/{id}/attachments"))
                .await;
            assert_eq!(s, 200, "{files}");
            files.as_array().unwrap().len()
        }
    };
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!(files_of(id.clone()).await, 1, "the photo is the ticket's");

    // The same form again (a double tap, a refresh): the same receipt, one ticket.
    let again = me
        .post_appeal(&appeal_fields(&key, "门口路灯不亮", "yes"), &[PHOTO])
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(receipt(&again.body), (number.clone(), code.clone()));
    assert!(again.body.contains("没有重复提交"));
    let (_, list) = agent.get("/api/v1/tickets?limit=200").await;
    let same: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["title"] == "门口路灯不亮")
        .collect();
    assert_eq!(same.len(), 1, "{list}");
    assert_eq!(files_of(id.clone()).await, 1, "and its photo once");
    // The same form sent with other contents is a new appeal and needs a new form.
    let p = me
        .post_appeal(&appeal_fields(&key, "另一件事", "yes"), &[])
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("这张表单已经提交过"));
    assert_ne!(hidden(&p.body, "form_key"), key);

    // A form posted from another site is refused, and nothing is stored.
    let key = me.form_key().await;
    let p = me
        .elsewhere()
        .post_appeal(&appeal_fields(&key, "跨站提交", "yes"), &[])
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(p.body.contains("请求来源无法验证"));

    // Care mode: a long-lived cookie, large type on every page after.
    let p = me
        .post("/portal/care", &[("on", "1"), ("back", "/portal/track")])
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(p.headers[LOCATION], "/portal/track");
    let cookie = p.headers[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("care=1"), "{cookie}");
    assert!(cookie.contains("Max-Age=34560000"), "{cookie}");
    let with_care = me
        .http
        .get(app.url("/portal/appeal"))
        .header("Cookie", "care=1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(with_care.contains("<body class=\"portal care\">"));
    assert!(with_care.contains("标准模式"));
    assert!(!me.get("/portal/appeal").await.body.contains("portal care"));
    let off = me.post("/portal/care", &[("on", "0")]).await;
    assert!(
        off.headers[SET_COOKIE]
            .to_str()
            .unwrap()
            .starts_with("care=0")
    );
    // Another site cannot switch it.
    assert_eq!(
        me.elsewhere()
            .post("/portal/care", &[("on", "1")])
            .await
            .status,
        403
    );
}

both_backends!(lodging_an_appeal, lodging);

// ---- tracking --------------------------------------------------------------------------------

async fn tracking(backend: Backend) {
    let app = spawn_app(backend).await;
    let me = Citizen::new(&app);
    let (agent, dispatcher, a2) = (
        app.login("agent").await,
        app.login("dispatcher").await,
        app.login("a2").await,
    );
    let a2_unit = agent.unit("990103").await;
    let zjj_unit = agent.unit("990100-ZJJ").await;
    let (number, code) = me.lodge("小区噪音扰民", &[]).await;

    // One answer for every wrong pair; nothing says whether the number exists.
    let wrong = me.track(&number, &wrong_code(&code)).await;
    let unknown = me.track("20200101999999", &code).await;
    let malformed = me.track("12345", "??").await;
    assert_eq!(wrong.status, 422);
    for p in [&unknown, &malformed] {
        assert_eq!(p.status, wrong.status);
        assert_eq!(
            by_id(&p.body, "track-error"),
            by_id(&wrong.body, "track-error")
        );
    }
    assert!(wrong.body.contains("工单编号或查询码不正确"));
    assert!(!wrong.body.contains("小区噪音扰民"));
    // The code is not case-sensitive; the page is not cached.
    let p = me.track(&number, &code.to_lowercase()).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.headers[CACHE_CONTROL], "no-store");
    assert!(
        p.headers[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert_eq!(
        by_id(&p.body, "ticket-status").as_deref(),
        Some("已受理，等待派单")
    );
    assert!(p.body.contains("受理") && p.body.contains("网站"));
    assert!(
        p.body.contains("id=\"withdraw-form\""),
        "withdrawal offered before dispatch"
    );
    // The data the portal holds, the phone masked.
    assert_eq!(by_id(&p.body, "my-name").as_deref(), Some("张先生"));
    assert_eq!(by_id(&p.body, "my-phone").as_deref(), Some("138****8000"));
    assert!(!p.body.contains("13800138000"));

    // Staff work on it with internal notes, a return, a ruling, supervision.
    let t = ticket_by_number(&agent, &number).await;
    let id = t["id"].as_str().unwrap();
    agent
        .act(
            id,
            "dispatch",
            json!({"main_unit_id": a2_unit, "note": "内部备注：此人多次来电"}),
        )
        .await;
    a2.act(
        id,
        "return",
        json!({"reason": "退单理由：噪音属环保局管辖"}),
    )
    .await;
    dispatcher
        .act(
            id,
            "rule",
            json!({"decision": "redispatch", "main_unit_id": zjj_unit, "ruling": "审定意见：改派住建局"}),
        )
        .await;
    dispatcher
        .act(id, "supervise", json!({"reason": "督办说明：领导关注"}))
        .await;
    let p = me.track(&number, &code).await;
    assert_eq!(p.status, 200);
    for secret in [
        "内部备注",
        "退单理由",
        "审定意见",
        "督办说明",
        "agent",
        "dispatcher",
    ] {
        assert!(!p.body.contains(secret), "{secret} shown to the citizen");
    }
    assert!(p.body.contains("已派给A2区办理"), "{}", p.body);
    assert!(
        p.body.contains("已派给A市住房和城乡建设局办理"),
        "{}",
        p.body
    );
    assert_eq!(
        by_id(&p.body, "ticket-status").as_deref(),
        Some("已派单，等待承办单位签收")
    );
    assert!(p.body.contains("办理时限"));
    assert!(!p.body.contains("id=\"withdraw-form\""));

    // Withdrawal only before dispatch: this one is with a unit now.
    let refused = me.act(&number, &code, "withdraw", &[]).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("不能再撤回"));
    assert_eq!(
        ticket_by_number(&agent, &number).await["status"],
        "dispatched"
    );
    // Before dispatch it works.
    let (n2, c2) = me.lodge("问题已解决", &[]).await;
    let p = me
        .act(&n2, &c2, "withdraw", &[("reason", "问题已经自行解决")])
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("您的诉求已撤回"));
    assert_eq!(by_id(&p.body, "ticket-status").as_deref(), Some("已撤回"));
    assert_eq!(ticket_by_number(&agent, &n2).await["status"], "withdrawn");
    // A stale page (its version behind) is told to look again, not acted on.
    let (n3, c3) = me.lodge("第三件事", &[]).await;
    let p = me
        .post(
            "/portal/track/withdraw",
            &[("number", &n3), ("code", &c3), ("version", "0")],
        )
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("刚刚有了更新"));
    // Actions prove the ticket again: a wrong code does nothing.
    let p = me
        .post(
            "/portal/track/withdraw",
            &[
                ("number", &n3),
                ("code", &wrong_code(&c3)),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("工单编号或查询码不正确"));
    assert_eq!(ticket_by_number(&agent, &n3).await["status"], "received");
    // And from another site, nothing at all.
    let p = me
        .elsewhere()
        .post(
            "/portal/track/withdraw",
            &[("number", &n3), ("code", &c3), ("version", "1")],
        )
        .await;
    assert_eq!(p.status, 403);
    assert_eq!(ticket_by_number(&agent, &n3).await["status"], "received");
    assert_eq!(me.elsewhere().track(&n3, &c3).await.status, 403);

    // A merged appeal's number leads to the main ticket.
    let main = ticket_by_number(&agent, &n3).await;
    let dup = ticket_by_number(&agent, &number).await;
    let (_, d) = dispatcher
        .post(
            &format!("/api/v1/tickets/{}/merge", main["id"].as_str().unwrap()),
            json!({"target_id": dup["id"], "reason": "同一事项"}),
        )
        .await;
    assert!(d["ticket"]["status"] == "merged", "{d}");
    let p = me.track(&n3, &c3).await;
    assert_eq!(p.status, 200);
    assert_eq!(
        by_id(&p.body, "ticket-status").as_deref(),
        Some("已合并办理")
    );
    assert!(p.body.contains(&format!("合并办理的工单 {number}")));
    assert_eq!(
        by_id(&p.body, "main-status").as_deref(),
        Some("已派单，等待承办单位签收")
    );
    // The main ticket's progress, never its citizen's words or data.
    assert!(!p.body.contains("小区噪音扰民") && !p.body.contains("内部备注"));
}

both_backends!(tracking_an_appeal, tracking);

// ---- rating ----------------------------------------------------------------------------------

async fn rating(backend: Backend) {
    let app = spawn_app(backend).await;
    let me = Citizen::new(&app);
    let (agent, a2) = (app.login("agent").await, app.login("a2").await);
    let a2_unit = agent.unit("990103").await;
    let (number, code) = me.lodge("路灯又坏了", &[PHOTO]).await;
    let id = ticket_by_number(&agent, &number).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // No rating before the reply.
    let p = me.track(&number, &code).await;
    assert!(!p.body.contains("id=\"rate-form\""));
    let p = me
        .act(&number, &code, "rate", &[("rating", "satisfied")])
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("承办单位答复后才能评价"));

    agent
        .act(&id, "dispatch", json!({"main_unit_id": a2_unit}))
        .await;
    a2.act(&id, "sign", json!({})).await;
    a2.act(&id, "reply", json!({"reply": "已安排维修人员更换灯泡。"}))
        .await;
    let p = me.track(&number, &code).await;
    assert_eq!(
        by_id(&p.body, "ticket-reply").as_deref(),
        Some("已安排维修人员更换灯泡。")
    );
    assert!(p.body.contains("A2区答复"));
    assert!(p.body.contains("id=\"rate-form\""));
    // A rating needs a choice.
    let p = me.act(&number, &code, "rate", &[("comment", "x")]).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("请选择满意、基本满意或不满意"));

    // 不满意: back to the unit for redo, and the citizen is told.
    let p = me
        .act(
            &number,
            &code,
            "rate",
            &[("rating", "dissatisfied"), ("comment", "灯还是不亮")],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("诉求已交回承办单位重新办理"));
    assert!(p.body.contains("重办"));
    assert_eq!(
        by_id(&p.body, "ticket-status").as_deref(),
        Some("已派单，等待承办单位签收")
    );
    let t = ticket_by_number(&agent, &number).await;
    assert_eq!(t["status"], "dispatched");
    assert_eq!(t["redo_count"], 1);
    // The 不满意 is in the history; the ticket waits for a new reply and a new rating.
    let (_, d) = agent.get(&format!("/api/v1/tickets/{id}")).await;
    let rated: Vec<&Value> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "rated" || e["kind"] == "redo_ordered")
        .collect();
    assert_eq!(rated.len(), 2, "{d}");
    assert_eq!(rated[0]["payload"]["rating"], "dissatisfied");
    assert_eq!(rated[0]["actor_role"], "citizen");
    assert_eq!(t["main_unit_id"], a2_unit.as_str());
    // Rated once per reply: the form is gone until the unit replies again.
    assert!(!p.body.contains("id=\"rate-form\""));
}

both_backends!(rating_after_the_reply, rating);

// ---- data rights -----------------------------------------------------------------------------

async fn data_rights(backend: Backend) {
    let app = spawn_app(backend).await;
    let me = Citizen::new(&app);
    let (agent, a2) = (app.login("agent").await, app.login("a2").await);
    let a2_unit = agent.unit("990103").await;
    let (number, code) = me.lodge("占道经营", &[]).await;
    let id = ticket_by_number(&agent, &number).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Correct the contact details.
    let p = me
        .act(
            &number,
            &code,
            "contact",
            &[("citizen_phone", "139 1234 5678")],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("联系方式已更正"));
    assert_eq!(by_id(&p.body, "my-phone").as_deref(), Some("139****5678"));
    assert_eq!(
        ticket_by_number(&agent, &number).await["citizen_phone"],
        "139****5678"
    );
    let p = me
        .act(&number, &code, "contact", &[("citizen_phone", "12")])
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("请填写11位手机号码或带区号的固定电话"));

    // Ask for deletion while it is open: it waits for the end.
    let p = me.act(&number, &code, "erase", &[]).await;
    assert_eq!(p.status, 422, "confirmation needed");
    let p = me.act(&number, &code, "erase", &[("confirm", "yes")]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("办结（或撤回、合并）后"));
    assert!(p.body.contains("id=\"erasure-pending\""));
    let t = ticket_by_number(&agent, &number).await;
    assert_eq!(
        (
            t["erasure_requested"].as_bool(),
            t["citizen_phone"].as_str()
        ),
        (Some(true), Some("139****5678"))
    );

    // The loop runs to the end; at closing the personal data goes, the ticket stays.
    agent
        .act(&id, "dispatch", json!({"main_unit_id": a2_unit}))
        .await;
    a2.act(&id, "sign", json!({})).await;
    a2.act(&id, "reply", json!({"reply": "已劝离占道摊贩。"}))
        .await;
    agent
        .act(&id, "return-visit", json!({"reached": true}))
        .await;
    agent.act(&id, "rate", json!({"rating": "satisfied"})).await;
    let closed = agent
        .act(&id, "close", json!({"resolution": "已处理"}))
        .await;
    assert_eq!(closed["status"], "closed");
    assert!(closed["citizen_phone"].is_null(), "{closed}");
    assert!(closed["citizen_name"].is_null(), "{closed}");
    assert!(closed["erased_at"].is_string(), "{closed}");
    // The matter and its statistics remain.
    assert_eq!(closed["title"], "占道经营");
    assert_eq!(closed["rating"], "satisfied");
    assert_eq!(closed["channel"], "web");
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("hotline_tickets{status=\"closed\"} 1"),
        "{metrics}"
    );
    // The citizen sees it gone, and can still follow the ticket.
    let p = me.track(&number, &code).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("个人信息已于"));
    assert!(!p.body.contains("id=\"contact-form\"") && !p.body.contains("id=\"erase-form\""));
    assert!(p.body.contains("您的姓名、电话等个人信息已删除"));

    // Deletion asked after the end happens at once.
    let (n2, c2) = me.lodge("不需要了", &[]).await;
    me.act(&n2, &c2, "withdraw", &[]).await;
    let p = me.act(&n2, &c2, "erase", &[("confirm", "yes")]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("个人信息已删除"));
    assert!(ticket_by_number(&agent, &n2).await["citizen_phone"].is_null());
}

both_backends!(data_rights_of_the_citizen, data_rights);

// ---- abuse -----------------------------------------------------------------------------------

async fn rate_limited(backend: Backend) {
    let mut db = TestDb::new(backend);
    seed(db.db());
    db.close();
    let (child, base) = start(&db, &["serve"], &[("HOTLINE_RATE_LIMIT_PER_IP", "3")]);
    let app = TestApp::new(base, db, child);
    let me = Citizen::new(&app);
    // Pages are not limited; the POSTs are, all of them from one address together.
    for _ in 0..5 {
        assert_eq!(me.get("/portal/track").await.status, 200);
    }
    for _ in 0..3 {
        let p = me.track("20261123000001", "ABCDEF").await;
        assert_eq!(p.status, 422, "{}", p.body);
    }
    let p = me.track("20261123000001", "ABCDEF").await;
    assert_eq!(p.status, 429, "{}", p.body);
    let retry: u64 = p.headers[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(p.body.contains("操作过于频繁"), "{}", p.body);
    let key = me.form_key().await;
    let p = me
        .post_appeal(&appeal_fields(&key, "路灯", "yes"), &[])
        .await;
    assert_eq!(p.status, 429);
    assert!(p.headers.contains_key(RETRY_AFTER));
}

both_backends!(rate_limit_on_portal_posts, rate_limited);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_capped() {
    let app = spawn_app(Backend::Sqlite).await;
    let me = Citizen::new(&app);
    // A tracking form is small; a large one is refused before it is read.
    let big = "x".repeat(100 * 1024);
    let p = me
        .post("/portal/track", &[("number", "1"), ("code", &big)])
        .await;
    assert_eq!(p.status, 413, "{}", p.body);
    // A photo over 10 MiB is refused by name (the stream stops there: the form asks again).
    let key = me.form_key().await;
    let mut huge = PHOTO.to_vec();
    huge.resize(10 * 1024 * 1024 + 1, 0);
    let p = me
        .post_appeal(&appeal_fields(&key, "大照片", "yes"), &[&huge])
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("每张照片不能超过10MB"), "{}", p.body);
    // Ten photos are one too many.
    let ten: Vec<&[u8]> = vec![PHOTO; 10];
    let p = me
        .post_appeal(&appeal_fields(&key, "十张照片", "yes"), &ten)
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("最多上传9张照片"), "{}", p.body);
}
