#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Early warnings end to end on both backends: four quiet weeks of appeals about one street,
//! then a burst, reach the rollups from the event stream; the burst is flagged (and a quiet
//! street is not); the leader who oversees the street is told once by e-mail through the outbox.

mod common;
mod storage_support;

use chrono::Duration;
use common::Backend;
use diesel::prelude::*;
use hotline_analytics::keeper::Rollups;
use hotline_analytics::warning::Rule;
use hotline_core::domain::{AppealType, Urgency};
use hotline_dispatch::mail::notices::Notices;
use hotline_dispatch::mail::outbox;
use storage_support::{desk, monday_10};

async fn early_warning(backend: Backend) {
    let (_t, desk) = desk(backend);
    let r = hotline::import::areas::import(desk.db(), hotline::demo::AREAS_GEOJSON).unwrap();
    assert!(r.is_ok(), "{r}");
    // The city's leader has an address; A2区's administrator is no leader and gets nothing.
    diesel::update(hotline_core::db::schema::users::table)
        .filter(hotline_core::db::schema::users::username.eq("leader"))
        .set(hotline_core::db::schema::users::email.eq("leader@a.example"))
        .execute(&mut *desk.db().get().unwrap())
        .unwrap();
    let rollups = Rollups::new(desk.db().clone(), desk.h.time.clone()).unwrap();
    // 28 days of one appeal a day (the demo appeal: 桂花坪街道 by its position), then 3 days
    // of 6 a day, ending "today".
    let start = monday_10() - Duration::days(30);
    for day in 0..31 {
        let n = if day < 28 { 1 } else { 6 };
        for k in 0..n {
            desk.at(start + Duration::days(day) + Duration::minutes(k * 7));
            desk.receive(AppealType::Complaint, Urgency::Normal).await;
        }
    }
    desk.h.bus.sequence_now(desk.db()).await.unwrap();
    assert_eq!(rollups.catch_up().await.unwrap(), 28 + 18);

    let rule = Rule::default();
    let f = hotline_analytics::store::read::Filter::default();
    let found = hotline::analytics::warnings(&desk.h, &rollups, f.clone(), &rule)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let w = &found[0];
    assert_eq!(w.area, "桂花坪街道");
    assert_eq!(w.warning.observed, 18);
    assert!(w.warning.expected < 6.0 && w.warning.ratio > 3.0, "{w:?}");
    assert_eq!(w.series.len(), 31);
    assert_eq!(w.series[..28].iter().sum::<u32>(), 28);

    // A week later, with nothing new, the window is empty and nothing flags.
    desk.at(monday_10() + Duration::days(7));
    let later = hotline::analytics::warnings(&desk.h, &rollups, f.clone(), &rule)
        .await
        .unwrap();
    assert!(later.is_empty(), "{later:?}");
    desk.at(monday_10());

    // The leader is told once, whatever the number of runs.
    let notices = Notices::new(
        "12345 <noreply@hotline.example>",
        Some("https://h.example".into()),
    )
    .unwrap();
    assert_eq!(
        hotline::analytics::notify_warnings(&desk.h, &rollups, &notices)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        hotline::analytics::notify_warnings(&desk.h, &rollups, &notices)
            .await
            .unwrap(),
        0
    );
    let queued = outbox::list(&mut desk.db().get().unwrap(), None, None, 10).unwrap();
    assert_eq!(queued.len(), 1);
    let m = &queued[0];
    assert_eq!(m.recipients, ["leader@a.example"]);
    assert!(
        m.subject.contains("桂花坪街道") && m.subject.contains("预警"),
        "{}",
        m.subject
    );
    assert!(
        m.body.contains("共 18 件") && m.body.contains("https://h.example/dashboard"),
        "{}",
        m.body
    );
}

both_backends!(a_burst_is_flagged_and_told_once, early_warning);
