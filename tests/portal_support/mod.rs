#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! A citizen's browser for the portal tests (`portal.rs`): multipart appeals with a photo, forms
//! sent with `Origin`, and readers of the receipt.
#![allow(dead_code)]

use serde_json::Value;

use crate::common::{Api, TestApp};
use crate::pages_support::hidden;

pub const PHOTO: &[u8] = include_bytes!("../fixtures/street-light.jpg");

/// A citizen's browser: sends `Origin` like a browser does, keeps no cookies unless told, shows
/// the redirects.
pub struct Citizen {
    pub base: String,
    pub origin: String,
    pub http: reqwest::Client,
}

pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Citizen {
    pub fn new(app: &TestApp) -> Self {
        Self {
            base: app.base.clone(),
            origin: app.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    /// The same browser on a page of another site.
    pub fn elsewhere(&self) -> Self {
        Self {
            base: self.base.clone(),
            origin: "https://evil.example".into(),
            http: self.http.clone(),
        }
    }

    pub async fn read(res: reqwest::Response) -> Page {
        Page {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: res.text().await.expect("body"),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::read(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Self::read(
            self.http
                .post(format!("{}{path}", self.base))
                .header("Origin", &self.origin)
                .form(form)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    /// Posts the appeal form as the page does: multipart, with the photos as files.
    pub async fn post_appeal(&self, fields: &[(&str, &str)], photos: &[&[u8]]) -> Page {
        let boundary = "----portal-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        for (i, p) in photos.iter().enumerate() {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"photo{i}.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").as_bytes());
            body.extend_from_slice(p);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        Self::read(
            self.http
                .post(format!("{}/portal/appeal", self.base))
                .header("Origin", &self.origin)
                .header(
                    "Content-Type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    /// Opens the appeal form and returns its idempotency key.
    pub async fn form_key(&self) -> String {
        let p = self.get("/portal/appeal").await;
        assert_eq!(p.status, 200, "{}", p.body);
        hidden(&p.body, "form_key")
    }

    /// Lodges an appeal through the form and returns (number, code).
    pub async fn lodge(&self, title: &str, photos: &[&[u8]]) -> (String, String) {
        let key = self.form_key().await;
        let p = self
            .post_appeal(&appeal_fields(&key, title, "yes"), photos)
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        receipt(&p.body)
    }

    pub async fn track(&self, number: &str, code: &str) -> Page {
        self.post("/portal/track", &[("number", number), ("code", code)])
            .await
    }

    /// Takes an action from the tracking page, with the proof the page carries.
    pub async fn act(
        &self,
        number: &str,
        code: &str,
        action: &str,
        extra: &[(&str, &str)],
    ) -> Page {
        let page = self.track(number, code).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let version = hidden(&page.body, "version");
        let mut form = vec![
            ("number", number),
            ("code", code),
            ("version", version.as_str()),
        ];
        form.extend_from_slice(extra);
        self.post(&format!("/portal/track/{action}"), &form).await
    }
}

pub fn appeal_fields<'a>(
    key: &'a str,
    title: &'a str,
    consent: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("form_key", key),
        ("appeal_type", "complaint"),
        ("category_id", ""),
        ("title", title),
        (
            "detail",
            "A2区桂花坪街道某小区门口路灯连续一周不亮，晚上出行不便。",
        ),
        ("address", "A2区桂花坪街道某小区东门"),
        ("latitude", "28.123456"),
        ("longitude", "112.654321"),
        ("citizen_name", "张先生"),
        ("citizen_phone", "13800138000"),
    ];
    if !consent.is_empty() {
        f.push(("consent", consent));
    }
    f
}

/// The text of the element with this id (no nested tags).
pub fn by_id(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\"");
    let at = html.find(&marker)?;
    let rest = &html[at..];
    let open_end = rest.find('>')? + 1;
    Some(rest[open_end..].split('<').next()?.trim().to_owned())
}

/// The ticket number and query code a receipt shows.
pub fn receipt(html: &str) -> (String, String) {
    let number = by_id(html, "ticket-number").expect("number on the receipt");
    let code = by_id(html, "query-code").expect("code on the receipt");
    assert_eq!(number.len(), 14, "{number}");
    assert_eq!(code.len(), 6, "{code}");
    (number, code)
}

pub async fn ticket_by_number(api: &Api, number: &str) -> Value {
    let (s, list) = api.get(&format!("/api/v1/tickets?number={number}")).await;
    assert_eq!(s, 200, "{list}");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{list}");
    items[0].clone()
}

pub fn wrong_code(code: &str) -> String {
    let other = if code.starts_with('A') { "B" } else { "A" };
    format!("{other}{}", &code[1..])
}
