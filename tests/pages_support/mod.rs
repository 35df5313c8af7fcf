#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! A browser for the page tests: keeps the session cookie, shows the 303s, and takes ticket
//! actions through the forms the page renders for its user.
#![allow(dead_code)]

use reqwest::header::LOCATION;
use serde_json::Value;

use crate::common::{Api, TestApp, password_of};

/// A browser: keeps cookies, does not follow redirects (so the tests see the 303s).
pub struct Browser {
    base: String,
    http: reqwest::Client,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            base: app.base.clone(),
            http,
        }
    }

    pub async fn signed_in(app: &TestApp, user: &str) -> Self {
        let b = Self::new(app);
        let p = b
            .post(
                "/login",
                &[("username", user), ("password", &password_of(user))],
            )
            .await;
        assert_eq!(
            (p.status, p.location.as_deref()),
            (303, Some("/tickets")),
            "{user}: {}",
            p.body
        );
        b
    }

    async fn read(res: reqwest::Response) -> Page {
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Page {
            status,
            location,
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

    /// The response itself, for its headers.
    pub async fn response(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .expect("POST");
        Self::read(res).await
    }
}

/// The value of the first hidden input `name` on a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in page: {html}"))
        + marker.len();
    html[start..].split('"').next().expect("value").to_owned()
}

pub async fn ticket(api: &Api, id: &str) -> Value {
    let (s, d) = api.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(s, 200, "{d}");
    d["ticket"].clone()
}

/// Takes an action through its form on the ticket page, as rendered for this user.
pub async fn act(b: &Browser, id: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let page = b.get(&format!("/tickets/{id}")).await.body;
    assert!(
        page.contains(&format!("/tickets/{id}/act/{action}\"")),
        "no {action} form on the page"
    );
    let (csrf, version) = (
        hidden(&page, "csrf_token"),
        hidden(&page, "expected_version"),
    );
    let mut form = vec![
        ("csrf_token", csrf.as_str()),
        ("expected_version", version.as_str()),
    ];
    form.extend_from_slice(fields);
    b.post(&format!("/tickets/{id}/act/{action}"), &form).await
}

pub async fn done(b: &Browser, id: &str, action: &str, fields: &[(&str, &str)]) {
    let p = act(b, id, action, fields).await;
    assert_eq!(p.status, 303, "{action}: {}", p.body);
}
