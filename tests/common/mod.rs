#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Test helpers: a fresh database per test on either backend (dropped afterwards), the demo org
//! tree and a standard set of staff, and `spawn_app`, which starts the real binary on a free port.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use hotline::config::Settings;
use hotline_core::domain::Role;
use hotline_core::store::units;
use hotline_core::workflow::Hotline;
use hotline_core::{Db, DbUrl};
use serde_json::Value;

pub const ORG_CSV: &str = include_str!("../../demo/org.csv");
pub const CALENDAR_CSV: &str = include_str!("../../demo/calendar/cn-2026.csv");
pub const TAXONOMY_CSV: &str = include_str!("../../demo/appeals/taxonomy.csv");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The server a PostgreSQL test creates its database on (`HOTLINE_TEST_PG`, default the local
/// `test` database with trust auth).
pub fn pg_admin_url() -> String {
    std::env::var("HOTLINE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn random_name() -> String {
    format!("hotline_t_{}", uuid::Uuid::new_v4().simple())
}

/// A fresh, migrated database: a SQLite file in a temporary dir, or a PostgreSQL database that
/// is dropped when this value is.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
    db: Option<Db>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg_name) = match backend {
            Backend::Sqlite => (
                dir.path().join("hotline.db").to_string_lossy().into_owned(),
                None,
            ),
            Backend::Postgres => {
                let admin = pg_admin_url();
                let name = random_name();
                let mut c = diesel::PgConnection::establish(&admin).unwrap_or_else(|e| {
                    panic!("PostgreSQL at {admin} is needed for the _pg tests (start it, or set HOTLINE_TEST_PG): {e}")
                });
                c.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(b, _)| b)
                    .to_owned();
                (format!("{base}/{name}"), Some(name))
            }
        };
        let db = Db::connect(&DbUrl::parse(&url), 8).expect("connect");
        db.migrate().expect("migrate");
        Self {
            backend,
            url,
            dir,
            pg_name,
            db: Some(db),
        }
    }

    pub fn db(&self) -> &Db {
        self.db.as_ref().expect("open")
    }

    /// Settings a process of this test uses (data dir and database of this test).
    pub fn settings(&self) -> Settings {
        Settings {
            data_dir: self.dir.path().to_path_buf(),
            database_url: self.url.clone(),
            pool_size: 8,
            ..Settings::default()
        }
    }

    /// The environment a child process needs to open this database.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![("DATABASE_URL".into(), self.url.clone())]
    }

    /// Closes this process's connections (before another process writes to a SQLite file).
    pub fn close(&mut self) {
        self.db = None;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.db = None;
        if let Some(name) = &self.pg_name
            && let Ok(mut c) = diesel::PgConnection::establish(&pg_admin_url())
        {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Runs an async test body once per backend: `both_backends!(name, body_fn)` makes
/// `name::sqlite` and `name::pg`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body($crate::common::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn pg() {
                super::$body($crate::common::Backend::Postgres).await
            }
        }
    };
}

/// The staff every seeded test database has: (username, role, unit code).
pub const STAFF: &[(&str, Role, &str)] = &[
    ("admin", Role::Admin, "990000"),
    ("agent", Role::Agent, "990100-12345"),
    ("dispatcher", Role::Dispatcher, "990100-12345"),
    ("leader", Role::Leader, "990100"),
    ("a2", Role::UnitHandler, "990103"),
    ("a2admin", Role::UnitAdmin, "990103"),
    ("a2street", Role::UnitHandler, "990103001"),
    ("a1", Role::UnitHandler, "990102"),
    ("zjj", Role::UnitHandler, "990100-ZJJ"),
];

/// Every seeded user's password (long enough for the policy, unique per user).
pub fn password_of(username: &str) -> String {
    format!("{username}-test-password")
}

/// Imports the demo org tree, the official category tree and the 2026 calendar and creates
/// [`STAFF`].
pub fn seed(db: &Db) {
    let r = hotline::import::org::import(db, ORG_CSV).expect("org import");
    assert!(r.is_ok(), "{r}");
    let r = hotline::import::categories::import(db, TAXONOMY_CSV).expect("category import");
    assert!(r.is_ok(), "{r}");
    let r = hotline::import::calendar::import(db, CALENDAR_CSV).expect("calendar import");
    assert!(r.is_ok(), "{r}");
    for (name, role, code) in STAFF {
        let unit = {
            let mut c = db.get().expect("conn");
            units::by_code(&mut c, code)
                .expect("unit")
                .expect("unit exists")
        };
        let spec =
            hotline::accounts::AccountSpec::new(name, name, *role, unit.id, &password_of(name))
                .expect("valid account");
        db.write_blocking(|c| hotline::accounts::insert(c, &spec))
            .expect("insert user");
    }
}

/// The centre's two knowledge reviewers (a reviewer's own text needs the other).
pub fn add_reviewers(db: &hotline_core::db::Db) {
    let unit = {
        let mut c = db.get().expect("reviewer");
        hotline_core::store::units::by_code(&mut c, "990100-12345")
            .expect("reviewer")
            .expect("reviewer")
    };
    for name in ["reviewer", "reviewer2"] {
        let spec = hotline::accounts::AccountSpec::new(
            name,
            name,
            hotline_core::domain::Role::Reviewer,
            unit.id,
            &password_of(name),
        )
        .expect("reviewer");
        db.write_blocking(|c| hotline::accounts::insert(c, &spec))
            .expect("reviewer");
    }
}

pub fn unit_id(db: &Db, code: &str) -> hotline_core::ids::UnitId {
    let mut c = db.get().expect("conn");
    units::by_code(&mut c, code)
        .expect("query")
        .expect("unit")
        .id
}

/// A `Hotline` on a test database, with a manual clock, for in-process tests.
pub fn hotline(db: &Db, now: chrono::DateTime<chrono::Utc>) -> Hotline {
    let h = Hotline {
        now: hotline_core::workflow::Now::manual(now),
        db: db.clone(),
        time: hotline_core::clock::TimeRules::new(hotline_core::clock::TimeKeeper::empty()),
        numbers: std::sync::Arc::new(hotline_core::numbers::NumberAllocator::new(10)),
        bus: hotline_core::bus::EventBus::new(1024),
        token_key: hotline_core::auth::token::TokenKey::new(
            b"test key of at least thirty-two bytes",
        ),
        hooks: hotline_core::hooks::Hooks::default(),
    };
    hotline::server::reload_rules(&h).expect("rules");
    h
}

// ---- the real binary ------------------------------------------------------------------------

/// The binary under test: Cargo's, or `HOTLINE_TEST_BIN` when set (a target directory shared by
/// several worktrees holds only the last one built at `target/debug/hotline`).
pub fn binary() -> PathBuf {
    std::env::var_os("HOTLINE_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_hotline")))
}

/// A running `hotline` process on a free port.
pub struct TestApp {
    pub base: String,
    pub db: TestDb,
    child: Child,
    http: reqwest::Client,
}

impl TestApp {
    /// Wraps a server started with [`start`].
    pub fn new(base: String, db: TestDb, child: Child) -> Self {
        Self {
            base,
            db,
            child,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for the server to exit; its status if it did.
    pub fn wait_exit(&mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs in through the API and returns a client for that user.
    pub async fn login(&self, username: &str) -> Api {
        self.login_with(username, &password_of(username)).await
    }

    pub async fn login_with(&self, username: &str, password: &str) -> Api {
        let res = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .expect("login request");
        let status = res.status();
        let body: Value = res.json().await.expect("login json");
        assert_eq!(status, 200, "login {username}: {body}");
        Api {
            base: self.base.clone(),
            http: self.http.clone(),
            token: Some(body["token"].as_str().expect("token").to_owned()),
        }
    }

    pub fn anonymous(&self) -> Api {
        Api {
            base: self.base.clone(),
            http: self.http.clone(),
            token: None,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `hotline ARGS… --listen 127.0.0.1:0 --data-dir DIR` on the test database and waits for
/// the address it prints.
pub fn start(db: &TestDb, command: &[&str], extra_env: &[(&str, &str)]) -> (Child, String) {
    start_in(db, db.dir.path(), command, extra_env)
}

/// [`start`] with another data dir: a second node on the same database (each node keeps its
/// own search index).
pub fn start_in(
    db: &TestDb,
    data_dir: &std::path::Path,
    command: &[&str],
    extra_env: &[(&str, &str)],
) -> (Child, String) {
    let mut cmd = Command::new(binary());
    cmd.args(command)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .envs(db.env())
        .env(
            "RUST_LOG",
            std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(if std::env::var("TEST_LOG").is_ok() {
            Stdio::inherit()
        } else {
            Stdio::null()
        });
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start hotline");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut sent = false;
        while let Some(Ok(line)) = lines.next() {
            if !sent && let Some(addr) = line.strip_prefix("hotline listening on ") {
                let _ = tx.send(addr.trim().to_owned());
                sent = true;
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("hotline did not start listening");
    (child, base)
}

/// A seeded database and the real binary serving it.
pub async fn spawn_app(backend: Backend) -> TestApp {
    let mut db = TestDb::new(backend);
    seed(db.db());
    db.close();
    let (child, base) = start(&db, &["serve"], &[]);
    TestApp::new(base, db, child)
}

/// [`spawn_app`] with the demo's area boundaries imported (the heat maps and the areas of
/// appeals located by their position).
pub async fn spawn_with_areas(backend: Backend) -> TestApp {
    let mut db = TestDb::new(backend);
    seed(db.db());
    let r = hotline::import::areas::import(db.db(), hotline::demo::AREAS_GEOJSON).expect("areas");
    assert!(r.is_ok(), "{r}");
    db.close();
    let (child, base) = start(&db, &["serve"], &[]);
    TestApp::new(base, db, child)
}

/// [`spawn_app`] with the knowledge base's reviewers and the demo's published answers.
pub async fn spawn_with_answers(backend: Backend) -> TestApp {
    let mut db = TestDb::new(backend);
    seed(db.db());
    add_reviewers(db.db());
    hotline::knowledge_base::seed_demo(db.db()).expect("demo articles");
    db.close();
    let (child, base) = start(&db, &["serve"], &[]);
    TestApp::new(base, db, child)
}

/// A signed-in API client.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
}

impl Api {
    fn auth(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let res = self
            .auth(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await
            .expect("GET");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, body).await
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .auth(self.http.request(method, format!("{}{path}", self.base)))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> (u16, Value) {
        let res = self
            .auth(self.http.request(method, format!("{}{path}", self.base)))
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// The id of the unit with this code.
    pub async fn unit(&self, code: &str) -> String {
        let (s, units) = self.get("/api/v1/org-units").await;
        assert_eq!(s, 200, "{units}");
        units
            .as_array()
            .expect("list")
            .iter()
            .find(|u| u["code"] == code)
            .unwrap_or_else(|| panic!("no unit {code}"))["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Registers a ticket and returns its id.
    pub async fn new_ticket(&self, appeal_type: &str) -> String {
        let (s, t) = self
            .post(
                "/api/v1/tickets",
                serde_json::json!({
                    "appeal_type": appeal_type,
                    "title": "小区门口路灯不亮",
                    "detail": "A2区桂花坪街道某小区门口路灯连续一周不亮，晚上出行不便。",
                    "citizen_phone": "13800138000"
                }),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        t["id"].as_str().expect("id").to_owned()
    }

    /// Posts a transition and asserts it was accepted; returns the ticket.
    pub async fn act(&self, id: &str, action: &str, body: Value) -> Value {
        let (s, r) = self
            .post(&format!("/api/v1/tickets/{id}/{action}"), body)
            .await;
        assert_eq!(s, 200, "{action}: {r}");
        r["ticket"].clone()
    }
}

pub fn map_of(v: &Value) -> HashMap<String, Value> {
    v.as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// A registered app or mini-program: what `hotline admin client create` printed.
#[derive(Debug, Clone)]
pub struct AppClient {
    pub id: String,
    pub secret: String,
}

/// Registers a client with the real CLI, as an operator would.
pub fn register_client(db: &TestDb, name: &str, channel: &str) -> AppClient {
    let out = std::process::Command::new(binary())
        .args([
            "admin",
            "client",
            "create",
            name,
            "--channel",
            channel,
            "--data-dir",
        ])
        .arg(db.dir.path())
        .envs(db.env())
        .env("RUST_LOG", "error")
        .output()
        .expect("client create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let value = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {text}"))
            .trim()
            .to_owned()
    };
    AppClient {
        id: value("client_id:"),
        secret: value("secret:"),
    }
}
