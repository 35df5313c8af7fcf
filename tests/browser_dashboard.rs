#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The leaders' dashboard in real headless Chromium: every chart and the map render with data
//! (coloured areas, trend lines, ranking bars), hot issues and the rates are shown, today's
//! count follows a new appeal without a reload, the big-screen mode loads, and a screenshot is
//! saved (to `HOTLINE_SCREENSHOT_DIR`, default `target/screenshots`) for the README. Appeal text
//! with script payloads stays inert. SQLite only, like the other page tests: the figures
//! underneath are tested on both backends in `analytics_api.rs`.

mod browser_support;
mod common;

use std::time::Duration;

use browser_support::{Screen, js, nothing_ran, session, sign_in, start_driver, wait_until};
use common::Backend;
use serde_json::{Value, json};

const PAYLOAD: &str = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_renders_every_chart_with_data_and_follows_today() {
    let app = common::spawn_with_areas(Backend::Sqlite).await;
    let agent = app.login("agent").await;
    let dispatcher = app.login("dispatcher").await;
    let a2 = app.login("a2").await;
    let a2_unit = dispatcher.unit("990103").await;
    let a5_unit = dispatcher.unit("990106").await;
    let places = [
        (28.125, 112.975),
        (28.13, 112.98),
        (28.1, 113.05),
        (28.19, 113.0),
    ];
    let mut ids = Vec::new();
    let titles = [
        "小区旁工地夜间施工噪音扰民",
        "工地夜间施工噪音太大",
        "夜间施工噪音扰民严重",
    ];
    for i in 0..8 {
        let (lat, lon) = places[i % places.len()];
        // The payload sits in the text that the page shows (a member's title, the details).
        let title = if i == 0 {
            format!("{}{PAYLOAD}", titles[0])
        } else {
            titles[i % 3].to_owned()
        };
        let (s, t) = agent
            .post(
                "/api/v1/tickets",
                json!({"appeal_type": "complaint", "title": title,
                    "detail": format!("晚上十一点还在施工，噪音很大，严重影响休息，非常不满。{PAYLOAD}"),
                    "latitude": lat, "longitude": lon}),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        ids.push(t["id"].as_str().unwrap().to_owned());
    }
    for (i, id) in ids.iter().enumerate().take(4) {
        let unit = if i % 2 == 0 { &a2_unit } else { &a5_unit };
        dispatcher
            .act(id, "dispatch", json!({"main_unit_id": unit}))
            .await;
    }
    a2.act(&ids[0], "sign", json!({})).await;
    // The rollups follow: wait for the eight tickets.
    let leader = app.login("leader").await;
    for _ in 0..100 {
        let (_, v) = leader.get("/api/v1/analytics/summary").await;
        if v["rates"]["tickets"] == 8 && v["rates"]["dispatched"] == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let b = session(&driver, profile.path(), Screen::Desktop).await;
    let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(async {
        sign_in(&b, &app.base, "leader").await;
        b.goto(&format!("{}/dashboard", app.base)).await.unwrap();
        wait_until(&b, "document.querySelector('#live-status.live-on')", "live").await;
        // The map: the districts' outlines and coloured areas from the ramp.
        let filled = js(
            &b,
            "return Array.from(document.querySelectorAll('#map svg polygon, #map svg path'))\
               .map(e => (e.getAttribute('fill') || '').toUpperCase())\
               .filter(f => ['#FFFFB2','#FECC5C','#FD8D3C','#F03B20','#BD0026'].includes(f)).length",
        )
        .await;
        assert!(filled.as_u64().unwrap() >= 2, "coloured areas on the map: {filled}");
        let map_text = js(&b, "return document.querySelector('#map svg').textContent").await;
        assert!(map_text.as_str().unwrap().contains("A2区"), "{map_text}");
        // The trend: a line per series; the ranking: a bar for A2区.
        let lines = js(&b, "return document.querySelectorAll('#trend svg polyline, #trend svg path').length").await;
        assert!(lines.as_u64().unwrap() >= 2, "trend lines: {lines}");
        let ranking = js(&b, "return document.querySelector('#ranking svg').textContent").await;
        assert!(ranking.as_str().unwrap().contains("A2区"), "{ranking}");
        let bars = js(&b, "return document.querySelectorAll('#ranking svg rect').length").await;
        assert!(bars.as_u64().unwrap() >= 2, "{bars}");
        // Hot issues, rates, sentiment.
        let hot = js(&b, "return document.querySelectorAll('#hot > ol > li strong').length").await;
        // One matter at three places (two points in 桂花坪街道, A5区, 马王队街道): three issues,
        // since the same complaint about different places is not one hot issue.
        assert_eq!(hot, 3, "one hot issue per place");
        let rates = js(&b, "return document.querySelector('#rates').textContent").await;
        assert!(rates.as_str().unwrap().contains("共 8 件"), "{rates}");
        let mood = js(&b, "return document.querySelectorAll('#sentiment tbody tr').length").await;
        assert!(mood.as_u64().unwrap() >= 1);
        assert!(nothing_ran(&b).await, "a payload ran");
        assert_eq!(js(&b, "return document.querySelectorAll('main img[src=x], main script').length").await, 0);

        // Today's count follows a new appeal without a reload.
        js(&b, "window.__same_page = true; return true;").await;
        let before: i64 = js(&b, "return Number(document.querySelector('#today-received').textContent)")
            .await
            .as_i64()
            .unwrap();
        assert_eq!(before, 8);
        let (s, _) = agent
            .post("/api/v1/tickets", json!({"appeal_type": "help", "title": format!("路灯不亮{PAYLOAD}"), "detail": "门口路灯坏了。"}))
            .await;
        assert_eq!(s, 201);
        wait_until(
            &b,
            "Number(document.querySelector('#today-received').textContent) === 9",
            "today's count updated live",
        )
        .await;
        assert_eq!(js(&b, "return window.__same_page === true").await, Value::Bool(true));

        // The screenshot for the README, then the big screen.
        let dir = std::env::var_os("HOTLINE_SCREENSHOT_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"));
        std::fs::create_dir_all(&dir).unwrap();
        // The whole page, not only the first screen.
        let height = js(&b, "return document.documentElement.scrollHeight").await;
        let height = u32::try_from(height.as_u64().unwrap_or(900)).unwrap_or(900).clamp(900, 4000);
        b.set_window_size(1366, height + 120).await.unwrap();
        let png = b.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(dir.join("dashboard.png"), &png).unwrap();
        b.goto(&format!("{}/dashboard?wall=1", app.base)).await.unwrap();
        wait_until(&b, "document.querySelector('#map svg')", "the big screen's map").await;
        let bg = js(&b, "return getComputedStyle(document.body).backgroundColor").await;
        assert_eq!(bg, "rgb(11, 26, 43)", "the big screen is dark");
        let nav = js(&b, "return getComputedStyle(document.querySelector('header.top nav')).display").await;
        assert_eq!(nav, "none");
        std::fs::write(dir.join("dashboard-wall.png"), b.screenshot().await.unwrap()).unwrap();
    }))
    .await;
    let _ = b.close().await;
    drop(driver);
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}
