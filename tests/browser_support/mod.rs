//! The real-browser tests' harness: Debian's headless Chromium driven through chromedriver
//! (WebDriver) with fantoccini. One chromedriver serves several browser sessions, each with its
//! own profile (its own cookies: two people signed in at once).
#![allow(dead_code)] // each test file uses part of it

use std::future::Future;
use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use serde_json::{Value, json};

use crate::common::TestApp;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, stopped when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
    pub profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

pub async fn start_driver() -> Driver {
    for bin in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: apt-get install -y chromium chromium-driver (see .ci/run)"
        );
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let driver = Driver {
        child,
        url: url.clone(),
        profile: tempfile::tempdir().expect("profile dir"),
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(res) = http.get(format!("{url}/status")).send().await
            && let Ok(v) = res.json::<Value>().await
            && v["value"]["ready"] == true
        {
            return driver;
        }
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The screen a browser session emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// 390 × 844, touch: a citizen's phone.
    Phone,
    /// 1366 × 900: a seat in a hotline centre.
    Desktop,
}

/// A headless Chromium with a phone's screen, in the driver's profile.
pub async fn browser(driver: &Driver) -> Client {
    session(driver, driver.profile.path(), Screen::Phone).await
}

/// A headless Chromium session with its own profile directory (its own cookies).
pub async fn session(driver: &Driver, profile: &std::path::Path, screen: Screen) -> Client {
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        // Without these, Chromium's own connections are refused by the closed network,
        // many at a time.
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--disable-quic".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut options = json!({ "binary": CHROMIUM });
    match screen {
        Screen::Phone => {
            options["mobileEmulation"] = json!({
                "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 2.0, "touch": true }
            });
        }
        Screen::Desktop => args.push("--window-size=1366,900".into()),
    }
    options["args"] = json!(args);
    let caps = json!({ "browserName": "chrome", "goog:chromeOptions": options });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session with Chromium")
}

/// Runs `body` with a browser, and always ends the browser session, also when `body` fails.
pub async fn with_browser<F, Fut>(app: &TestApp, body: F)
where
    F: FnOnce(Client, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let driver = start_driver().await;
    let b = browser(&driver).await;
    let result = AssertUnwindSafe(body(b.clone(), app.base.clone()))
        .catch_unwind()
        .await;
    let _ = b.close().await;
    drop(driver);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Runs `body` with `n` desktop browser sessions, each with its own profile, and always ends
/// them all, also when `body` fails.
pub async fn with_browsers<F, Fut>(app: &TestApp, n: usize, body: F)
where
    F: FnOnce(Vec<Client>, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let driver = start_driver().await;
    let profiles: Vec<tempfile::TempDir> = (0..n)
        .map(|_| tempfile::tempdir().expect("profile dir"))
        .collect();
    let mut clients = Vec::new();
    for p in &profiles {
        clients.push(session(&driver, p.path(), Screen::Desktop).await);
    }
    let result = AssertUnwindSafe(body(clients.clone(), app.base.clone()))
        .catch_unwind()
        .await;
    for c in clients {
        let _ = c.close().await;
    }
    drop(driver);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Signs in through the login form and waits for the page it leads to.
pub async fn sign_in(b: &Client, base: &str, username: &str) {
    b.goto(&format!("{base}/login"))
        .await
        .expect("the login page");
    fill(b, "#username", username).await;
    fill(b, "#password", &crate::common::password_of(username)).await;
    click(b, "form[action='/login'] button[type=submit]").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while b.current_url().await.is_ok_and(|u| u.path() == "/login") {
        assert!(Instant::now() < deadline, "{username} could not sign in");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `condition` (a JavaScript expression) is true on the page, or fails naming `what`.
pub async fn wait_until(b: &Client, condition: &str, what: &str) {
    let script = format!("return !!({condition});");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if b.execute(&script, vec![]).await.ok() == Some(Value::Bool(true)) {
            return;
        }
        if Instant::now() > deadline {
            let shown = page_text(b).await;
            panic!("never true: {what} ({condition}); the page shows:\n{shown}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn text(b: &Client, css: &str) -> String {
    b.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .expect("text")
}

pub async fn fill(b: &Client, css: &str, value: &str) {
    let e = b.find(Locator::Css(css)).await.expect(css);
    e.clear().await.expect("clear");
    e.send_keys(value).await.expect("type");
}

pub async fn click(b: &Client, css: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

pub async fn js(b: &Client, script: &str) -> Value {
    b.execute(script, vec![]).await.expect(script)
}

/// True when no script of a payload ran on the page shown (and a late `onerror` had its chance).
pub async fn nothing_ran(b: &Client) -> bool {
    tokio::time::sleep(Duration::from_millis(300)).await;
    js(b, "return window.__xss === undefined").await == Value::Bool(true)
}

/// The visible text of the page.
pub async fn page_text(b: &Client) -> String {
    js(b, "return document.body.innerText")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub async fn wait_for_path(b: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if b.current_url().await.is_ok_and(|u| u.path() == path) {
            return;
        }
        assert!(Instant::now() < deadline, "never reached {path}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
