#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The command line as an operator uses it: the demo, imports, accounts, rebuild.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{Backend, TestDb, binary, start};
use hotline_core::{Db, DbUrl};
use serde_json::Value;

fn run(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .arg("--data-dir")
        .arg(db.dir.path())
        .envs(db.env())
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run hotline");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn counts(db: &TestDb) -> (i64, i64, i64, i64) {
    let db = Db::connect(&DbUrl::parse(&db.url), 2).expect("connect");
    let mut c = db.get().expect("conn");
    let tickets: i64 = hotline_core::store::tickets::count_by_status(&mut c)
        .expect("count")
        .iter()
        .map(|(_, n)| n)
        .sum();
    (
        tickets,
        hotline_core::store::users::count(&mut c).expect("users"),
        hotline_core::store::units::count(&mut c).expect("units"),
        hotline_core::store::categories::count(&mut c).expect("categories"),
    )
}

async fn demo_twice(backend: Backend) {
    let mut db = TestDb::new(backend);
    db.close();
    let (mut child, base) = start(&db, &["demo"], &[]);
    let http = reqwest::Client::new();
    for path in ["/healthz", "/readyz", "/metrics", "/api/openapi.json"] {
        let res = http.get(format!("{base}{path}")).send().await.expect(path);
        assert_eq!(res.status(), 200, "{path}");
    }
    let doc: Value = http
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .expect("doc")
        .json()
        .await
        .expect("json");
    assert!(doc["paths"].as_object().expect("paths").len() >= 15);
    // The printed logins work.
    let logins =
        std::fs::read_to_string(db.dir.path().join("demo-logins.txt")).expect("logins file");
    let password = logins
        .lines()
        .find_map(|l| l.strip_prefix("dispatcher\t"))
        .expect("dispatcher login");
    let res = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "dispatcher", "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200);
    let token = res.json::<Value>().await.expect("json")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let statuses: Value = http
        .get(format!("{base}/api/v1/tickets?status=received,dispatched,handling,returned,suspended,replied,visited,closed,merged,withdrawn&limit=200"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(statuses["items"].as_array().expect("items").len(), 200);
    // The demo's knowledge base is published and searchable.
    let articles: Value = http
        .get(format!("{base}/api/v1/knowledge/articles?limit=500"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("articles")
        .json()
        .await
        .expect("json");
    assert_eq!(articles.as_array().expect("articles").len(), 310);
    let _ = child.kill();
    let _ = child.wait();
    let first = counts(&db);
    assert_eq!(first.0, 300, "demo tickets");
    assert_eq!(first.2, 185, "demo units");
    // Every state of the loop is there.
    {
        let d = Db::connect(&DbUrl::parse(&db.url), 2).expect("connect");
        let mut c = d.get().expect("conn");
        let by_status = hotline_core::store::tickets::count_by_status(&mut c).expect("count");
        for s in [
            "received",
            "dispatched",
            "handling",
            "returned",
            "suspended",
            "replied",
            "visited",
            "closed",
            "merged",
            "withdrawn",
        ] {
            assert!(
                by_status.iter().any(|(x, n)| x == s && *n > 0),
                "no demo ticket is {s}: {by_status:?}"
            );
        }
    }
    // A second start adds nothing.
    let (mut child, _) = start(&db, &["demo"], &[]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(counts(&db), first);
    // Every stored row is what its events replay to.
    let out = run(&db, &["rebuild"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("300 tickets replayed, 0 differed"),
        "{}",
        text(&out)
    );
}

both_backends!(demo_starts_twice_without_duplicates, demo_twice);

async fn imports_and_accounts(backend: Backend) {
    let mut db = TestDb::new(backend);
    db.close();
    let dir = std::env::current_dir().expect("cwd");
    let path = |p: &str| dir.join(p).to_string_lossy().into_owned();

    let bad = run(&db, &["import", "org", &path("demo/org-invalid.csv")], None);
    assert!(!bad.status.success());
    let msg = text(&bad);
    for expected in [
        "line 5, field `level`",
        "line 6, field `division_code`",
        "line 7, field `parent_code`",
        "line 8, field `code`",
        "line 9, field `level`",
        "line 10, field `name`",
        "line 11, field `kind`",
        "line 12, field `level`",
        "line 13, field `division_code`",
        "nothing imported",
    ] {
        assert!(msg.contains(expected), "{expected} missing from:\n{msg}");
    }
    assert_eq!(counts(&db).2, 0, "a file with errors imports nothing");

    let ok = run(&db, &["import", "org", &path("demo/org.csv")], None);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("185 created"), "{}", text(&ok));
    let again = run(&db, &["import", "org", &path("demo/org.csv")], None);
    assert!(
        text(&again).contains("0 created, 185 updated"),
        "{}",
        text(&again)
    );
    assert_eq!(counts(&db).2, 185);

    let cats = run(
        &db,
        &["import", "categories", &path("demo/appeals/taxonomy.csv")],
        None,
    );
    assert!(cats.status.success(), "{}", text(&cats));
    let n = counts(&db).3;
    let cats = run(
        &db,
        &["import", "categories", &path("demo/appeals/taxonomy.csv")],
        None,
    );
    assert!(
        text(&cats).contains("0 categories created"),
        "{}",
        text(&cats)
    );
    assert_eq!(counts(&db).3, n);

    let cal = run(
        &db,
        &["import", "calendar", &path("demo/calendar/cn-2026.csv")],
        None,
    );
    assert!(
        text(&cal).contains("calendar of 2026 loaded"),
        "{}",
        text(&cal)
    );

    let user = run(
        &db,
        &[
            "admin",
            "create-user",
            "--name",
            "wang.agent",
            "--role",
            "agent",
            "--unit",
            "990100-12345",
            "--password-stdin",
        ],
        Some("a-good-long-password\n"),
    );
    assert!(user.status.success(), "{}", text(&user));
    let dup = run(
        &db,
        &[
            "admin",
            "create-user",
            "--name",
            "wang.agent",
            "--role",
            "agent",
            "--unit",
            "990100-12345",
            "--password-stdin",
        ],
        Some("a-good-long-password\n"),
    );
    assert!(
        !dup.status.success() && text(&dup).contains("already exists"),
        "{}",
        text(&dup)
    );
    let short = run(
        &db,
        &[
            "admin",
            "create-user",
            "--name",
            "li",
            "--role",
            "unit_handler",
            "--unit",
            "990103",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert!(
        !short.status.success() && text(&short).contains("password"),
        "{}",
        text(&short)
    );
    let misplaced = run(
        &db,
        &[
            "admin",
            "create-user",
            "--name",
            "li",
            "--role",
            "agent",
            "--unit",
            "990103",
            "--password-stdin",
        ],
        Some("a-good-long-password\n"),
    );
    assert!(
        !misplaced.status.success() && text(&misplaced).contains("12345 centre"),
        "{}",
        text(&misplaced)
    );

    // The new account signs in on a running server.
    let (mut child, base) = start(&db, &["serve"], &[]);
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "wang.agent", "password": "a-good-long-password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200);
    let _ = child.kill();
    let _ = child.wait();

    let migrate = run(&db, &["migrate"], None);
    assert!(
        migrate.status.success() && text(&migrate).contains("is migrated"),
        "{}",
        text(&migrate)
    );
}

both_backends!(imports_and_accounts_from_the_cli, imports_and_accounts);

async fn json_logs_and_sigterm(backend: Backend) {
    let mut db = TestDb::new(backend);
    common::seed(db.db());
    db.close();
    let mut child = Command::new(binary())
        .args([
            "--log-format",
            "json",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(db.dir.path())
        .envs(db.env())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let base = loop {
        let line = lines.next().expect("a line").expect("utf-8");
        if let Some(addr) = line.strip_prefix("hotline listening on ") {
            break addr.to_owned();
        }
    };
    let res = reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 401);
    let request_id = res.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("exit");
    assert!(
        out.status.success(),
        "SIGTERM ends the server cleanly: {:?}",
        out.status
    );
    let log = String::from_utf8_lossy(&out.stderr);
    let records: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    assert!(
        records.iter().any(|r| r.to_string().contains(&request_id)),
        "the request's log lines carry its id"
    );
    assert!(
        records.iter().any(|r| r["message"] == "hotline stopped"),
        "{log}"
    );
}

both_backends!(json_logs_and_graceful_shutdown, json_logs_and_sigterm);

/// The file sets values, the environment overrides the file, flags override both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_file_environment_and_flags() {
    let mut db = TestDb::new(Backend::Sqlite);
    db.close();
    let file = db.dir.path().join("hotline.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:1\"\nmetrics_token = \"from-the-file\"\nsession_hours = 3\n",
    )
    .expect("config");
    let (mut child, base) = start(
        &db,
        &["--config", file.to_str().expect("path"), "serve"],
        &[("HOTLINE_METRICS_TOKEN", "from-the-environment")],
    );
    // The flag's port 0 won over the file's port 1; the environment's token won over the file's.
    assert!(!base.ends_with(":1"), "{base}");
    let http = reqwest::Client::new();
    let with = |token: &'static str| {
        http.get(format!("{base}/metrics"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(with("from-the-file").await.expect("metrics").status(), 401);
    assert_eq!(
        with("from-the-environment")
            .await
            .expect("metrics")
            .status(),
        200
    );
    assert_eq!(
        http.get(format!("{base}/metrics"))
            .send()
            .await
            .expect("metrics")
            .status(),
        401
    );
    let _ = child.kill();
    let _ = child.wait();
    // A file with an unknown key is refused, naming it.
    std::fs::write(&file, "listen_port = 8080\n").expect("config");
    let out = run(
        &db,
        &["--config", file.to_str().expect("path"), "migrate"],
        None,
    );
    assert!(
        !out.status.success() && text(&out).contains("listen_port"),
        "{}",
        text(&out)
    );
}

/// Variables that share the prefix but are not settings do not stop the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_hotline_variables_are_not_settings() {
    let mut db = TestDb::new(Backend::Sqlite);
    db.close();
    let mut cmd = Command::new(binary());
    cmd.args(["migrate", "--data-dir"])
        .arg(db.dir.path())
        .envs(db.env());
    cmd.env("HOTLINE_SOMETHING_ELSE", "x")
        .env("HOTLINE_POOL_SIZE", "3");
    let out = cmd.output().expect("run");
    assert!(out.status.success(), "{}", text(&out));
    let bad = Command::new(binary())
        .args(["migrate", "--data-dir"])
        .arg(db.dir.path())
        .envs(db.env())
        .env("HOTLINE_POOL_SIZE", "many")
        .output()
        .expect("run");
    assert!(
        !bad.status.success() && text(&bad).contains("POOL_SIZE"),
        "{}",
        text(&bad)
    );
}
