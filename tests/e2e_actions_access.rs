#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Every transition endpoint against every role: each cell takes a fresh ticket to the state the
//! action starts from, then asks as that role. Allowed → 200; a role that may not → 403; a ticket
//! outside the caller's scope → 404.

mod common;

use common::{Api, Backend, STAFF, spawn_app};
use serde_json::{Value, json};

/// In the order of `common::STAFF`: admin, agent, dispatcher, leader, a2, a2admin, a2street, a1, zjj.
type Row = [u16; 9];

/// Where a cell's ticket must stand before the action is tried (all with A2区 as the main unit).
#[derive(Clone, Copy, Debug)]
enum Setup {
    Received,
    Dispatched,
    Handling,
    Returned,
    ExtensionRequested,
    Suspended,
    Replied,
    Visited,
    RatedDissatisfied,
}

struct World {
    agent: Api,
    dispatcher: Api,
    a2: Api,
    a2_unit: String,
    street_unit: String,
}

impl World {
    async fn prepare(&self, setup: Setup) -> String {
        let id = self.agent.new_ticket("complaint").await;
        if matches!(setup, Setup::Received) {
            return id;
        }
        self.agent
            .act(&id, "dispatch", json!({"main_unit_id": self.a2_unit}))
            .await;
        if matches!(setup, Setup::Dispatched) {
            return id;
        }
        if matches!(setup, Setup::Returned) {
            self.a2
                .act(&id, "return", json!({"reason": "不属于本区"}))
                .await;
            return id;
        }
        self.a2.act(&id, "sign", json!({})).await;
        match setup {
            Setup::Handling => return id,
            Setup::ExtensionRequested => {
                self.a2
                    .act(
                        &id,
                        "request-extension",
                        json!({"days": 3, "reason": "需勘查"}),
                    )
                    .await;
                return id;
            }
            Setup::Suspended => {
                self.a2
                    .act(&id, "suspend", json!({"reason": "等待补充材料"}))
                    .await;
                return id;
            }
            _ => {}
        }
        self.a2.act(&id, "reply", json!({"reply": "已处理"})).await;
        if matches!(setup, Setup::Replied) {
            return id;
        }
        self.agent
            .act(&id, "return-visit", json!({"reached": true}))
            .await;
        if matches!(setup, Setup::RatedDissatisfied) {
            self.agent
                .act(&id, "rate", json!({"rating": "dissatisfied"}))
                .await;
        }
        id
    }

    /// The dispatcher's role rules on the centre's behalf.
    fn body(&self, action: &str, other: &str) -> Value {
        match action {
            "answer" => json!({"answer": "已解答"}),
            "dispatch" => json!({"main_unit_id": self.a2_unit}),
            "pass-down" => json!({"to_unit_id": self.street_unit}),
            "rule" => json!({"decision": "send_back", "ruling": "属本区职责"}),
            "request-extension" => json!({"days": 3, "reason": "需勘查"}),
            "reply" => json!({"reply": "已处理"}),
            "return-visit" => json!({"reached": true}),
            "rate" => json!({"rating": "satisfied"}),
            "merge" => json!({"target_id": other, "reason": "重复"}),
            "close" => json!({"resolution": "已办结"}),
            "sign" | "resume" | "approve-extension" => json!({}),
            _ => json!({"reason": "理由"}),
        }
    }
}

const CENTRE_ON_RECEIVED: Row = [403, 200, 200, 403, 404, 404, 404, 404, 404];
const UNIT_ON_A2: Row = [403, 403, 403, 403, 200, 200, 404, 404, 404];
const DISPATCHER_ON_A2: Row = [403, 403, 200, 403, 403, 403, 404, 404, 404];
const CENTRE_ON_A2: Row = [403, 200, 200, 403, 403, 403, 404, 404, 404];

async fn every_action(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut clients = Vec::new();
    for (name, ..) in STAFF {
        clients.push((*name, app.login(name).await));
    }
    let world = World {
        agent: clients[1].1.clone(),
        dispatcher: clients[2].1.clone(),
        a2: clients[4].1.clone(),
        a2_unit: clients[1].1.unit("990103").await,
        street_unit: clients[1].1.unit("990103001").await,
    };
    let table: Vec<(&str, Setup, Row)> = vec![
        ("answer", Setup::Received, CENTRE_ON_RECEIVED),
        ("dispatch", Setup::Received, CENTRE_ON_RECEIVED),
        ("withdraw", Setup::Received, CENTRE_ON_RECEIVED),
        ("merge", Setup::Received, CENTRE_ON_RECEIVED),
        ("sign", Setup::Dispatched, UNIT_ON_A2),
        ("return", Setup::Dispatched, UNIT_ON_A2),
        ("pass-down", Setup::Handling, UNIT_ON_A2),
        ("suspend", Setup::Handling, UNIT_ON_A2),
        ("reply", Setup::Handling, UNIT_ON_A2),
        ("request-extension", Setup::Handling, UNIT_ON_A2),
        ("rule", Setup::Returned, DISPATCHER_ON_A2),
        (
            "approve-extension",
            Setup::ExtensionRequested,
            DISPATCHER_ON_A2,
        ),
        (
            "deny-extension",
            Setup::ExtensionRequested,
            DISPATCHER_ON_A2,
        ),
        (
            "resume",
            Setup::Suspended,
            [403, 403, 200, 403, 200, 200, 404, 404, 404],
        ),
        (
            "supervise",
            Setup::Dispatched,
            [403, 403, 200, 200, 403, 403, 404, 404, 404],
        ),
        ("return-visit", Setup::Replied, CENTRE_ON_A2),
        ("rate", Setup::Replied, CENTRE_ON_A2),
        ("close", Setup::Visited, CENTRE_ON_A2),
        ("redo", Setup::RatedDissatisfied, CENTRE_ON_A2),
    ];
    let mut failures = Vec::new();
    for (action, setup, expect) in &table {
        for (i, (role, api)) in clients.iter().enumerate() {
            let id = world.prepare(*setup).await;
            let other = world.prepare(Setup::Received).await;
            let before = world
                .dispatcher
                .get(&format!("/api/v1/tickets/{id}"))
                .await
                .1["ticket"]["version"]
                .clone();
            let (status, body) = api
                .post(
                    &format!("/api/v1/tickets/{id}/{action}"),
                    world.body(action, &other),
                )
                .await;
            if status != expect[i] {
                failures.push(format!(
                    "{action} from {setup:?} as {role}: expected {}, got {status} {body}",
                    expect[i]
                ));
            }
            // A refusal changes nothing.
            let after = world
                .dispatcher
                .get(&format!("/api/v1/tickets/{id}"))
                .await
                .1["ticket"]["version"]
                .clone();
            if status != 200 && before != after {
                failures.push(format!(
                    "{action} as {role} was refused but the ticket moved"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

both_backends!(every_action_every_role, every_action);
