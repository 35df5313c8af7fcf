#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! A seeded app with the demo's dispatch data: the default rules, the place names and the areas.
#![allow(dead_code)]

use serde_json::{Value, json};

use crate::common::{Api, Backend, TestApp, TestDb, seed, start};

pub const PLACES_CSV: &str = include_str!("../../demo/places.csv");
pub const AREAS_GEOJSON: &str = include_str!("../../demo/areas.geojson");

/// The seeded database of `spawn_app` plus the demo's rules, place names and areas, served by
/// the real binary with `env` (e.g. `HOTLINE_DISPATCH_THRESHOLD`).
pub async fn spawn_dispatch_app(backend: Backend, env: &[(&str, &str)]) -> TestApp {
    let mut db = TestDb::new(backend);
    seed(db.db());
    let r = hotline::import::places::import(db.db(), PLACES_CSV).expect("places");
    assert!(r.is_ok(), "{r}");
    let r = hotline::import::areas::import(db.db(), AREAS_GEOJSON).expect("areas");
    assert!(r.is_ok(), "{r}");
    let n = db
        .db()
        .write_blocking(|c| {
            hotline_dispatch::routing::defaults::install(c, hotline_core::db::now())
        })
        .expect("rules");
    assert!(n > 20, "{n} default rules");
    db.close();
    let (child, base) = start(&db, &["serve"], env);
    TestApp::new(base, db, child)
}

/// Registers a phone appeal as `agent`; returns the ticket id.
pub async fn register(agent: &Api, title: &str, detail: &str) -> String {
    let (s, t) = agent
        .post(
            "/api/v1/tickets",
            json!({"appeal_type": "complaint", "title": title, "detail": detail,
                   "citizen_phone": "13900001111"}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    t["id"].as_str().unwrap().to_owned()
}

/// The codes of the suggested units, best first.
pub fn codes(s: &Value) -> Vec<String> {
    s["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit"]["code"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls (at most ~60 s) until `check` holds; panics with `what` otherwise.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..240 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("never happened: {what}");
}
