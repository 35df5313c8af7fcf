#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Group commit on both backends: appeals stored in one batch still each get their own answer
//! (a spent nonce, a taken or reused Idempotency-Key, a unit that does not exist refuse or replay
//! only that appeal), and a batch that fails as a whole stores each of its appeals on its own.
//! Also the node's cache of app clients: a retired client is refused once its row is read again.

mod common;
mod storage_support;

use std::sync::Arc;

use chrono::TimeZone;
use common::{Backend, TestDb, hotline, seed};
use diesel::prelude::*;
use hotline_core::domain::Channel;
use hotline_core::ids::UnitId;
use hotline_core::workflow::Hotline;
use hotline_intake::IntakeError;
use hotline_intake::appeal::{AppealInput, validate};
use hotline_intake::batch::{Batcher, Render};
use hotline_intake::submit::{Answer, IdempotencyKey, Outcome, Submission};
use storage_support::Team;

fn submission(
    team: &Team,
    title: &str,
    client_nonce: Option<&str>,
    key: Option<&str>,
) -> Submission {
    let input = AppealInput {
        appeal_type: Some(hotline_core::domain::AppealType::Complaint),
        title: title.into(),
        detail: format!("{title}，已经持续一周，请有关部门尽快处理。"),
        ..Default::default()
    };
    let raw = serde_json::json!({ "title": title }).to_string();
    Submission {
        actor: hotline_core::domain::Actor::System,
        centre_id: team.centre,
        appeal: validate(&input, Channel::App).expect("valid appeal"),
        client_id: client_nonce.map(|_| "batch-test-client".to_owned()),
        nonce: client_nonce.map(str::to_owned),
        idempotency: key.map(|k| {
            IdempotencyKey::new("client:batch-test-client", k, &[raw.as_bytes()]).expect("key")
        }),
        raw_payload: raw,
        remote_addr: None,
        attachments: Vec::new(),
    }
}

fn receipt() -> Render {
    Arc::new(|t| Answer {
        status: 201,
        content_type: "application/json".into(),
        body: serde_json::json!({ "number": t.number.as_str() }).to_string(),
    })
}

fn count(h: &Hotline, sql_table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut c = h.db.get().expect("conn");
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {sql_table}"))
        .get_result::<N>(&mut c)
        .expect("count")
        .n
}

/// A seeded database of `backend`, a node's services on it on a working Monday, and its staff.
fn setup(backend: Backend) -> (TestDb, Hotline, Team) {
    let t = TestDb::new(backend);
    seed(t.db());
    let h = hotline(
        t.db(),
        chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    );
    let team = Team::of(t.db());
    (t, h, team)
}

fn created(r: &Result<Outcome, IntakeError>) -> &Outcome {
    match r {
        Ok(o) if !o.replayed => o,
        other => panic!("expected a new ticket, got {other:?}"),
    }
}

async fn each_appeal_its_own_fate(backend: Backend) {
    let (_t, h, team) = setup(backend);
    let batcher = Batcher::default();

    // Earlier requests: keys "taken" and "reused" are answered already.
    let earlier = batcher
        .submit_many(
            &h,
            vec![
                (
                    submission(&team, "路灯不亮", None, Some("taken")),
                    receipt(),
                ),
                (
                    submission(&team, "井盖缺失", None, Some("reused")),
                    receipt(),
                ),
            ],
        )
        .await;
    let taken = created(&earlier[0]).clone();
    created(&earlier[1]);
    let (tickets_before, events_before) = (count(&h, "tickets"), count(&h, "events"));

    let mut nowhere = submission(&team, "垃圾未清运", None, None);
    nowhere.centre_id = UnitId::new();
    let out = batcher
        .submit_many(
            &h,
            vec![
                // 0: new, spends nonce n-0001.
                (
                    submission(&team, "噪音扰民", Some("n-0001"), Some("k-a")),
                    receipt(),
                ),
                // 1: the same request again in the same batch: waits for the next batch and
                // is answered as 0 was.
                (
                    submission(&team, "噪音扰民", Some("n-0002"), Some("k-a")),
                    receipt(),
                ),
                // 2: a nonce already spent by 0: refused, and its key stays free.
                (
                    submission(&team, "占道经营", Some("n-0001"), Some("k-c")),
                    receipt(),
                ),
                // 3: neither key nor nonce: new.
                (submission(&team, "路面塌陷", None, None), receipt()),
                // 4: a key answered earlier, the same request: that answer.
                (
                    submission(&team, "路灯不亮", None, Some("taken")),
                    receipt(),
                ),
                // 5: a key answered earlier for another request: refused.
                (
                    submission(&team, "别的诉求", None, Some("reused")),
                    receipt(),
                ),
                // 6: a centre that does not exist: refused alone.
                (nowhere, receipt()),
            ],
        )
        .await;
    assert_eq!(out.len(), 7);
    let first = created(&out[0]).clone();
    let again = out[1].as_ref().expect("answered");
    assert!(again.replayed, "a retry is a replay");
    assert_eq!(again.ticket_id, first.ticket_id);
    assert_eq!(again.answer, first.answer, "byte for byte the first answer");
    assert!(
        matches!(out[2], Err(IntakeError::Unsigned(m)) if m.contains("X-Nonce")),
        "{:?}",
        out[2]
    );
    created(&out[3]);
    let replay = out[4].as_ref().expect("answered");
    assert!(replay.replayed);
    assert_eq!(replay.ticket_id, taken.ticket_id);
    assert_eq!(replay.answer, taken.answer);
    assert!(
        matches!(out[5], Err(IntakeError::KeyReused)),
        "{:?}",
        out[5]
    );
    assert!(
        matches!(&out[6], Err(e) if e.to_string() == "centre_id: no such unit"),
        "{:?}",
        out[6]
    );

    // Exactly two new tickets, each with its received event and its submission record; the
    // refused appeal's key is still free.
    assert_eq!(count(&h, "tickets"), tickets_before + 2);
    assert_eq!(count(&h, "events"), events_before + 2);
    assert_eq!(count(&h, "intake_submissions"), tickets_before + 2);
    assert_eq!(count(&h, "idempotency_keys"), 3);
    assert_eq!(
        count(&h, "client_nonces"),
        2,
        "n-0001 and n-0002 are spent, once each"
    );
    let free = batcher
        .submit(
            &h,
            submission(&team, "占道经营", Some("n-0003"), Some("k-c")),
            receipt(),
        )
        .await;
    created(&free);

    // Both new tickets can be read back whole, and their events were sequenced.
    for o in [&first, created(&out[3])] {
        let mut c = h.db.get().expect("conn");
        let ticket = hotline_core::store::tickets::get(&mut c, o.ticket_id).expect("stored");
        assert_eq!(ticket.version, 1);
        let history = hotline_core::store::events::for_ticket(&mut c, o.ticket_id).expect("events");
        assert_eq!(history.len(), 1);
    }
    hotline_intake::repeats::settle().await;
}
both_backends!(each_appeal_gets_its_own_fate, each_appeal_its_own_fate);

/// A batch that fails as a whole (here PostgreSQL refuses a NUL character in the raw payload)
/// stores every other appeal on its own; only the bad one fails, and nothing is stored twice.
async fn failed_batch_retried_alone(backend: Backend) {
    let (_t, h, team) = setup(backend);
    let batcher = Batcher::default();
    let mut bad = submission(&team, "坏的记录", None, Some("bad"));
    bad.raw_payload.push('\0');
    let appeals = vec![
        (
            submission(&team, "噪音扰民", Some("n-1001"), Some("k-1")),
            receipt(),
        ),
        (bad, receipt()),
        (
            submission(&team, "路面塌陷", Some("n-1002"), Some("k-2")),
            receipt(),
        ),
    ];
    let out = batcher.submit_many(&h, appeals).await;
    created(&out[0]);
    created(&out[2]);
    let stored = match backend {
        Backend::Postgres => {
            assert!(out[1].is_err(), "PostgreSQL refuses NUL: {:?}", out[1]);
            2
        }
        Backend::Sqlite => {
            created(&out[1]);
            3
        }
    };
    assert_eq!(count(&h, "tickets"), stored);
    assert_eq!(count(&h, "idempotency_keys"), stored);
    assert_eq!(count(&h, "client_nonces"), 2);
    hotline_intake::repeats::settle().await;
}
both_backends!(a_failed_batch_is_retried_alone, failed_batch_retried_alone);

/// Many concurrent appeals through one batcher: every one stored once, with distinct numbers.
async fn concurrent_appeals(backend: Backend) {
    let (_t, h, team) = setup(backend);
    let team = Arc::new(team);
    let batcher = Arc::new(Batcher::default());
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let (h, team, batcher) = (h.clone(), team.clone(), batcher.clone());
            tokio::spawn(async move {
                // Every third request repeats the key of the one before it.
                let key = format!("k-{}", i - usize::from(i % 3 == 2));
                let title = format!("第{}号诉求", i - usize::from(i % 3 == 2));
                batcher
                    .submit(
                        &h,
                        submission(&team, &title, Some(&format!("nonce-{i:04}")), Some(&key)),
                        receipt(),
                    )
                    .await
            })
        })
        .collect();
    let mut new = std::collections::HashSet::new();
    let mut replays = 0;
    for task in tasks {
        let o = task.await.expect("joined").expect("stored");
        if o.replayed {
            replays += 1;
        } else {
            assert!(new.insert(o.ticket_id), "a ticket answered as new twice");
        }
    }
    assert_eq!(new.len(), 40);
    assert_eq!(replays, 20);
    assert_eq!(count(&h, "tickets"), 40);
    let numbers: std::collections::HashSet<String> = {
        let mut c = h.db.get().expect("conn");
        hotline_core::db::schema::tickets::table
            .select(hotline_core::db::schema::tickets::number)
            .load(&mut c)
            .expect("numbers")
            .into_iter()
            .collect()
    };
    assert_eq!(numbers.len(), 40);
    hotline_intake::repeats::settle().await;
}
both_backends!(concurrent_appeals_stored_once, concurrent_appeals);

/// A node keeps an active client's row for its time to live: within it a retired client is still
/// known (the row is not read again), after it the retirement is seen; a retired client is
/// never kept.
async fn client_cache(backend: Backend) {
    use hotline_intake::clients::{self, ClientCache};
    use hotline_intake::schema::api_clients;
    let t = TestDb::new(backend);
    seed(t.db());
    let h = hotline(t.db(), chrono::Utc::now());
    let (client, _secret) = {
        let mut c = h.db.get().expect("conn");
        clients::create(
            &mut c,
            &h.token_key,
            "测试App",
            Channel::App,
            chrono::Utc::now(),
        )
        .expect("client")
    };
    let retire = |active: bool| {
        let mut c = h.db.get().expect("conn");
        diesel::update(api_clients::table.find(&client.id))
            .set(api_clients::active.eq(active))
            .execute(&mut c)
            .expect("update");
    };
    let kept = ClientCache::new(std::time::Duration::from_secs(3600));
    let fresh = ClientCache::new(std::time::Duration::ZERO);
    for cache in [&kept, &fresh] {
        let (found, _) = cache
            .find(&h.db, &client.id)
            .await
            .expect("read")
            .expect("known");
        assert!(found.active);
    }
    retire(false);
    let (still, _) = kept
        .find(&h.db, &client.id)
        .await
        .expect("read")
        .expect("kept");
    assert!(
        still.active,
        "within its time to live the row is not read again"
    );
    let (seen, _) = fresh
        .find(&h.db, &client.id)
        .await
        .expect("read")
        .expect("known");
    assert!(!seen.active, "after it, the retirement is seen");
    // A retired client is not kept, however long the time to live: made active again, the next
    // read sees it at once.
    let later = ClientCache::new(std::time::Duration::from_secs(3600));
    let (retired, _) = later
        .find(&h.db, &client.id)
        .await
        .expect("read")
        .expect("known");
    assert!(!retired.active);
    retire(true);
    let (back, _) = later
        .find(&h.db, &client.id)
        .await
        .expect("read")
        .expect("known");
    assert!(back.active, "the retired row was kept");
    assert!(
        kept.find(&h.db, "no-such-client")
            .await
            .expect("read")
            .is_none()
    );
}
both_backends!(a_node_keeps_clients_for_their_time_to_live, client_cache);
