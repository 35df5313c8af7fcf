#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The leaders' monthly report on both backends, through a real SMTP server (aiosmtpd): at the
//! start of a month each leader with an address is sent last month's figures of their scope,
//! once, with the rates workbook and the heat map attached; the files arrive intact.

mod common;
mod mail_support;
mod scheduler_support;
mod storage_support;

use common::Backend;
use diesel::prelude::*;
use hotline_analytics::keeper::Rollups;
use hotline_core::domain::{AppealType, Urgency};
use hotline_dispatch::mail::notices::Notices;
use hotline_dispatch::mail::outbox;
use mail_support::{Sink, free_port, sender};
use storage_support::{china, desk, dispatch};

async fn monthly_report(backend: Backend) {
    let (_t, desk) = desk(backend);
    let r = hotline::import::areas::import(desk.db(), hotline::demo::AREAS_GEOJSON).unwrap();
    assert!(r.is_ok(), "{r}");
    {
        use hotline_core::db::schema::users;
        let mut c = desk.db().get().unwrap();
        diesel::update(users::table.filter(users::username.eq("leader")))
            .set(users::email.eq("leader@a.example"))
            .execute(&mut *c)
            .unwrap();
    }
    let rollups = Rollups::new(desk.db().clone(), desk.h.time.clone()).unwrap();
    // November: five appeals, three dispatched to A2区, two of them signed.
    for k in 0..5 {
        desk.at(china(11, 10 + k, 10, 0));
        let t = desk.receive(AppealType::Complaint, Urgency::Normal).await;
        if k < 3 {
            desk.act(&desk.team.dispatcher, t.id, dispatch(&desk.team.a2))
                .await;
        }
        if k < 2 {
            desk.at(china(11, 10 + k, 10, 30));
            desk.act(&desk.team.a2, t.id, hotline_core::ticket::Action::Sign)
                .await;
        }
    }
    desk.h.bus.sequence_now(desk.db()).await.unwrap();
    rollups.catch_up().await.unwrap();

    desk.at(china(12, 1, 9, 0));
    let notices = Notices::new(scheduler_support::FROM, Some("https://h.example".into())).unwrap();
    assert_eq!(
        hotline::analytics::monthly_reports(&desk.h, &rollups, &notices)
            .await
            .unwrap(),
        1
    );
    desk.at(china(12, 1, 9, 15));
    assert_eq!(
        hotline::analytics::monthly_reports(&desk.h, &rollups, &notices)
            .await
            .unwrap(),
        0,
        "once a month"
    );
    let queued = outbox::list(&mut desk.db().get().unwrap(), None, None, 10).unwrap();
    assert_eq!(queued.len(), 1);
    assert!(
        queued[0].subject.contains("2026-11"),
        "{}",
        queued[0].subject
    );
    assert!(
        queued[0].body.contains("受理诉求 5 件，派单 3 件"),
        "{}",
        queued[0].body
    );
    assert!(queued[0].body.contains("A2区：3 件"), "{}", queued[0].body);

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let sink = Sink::start(port, dir.path());
    let report = sender(desk.db(), &desk.h.now, port, 3)
        .send_due()
        .await
        .unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    let got = sink.delivered();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m["rcpt_tos"][0], "leader@a.example");
    assert!(
        m["body"].as_str().unwrap().contains("响应率 66.7%"),
        "{}",
        m["body"]
    );
    let files = m["attachments"].as_array().unwrap();
    let names: Vec<&str> = files
        .iter()
        .map(|f| f["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["rates-2026-11.xlsx", "heatmap-2026-11.png"]);
    assert_eq!(
        files[0]["head"].as_str().unwrap().get(..8),
        Some("504b0304"),
        "a zip"
    );
    assert_eq!(files[1]["head"], "89504e470d0a1a0a", "a PNG");
    assert_eq!(files[1]["content_type"], "image/png");
    assert!(files.iter().all(|f| f["size"].as_u64().unwrap() > 500));
}

both_backends!(
    the_monthly_report_reaches_the_leader_once_with_its_files,
    monthly_report
);
