#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Real browser tests: Debian's headless Chromium, driven through chromedriver (WebDriver) from
//! Rust with fantoccini, against the real binary. A phone-sized screen lodges an appeal with a
//! real JPEG through the portal, reads the receipt, tracks the appeal and rates the reply; an
//! appeal whose text holds script payloads is shown inert, as text, on the portal and on the
//! staff pages, and the test proves no script ran.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian packages `chromium` and
//! `chromium-driver`; `.ci/run` installs them). These run on SQLite only: what they test is what
//! the browser does with the pages (rendering, the portal's script under its CSP, escaping),
//! which does not depend on the backend; the same flows run on both backends over HTTP in
//! `portal.rs`.

mod browser_support;
mod common;

use std::time::Duration;

use browser_support::{click, fill, js, nothing_ran, page_text, text, wait_for_path, with_browser};
use common::{Backend, password_of, spawn_app};
use fantoccini::{Client, Locator};
use serde_json::json;

/// Fills the appeal form as a citizen does and submits it; returns (number, code).
async fn lodge(
    b: &Client,
    base: &str,
    title: &str,
    detail: &str,
    photo: Option<&str>,
) -> (String, String) {
    b.goto(&format!("{base}/portal"))
        .await
        .expect("open the portal");
    click(b, "a.tile.primary").await;
    b.wait()
        .for_element(Locator::Css("#appeal-form"))
        .await
        .expect("the appeal form");
    click(b, "input[name=appeal_type][value=complaint]").await;
    // The category search is the portal's script at work (under `script-src 'self'`).
    fill(b, "#category-search", "公共设施").await;
    let shown = js(
        b,
        "return document.querySelectorAll('#category_id option[value]:not([value=\"\"])').length",
    )
    .await;
    let shown = shown.as_u64().unwrap();
    assert!(
        (1..20).contains(&shown),
        "the search narrows the list: {shown}"
    );
    let count = text(b, "#category-count").await;
    assert!(count.contains("找到"), "{count}");
    b.find(Locator::Css("#category_id"))
        .await
        .unwrap()
        .select_by(Locator::Css("optgroup option"))
        .await
        .expect("choose a category");
    fill(b, "#title", title).await;
    fill(b, "#detail", detail).await;
    fill(b, "#address", "A2区桂花坪街道某小区东门").await;
    // "Use my position", with the browser's answer stubbed (a headless browser has no GPS).
    js(
        b,
        "navigator.geolocation.getCurrentPosition = function (ok) { \
           ok({ coords: { latitude: 28.1234567, longitude: 112.7654321, accuracy: 12 } }); }; \
         return true;",
    )
    .await;
    click(b, "#geo-use").await;
    let status = text(b, "#geo-status").await;
    assert!(status.contains("已附上您的位置"), "{status}");
    assert_eq!(
        js(b, "return document.getElementById('latitude').value").await,
        "28.123457"
    );
    if let Some(path) = photo {
        b.find(Locator::Css("#photo"))
            .await
            .unwrap()
            .send_keys(path)
            .await
            .expect("choose the photo");
        let status = text(b, "#photo-status").await;
        assert!(status.contains("已选择 1 张照片"), "{status}");
    }
    fill(b, "#citizen_name", "李女士").await;
    fill(b, "#citizen_phone", "13800138000").await;
    click(b, "input[name=consent]").await;
    click(b, "#appeal-form button[type=submit]").await;
    let number = text(b, "#ticket-number").await;
    let code = text(b, "#query-code").await;
    assert_eq!((number.len(), code.len()), (14, 6), "{number} {code}");
    (number, code)
}

async fn track(b: &Client, base: &str, number: &str, code: &str) {
    b.goto(&format!("{base}/portal/track")).await.unwrap();
    fill(b, "#number", number).await;
    fill(b, "#code", code).await;
    click(b, "#track-form button[type=submit]").await;
    b.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#ticket-status"))
        .await
        .expect("the tracking page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_lodges_tracks_and_rates_on_a_phone() {
    let app = spawn_app(Backend::Sqlite).await;
    let photo = std::fs::canonicalize("tests/fixtures/street-light.jpg").expect("fixture");
    let photo = photo.to_str().unwrap().to_owned();
    let agent = app.login("agent").await;
    let a2 = app.login("a2").await;
    let a2_unit = agent.unit("990103").await;
    with_browser(&app, |b, base| async move {
        // The page fits the phone's width.
        b.goto(&format!("{base}/portal/appeal")).await.unwrap();
        let fits = js(
            &b,
            "return document.documentElement.scrollWidth <= window.innerWidth",
        )
        .await;
        assert_eq!(fits, true, "no sideways scrolling on a phone");

        let (number, code) = lodge(
            &b,
            &base,
            "小区门口路灯不亮",
            "小区东门的路灯连续一周不亮，晚上老人出行不便。",
            Some(&photo),
        )
        .await;
        assert!(
            page_text(&b)
                .await
                .contains("请抄下或截图保存工单编号和查询码")
        );

        // Stored with its photo and position.
        let (_, list) = agent.get(&format!("/api/v1/tickets?number={number}")).await;
        let t = list["items"][0].clone();
        assert_eq!(t["channel"], "web");
        assert_eq!(t["latitude"], 28.123457);
        assert!(t["category_id"].is_string(), "{t}");
        let id = t["id"].as_str().unwrap().to_owned();
        let (s, files) = agent
            .get(&format!("/api/v1/tickets/{id}/attachments"))
            .await;
        assert_eq!(s, 200, "{files}");
        assert_eq!(files.as_array().unwrap().len(), 1, "{files}");
        assert_eq!(files[0]["content_type"], "image/jpeg");

        // From the receipt to the progress page in one tap.
        click(&b, ".receipt form button[type=submit]").await;
        assert_eq!(text(&b, "#ticket-status").await, "已受理，等待派单");
        assert!(page_text(&b).await.contains("网站提交，12345热线已受理"));

        // Staff handle it: dispatch, sign, reply.
        agent
            .act(
                &id,
                "dispatch",
                json!({"main_unit_id": a2_unit, "note": "内部：请尽快"}),
            )
            .await;
        a2.act(&id, "sign", json!({})).await;
        a2.act(&id, "reply", json!({"reply": "已更换路灯灯泡，恢复照明。"}))
            .await;

        // The citizen comes back with the number and the code, reads the reply and rates it.
        track(&b, &base, &number, &code.to_lowercase()).await;
        assert_eq!(text(&b, "#ticket-status").await, "已答复");
        assert_eq!(
            text(&b, "#ticket-reply").await,
            "已更换路灯灯泡，恢复照明。"
        );
        let shown = page_text(&b).await;
        assert!(
            shown.contains("已派给A2区办理") && shown.contains("A2区已签收"),
            "{shown}"
        );
        assert!(!shown.contains("内部：请尽快"));
        click(&b, "#rate-form input[name=rating][value=satisfied]").await;
        fill(&b, "#comment", "修得很快，谢谢！").await;
        click(&b, "#rate-form button[type=submit]").await;
        assert_eq!(text(&b, "#notice").await, "感谢您的评价！");
        assert_eq!(text(&b, "#ticket-rating").await, "满意：修得很快，谢谢！");
        let (_, d) = agent.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(d["ticket"]["rating"], "satisfied");

        // Care mode: one tap, larger type at once, still there on the next visit.
        let before = js(
            &b,
            "return parseFloat(getComputedStyle(document.body).fontSize)",
        )
        .await;
        click(&b, "#care-toggle button").await;
        b.wait()
            .for_element(Locator::Css("body.care"))
            .await
            .expect("care mode on");
        b.goto(&format!("{base}/portal")).await.unwrap();
        assert_eq!(
            js(&b, "return document.body.classList.contains('care')").await,
            true
        );
        let after = js(
            &b,
            "return parseFloat(getComputedStyle(document.body).fontSize)",
        )
        .await;
        assert!(
            after.as_f64().unwrap() > before.as_f64().unwrap() + 3.0,
            "{before} → {after}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_in_an_appeal_stays_text_for_citizens_and_staff() {
    let app = spawn_app(Backend::Sqlite).await;
    let agent = app.login("agent").await;
    with_browser(&app, |b, base| async move {
        // The check can see a script that runs: in a page that does not escape, it does.
        b.goto("about:blank").await.unwrap();
        js(
            &b,
            "document.open(); document.write('<img src=x onerror=\"window.__xss=2\">'); document.close(); return true;",
        )
        .await;
        assert!(!nothing_ran(&b).await, "the detector detects");

        let title = "<script>window.__xss=1</script>路灯不亮";
        let detail = "<img src=x onerror=\"window.__xss=2\"> 门口的路灯不亮 <script>window.__xss=1</script>";
        let (number, code) = lodge(&b, &base, title, detail, None).await;
        assert!(nothing_ran(&b).await, "the receipt ran a script");

        // The portal's tracking page shows the payloads as text.
        track(&b, &base, &number, &code).await;
        assert!(nothing_ran(&b).await, "the tracking page ran a script");
        assert_eq!(text(&b, "#ticket-title").await, title);
        assert_eq!(text(&b, "#ticket-detail").await, detail);
        assert_eq!(js(&b, "return document.querySelectorAll('img[src=x], main script').length").await, 0);

        // Staff pages: sign in through the login form, then the list and the ticket.
        b.goto(&format!("{base}/login")).await.unwrap();
        fill(&b, "#username", "dispatcher").await;
        fill(&b, "#password", &password_of("dispatcher")).await;
        click(&b, "form[action='/login'] button[type=submit]").await;
        wait_for_path(&b, "/tickets").await;
        assert!(nothing_ran(&b).await, "the ticket list ran a script");
        assert!(page_text(&b).await.contains(title), "the title shows as text in the list");
        let (_, list) = agent.get(&format!("/api/v1/tickets?number={number}")).await;
        let id = list["items"][0]["id"].as_str().unwrap().to_owned();
        b.goto(&format!("{base}/tickets/{id}")).await.unwrap();
        assert!(nothing_ran(&b).await, "the ticket page ran a script");
        let shown = page_text(&b).await;
        assert!(shown.contains(title) && shown.contains(detail), "{shown}");
        assert_eq!(js(&b, "return document.querySelectorAll('img[src=x], main script').length").await, 0);
    })
    .await;
}
