#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The five-level flow's guards and queues through the real binary, on SQLite and PostgreSQL:
//! the ping-pong guard, supervision escalating up the chain, the return-visit, ruling and
//! extension queues, the units' queues, and the time rules an administrator edits.

mod common;

use common::{Api, Backend, TestApp, spawn_app};
use serde_json::{Value, json};

struct Staff {
    agent: Api,
    dispatcher: Api,
    leader: Api,
    a2: Api,
    street: Api,
    a1: Api,
    admin: Api,
    anon: Api,
}

async fn staff(app: &TestApp) -> Staff {
    Staff {
        agent: app.login("agent").await,
        dispatcher: app.login("dispatcher").await,
        leader: app.login("leader").await,
        a2: app.login("a2").await,
        street: app.login("a2street").await,
        a1: app.login("a1").await,
        admin: app.login("admin").await,
        anon: app.anonymous(),
    }
}

/// The ids of the tickets in the caller's queue `kind` (asserting the queue exists).
async fn queue(api: &Api, kind: &str) -> Vec<Value> {
    let (s, q) = api.get("/api/v1/queues").await;
    assert_eq!(s, 200, "{q}");
    q["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == kind)
        .unwrap_or_else(|| panic!("no queue {kind} in {q}"))["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn has(items: &[Value], id: &str) -> bool {
    items.iter().any(|t| t["id"] == id)
}

fn kinds_of(api_answer: &Value) -> Vec<String> {
    api_answer["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// Dispatched to A2区, signed, passed down to 桂花坪街道.
async fn at_the_street(s: &Staff, appeal_type: &str) -> String {
    let a2 = s.agent.unit("990103").await;
    let street = s.agent.unit("990103001").await;
    let id = s.agent.new_ticket(appeal_type).await;
    s.agent
        .act(&id, "dispatch", json!({"main_unit_id": a2}))
        .await;
    s.a2.act(&id, "sign", json!({})).await;
    s.a2.act(&id, "pass-down", json!({"to_unit_id": street}))
        .await;
    id
}

async fn ping_pong(s: &Staff) {
    let street = s.agent.unit("990103001").await;
    let id = at_the_street(s, "help").await;
    let t = s
        .street
        .act(&id, "return", json!({"reason": "不属于本街道辖区"}))
        .await;
    assert_eq!(
        t["status"], "handling",
        "the first return goes up one level"
    );
    assert_eq!(t["needs_shift_lead"], false);
    s.a2.act(&id, "pass-down", json!({"to_unit_id": street}))
        .await;
    let t = s
        .street
        .act(&id, "return", json!({"reason": "仍不属于本街道"}))
        .await;
    assert_eq!(
        t["status"], "returned",
        "the second goes to the centre: {t}"
    );
    assert_eq!(t["needs_shift_lead"], true);
    assert_eq!(t["return_count"], 2);
    let rulings = queue(&s.dispatcher, "rulings").await;
    let entry = rulings
        .iter()
        .find(|t| t["id"] == id.as_str())
        .expect("in the ruling queue");
    assert_eq!(entry["needs_shift_lead"], true);
    let (st, page) = s
        .dispatcher
        .get("/api/v1/tickets?needs_shift_lead=true&status=returned")
        .await;
    assert_eq!(st, 200);
    assert!(has(page["items"].as_array().unwrap(), &id), "{page}");
    let (_, detail) = s.dispatcher.get(&format!("/api/v1/tickets/{id}")).await;
    let last = detail["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "returned");
    assert_eq!(last["payload"]["to_shift_lead"], true, "{last}");
    // Agents do not rule; the shift lead does.
    assert_eq!(
        s.agent
            .post(
                &format!("/api/v1/tickets/{id}/rule"),
                json!({"ruling": "维持", "decision": "send_back"})
            )
            .await
            .0,
        403
    );
}

async fn supervision_escalates(s: &Staff) {
    let a2 = s.agent.unit("990103").await;
    let city = s.agent.unit("990100").await;
    let id = at_the_street(s, "complaint").await;
    s.street.act(&id, "sign", json!({})).await;
    let t = s
        .dispatcher
        .act(&id, "supervise", json!({"reason": "群众多次来电催办"}))
        .await;
    assert_eq!(t["supervised"], true);
    assert_eq!(t["supervision_count"], 1);
    assert_eq!(
        t["escalated_unit_id"],
        a2.as_str(),
        "first: the street's district"
    );
    let t = s
        .leader
        .act(&id, "supervise", json!({"reason": "领导督办"}))
        .await;
    assert_eq!(t["supervision_count"], 2);
    assert_eq!(
        t["escalated_unit_id"],
        city.as_str(),
        "then the city government"
    );
    let t = s
        .dispatcher
        .act(&id, "supervise", json!({"reason": "再次督办"}))
        .await;
    assert_eq!(
        t["escalated_unit_id"],
        city.as_str(),
        "never above the centre's city"
    );
    assert!(has(&queue(&s.leader, "supervised").await, &id));
    assert!(has(&queue(&s.dispatcher, "supervised").await, &id));
    // A unit cannot supervise.
    assert_eq!(
        s.a2.post(
            &format!("/api/v1/tickets/{id}/supervise"),
            json!({"reason": "x"})
        )
        .await
        .0,
        403
    );
}

async fn queues_of_each_role(s: &Staff) {
    let a2 = s.agent.unit("990103").await;
    // The agent's incoming queue has a new ticket; the unit's queue to sign has it once dispatched.
    let id = s.agent.new_ticket("consult").await;
    assert!(has(&queue(&s.agent, "incoming").await, &id));
    s.agent
        .act(&id, "dispatch", json!({"main_unit_id": a2}))
        .await;
    assert!(!has(&queue(&s.agent, "incoming").await, &id));
    assert!(has(&queue(&s.a2, "to_sign").await, &id));
    assert!(!has(&queue(&s.a2, "in_progress").await, &id));
    let (_, q) = s.a1.get("/api/v1/queues").await;
    assert!(
        !q.to_string().contains(&id),
        "another district sees nothing of it"
    );
    s.a2.act(&id, "sign", json!({})).await;
    assert!(has(&queue(&s.a2, "in_progress").await, &id));
    // A reply puts it in the return-visit queue with its deadline.
    let t =
        s.a2.act(&id, "reply", json!({"reply": "已电话答复来电人政策规定。"}))
            .await;
    assert!(t["visit_deadline"].is_string(), "{t}");
    let visits = queue(&s.agent, "return_visits").await;
    assert!(has(&visits, &id));
    let deadlines: Vec<&str> = visits
        .iter()
        .filter_map(|t| t["visit_deadline"].as_str())
        .collect();
    let mut sorted = deadlines.clone();
    sorted.sort();
    assert_eq!(deadlines, sorted, "the visit due first comes first");
    s.agent
        .act(&id, "return-visit", json!({"reached": true}))
        .await;
    assert!(!has(&queue(&s.agent, "return_visits").await, &id));
    // An extension request waits in the dispatcher's queue until decided.
    let id = s.agent.new_ticket("help").await;
    s.agent
        .act(&id, "dispatch", json!({"main_unit_id": a2}))
        .await;
    s.a2.act(&id, "sign", json!({})).await;
    s.a2.act(
        &id,
        "request-extension",
        json!({"days": 5, "reason": "需协调多个部门现场勘查"}),
    )
    .await;
    assert!(has(&queue(&s.dispatcher, "extensions").await, &id));
    s.dispatcher.act(&id, "approve-extension", json!({})).await;
    assert!(!has(&queue(&s.dispatcher, "extensions").await, &id));
    // Each role has its own queues; an administrator has none and may not read tickets.
    let (_, q) = s.a2.get("/api/v1/queues").await;
    assert_eq!(kinds_of(&q), ["near_deadline", "to_sign", "in_progress"]);
    let (_, q) = s.dispatcher.get("/api/v1/queues").await;
    assert_eq!(
        kinds_of(&q),
        [
            "manual_dispatch",
            "rulings",
            "extensions",
            "incoming",
            "return_visits",
            "supervised"
        ]
    );
    assert_eq!(s.admin.get("/api/v1/queues").await.0, 403);
    assert_eq!(s.anon.get("/api/v1/queues").await.0, 401);
}

/// Handling deadline minus dispatch time, for a ticket of `appeal_type` dispatched now.
async fn dispatched_deadline(s: &Staff, appeal_type: &str) -> Value {
    let a2 = s.agent.unit("990103").await;
    let id = s.agent.new_ticket(appeal_type).await;
    s.agent
        .act(&id, "dispatch", json!({"main_unit_id": a2}))
        .await
}

async fn put_rules(api: &Api, body: Value) -> (u16, Value) {
    api.send(reqwest::Method::PUT, "/api/v1/time-rules", body)
        .await
}

async fn time_rules(s: &Staff) {
    let (st, r) = s.agent.get("/api/v1/time-rules").await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["version"], 0);
    assert_eq!(r["rules"]["working_hours"], "09:00-12:00,13:30-18:00");
    let limits = r["rules"]["limits"].as_array().unwrap();
    assert_eq!(limits.len(), 12);
    // Only an administrator changes them.
    let mut rules = r["rules"].clone();
    assert_eq!(
        put_rules(
            &s.dispatcher,
            json!({"rules": rules, "expected_version": 0})
        )
        .await
        .0,
        403
    );
    // A zero span is refused, naming the place.
    let consult = limits
        .iter()
        .position(|l| l["appeal_type"] == "consult" && l["urgency"] == "normal")
        .unwrap();
    rules["limits"][consult]["handle"] = json!({"unit": "working_days", "value": 0});
    let (st, e) = put_rules(&s.admin, json!({"rules": rules, "expected_version": 0})).await;
    assert_eq!(st, 422, "{e}");
    assert_eq!(
        e["error"]["field"],
        format!("rules.limits[{consult}].handle")
    );
    // A missing combination is refused.
    let mut short = r["rules"].clone();
    short["limits"].as_array_mut().unwrap().pop();
    let (st, e) = put_rules(&s.admin, json!({"rules": short, "expected_version": 0})).await;
    assert_eq!(
        (st, e["error"]["field"].clone()),
        (422, json!("rules.limits"))
    );
    // Consultations get 4 working days and the day starts at 08:30.
    let before = dispatched_deadline(s, "consult").await;
    rules["limits"][consult]["handle"] = json!({"unit": "working_days", "value": 4});
    rules["working_hours"] = json!("08:30-12:00,13:30-17:30");
    let (st, saved) = put_rules(
        &s.admin,
        json!({"rules": rules, "expected_version": 0, "note": "依据市政府办公厅通知调整"}),
    )
    .await;
    assert_eq!(st, 200, "{saved}");
    assert_eq!(saved["version"], 1);
    // A change made from a stale version is refused.
    let (st, e) = put_rules(&s.admin, json!({"rules": rules, "expected_version": 0})).await;
    assert_eq!(
        (st, e["error"]["code"].clone()),
        (409, json!("version_conflict"))
    );
    // The node applies the new rules at once: a consultation now gets a later deadline.
    let after = dispatched_deadline(s, "consult").await;
    let span = |t: &Value| {
        let at = |k: &str| {
            chrono::DateTime::parse_from_rfc3339(
                t[k].as_str().unwrap_or_else(|| panic!("{k}: {t}")),
            )
            .unwrap()
        };
        at("handle_deadline") - at("dispatched_at")
    };
    assert!(
        span(&after) > span(&before),
        "4 working days end later than 3: {before} / {after}"
    );
    let (st, r) = s.agent.get("/api/v1/time-rules").await;
    assert_eq!(st, 200);
    assert_eq!(r["version"], 1);
    assert_eq!(r["rules"]["working_hours"], "08:30-12:00,13:30-17:30");
    // Every change is kept: who, when, before and after.
    let (st, changes) = s.admin.get("/api/v1/time-rules/changes").await;
    assert_eq!(st, 200, "{changes}");
    let first = &changes.as_array().unwrap()[0];
    assert_eq!(first["version"], 1);
    assert_eq!(first["note"], "依据市政府办公厅通知调整");
    assert!(first["before"].as_str().unwrap().contains("09:00-12:00"));
    assert!(first["after"].as_str().unwrap().contains("08:30-12:00"));
    assert_eq!(s.agent.get("/api/v1/time-rules/changes").await.0, 403);
}

async fn flow(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = staff(&app).await;
    ping_pong(&s).await;
    supervision_escalates(&s).await;
    queues_of_each_role(&s).await;
    time_rules(&s).await;
}

both_backends!(five_level_flow, flow);
