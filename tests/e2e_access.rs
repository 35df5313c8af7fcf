#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Who may do what: every endpoint against every role, with the exact answer expected (allowed,
//! 403 for a role that may not, 404 for a ticket or user outside the caller's scope, 401 without a
//! session).

mod common;

use common::{Api, Backend, STAFF, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// Expected status per role, in the order of `common::STAFF`:
/// admin, agent, dispatcher, leader, a2, a2admin, a2street, a1, zjj.
type Row = [u16; 9];

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    /// A fresh body per role (some create things and must not collide).
    body: Box<dyn Fn(&str) -> Value>,
    expect: Row,
}

fn case(name: &'static str, method: Method, path: String, body: Value, expect: Row) -> Case {
    Case {
        name,
        method,
        path,
        body: Box::new(move |_| body.clone()),
        expect,
    }
}

async fn matrix(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut clients: Vec<(&str, Api)> = Vec::new();
    for (name, ..) in STAFF {
        clients.push((name, app.login(name).await));
    }
    let agent = clients[1].1.clone();
    let admin = clients[0].1.clone();
    let a2_unit = agent.unit("990103").await;
    let street_unit = agent.unit("990103001").await;
    let a2_user = {
        let (_, users) = admin.get("/api/v1/users").await;
        users
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["username"] == "a2")
            .expect("a2")["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let a1_user = {
        let (_, users) = admin.get("/api/v1/users").await;
        users
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["username"] == "a1")
            .expect("a1")["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let category = {
        let (_, cats) = agent.get("/api/v1/categories").await;
        cats[0]["id"].as_str().expect("category").to_owned()
    };
    // A ticket with A2区: visible to the centre, the city leader and A2区's own staff.
    let t = agent.new_ticket("complaint").await;
    agent
        .act(&t, "dispatch", json!({"main_unit_id": a2_unit}))
        .await;

    let ticket_body = json!({"appeal_type": "help", "title": "测试", "detail": "测试诉求内容"});
    let cases = vec![
        case(
            "me",
            Method::GET,
            "/api/v1/me".into(),
            Value::Null,
            [200; 9],
        ),
        case(
            "list tickets",
            Method::GET,
            "/api/v1/tickets".into(),
            Value::Null,
            [403, 200, 200, 200, 200, 200, 200, 200, 200],
        ),
        case(
            "create ticket",
            Method::POST,
            "/api/v1/tickets".into(),
            ticket_body,
            [403, 201, 201, 403, 403, 403, 403, 403, 403],
        ),
        case(
            "read ticket",
            Method::GET,
            format!("/api/v1/tickets/{t}"),
            Value::Null,
            [403, 200, 200, 200, 200, 200, 404, 404, 404],
        ),
        case(
            "supervise ticket",
            Method::POST,
            format!("/api/v1/tickets/{t}/supervise"),
            json!({"reason": "督办"}),
            [403, 403, 200, 200, 403, 403, 404, 404, 404],
        ),
        case(
            "events",
            Method::GET,
            "/api/v1/events".into(),
            Value::Null,
            [403, 200, 200, 200, 200, 200, 200, 200, 200],
        ),
        case(
            "org units",
            Method::GET,
            "/api/v1/org-units".into(),
            Value::Null,
            [200; 9],
        ),
        case(
            "org unit",
            Method::GET,
            format!("/api/v1/org-units/{a2_unit}"),
            Value::Null,
            [200; 9],
        ),
        case(
            "categories",
            Method::GET,
            "/api/v1/categories".into(),
            Value::Null,
            [200; 9],
        ),
        Case {
            name: "create org unit",
            method: Method::POST,
            path: "/api/v1/org-units".into(),
            body: Box::new(
                move |role| json!({"code": format!("990103-T{role}"), "name": format!("A2区测试局{role}"), "level": "district", "kind": "department", "parent_id": a2_unit.clone()}),
            ),
            expect: [201, 403, 403, 403, 403, 403, 403, 403, 403],
        },
        case(
            "update org unit",
            Method::PATCH,
            format!("/api/v1/org-units/{street_unit}"),
            json!({"email": "street@hotline.example"}),
            [200, 403, 403, 403, 403, 403, 403, 403, 403],
        ),
        Case {
            name: "create category",
            method: Method::POST,
            path: "/api/v1/categories".into(),
            body: Box::new(|role| json!({"level1": "测试类", "level2": format!("测试{role}")})),
            expect: [201, 403, 403, 403, 403, 403, 403, 403, 403],
        },
        case(
            "update category",
            Method::PATCH,
            format!("/api/v1/categories/{category}"),
            json!({"active": true}),
            [200, 403, 403, 403, 403, 403, 403, 403, 403],
        ),
        case(
            "list users",
            Method::GET,
            "/api/v1/users".into(),
            Value::Null,
            [200, 403, 200, 200, 403, 200, 403, 403, 403],
        ),
        case(
            "read an A2 user",
            Method::GET,
            format!("/api/v1/users/{a2_user}"),
            Value::Null,
            [200, 403, 200, 200, 403, 200, 403, 403, 403],
        ),
        case(
            "read an A1 user",
            Method::GET,
            format!("/api/v1/users/{a1_user}"),
            Value::Null,
            [200, 403, 200, 200, 403, 404, 403, 403, 403],
        ),
        Case {
            name: "create user in A2区",
            method: Method::POST,
            path: "/api/v1/users".into(),
            body: {
                let unit = agent.unit("990103").await;
                Box::new(
                    move |role| json!({"username": format!("new-{role}"), "display_name": "新承办人", "role": "unit_handler", "unit_id": unit, "password": "a-long-enough-password"}),
                )
            },
            expect: [201, 403, 403, 403, 403, 201, 403, 403, 403],
        },
        case(
            "update an A2 user",
            Method::PATCH,
            format!("/api/v1/users/{a2_user}"),
            json!({"display_name": "A2区承办人"}),
            [200, 403, 403, 403, 403, 200, 403, 403, 403],
        ),
        case(
            "update an A1 user",
            Method::PATCH,
            format!("/api/v1/users/{a1_user}"),
            json!({"display_name": "A1区承办人"}),
            [200, 403, 403, 403, 403, 404, 403, 403, 403],
        ),
    ];

    let mut failures = Vec::new();
    for c in &cases {
        for (i, (role, api)) in clients.iter().enumerate() {
            let (status, body) = if c.method == Method::GET {
                api.get(&c.path).await
            } else {
                api.send(c.method.clone(), &c.path, (c.body)(role)).await
            };
            if status != c.expect[i] {
                failures.push(format!(
                    "{} as {role}: expected {}, got {status} {body}",
                    c.name, c.expect[i]
                ));
            }
        }
        // Without a session every one of these answers 401.
        let (status, _) = app
            .anonymous()
            .send(c.method.clone(), &c.path, (c.body)("anon"))
            .await;
        if status != 401 {
            failures.push(format!(
                "{} without a session: expected 401, got {status}",
                c.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Signing for a dispatched ticket: only the handling unit's staff, per role on a fresh ticket.
    let sign_expect: Row = [403, 403, 403, 403, 200, 200, 404, 404, 404];
    for (i, (role, api)) in clients.iter().enumerate() {
        let t = agent.new_ticket("help").await;
        agent
            .act(
                &t,
                "dispatch",
                json!({"main_unit_id": agent.unit("990103").await}),
            )
            .await;
        let (status, body) = api
            .post(&format!("/api/v1/tickets/{t}/sign"), json!({}))
            .await;
        assert_eq!(status, sign_expect[i], "sign as {role}: {body}");
    }

    // Lists hold only what the caller may see.
    let (_, theirs) = clients[7].1.get("/api/v1/tickets?limit=200").await;
    assert!(
        theirs["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|x| x["id"] != t.as_str())
    );
    let (_, ours) = clients[4].1.get("/api/v1/tickets?limit=200").await;
    assert!(
        ours["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|x| x["id"] == t.as_str())
    );

    // Logout revokes the token.
    let (status, _) = clients[1].1.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(clients[1].1.get("/api/v1/me").await.0, 401);
}

both_backends!(every_endpoint_every_role, matrix);
