#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! `hotline loadgen seed` on a fresh database, run as an operator runs it: the tickets it adds are
//! varied, placed inside the demo areas, numbered without collisions, their events numbered
//! without gaps, and every stored row is what its events replay to (`hotline rebuild`).

mod common;

use std::collections::{HashMap, HashSet};
use std::process::{Command, Output, Stdio};

use common::{Backend, TestDb, binary};
use diesel::prelude::*;
use hotline_core::db::schema::{events, ticket_counters, ticket_units, tickets};
use hotline_core::{Db, DbUrl};

fn run(db: &TestDb, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .arg("--data-dir")
        .arg(db.dir.path())
        .envs(db.env())
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .output()
        .expect("run hotline")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs the seeder; returns the tickets and events its summary line reports.
fn seed(db: &TestDb, more: &[&str]) -> (u64, u64) {
    let mut args = vec!["loadgen", "seed", "--tickets", "2000", "--seed", "7"];
    args.extend_from_slice(more);
    let out = run(db, &args);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    let line = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("seeded "))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no summary line in {said}"));
    // seeded N tickets with M events in T s (R tickets/s)
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[2], "tickets", "{line}");
    assert_eq!(words[5], "events", "{line}");
    assert!(line.ends_with("tickets/s)"), "{line}");
    (words[1].parse().expect("N"), words[4].parse().expect("M"))
}

/// The bounding box (min lon, min lat, max lon, max lat) of every coordinate of the demo areas.
fn demo_bbox() -> (f64, f64, f64, f64) {
    fn walk(v: &serde_json::Value, b: &mut (f64, f64, f64, f64)) {
        if let Some(a) = v.as_array() {
            if let [x, y] = a.as_slice()
                && let (Some(x), Some(y)) = (x.as_f64(), y.as_f64())
            {
                *b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
                return;
            }
            a.iter().for_each(|e| walk(e, b));
        } else if let Some(o) = v.as_object() {
            o.values().for_each(|e| walk(e, b));
        }
    }
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../demo/areas.geojson")).expect("areas");
    let mut b = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    walk(&doc["features"], &mut b);
    assert!(b.0 < b.2 && b.1 < b.3, "{b:?}");
    b
}

type Row = (String, String, String, String, Option<f64>, Option<f64>);

fn check_database(db: &TestDb, expect_tickets: usize, expect_events: u64) {
    let pool = Db::connect(&DbUrl::parse(&db.url), 2).expect("connect");
    let mut c = pool.get().expect("conn");
    let rows: Vec<Row> = tickets::table
        .select((
            tickets::number,
            tickets::status,
            tickets::channel,
            tickets::appeal_type,
            tickets::latitude,
            tickets::longitude,
        ))
        .load(&mut *c)
        .expect("tickets");
    assert_eq!(rows.len(), expect_tickets);

    let distinct = |f: fn(&Row) -> &String| rows.iter().map(f).collect::<HashSet<_>>();
    let statuses = distinct(|r| &r.1);
    assert!(statuses.len() >= 5, "statuses {statuses:?}");
    assert!(statuses.contains(&"closed".to_owned()), "{statuses:?}");
    let channels = distinct(|r| &r.2);
    assert!(channels.len() >= 4, "channels {channels:?}");
    let types = distinct(|r| &r.3);
    assert!(types.len() >= 4, "types {types:?}");
    let phone = rows.iter().filter(|r| r.2 == "phone").count();
    assert!(
        phone * 2 > rows.len() && phone < rows.len() * 3 / 4,
        "phone {phone}"
    );

    let (x0, y0, x1, y1) = demo_bbox();
    let inside = rows
        .iter()
        .filter(|r| {
            matches!((r.4, r.5), (Some(lat), Some(lon))
                if (y0..=y1).contains(&lat) && (x0..=x1).contains(&lon))
        })
        .count();
    let placed = rows.iter().filter(|r| r.4.is_some()).count();
    assert!(
        inside * 2 >= rows.len(),
        "{inside} of {} inside the demo areas",
        rows.len()
    );
    assert_eq!(inside, placed, "every position lies inside the demo areas");

    // Numbers: unique, and the daily counters are past every number given out.
    let numbers: HashSet<&String> = rows.iter().map(|r| &r.0).collect();
    assert_eq!(numbers.len(), rows.len(), "ticket numbers collide");
    let counters: HashMap<String, i64> = ticket_counters::table
        .select((ticket_counters::day, ticket_counters::value))
        .load::<(String, i64)>(&mut *c)
        .expect("counters")
        .into_iter()
        .collect();
    for n in &numbers {
        let (day, counter) = n.split_at(8);
        let counter: i64 = counter.parse().expect("counter");
        assert!(
            counters.get(day).is_some_and(|v| *v >= counter),
            "{n} vs {counters:?}"
        );
    }

    // Events: every one numbered, 1 to the count without gaps; each ticket starts with `received`.
    let mut seqs: Vec<Option<i64>> = events::table
        .select(events::seq)
        .load(&mut *c)
        .expect("events");
    assert_eq!(seqs.len() as u64, expect_events);
    seqs.sort();
    let want: Vec<Option<i64>> = (1..=seqs.len() as i64).map(Some).collect();
    assert!(
        seqs == want,
        "events' seq is not 1..={} without gaps",
        seqs.len()
    );
    let received: i64 = events::table
        .filter(events::kind.eq("received"))
        .filter(events::version.eq(1))
        .count()
        .get_result(&mut *c)
        .expect("received");
    assert_eq!(received as usize, rows.len());
    let visible: HashSet<String> = ticket_units::table
        .select(ticket_units::ticket_id)
        .load::<String>(&mut *c)
        .expect("ticket units")
        .into_iter()
        .collect();
    assert_eq!(
        visible.len(),
        rows.len(),
        "every ticket is visible to its units"
    );
}

fn rebuild_finds_nothing(db: &TestDb, n: u64) {
    let out = run(db, &["rebuild"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("{n} tickets replayed, 0 differed")),
        "{said}"
    );
    assert!(!said.contains("row differs"), "{said}");
}

async fn seeds_histories_that_replay(backend: Backend) {
    let mut db = TestDb::new(backend);
    db.close();
    let (n1, m1) = seed(&db, &[]);
    assert_eq!(n1, 2000);
    assert!(
        m1 > 2 * n1,
        "{m1} events for {n1} tickets: histories are too short"
    );
    check_database(&db, 2000, m1);
    rebuild_finds_nothing(&db, 2000);

    // A second run adds as many again, with new numbers and the event numbers continuing; with
    // the same seed, and with time-ordered ids this time (small batches: several transactions,
    // on PostgreSQL committed in order by two writers).
    let (n2, m2) = seed(&db, &["--ordered-ids", "--batch", "300"]);
    assert_eq!(n2, 2000);
    check_database(&db, 4000, m1 + m2);
    rebuild_finds_nothing(&db, 4000);

    let out = run(&db, &["analytics", "rebuild"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("analytics rebuilt from"), "{said}");
    assert!(said.contains("of 4000 tickets"), "{said}");
}

both_backends!(seed_twice, seeds_histories_that_replay);

async fn refuses_an_org_tree_without_categories(backend: Backend) {
    let mut db = TestDb::new(backend);
    hotline::import::org::import(db.db(), common::ORG_CSV).expect("org");
    db.close();
    let out = run(&db, &["loadgen", "seed", "--tickets", "10"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("hotline import categories"),
        "{}",
        text(&out)
    );
}

both_backends!(needs_categories, refuses_an_org_tree_without_categories);
