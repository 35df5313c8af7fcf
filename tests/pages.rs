#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The server-rendered pages through the real binary, as a browser uses them (cookie session,
//! forms with the CSRF token, 303 redirects), on SQLite and PostgreSQL: signing in and out, the
//! list and the ticket page (scope, escaping), registering an appeal. The action forms are in
//! `pages_actions.rs`.

mod common;
mod pages_support;

use common::{Backend, TestApp, password_of, spawn_app};
use pages_support::{Browser, hidden, ticket};
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "<img src=x onerror=alert(1)>";

async fn signing_in_and_out(app: &TestApp) {
    let b = Browser::new(app);
    let p = b.get("/login").await;
    assert_eq!(p.status, 200);
    assert!(
        p.body.contains("工作人员登录") && p.body.contains("12345政务服务便民热线"),
        "{}",
        p.body
    );
    // Signed out, pages lead to the login and back.
    let p = b.get("/tickets?status=received").await;
    assert_eq!(
        (p.status, p.location.as_deref()),
        (303, Some("/login?next=%2Ftickets%3Fstatus%3Dreceived"))
    );
    // Without a session, `/` is the citizens' door.
    assert_eq!(b.get("/").await.location.as_deref(), Some("/portal"));

    let p = b
        .post(
            "/login",
            &[("username", "agent"), ("password", "wrong-password")],
        )
        .await;
    assert_eq!(p.status, 401);
    assert!(p.body.contains("用户名或密码错误"), "{}", p.body);
    assert!(
        b.get("/tickets").await.status == 303,
        "no session after a wrong password"
    );

    // The cookie: HttpOnly, SameSite=Strict, whole site, as long as the session.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let form = [
        ("username", "agent"),
        ("password", &password_of("agent")),
        ("next", "/tickets/new"),
    ];
    let res = plain
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "/tickets/new");
    let cookie = res.headers()[SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_owned();
    for part in [
        "hotline_session=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(part), "{part} missing in {cookie}");
    }
    let session = cookie.split(';').next().expect("name=value").to_owned();
    // Only local paths are followed after signing in.
    let p = Browser::new(app)
        .post(
            "/login",
            &[
                ("username", "agent"),
                ("password", &password_of("agent")),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/tickets"));

    // Signing out revokes the session itself, not only the browser's copy of the cookie.
    let page = plain
        .get(app.url("/tickets"))
        .header(COOKIE, &session)
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("body");
    assert!(
        page.contains("退出登录") && page.contains("话务员"),
        "{page}"
    );
    let res = plain
        .post(app.url("/logout"))
        .header(COOKIE, &session)
        .form(&[("csrf_token", hidden(&page, "csrf_token"))])
        .send()
        .await
        .expect("logout");
    assert_eq!(
        (res.status().as_u16(), res.headers()[LOCATION].to_str().ok()),
        (303, Some("/login"))
    );
    assert!(
        res.headers()[SET_COOKIE]
            .to_str()
            .unwrap_or_default()
            .contains("Max-Age=0")
    );
    let res = plain
        .get(app.url("/tickets"))
        .header(COOKIE, &session)
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), 303, "the old cookie opens nothing");
    let b = Browser::signed_in(app, "agent").await;
    let csrf = hidden(&b.get("/tickets").await.body, "csrf_token");
    assert_eq!(
        b.post("/logout", &[("csrf_token", &csrf)])
            .await
            .location
            .as_deref(),
        Some("/login")
    );
    assert_eq!(b.get("/tickets").await.status, 303);
}

async fn list_and_detail(app: &TestApp) {
    let agent_api = app.login("agent").await;
    let id = agent_api.new_ticket("complaint").await;
    let number = ticket(&agent_api, &id).await["number"]
        .as_str()
        .expect("number")
        .to_owned();
    let (s, xss) = agent_api
        .post(
            "/api/v1/tickets",
            json!({"appeal_type": "report", "title": SCRIPT, "detail": IMG}),
        )
        .await;
    assert_eq!(s, 201, "{xss}");
    let xss_id = xss["id"].as_str().expect("id").to_owned();

    let agent = Browser::signed_in(app, "agent").await;
    let list = agent.get("/tickets").await;
    assert_eq!(list.status, 200);
    assert!(
        list.body.contains(&number) && list.body.contains("小区门口路灯不亮"),
        "{}",
        list.body
    );
    assert!(list.body.contains("待派单"), "status label");
    let filtered = agent
        .get(&format!(
            "/tickets?number={number}&status=received&supervised="
        ))
        .await;
    assert!(filtered.body.contains(&number) && !filtered.body.contains(&xss_id));

    // Citizens' text is escaped in the list and on the ticket page.
    let detail = agent.get(&format!("/tickets/{xss_id}")).await;
    for page in [&list.body, &detail.body] {
        assert!(
            !page.contains(SCRIPT) && !page.contains(IMG),
            "raw markup in page"
        );
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;"),
            "escaped title missing"
        );
    }
    assert!(
        detail.body.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "escaped detail missing"
    );

    // A bad filter says which field, on the page, never a 500.
    for (query, label) in [
        ("from=yesterday", "受理日期（起）"),
        ("appeal_type=gossip", "诉求类型"),
        ("cursor=zz", "翻页"),
    ] {
        let p = agent.get(&format!("/tickets?{query}")).await;
        assert_eq!(p.status, 422, "{query}");
        assert!(p.body.contains(label), "{query}: {}", p.body);
    }
    // An administrator does not read appeals.
    let p = Browser::signed_in(app, "admin").await.get("/tickets").await;
    assert_eq!(p.status, 403);
    assert!(p.body.contains("没有权限"), "{}", p.body);

    // The agent may dispatch; once dispatched to A2区 the unit sees only its own actions, and
    // A1区 does not see the ticket at all.
    let detail = agent.get(&format!("/tickets/{id}")).await;
    assert!(
        detail.body.contains(&format!("/tickets/{id}/act/dispatch")),
        "dispatch form for the agent"
    );
    assert!(detail.body.contains("A2区"), "unit picker");
    let a2_unit = agent_api.unit("990103").await;
    agent_api
        .act(&id, "dispatch", json!({"main_unit_id": a2_unit}))
        .await;
    let a2 = Browser::signed_in(app, "a2").await;
    let page = a2.get(&format!("/tickets/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("act/dispatch")
            && page.body.contains(&format!("/tickets/{id}/act/sign"))
    );
    assert!(
        page.body.contains("138****8000") && !page.body.contains("13800138000"),
        "phone masked"
    );
    // The handler unmasks the number on the page, one ticket at a time, and that is recorded.
    let csrf = hidden(&page.body, "csrf_token");
    assert!(
        page.body
            .contains(&format!("/tickets/{id}/reveal/citizen_phone"))
    );
    let shown = a2
        .post(
            &format!("/tickets/{id}/reveal/citizen_phone"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(
        shown.body.contains("<strong>13800138000</strong>"),
        "{}",
        shown.body
    );
    let (_, d) = agent_api.get(&format!("/api/v1/tickets/{id}")).await;
    let viewed = d["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "personal_data_viewed")
        .count();
    assert_eq!(viewed, 1, "{d}");
    let again = a2.get(&format!("/tickets/{id}")).await;
    assert!(
        !again.body.contains("13800138000"),
        "masked again on the next view"
    );
    // Without the form's token, or for a field that is not personal data: refused.
    let p = a2
        .post(&format!("/tickets/{id}/reveal/citizen_phone"), &[])
        .await;
    assert_eq!(p.status, 403);
    let p = a2
        .post(
            &format!("/tickets/{id}/reveal/title"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(p.status, 404);
    let p = Browser::signed_in(app, "a1")
        .await
        .get(&format!("/tickets/{id}"))
        .await;
    assert_eq!(p.status, 404);
    assert!(p.body.contains("页面不存在"), "{}", p.body);
    assert_eq!(a2.get("/tickets/not-a-ticket").await.status, 404);
}

async fn registering_an_appeal(app: &TestApp) {
    let agent = Browser::signed_in(app, "agent").await;
    let page = agent.get("/tickets/new").await;
    assert_eq!(page.status, 200);
    let csrf = hidden(&page.body, "csrf_token");
    let p = agent
        .post(
            "/tickets/new",
            &[
                ("csrf_token", &csrf),
                ("appeal_type", "help"),
                ("urgency", "normal"),
                ("detail", "无标题"),
            ],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(
        p.body.contains("标题：必须填写") && p.body.contains("无标题"),
        "{}",
        p.body
    );
    let p = agent
        .post(
            "/tickets/new",
            &[
                ("csrf_token", &csrf),
                ("appeal_type", "help"),
                ("urgency", "normal"),
                ("category_id", ""),
                ("title", "楼道灯不亮"),
                ("detail", "某小区3栋楼道灯坏了一个月。"),
                ("citizen_name", "王先生"),
                ("citizen_phone", "139 0013 9000"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let location = p.location.expect("location");
    assert!(location.ends_with("?created=1"), "{location}");
    let page = agent.get(&location).await.body;
    assert!(
        page.contains("诉求已受理") && page.contains("查询码") && page.contains("139****9000"),
        "{page}"
    );
    let p = Browser::signed_in(app, "a2")
        .await
        .get("/tickets/new")
        .await;
    assert_eq!(p.status, 403);
    assert!(agent.get("/tickets/new").await.status == 200);
}

async fn sign_in_and_out(backend: Backend) {
    let app = spawn_app(backend).await;
    signing_in_and_out(&app).await;
    // Every page is HTML that may run no script.
    let res = reqwest::get(app.url("/login")).await.expect("GET");
    assert!(
        res.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
}

async fn ticket_list_and_detail(backend: Backend) {
    list_and_detail(&spawn_app(backend).await).await;
}

async fn appeal_registration(backend: Backend) {
    registering_an_appeal(&spawn_app(backend).await).await;
}

both_backends!(login_logout, sign_in_and_out);
both_backends!(list_detail_scope_escaping, ticket_list_and_detail);
both_backends!(register_appeal, appeal_registration);
