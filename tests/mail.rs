#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! E-mail notices against a real SMTP server process (Python's aiosmtpd, started by each test on
//! a free port; `tests/mail_support/smtp_sink.py` writes what it accepts to a directory), on both
//! backends: every kind of notice reaches its units with its Chinese subject and body; a message
//! is retried while the server is down and sent once it is back; after the last try it is dead,
//! listed by `hotline admin outbox list` and can be queued again.

mod common;
mod mail_support;
mod scheduler_support;
mod storage_support;

use std::process::Command;

use chrono::TimeDelta;
use common::{Backend, TestDb};
use hotline_core::Db;
use hotline_core::domain::{AppealType, Urgency};
use hotline_core::ticket::{Action, Ruling, Ticket};
use hotline_dispatch::mail::outbox::{self, Message};
use mail_support::{Sink, free_port, sender};
use scheduler_support::{A2_ADMIN, all_mails, desk_on, node, seeded_node};
use serde_json::Value;
use storage_support::{china, dispatch, monday_10, reason};

fn rcpts(m: &Value) -> Vec<String> {
    let mut v: Vec<String> = m["rcpt_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

/// The one delivered message whose subject starts with `prefix` and that went to `to`.
fn find<'a>(all: &'a [Value], prefix: &str, to: &str) -> &'a Value {
    let found: Vec<_> = all
        .iter()
        .filter(|m| m["subject"].as_str().unwrap().starts_with(prefix))
        .filter(|m| rcpts(m).iter().any(|r| r == to))
        .collect();
    assert_eq!(found.len(), 1, "{prefix} to {to}: {all:#?}");
    found[0]
}

fn body(m: &Value) -> &str {
    m["body"].as_str().unwrap()
}

fn has(m: &Value, text: &str) {
    assert!(body(m).contains(text), "{text:?} not in:\n{}", body(m));
}

const A2: &str = "gov-990103@hotline.example";
const CITY: &str = "gov-990100@hotline.example";
const CENTRE: &str = "12345-990100@hotline.example";
const ZJJ: &str = "990100-zjj@hotline.example";

async fn every_notice(backend: Backend) {
    let (db, n) = seeded_node(backend);
    let desk = desk_on(&n);
    let team = &desk.team;
    let zjj = storage_support::staff(db.db(), "zjj");
    let a = desk.receive(AppealType::Help, Urgency::Normal).await;
    let a = desk.act(&team.dispatcher, a.id, dispatch(&team.a2)).await;
    let b = desk.receive(AppealType::Help, Urgency::Normal).await;
    let b = desk.act(&team.dispatcher, b.id, dispatch(&team.a2)).await;
    let c = desk.receive(AppealType::Help, Urgency::Normal).await;
    let c = desk.act(&team.dispatcher, c.id, dispatch(&zjj)).await;

    desk.at(china(11, 23, 10, 30));
    desk.act(&team.a2, a.id, Action::Sign).await;
    let ask = Action::RequestExtension {
        days: 3,
        reason: reason("需协调供电部门更换线路"),
    };
    desk.act(&team.a2, a.id, ask).await;
    let approve = Action::ApproveExtension {
        days: None,
        note: Some(reason("同意延期，请按期办结")),
    };
    let a = desk.act(&team.dispatcher, a.id, approve).await;

    desk.at(china(11, 23, 10, 40));
    let ret = Action::Return {
        reason: reason("该路段路灯由市城管局管理"),
    };
    desk.act(&team.a2, b.id, ret).await;
    let rule = Action::Rule {
        ruling: reason("经核实属你单位辖区，请继续办理"),
        decision: Ruling::SendBack,
    };
    desk.act(&team.dispatcher, b.id, rule).await;

    // Past the sign-for deadline of B and C (12:00): both supervised, their units escalated.
    desk.at(china(11, 23, 12, 1));
    n.scheduler.run_due().await.unwrap();
    desk.at(china(11, 23, 13, 40));
    let a = desk
        .act(
            &team.a2,
            a.id,
            Action::Reply {
                reply: reason("已更换线路，路灯恢复照明。"),
            },
        )
        .await;
    desk.at(china(11, 24, 13, 41));
    n.scheduler.run_due().await.unwrap();
    assert!(n.scheduler.ensure_digest().await.unwrap());
    desk.at(china(11, 25, 8, 30));
    n.scheduler.run_due().await.unwrap();
    // B's and C's yellow points (70 % of five working days from Monday 10:00: Thursday 15:15).
    desk.at(china(11, 26, 15, 16));
    n.scheduler.run_due().await.unwrap();
    // A dispatcher supervises B again by hand: the unit and the city it escalated to hear of it.
    let again = Action::Supervise {
        reason: reason("群众多次来电反映，请加快办理"),
    };
    desk.act(&team.dispatcher, b.id, again).await;

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let sink = Sink::start(port, dir.path());
    let s = sender(db.db(), &n.h.now, port, 5);
    let mut sent = 0;
    loop {
        let r = s.send_due().await.unwrap();
        assert_eq!((r.retrying, r.dead), (0, 0), "{r:?}");
        if r.sent == 0 {
            break;
        }
        sent += r.sent;
    }
    let queued = all_mails(db.db());
    assert!(
        queued.iter().all(|m| m.state == outbox::SENT),
        "{queued:#?}"
    );
    let got = sink.delivered();
    assert_eq!(got.len(), queued.len());
    assert_eq!(sent, queued.len());
    let mut ids: Vec<&str> = got
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    let mut stored: Vec<&str> = queued.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    stored.sort();
    assert_eq!(
        ids, stored,
        "each row delivered once, under its own Message-ID"
    );

    let number = |t: &Ticket| t.number.as_str().to_owned();
    let m = find(
        &got,
        &format!("【12345热线】新工单待签收：{}", number(&a)),
        A2,
    );
    assert_eq!(rcpts(m), vec![A2_ADMIN.to_owned(), A2.to_owned()]);
    assert_eq!(m["to"].as_str().unwrap().matches('@').count(), 2);
    assert!(m["subject"].as_str().unwrap().ends_with("小区门口路灯不亮"));
    for text in [
        "A2区：",
        "你单位有一件新工单（派单），请及时签收办理。",
        "诉求类型：求助",
        "签收时限：2026-11-23 12:00",
        "办理时限：2026-11-30 10:00",
        "说明：请核实处理",
        &format!("查看工单：https://12345.example/tickets/{}", a.id),
    ] {
        has(m, text);
    }
    // The citizen's name and number never leave the system by mail.
    for m in &got {
        let raw = m["data"].as_str().unwrap();
        assert!(!body(m).contains("李女士") && !body(m).contains("13800138000"));
        assert!(!raw.contains("13800138000"));
    }
    let m = find(
        &got,
        &format!("【12345热线】延期申请已同意：工单 {}", number(&a)),
        A2,
    );
    has(m, "延期3个工作日");
    has(m, "办理时限：2026-12-03 10:00");
    has(m, "审批意见：同意延期，请按期办结");
    let m = find(&got, "【12345热线】退单审定结果", A2);
    has(m, "不同意退单，工单退回你单位继续办理");
    has(m, "审定意见：经核实属你单位辖区，请继续办理");
    let prefix = format!("【12345热线】超期督办：工单 {}", number(&c));
    has(
        find(&got, &prefix, ZJJ),
        "你单位承办的工单已超过签收时限，系统已自动督办",
    );
    has(
        find(&got, &prefix, CITY),
        "你单位下级单位“A市住房和城乡建设局”承办的工单已超过签收时限",
    );
    has(find(&got, &prefix, CENTRE), "签收时限：2026-11-23 12:00");
    let prefix = format!("【12345热线】督办：工单 {}", number(&b));
    let m = find(&got, &prefix, A2);
    has(m, "你单位承办的工单已被督办（第2次）");
    has(m, "督办说明：群众多次来电反映，请加快办理");
    has(
        find(&got, &prefix, CITY),
        "“A2区”承办的工单已被督办（第2次）并报你单位",
    );
    let m = find(
        &got,
        &format!("【12345热线】回访到期提醒：工单 {}", number(&a)),
        CENTRE,
    );
    has(
        m,
        "工单已于2026-11-23 13:40答复，回访时限已到（2026-11-24 13:40）",
    );
    let m = find(
        &got,
        "【12345热线】超期工单日报（2026-11-25）：A2区 1 件",
        A2_ADMIN,
    );
    assert_eq!(
        rcpts(m),
        vec![A2_ADMIN.to_owned()],
        "the digest goes to the unit admin"
    );
    has(m, &number(&b));
    has(m, "已超期");
    let m = find(
        &got,
        "【12345热线】超期工单日报（2026-11-25）：A市住房和城乡建设局 1 件",
        ZJJ,
    );
    has(m, &number(&c));
    let m = find(
        &got,
        &format!("【12345热线】黄灯预警：工单 {} 办理时限已用70%", number(&c)),
        ZJJ,
    );
    has(
        m,
        "你单位承办的工单办理时限已用去70%，请抓紧办理并按时答复。",
    );
}

both_backends!(
    every_notice_reaches_its_units_with_its_chinese_text,
    every_notice
);

/// One queued notice (the dispatch of a ticket to A2区) and its outbox row.
async fn one_notice(db: &TestDb) -> (scheduler_support::Node, Message) {
    common::seed(db.db());
    let n = node(db.db(), monday_10(), true);
    let desk = desk_on(&n);
    let t = desk.receive(AppealType::Help, Urgency::Normal).await;
    desk.act(&desk.team.dispatcher, t.id, dispatch(&desk.team.a2))
        .await;
    let mut mails = all_mails(db.db());
    assert_eq!(mails.len(), 1);
    (n, mails.remove(0))
}

fn row(db: &Db, id: &str) -> Message {
    all_mails(db).into_iter().find(|m| m.id == id).unwrap()
}

async fn retried_until_back(backend: Backend) {
    let db = TestDb::new(backend);
    let (n, queued) = one_notice(&db).await;
    let port = free_port();
    let s = sender(db.db(), &n.h.now, port, 5);
    // Nothing listens on the port yet.
    let r = s.send_due().await.unwrap();
    assert_eq!((r.sent, r.retrying, r.dead), (0, 1, 0));
    let m = row(db.db(), &queued.id);
    assert_eq!((m.state.as_str(), m.attempts), (outbox::PENDING, 1));
    assert_eq!(m.next_attempt_at, monday_10() + TimeDelta::seconds(60));
    assert!(m.last_error.is_some());

    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(port, dir.path());
    let r = s.send_due().await.unwrap();
    assert_eq!(r.sent, 0, "not before its next try is due");
    assert!(sink.delivered().is_empty());
    n.h.now.set(monday_10() + TimeDelta::seconds(61));
    let r = s.send_due().await.unwrap();
    assert_eq!((r.sent, r.retrying), (1, 0));
    let got = sink.delivered();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["message_id"], queued.message_id.as_str());
    assert_eq!(rcpts(&got[0]), vec![A2.to_owned()]);
    let m = row(db.db(), &queued.id);
    assert_eq!((m.state.as_str(), m.attempts), (outbox::SENT, 2));
    assert_eq!(m.sent_at, Some(monday_10() + TimeDelta::seconds(61)));
    assert_eq!(s.send_due().await.unwrap().sent, 0);
    assert_eq!(sink.delivered().len(), 1, "sent once");
}

both_backends!(
    a_message_is_retried_while_the_server_is_down,
    retried_until_back
);

fn outbox_cli(db: &TestDb, args: &[&str]) -> (bool, String) {
    let out = Command::new(common::binary())
        .args(["admin", "outbox"])
        .args(args)
        .arg("--data-dir")
        .arg(db.dir.path())
        .envs(db.env())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn dead_letter(backend: Backend) {
    let db = TestDb::new(backend);
    let (n, queued) = one_notice(&db).await;
    let port = free_port();
    let s = sender(db.db(), &n.h.now, port, 2);
    assert_eq!(s.send_due().await.unwrap().retrying, 1);
    n.h.now.set(monday_10() + TimeDelta::seconds(60));
    assert_eq!(
        s.send_due().await.unwrap().dead,
        1,
        "the second and last try"
    );
    n.h.now.set(monday_10() + TimeDelta::hours(5));
    assert_eq!(
        s.send_due().await.unwrap(),
        Default::default(),
        "dead stays dead"
    );
    let m = row(db.db(), &queued.id);
    assert_eq!((m.state.as_str(), m.attempts), (outbox::DEAD, 2));

    let (ok, text) = outbox_cli(&db, &["list", "--state", "dead"]);
    assert!(ok, "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with(&queued.id))
        .expect(&text);
    assert!(
        line.contains("\tdead\t2\tnew_ticket\tgov-990103@hotline.example\t"),
        "{line}"
    );
    assert!(line.contains("新工单待签收"), "{line}");
    assert!(text.contains("1 dead message(s)"), "{text}");
    let (ok, _) = outbox_cli(&db, &["requeue", "no-such-id"]);
    assert!(!ok);
    let (ok, text) = outbox_cli(&db, &["requeue", &queued.id]);
    assert!(ok, "{text}");

    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(port, dir.path());
    n.h.now.set(hotline_core::db::now());
    assert_eq!(s.send_due().await.unwrap().sent, 1);
    assert_eq!(sink.delivered().len(), 1);
    assert_eq!(row(db.db(), &queued.id).state, outbox::SENT);
}

both_backends!(a_dead_letter_is_listed_and_can_be_queued_again, dead_letter);

async fn user_addresses(backend: Backend) {
    let app = common::spawn_app(backend).await;
    let admin = app.login("admin").await;
    let unit = admin.unit("990103").await;
    let body = |email: &str| {
        serde_json::json!({"username": "a2boss", "display_name": "A2区管理员", "role": "unit_admin",
            "unit_id": unit, "password": "a2boss-long-password", "email": email})
    };
    let (s, e) = admin.post("/api/v1/users", body("not an address")).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["error"]["field"], "email");
    let (s, u) = admin.post("/api/v1/users", body("boss@a2.example")).await;
    assert_eq!(s, 201, "{u}");
    assert_eq!(u["email"], "boss@a2.example");
    let id = u["id"].as_str().unwrap();
    let (s, e) = admin
        .patch(
            &format!("/api/v1/users/{id}"),
            serde_json::json!({"email": "x@"}),
        )
        .await;
    assert_eq!((s, e["error"]["field"].as_str()), (422, Some("email")));
    let (s, u) = admin
        .patch(
            &format!("/api/v1/users/{id}"),
            serde_json::json!({"email": ""}),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["email"], Value::Null, "an empty address removes it");
}

both_backends!(accounts_carry_an_address_for_notices, user_addresses);
