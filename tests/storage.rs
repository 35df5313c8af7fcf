#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The storage layer on SQLite and PostgreSQL: the importers of official data, users, sessions and
//! migrations. Tickets are in `storage_tickets.rs`, concurrency in `storage_concurrency.rs`.

mod common;

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use common::{Backend, TestDb};
use hotline::import::{self, LineError};
use hotline_core::calendar::WorkCalendar;
use hotline_core::domain::Role;
use hotline_core::store::{calendar, categories, sessions, units, users};
use hotline_core::{Db, DbUrl, StoreError};

const ORG_INVALID_CSV: &str = include_str!("../demo/org-invalid.csv");
const TAXONOMY_CSV: &str = include_str!("../demo/appeals/taxonomy.csv");

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid time")
}

fn all_units(db: &Db) -> Vec<units::Unit> {
    let mut c = db.get().expect("conn");
    units::list(&mut c, &units::UnitFilter::default()).expect("list units")
}

fn unit_count(db: &Db) -> i64 {
    units::count(&mut db.get().expect("conn")).expect("count units")
}

// ---- org import ------------------------------------------------------------------------------

async fn org_import_creates_then_updates(backend: Backend) {
    let t = TestDb::new(backend);
    let db = t.db();
    assert_eq!(unit_count(db), 0);

    let first = import::org::import(db, common::ORG_CSV).expect("import");
    assert!(first.is_ok(), "{first}");
    assert_eq!((first.lines, first.created, first.updated), (185, 185, 0));
    assert_eq!(unit_count(db), 185);
    let before: HashMap<String, _> = all_units(db)
        .into_iter()
        .map(|u| (u.code, (u.id, u.created_at)))
        .collect();

    let again = import::org::import(db, common::ORG_CSV).expect("re-import");
    assert!(again.is_ok(), "{again}");
    assert_eq!((again.created, again.updated), (0, 185));
    assert_eq!(unit_count(db), 185, "a re-import must not duplicate units");
    let after = all_units(db);
    let codes: BTreeSet<&str> = after.iter().map(|u| u.code.as_str()).collect();
    assert_eq!(codes.len(), 185, "codes stay unique");
    for u in &after {
        assert_eq!(
            before.get(&u.code),
            Some(&(u.id, u.created_at)),
            "{} keeps its id and creation time",
            u.code
        );
    }
}
both_backends!(
    org_import_creates_then_updates,
    org_import_creates_then_updates
);

async fn org_paths_follow_the_tree(backend: Backend) {
    let t = TestDb::new(backend);
    let db = t.db();
    let r = import::org::import(db, common::ORG_CSV).expect("import");
    assert!(r.is_ok(), "{r}");
    let all = all_units(db);
    let by_id: HashMap<_, _> = all.iter().map(|u| (u.id, u)).collect();
    let mut roots = 0;
    for u in &all {
        match u.parent_id {
            None => {
                roots += 1;
                assert_eq!(u.path, format!("/{}/", u.id), "root {}", u.code);
            }
            Some(p) => {
                let parent = by_id
                    .get(&p)
                    .unwrap_or_else(|| panic!("parent of {} exists", u.code));
                assert!(
                    u.path.starts_with(&parent.path),
                    "{} under {}",
                    u.code,
                    parent.code
                );
                assert_eq!(u.path, format!("{}{}/", parent.path, u.id), "{}", u.code);
            }
        }
    }
    assert_eq!(roots, 1, "西地省 is the only root");

    // A2区's subtree is exactly the units whose code starts with its division code: its
    // departments, streets and communities, and nothing of A1区.
    let mut c = db.get().expect("conn");
    let a2 = units::by_code(&mut c, "990103")
        .expect("query")
        .expect("A2区");
    let subtree: BTreeSet<_> = units::subtree_ids(&mut c, &a2.path)
        .expect("subtree")
        .into_iter()
        .collect();
    let expected: BTreeSet<_> = all
        .iter()
        .filter(|u| u.code.starts_with("990103"))
        .map(|u| u.id)
        .collect();
    assert_eq!(subtree, expected);
    let code_of = |id| by_id[&id].code.as_str();
    assert!(
        subtree.iter().any(|id| code_of(*id) == "990103001"),
        "桂花坪街道"
    );
    assert!(
        subtree.iter().any(|id| code_of(*id) == "990103002001"),
        "云塘社区"
    );
    assert!(
        subtree.iter().any(|id| code_of(*id) == "990103-CGJ"),
        "A2区城管局"
    );
    assert!(
        !subtree.iter().any(|id| code_of(*id).starts_with("990102")),
        "nothing of A1区"
    );
    assert!(!subtree.contains(&by_id.values().find(|u| u.code == "990100").expect("A市").id));
}
both_backends!(org_paths_follow_the_tree, org_paths_follow_the_tree);

async fn unit_moves_with_its_subtree(backend: Backend) {
    let t = TestDb::new(backend);
    let db = t.db();
    let r = import::org::import(db, common::ORG_CSV).expect("import");
    assert!(r.is_ok(), "{r}");
    let mut c = db.get().expect("conn");
    let get = |c: &mut hotline_core::DbConn, code: &str| {
        units::by_code(c, code).expect("query").expect(code)
    };
    let (a1, a2, street) = (
        get(&mut c, "990102"),
        get(&mut c, "990103"),
        get(&mut c, "990103001"),
    );
    let within = |c: &mut hotline_core::DbConn, path: &str| {
        units::list(
            c,
            &units::UnitFilter {
                within_path: Some(path.to_owned()),
                ..Default::default()
            },
        )
        .expect("list")
    };
    let moving = within(&mut c, &street.path);
    assert!(moving.len() >= 3, "桂花坪街道 and its communities");

    let spec = |u: &units::Unit, parent: &units::Unit| units::UnitSpec {
        code: u.code.clone(),
        name: u.name.clone(),
        level: u.level,
        kind: u.kind,
        parent_id: Some(parent.id),
        division_code: u.division_code.clone(),
        email: u.email.clone(),
    };
    let (moved, created) =
        units::upsert(&mut c, &spec(&street, &a1), at(2026, 11, 23, 2, 0)).expect("move");
    assert!(!created);
    assert_eq!(
        (moved.id, moved.path.clone()),
        (street.id, format!("{}{}/", a1.path, street.id))
    );
    let a1_tree: BTreeSet<_> = units::subtree_ids(&mut c, &a1.path)
        .expect("subtree")
        .into_iter()
        .collect();
    let a2_tree: BTreeSet<_> = units::subtree_ids(&mut c, &a2.path)
        .expect("subtree")
        .into_iter()
        .collect();
    for u in &moving {
        assert!(
            a1_tree.contains(&u.id) && !a2_tree.contains(&u.id),
            "{} moved along",
            u.name
        );
    }
    drop(c);
    let all = all_units(db);
    let by_id: HashMap<_, _> = all.iter().map(|u| (u.id, u)).collect();
    for u in &all {
        if let Some(p) = u.parent_id {
            assert_eq!(
                u.path,
                format!("{}{}/", by_id[&p].path, u.id),
                "{} after the move",
                u.code
            );
        }
    }

    // A unit cannot be placed below itself.
    let mut c = db.get().expect("conn");
    let street = get(&mut c, "990103001");
    match units::upsert(&mut c, &spec(&a1, &street), at(2026, 11, 23, 2, 0)) {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "parent_code"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(units::count(&mut c).expect("count"), 185);
}
both_backends!(unit_moves_with_its_subtree, unit_moves_with_its_subtree);

async fn org_import_refuses_invalid_file(backend: Backend) {
    let t = TestDb::new(backend);
    let db = t.db();
    let r = import::org::import(db, ORG_INVALID_CSV).expect("import runs");
    // demo/ORG.md, "org-invalid.csv": lines 2–4 are valid, each later line breaks one rule.
    let found: Vec<(u64, &str)> = r
        .errors
        .iter()
        .map(|e: &LineError| (e.line, e.field.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (5, "level"),
            (6, "division_code"),
            (7, "parent_code"),
            (8, "code"),
            (9, "level"),
            (10, "name"),
            (11, "kind"),
            (12, "level"),
            (13, "division_code"),
        ],
        "{r}"
    );
    assert!(r.errors[0].message.contains("town"), "{}", r.errors[0]);
    assert!(r.errors[2].message.contains("990103"), "{}", r.errors[2]);
    assert!(r.errors[3].message.contains("line 4"), "{}", r.errors[3]);
    assert_eq!(r.created + r.updated, 0);
    assert_eq!(unit_count(db), 0, "nothing is written when a line is wrong");
}
both_backends!(
    org_import_refuses_invalid_file,
    org_import_refuses_invalid_file
);

// ---- categories ------------------------------------------------------------------------------

async fn categories_import_the_official_taxonomy(backend: Backend) {
    let t = TestDb::new(backend);
    let db = t.db();
    // What the file describes: every distinct path prefix is one category.
    let mut expected: BTreeSet<String> = BTreeSet::new();
    for line in TAXONOMY_CSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
    {
        let names: Vec<&str> = line
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        for depth in 1..=names.len() {
            expected.insert(names[..depth].join("/"));
        }
    }

    let r = import::categories::import(db, TAXONOMY_CSV).expect("import");
    assert!(r.is_ok(), "{r}");
    assert_eq!(r.lines, 517);
    assert_eq!(r.created, expected.len());
    let all = categories::list(&mut db.get().expect("conn")).expect("list");
    let stored: BTreeSet<String> = all.iter().map(|c| c.full_name.clone()).collect();
    assert_eq!(stored, expected);
    assert_eq!(
        all.iter().filter(|c| c.level == 1).count(),
        15,
        "15 first-level classes"
    );

    let by_id: HashMap<_, _> = all.iter().map(|c| (c.id, c)).collect();
    for c in &all {
        match c.parent_id {
            None => {
                assert_eq!(c.level, 1, "{}", c.full_name);
                assert_eq!(c.full_name, c.name);
            }
            Some(p) => {
                let parent = by_id
                    .get(&p)
                    .unwrap_or_else(|| panic!("parent of {}", c.full_name));
                assert_eq!(c.level, parent.level + 1, "{}", c.full_name);
                assert_eq!(c.full_name, format!("{}/{}", parent.full_name, c.name));
            }
        }
    }

    let again = import::categories::import(db, TAXONOMY_CSV).expect("re-import");
    assert!(again.is_ok(), "{again}");
    assert_eq!(again.created, 0);
    let count = categories::count(&mut db.get().expect("conn")).expect("count");
    assert_eq!(usize::try_from(count).expect("count"), expected.len());
}
both_backends!(
    categories_import_the_official_taxonomy,
    categories_import_the_official_taxonomy
);

async fn categories_refuse_a_level_below_an_empty_one(backend: Backend) {
    let t = TestDb::new(backend);
    let db = t.db();
    let file = "level1,level2,level3\n城乡建设,安全生产,事故处理\n城乡建设,,安全隐患\n";
    let r = import::categories::import(db, file).expect("import runs");
    let found: Vec<(u64, &str)> = r
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    assert_eq!(found, [(3, "level3")], "{r}");
    assert_eq!(
        categories::count(&mut db.get().expect("conn")).expect("count"),
        0,
        "nothing written"
    );
}
both_backends!(
    categories_refuse_a_level_below_an_empty_one,
    categories_refuse_a_level_below_an_empty_one
);

// ---- calendar --------------------------------------------------------------------------------

async fn calendar_loads_from_the_database(backend: Backend) {
    let t = TestDb::new(backend);
    let db = t.db();
    let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).expect("date");

    let mut empty = WorkCalendar::default();
    calendar::load_into(&mut db.get().expect("conn"), &mut empty).expect("load");
    assert!(empty.loaded_years().is_empty());
    assert!(
        empty.is_working_day(day(10, 1)).is_err(),
        "no year, no answer"
    );

    for _ in 0..2 {
        // Twice: a re-import replaces the year rather than failing on existing days.
        let r = import::calendar::import(db, common::CALENDAR_CSV).expect("import");
        assert!(r.is_ok(), "{r}");
    }
    let mut cal = WorkCalendar::default();
    calendar::load_into(&mut db.get().expect("conn"), &mut cal).expect("load");
    assert_eq!(cal.loaded_years(), [2026]);
    assert!(!cal.is_working_day(day(10, 1)).expect("2026"), "国庆节");
    assert!(
        cal.is_working_day(day(9, 20)).expect("2026"),
        "a Sunday worked for 国庆节"
    );
    assert!(
        !cal.is_working_day(day(9, 19)).expect("2026"),
        "an ordinary Saturday"
    );
    assert!(
        cal.is_working_day(day(11, 23)).expect("2026"),
        "an ordinary Monday"
    );
    assert_eq!(
        cal.entry(day(10, 1)).map(|e| e.name.as_str()),
        Some("国庆节")
    );
    assert!(
        cal.is_working_day(NaiveDate::from_ymd_opt(2027, 1, 4).expect("date"))
            .is_err()
    );
}
both_backends!(
    calendar_loads_from_the_database,
    calendar_loads_from_the_database
);

// ---- users -----------------------------------------------------------------------------------

fn a_unit(db: &Db) -> hotline_core::ids::UnitId {
    let r = import::org::import(db, common::ORG_CSV).expect("import");
    assert!(r.is_ok(), "{r}");
    common::unit_id(db, "990103")
}

fn new_user(
    c: &mut hotline_core::DbConn,
    name: &str,
    unit: hotline_core::ids::UnitId,
    now: DateTime<Utc>,
) -> Result<users::User, StoreError> {
    users::insert(
        c,
        &users::NewUser {
            username: name,
            display_name: "张三",
            role: Role::UnitHandler,
            unit_id: unit,
            password_hash: "$argon2id$not-a-real-hash",
            email: None,
        },
        now,
    )
}

async fn users_unique_and_locked_after_failures(backend: Backend) {
    let t = TestDb::new(backend);
    let db = t.db();
    let unit = a_unit(db);
    let now = at(2026, 11, 23, 2, 0);
    let mut c = db.get().expect("conn");

    let u = new_user(&mut c, "zhangsan", unit, now).expect("insert");
    assert_eq!(
        (u.role, u.unit_id, u.active, u.failed_logins),
        (Role::UnitHandler, unit, true, 0)
    );
    assert_eq!(u.created_at, now);
    let (found, hash) = users::by_username(&mut c, "zhangsan")
        .expect("query")
        .expect("found");
    assert_eq!(found, u);
    assert_eq!(hash, "$argon2id$not-a-real-hash");

    match new_user(&mut c, "zhangsan", unit, now) {
        Err(StoreError::AlreadyExists { field, .. }) => assert_eq!(field, "username"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(users::count(&mut c).expect("count"), 1);

    // Two failures, then a success: the count starts again.
    let lock_for = Duration::minutes(15);
    assert_eq!(
        users::record_failed_login(&mut c, u.id, 3, lock_for, now).expect("fail"),
        1
    );
    assert_eq!(
        users::record_failed_login(&mut c, u.id, 3, lock_for, now).expect("fail"),
        2
    );
    users::record_successful_login(&mut c, u.id).expect("success");
    assert_eq!(users::get(&mut c, u.id).expect("get").failed_logins, 0);

    for n in 1..=2 {
        assert_eq!(
            users::record_failed_login(&mut c, u.id, 3, lock_for, now).expect("fail"),
            n
        );
        assert_eq!(
            users::get(&mut c, u.id).expect("get").locked_until,
            None,
            "not locked after {n}"
        );
    }
    assert_eq!(
        users::record_failed_login(&mut c, u.id, 3, lock_for, now).expect("fail"),
        3
    );
    let locked = users::get(&mut c, u.id).expect("get");
    assert_eq!(locked.locked_until, Some(now + lock_for));

    users::record_successful_login(&mut c, u.id).expect("success");
    let back = users::get(&mut c, u.id).expect("get");
    assert_eq!((back.failed_logins, back.locked_until), (0, None));
}
both_backends!(
    users_unique_and_locked_after_failures,
    users_unique_and_locked_after_failures
);

// ---- sessions --------------------------------------------------------------------------------

async fn sessions_live_expire_and_revoke(backend: Backend) {
    let t = TestDb::new(backend);
    let db = t.db();
    let unit = a_unit(db);
    let now = at(2026, 11, 23, 2, 0);
    let mut c = db.get().expect("conn");
    let alice = new_user(&mut c, "alice", unit, now).expect("alice");
    let bob = new_user(&mut c, "bob", unit, now).expect("bob");
    let hour = Duration::hours(1);

    sessions::insert(
        &mut c,
        "h-alice-1",
        alice.id,
        "api",
        "csrf-1",
        now,
        now + hour,
    )
    .expect("insert");
    sessions::insert(
        &mut c,
        "h-alice-2",
        alice.id,
        "cookie",
        "csrf-2",
        now,
        now + hour,
    )
    .expect("insert");
    sessions::insert(
        &mut c,
        "h-alice-3",
        alice.id,
        "cookie",
        "csrf-3",
        now,
        now + hour,
    )
    .expect("insert");
    sessions::insert(&mut c, "h-bob", bob.id, "api", "csrf-b", now, now + hour).expect("insert");
    sessions::insert(
        &mut c,
        "h-old",
        alice.id,
        "api",
        "csrf-o",
        now - hour * 3,
        now - hour,
    )
    .expect("insert");

    let s = sessions::find_live(&mut c, "h-alice-1", now)
        .expect("query")
        .expect("live");
    assert_eq!(
        (s.user_id, s.kind.as_str(), s.csrf_token.as_str()),
        (alice.id, "api", "csrf-1")
    );
    assert_eq!(s.expires_at, now + hour);
    assert!(
        sessions::find_live(&mut c, "h-unknown", now)
            .expect("query")
            .is_none()
    );
    assert!(
        sessions::find_live(&mut c, "h-old", now)
            .expect("query")
            .is_none(),
        "expired"
    );
    assert!(
        sessions::find_live(&mut c, "h-alice-1", now + hour)
            .expect("query")
            .is_none(),
        "expires at expires_at"
    );

    assert!(sessions::revoke(&mut c, "h-alice-1", now).expect("revoke"));
    assert!(
        !sessions::revoke(&mut c, "h-alice-1", now).expect("revoke again"),
        "already revoked"
    );
    assert!(
        sessions::find_live(&mut c, "h-alice-1", now)
            .expect("query")
            .is_none()
    );

    // The live two and the expired one are unrevoked: all three are revoked, bob's stays.
    assert_eq!(
        sessions::revoke_all(&mut c, alice.id, now).expect("revoke all"),
        3
    );
    assert!(
        sessions::find_live(&mut c, "h-alice-2", now)
            .expect("query")
            .is_none()
    );
    assert!(
        sessions::find_live(&mut c, "h-alice-3", now)
            .expect("query")
            .is_none()
    );
    assert!(
        sessions::find_live(&mut c, "h-bob", now)
            .expect("query")
            .is_some(),
        "other users keep theirs"
    );
    assert_eq!(
        sessions::revoke_all(&mut c, alice.id, now).expect("revoke all again"),
        0
    );

    // Sessions that ended more than a day ago are purged; younger ones stay for the record.
    assert_eq!(sessions::purge_expired(&mut c, now).expect("purge"), 0);
    let later = now + chrono::Duration::hours(24) + chrono::Duration::minutes(30);
    assert_eq!(
        sessions::purge_expired(&mut c, later).expect("purge"),
        1,
        "only the session that ended an hour before now"
    );
}
both_backends!(
    sessions_live_expire_and_revoke,
    sessions_live_expire_and_revoke
);

// ---- migrations ------------------------------------------------------------------------------

fn migration_names(backend: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in &names {
        for f in ["up.sql", "down.sql"] {
            assert!(
                dir.join(n).join(f).is_file(),
                "{backend}/{n}/{f} is missing"
            );
        }
    }
    names
}

#[test]
fn migrations_have_the_same_names_on_both_backends() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

/// A database nobody has migrated yet (PostgreSQL: created here, dropped at the end).
struct Unmigrated {
    url: String,
    pg_name: Option<String>,
    _dir: tempfile::TempDir,
}

impl Unmigrated {
    fn new(backend: Backend) -> Self {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => Self {
                url: dir.path().join("fresh.db").to_string_lossy().into_owned(),
                pg_name: None,
                _dir: dir,
            },
            Backend::Postgres => {
                let admin = common::pg_admin_url();
                let name = format!("hotline_t_{}", uuid::Uuid::new_v4().simple());
                let mut c = diesel::PgConnection::establish(&admin).expect("PostgreSQL");
                c.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create");
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                Self {
                    url: format!("{base}/{name}"),
                    pg_name: Some(name),
                    _dir: dir,
                }
            }
        }
    }
}

impl Drop for Unmigrated {
    fn drop(&mut self) {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        if let Some(name) = &self.pg_name
            && let Ok(mut c) = diesel::PgConnection::establish(&common::pg_admin_url())
        {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

async fn ready_only_after_migrate(backend: Backend) {
    let fresh = Unmigrated::new(backend);
    {
        let db = Db::connect(&DbUrl::parse(&fresh.url), 2).expect("connect");
        assert!(
            !db.is_ready().expect("is_ready"),
            "pending migrations: not ready"
        );
        let applied = db.migrate().expect("migrate");
        assert_eq!(applied.len(), migration_names("sqlite").len());
        assert!(db.is_ready().expect("is_ready"));
        assert!(
            db.migrate().expect("migrate again").is_empty(),
            "nothing left to apply"
        );
    }
    let t = TestDb::new(backend);
    assert!(t.db().is_ready().expect("is_ready"));
}
both_backends!(ready_only_after_migrate, ready_only_after_migrate);
