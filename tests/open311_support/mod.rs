#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! A GeoReport v2 client for the Open311 tests: form posts, answers read as JSON or with a real
//! XML parser, keys issued through the real CLI.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use chrono::Utc;
use serde_json::Value;

use crate::common::{Api, TestApp, binary};

/// Runs `hotline admin open311-key ACTION NAME` on the app's database; what it printed.
pub fn open311_key(app: &TestApp, action: &str, name: &str) -> String {
    let out = Command::new(binary())
        .args(["admin", "open311-key", action, name, "--data-dir"])
        .arg(app.db.dir.path())
        .envs(app.db.env())
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .output()
        .expect("run hotline");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A new key: the last word of the last line `open311-key create` prints.
pub fn new_key(app: &TestApp, name: &str) -> String {
    let out = open311_key(app, "create", name);
    let last_line = out.lines().last().expect("output");
    last_line
        .split_whitespace()
        .last()
        .expect("a word")
        .to_owned()
}

pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    pub replayed: bool,
}

impl Answer {
    pub fn json(&self) -> Value {
        assert!(
            self.content_type.starts_with("application/json"),
            "{}",
            self.content_type
        );
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub fn xml(&self) -> roxmltree::Document<'_> {
        assert!(
            self.content_type.starts_with("text/xml"),
            "{}",
            self.content_type
        );
        assert!(
            self.body
                .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"),
            "{}",
            self.body
        );
        roxmltree::Document::parse(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The spec's error body, in either format: (code, description).
    pub fn error(&self, xml: bool) -> (u64, String) {
        if xml {
            let doc = self.xml();
            let root = doc.root_element();
            assert_eq!(root.tag_name().name(), "errors", "{}", self.body);
            let e = child(root, "error");
            (
                text(e, "code").parse().expect("code"),
                text(e, "description"),
            )
        } else {
            let v = self.json();
            let e = &v.as_array().expect("an array of errors")[0];
            (
                e["code"].as_u64().expect("code"),
                e["description"].as_str().expect("description").to_owned(),
            )
        }
    }
}

pub fn child<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> roxmltree::Node<'a, 'a> {
    node.children()
        .find(|c| c.has_tag_name(name))
        .unwrap_or_else(|| panic!("no <{name}> in <{}>", node.tag_name().name()))
}

pub fn text(node: roxmltree::Node<'_, '_>, name: &str) -> String {
    child(node, name).text().unwrap_or_default().to_owned()
}

/// The repeated items of an XML list as maps of their leaf elements.
pub fn items(doc: &roxmltree::Document<'_>, item: &str) -> Vec<BTreeMap<String, String>> {
    doc.root_element()
        .children()
        .filter(|n| n.has_tag_name(item))
        .map(|n| {
            n.children()
                .filter(roxmltree::Node::is_element)
                .map(|c| {
                    (
                        c.tag_name().name().to_owned(),
                        c.text().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .collect()
}

pub async fn send(req: reqwest::RequestBuilder) -> Answer {
    let res = req.send().await.expect("request");
    let header = |n: &str| {
        res.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (content_type, replayed) = (header("content-type"), header("idempotent-replayed"));
    Answer {
        status: res.status().as_u16(),
        content_type,
        replayed: replayed == "true",
        body: res.text().await.expect("body"),
    }
}

pub async fn get(app: &TestApp, path: &str) -> Answer {
    send(app.http().get(app.url(&format!("/open311/v2/{path}")))).await
}

pub fn form(fields: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

pub async fn post(
    app: &TestApp,
    format: &str,
    fields: &[(&str, &str)],
    key: Option<&str>,
) -> Answer {
    let mut req = app
        .http()
        .post(app.url(&format!("/open311/v2/requests.{format}")))
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(form(fields));
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    send(req).await
}

/// The ids (ticket numbers) a GET requests answer lists, in either format.
pub async fn listed(app: &TestApp, format: &str, query: &str) -> Vec<String> {
    let a = get(app, &format!("requests.{format}?{query}")).await;
    assert_eq!(a.status, 200, "{query}: {}", a.body);
    if format == "xml" {
        items(&a.xml(), "request")
            .into_iter()
            .map(|r| r["service_request_id"].clone())
            .collect()
    } else {
        a.json()
            .as_array()
            .expect("array")
            .iter()
            .map(|r| {
                r["service_request_id"]
                    .as_u64()
                    .expect("number")
                    .to_string()
            })
            .collect()
    }
}

/// The staff view of the ticket with this number.
pub async fn staff_ticket(staff: &Api, number: &str) -> Value {
    let (s, page) = staff.get(&format!("/api/v1/tickets?number={number}")).await;
    assert_eq!(s, 200, "{page}");
    page["items"][0].clone()
}

pub fn w3c(t: chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
