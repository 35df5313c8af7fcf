#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Dispatch over HTTP, through the real binary, on SQLite and PostgreSQL: the routing rules
//! (roles and scope, validation naming the field, versions, the audit trail) and the suggestion
//! (rules, classifier, places, the ping-pong guard, the manual queue and its sweep).

mod common;
mod dispatch_support;

use common::Backend;
use dispatch_support::{codes, eventually, register, spawn_dispatch_app};
use serde_json::{Value, json};

async fn field_of(
    api: &common::Api,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, String) {
    let (s, e) = api.send(method, path, body).await;
    (
        s,
        e["error"]["field"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn rules_roles_validation_and_audit(backend: Backend) {
    let app = spawn_dispatch_app(backend, &[]).await;
    let (dispatcher, admin, agent, leader, a2) = (
        app.login("dispatcher").await,
        app.login("admin").await,
        app.login("agent").await,
        app.login("leader").await,
        app.login("a2").await,
    );
    let gjj = dispatcher.unit("990100-GJJ").await;
    let (s, rules) = dispatcher.get("/api/v1/dispatch/rules").await;
    assert_eq!(s, 200, "{rules}");
    let rules = rules.as_array().unwrap().clone();
    assert_eq!(rules.len(), 22);
    // In the order they are tried: priority, higher first, then position.
    let order: Vec<(i64, i64)> = rules
        .iter()
        .map(|r| {
            (
                r["priority"].as_i64().unwrap(),
                r["position"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    assert_eq!(order, sorted);
    assert_eq!(
        rules[0]["description"],
        "关键词「公积金」 → A市住房公积金管理中心"
    );

    // Who may read and who may write.
    for reader in [&agent, &leader, &admin] {
        assert_eq!(reader.get("/api/v1/dispatch/rules").await.0, 200);
    }
    let new_rule = json!({"kind": "keyword", "keywords": ["提取公积金", "公积金贷款"],
        "target": "unit", "unit_id": gjj, "note": "测试"});
    for refused in [&agent, &leader, &a2] {
        let (s, e) = refused
            .post("/api/v1/dispatch/rules", new_rule.clone())
            .await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{e}"
        );
    }
    assert_eq!(a2.get("/api/v1/dispatch/rules").await.0, 403);
    assert_eq!(a2.get("/api/v1/dispatch/rule-audit").await.0, 403);

    // Create, read, update with a version, delete.
    let (s, r) = dispatcher
        .post("/api/v1/dispatch/rules", new_rule.clone())
        .await;
    assert_eq!(s, 201, "{r}");
    let id = r["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (r["priority"].as_i64(), r["version"].as_i64()),
        (Some(300), Some(1))
    );
    assert_eq!(
        r["position"].as_i64(),
        Some(5),
        "after the five default keyword rules"
    );
    assert_eq!(
        r["description"],
        "关键词「提取公积金、公积金贷款」 → A市住房公积金管理中心"
    );
    let path = format!("/api/v1/dispatch/rules/{id}");
    assert_eq!(
        dispatcher.get(&path).await.1["keywords"],
        json!(["提取公积金", "公积金贷款"])
    );
    for refused in [&agent, &a2] {
        assert_eq!(refused.patch(&path, json!({"active": false})).await.0, 403);
        assert_eq!(
            refused
                .send(reqwest::Method::DELETE, &path, json!(null))
                .await
                .0,
            403
        );
    }
    let (s, e) = dispatcher
        .patch(&path, json!({"priority": 400, "expected_version": 7}))
        .await;
    assert_eq!(
        (
            s,
            e["error"]["code"].as_str(),
            e["error"]["details"]["version"].as_i64()
        ),
        (409, Some("version_conflict"), Some(1)),
        "{e}"
    );
    let (s, r) = dispatcher
        .patch(
            &path,
            json!({"priority": 400, "note": null, "expected_version": 1}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["priority"].as_i64(), r["version"].as_i64(), &r["note"]),
        (Some(400), Some(2), &Value::Null)
    );
    assert_eq!(
        r["keywords"],
        json!(["提取公积金", "公积金贷款"]),
        "absent fields keep their value"
    );
    let (s, _) = dispatcher
        .send(
            reqwest::Method::DELETE,
            &format!("{path}?expected_version=1"),
            json!(null),
        )
        .await;
    assert_eq!(s, 409);
    let (s, _) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("{path}?expected_version=2"),
            json!(null),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(dispatcher.get(&path).await.0, 404);
    assert_eq!(
        dispatcher.patch(&path, json!({"active": true})).await.0,
        404
    );
    assert_eq!(
        dispatcher.get("/api/v1/dispatch/rules/not-a-uuid").await.0,
        404
    );

    // The audit trail: who, when, before and after; it outlives the rule.
    let (s, trail) = leader
        .get(&format!("/api/v1/dispatch/rule-audit?rule_id={id}"))
        .await;
    assert_eq!(s, 200, "{trail}");
    let trail = trail.as_array().unwrap();
    let actions: Vec<&str> = trail
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["deleted", "updated", "created"]);
    let (_, me) = dispatcher.get("/api/v1/me").await;
    let (_, admin_me) = admin.get("/api/v1/me").await;
    assert_eq!(trail[2]["actor_id"], me["user"]["id"]);
    assert_eq!(trail[2]["actor_role"], "dispatcher");
    assert_eq!(trail[0]["actor_id"], admin_me["user"]["id"]);
    assert_eq!(
        (&trail[2]["before"], trail[2]["after"]["version"].as_i64()),
        (&Value::Null, Some(1))
    );
    assert_eq!(
        (
            trail[1]["before"]["priority"].as_i64(),
            trail[1]["after"]["priority"].as_i64()
        ),
        (Some(300), Some(400))
    );
    assert_eq!(
        (trail[0]["before"]["version"].as_i64(), &trail[0]["after"]),
        (Some(2), &Value::Null)
    );
    let (_, all) = leader.get("/api/v1/dispatch/rule-audit?limit=200").await;
    assert_eq!(
        all.as_array().unwrap().len(),
        22 + 3,
        "the default rules were created by the system"
    );
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor_role"] == "system" && e["actor_id"].is_null())
    );
    assert_eq!(
        leader.get("/api/v1/dispatch/rule-audit?limit=0").await.0,
        422
    );

    // Validation names the field.
    let post = |body: Value| {
        let d = dispatcher.clone();
        async move { field_of(&d, reqwest::Method::POST, "/api/v1/dispatch/rules", body).await }
    };
    let province = dispatcher.unit("990000").await;
    let centre = dispatcher.unit("990100-12345").await;
    let a2_unit = dispatcher.unit("990103").await;
    let cases = [
        (json!({"target": "unit", "unit_id": gjj}), "kind"),
        (
            json!({"kind": "keyword", "target": "unit", "unit_id": gjj}),
            "keywords",
        ),
        (
            json!({"kind": "keyword", "keywords": ["噪音", "噪音"], "target": "unit", "unit_id": gjj}),
            "keywords[1]",
        ),
        (
            json!({"kind": "keyword", "keywords": ["噪音"], "target": "unit", "unit_id": uuid::Uuid::new_v4()}),
            "unit_id",
        ),
        (
            json!({"kind": "keyword", "keywords": ["噪音"], "target": "unit"}),
            "unit_id",
        ),
        (
            json!({"kind": "keyword", "keywords": ["噪音"], "target": "district", "unit_id": gjj}),
            "unit_id",
        ),
        (
            json!({"kind": "keyword", "keywords": ["噪音"], "target": "unit", "unit_id": centre}),
            "unit_id",
        ),
        (
            json!({"kind": "keyword", "keywords": ["噪音"], "target": "unit", "unit_id": province}),
            "unit_id",
        ),
        (
            json!({"kind": "category", "category_id": uuid::Uuid::new_v4(), "target": "district"}),
            "category_id",
        ),
        (
            json!({"kind": "area", "target": "district"}),
            "area_unit_id",
        ),
        (
            json!({"kind": "area", "area_unit_id": gjj, "target": "district"}),
            "area_unit_id",
        ),
        (
            json!({"kind": "area", "area_unit_id": a2_unit, "target": "district", "priority": 5000}),
            "priority",
        ),
        (
            json!({"kind": "area", "area_unit_id": a2_unit, "target": "district", "colour": "red"}),
            "colour",
        ),
        (json!({"kind": "bogus", "target": "district"}), "kind"),
    ];
    for (body, field) in cases {
        let (s, f) = post(body.clone()).await;
        assert_eq!((s, f.as_str()), (422, field), "{body}");
    }
    // A dispatcher may not change a rule that routes outside A市; the administrator may.
    let (s, r) = admin
        .post(
            "/api/v1/dispatch/rules",
            json!({"kind": "keyword", "keywords": ["省级"], "target": "unit", "unit_id": province}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let outside = format!("/api/v1/dispatch/rules/{}", r["id"].as_str().unwrap());
    assert_eq!(
        dispatcher.patch(&outside, json!({"active": false})).await.0,
        403
    );
    assert_eq!(admin.patch(&outside, json!({"active": false})).await.0, 200);
}
both_backends!(rules_api, rules_roles_validation_and_audit);

async fn suggestions_guard_and_manual_queue(backend: Backend) {
    // A threshold no classifier suggestion reaches: every ticket without a deciding rule waits.
    let app = spawn_dispatch_app(backend, &[("HOTLINE_DISPATCH_THRESHOLD", "0.999")]).await;
    let (agent, dispatcher, a2) = (
        app.login("agent").await,
        app.login("dispatcher").await,
        app.login("a2").await,
    );
    // From text: a keyword rule decides.
    let (s, r) = agent
        .post(
            "/api/v1/dispatch/suggest",
            json!({"title": "公积金提取", "detail": "住房公积金怎么提取"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(codes(&r)[0], "990100-GJJ");
    assert_eq!(
        (r["units"][0]["source"].as_str(), r["manual"].as_bool()),
        (Some("rule"), Some(false))
    );
    // From text with a place: the district, the street for pass-down, and the explanation.
    let text = json!({"title": "A2区景蓉华苑物业管理有问题",
        "detail": "位于A市A2区桂花坪街道的景蓉华苑小区物业公司要征收停车费"});
    let (_, r) = agent.post("/api/v1/dispatch/suggest", text.clone()).await;
    assert_eq!(codes(&r)[0], "990103", "{r}");
    assert_eq!(r["place"]["unit"]["code"], "990103001");
    assert_eq!(r["pass_down"]["code"], "990103001");
    assert_eq!(r["category"]["name"], "城乡建设");
    assert!(!r["terms"].as_array().unwrap().is_empty());
    assert!(r["manual"].as_bool().unwrap(), "below 0.999: {r}");
    let lines: Vec<&str> = r["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("识别地点：桂花坪街道（A2区）")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("人工派单队列")),
        "{lines:?}"
    );
    // Coordinates alone place it (demo/areas.geojson: 桂花坪街道).
    let (_, r) = agent
        .post(
            "/api/v1/dispatch/suggest",
            json!({"title": "物业乱收停车费", "latitude": 28.125, "longitude": 112.975}),
        )
        .await;
    assert_eq!(
        (
            r["place"]["unit"]["name"].as_str(),
            r["place"]["via"].as_str()
        ),
        (Some("桂花坪街道"), Some("point")),
        "{r}"
    );

    // Refusals.
    let suggest = "/api/v1/dispatch/suggest";
    for (body, field) in [
        (json!({"detail": "x"}), "title"),
        (json!({"title": ""}), "title"),
        (json!({"title": "x", "latitude": 28.1}), "longitude"),
        (
            json!({"title": "x", "latitude": 95.0, "longitude": 112.0}),
            "latitude",
        ),
        (
            json!({"title": "x", "category_id": uuid::Uuid::new_v4()}),
            "category_id",
        ),
        (
            json!({"ticket_id": uuid::Uuid::new_v4(), "title": "x"}),
            "ticket_id",
        ),
        (json!({"title": "x", "extra": 1}), "extra"),
    ] {
        let (s, f) = field_of(&agent, reqwest::Method::POST, suggest, body.clone()).await;
        assert_eq!((s, f.as_str()), (422, field), "{body}");
    }
    assert_eq!(
        agent
            .post(suggest, json!({"ticket_id": uuid::Uuid::new_v4()}))
            .await
            .0,
        404
    );
    assert_eq!(a2.post(suggest, json!({"title": "x"})).await.0, 403);

    // A ticket: suggested, marked for the manual queue by the sweep, then dispatched.
    let id = register(
        &agent,
        "A2区景蓉华苑物业管理有问题",
        "位于A市A2区桂花坪街道的景蓉华苑小区物业公司要征收停车费",
    )
    .await;
    let in_queue = || {
        let d = dispatcher.clone();
        let id = id.clone();
        async move {
            let (_, page) = d
                .get("/api/v1/tickets?manual_dispatch=true&limit=200")
                .await;
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["id"] == id.as_str())
        }
    };
    eventually("the sweep puts the ticket in the manual queue", in_queue).await;
    // The dispatcher's work queues show it under 待人工派单.
    let (_, q) = dispatcher.get("/api/v1/queues").await;
    let manual = q["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["kind"] == "manual_dispatch")
        .expect("the dispatcher has a manual-dispatch queue");
    assert_eq!(manual["label"], "待人工派单");
    assert!(
        manual["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id.as_str()),
        "{manual}"
    );
    let (_, page) = dispatcher
        .get("/api/v1/tickets?manual_dispatch=true&limit=200")
        .await;
    assert!(
        page["manual_dispatch"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == id.as_str())
    );
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| ["received", "returned"].contains(&t["status"].as_str().unwrap()))
    );
    assert_eq!(
        dispatcher.get(&format!("/api/v1/tickets/{id}")).await.1["manual_dispatch"],
        true
    );
    let (s, r) = dispatcher.post(suggest, json!({"ticket_id": id})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["ticket_id"].as_str(), codes(&r)[0].as_str()),
        (Some(id.as_str()), "990103")
    );
    let a2_unit = dispatcher.unit("990103").await;
    dispatcher
        .act(&id, "dispatch", json!({"main_unit_id": a2_unit}))
        .await;
    assert!(!in_queue().await, "a dispatched ticket leaves the queue");
    assert_eq!(
        dispatcher.get(&format!("/api/v1/tickets/{id}")).await.1["manual_dispatch"],
        false
    );

    // A2区 returns it: never suggested again (the ping-pong guard reads the events).
    let t = a2
        .act(
            &id,
            "return",
            json!({"reason": "该小区物业收费由市住建局管理"}),
        )
        .await;
    assert_eq!(t["status"], "returned");
    // Asked while the sweep suggests for the same ticket: both store their mark.
    let (s, r) = dispatcher.post(suggest, json!({"ticket_id": id})).await;
    assert_eq!(s, 200, "{r}");
    assert!(!codes(&r).contains(&"990103".to_owned()), "{r}");
    assert_eq!(codes(&r)[0], "990100-ZJJ");
    assert_eq!(r["excluded"][0]["code"], "990103");
    assert!(
        r["explanation"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("曾退单的单位不再推荐：A2区"))
    );
    // The unit itself may not ask (suggesting is the centre's), and a unit outside never sees it.
    assert_eq!(a2.post(suggest, json!({"ticket_id": id})).await.0, 403);
    eventually("the returned ticket is back in the queue", in_queue).await;

    // A rule that decides clears the marks; the sweep takes the ticket out of the queue.
    let zjj = dispatcher.unit("990100-ZJJ").await;
    let (s, _) = dispatcher
        .post(
            "/api/v1/dispatch/rules",
            json!({"kind": "keyword", "keywords": ["景蓉华苑"], "target": "unit", "unit_id": zjj}),
        )
        .await;
    assert_eq!(s, 201);
    eventually(
        "a deciding rule takes the ticket out of the manual queue",
        || {
            let q = in_queue();
            async move { !q.await }
        },
    )
    .await;
    let (_, r) = dispatcher.post(suggest, json!({"ticket_id": id})).await;
    assert_eq!(
        (
            codes(&r)[0].as_str(),
            r["units"][0]["source"].as_str(),
            r["manual"].as_bool()
        ),
        ("990100-ZJJ", Some("rule"), Some(false))
    );
}
both_backends!(suggest_api, suggestions_guard_and_manual_queue);

fn run(db: &common::TestDb, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(common::binary())
        .args(args)
        .arg("--data-dir")
        .arg(db.dir.path())
        .envs(db.env())
        .env("RUST_LOG", "error")
        .output()
        .expect("run hotline");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn importing_areas_and_places(backend: Backend) {
    let mut db = common::TestDb::new(backend);
    common::seed(db.db());
    db.close();
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    // Every fault named, nothing stored.
    let bad = file(
        "bad.geojson",
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"code":"990103"},"geometry":{"type":"Polygon","coordinates":[[[112.95,28.0],[113.0,28.0],[113.0,28.17],[112.95,28.0]]]}},
        {"type":"Feature","properties":{"code":"990100-ZJJ"},"geometry":{"type":"Polygon","coordinates":[[[112.95,28.0],[113.0,28.0],[113.0,28.17],[112.95,28.0]]]}},
        {"type":"Feature","properties":{"code":"nowhere"},"geometry":{"type":"Polygon","coordinates":[[[112.95,28.0],[113.0,28.0],[113.0,28.17],[112.95,28.0]]]}}]}"#,
    );
    let (ok, out) = run(&db, &["import", "areas", &bad]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(
            "field `features[1].properties.code`: 990100-ZJJ: areas belong to local governments"
        ),
        "{out}"
    );
    assert!(
        out.contains("field `features[2].properties.code`: nowhere: no such unit"),
        "{out}"
    );
    assert!(out.contains("nothing imported"), "{out}");
    let (ok, out) = run(
        &db,
        &[
            "import",
            "areas",
            &file("x.geojson", "{\"type\": \"Point\""),
        ],
    );
    assert!(!ok && out.contains("field `file`: not GeoJSON"), "{out}");
    let demo = std::env::current_dir().unwrap().join("demo");
    let areas = demo.join("areas.geojson").to_string_lossy().into_owned();
    let (ok, out) = run(&db, &["import", "areas", &areas]);
    assert!(ok, "{out}");
    assert!(out.contains("21 areas: 21 new, 0 replaced"), "{out}");
    let (_, out) = run(&db, &["import", "areas", &areas]);
    assert!(out.contains("21 areas: 0 new, 21 replaced"), "{out}");

    let (ok, out) = run(
        &db,
        &[
            "import",
            "places",
            &file(
                "bad.csv",
                "name,unit_code,source\n魅力之城,990199,x\n魅力之城,990106,y\n",
            ),
        ],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("line 3, field `name`: 魅力之城 is listed twice"),
        "{out}"
    );
    let (ok, out) = run(
        &db,
        &[
            "import",
            "places",
            &file("bad2.csv", "name,unit_code,source\n魅力之城,990199,x\n"),
        ],
    );
    assert!(
        !ok && out.contains("line 2, field `unit_code`: 990199: no such unit"),
        "{out}"
    );
    let places = demo.join("places.csv").to_string_lossy().into_owned();
    let (ok, out) = run(&db, &["import", "places", &places]);
    assert!(ok, "{out}");
    assert!(out.contains("47 lines: 47 created, 0 updated"), "{out}");
    let (_, out) = run(&db, &["import", "places", &places]);
    assert!(out.contains("47 lines: 0 created, 47 updated"), "{out}");

    // What was imported places appeals, through the server.
    let (child, base) = common::start(&db, &["serve"], &[]);
    let app = common::TestApp::new(base, db, child);
    let agent = app.login("agent").await;
    let (_, r) = agent
        .post(
            "/api/v1/dispatch/suggest",
            json!({"title": "锦楚国际星城小区停电", "latitude": 28.145, "longitude": 113.015}),
        )
        .await;
    // The estate lies in 朝晖社区; the point in the neighbouring 劳动东路社区: the words win.
    assert_eq!(r["place"]["unit"]["name"], "朝晖社区", "{r}");
    assert_eq!(
        (r["place"]["via"].as_str(), r["place"]["words"].as_str()),
        (Some("text"), Some("锦楚国际"))
    );
    assert_eq!(
        (
            r["place"]["point_unit"]["name"].as_str(),
            r["place"]["point_disagrees"].as_bool()
        ),
        (Some("劳动东路社区"), Some(true))
    );
    assert!(
        r["explanation"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "诉求坐标位于劳动东路社区，与文字所述不一致，以文字为准。"),
        "{r}"
    );
    // A point inside the street the text names refines it.
    let (_, r) = agent
        .post(
            "/api/v1/dispatch/suggest",
            json!({"title": "新城街道路灯不亮", "latitude": 28.145, "longitude": 113.015}),
        )
        .await;
    assert_eq!(
        (
            r["place"]["unit"]["name"].as_str(),
            r["place"]["via"].as_str()
        ),
        (Some("劳动东路社区"), Some("point")),
        "{r}"
    );
    // No rules were installed here: nothing to suggest, and the ticket would wait.
    assert!(
        r["units"].as_array().unwrap().is_empty() && r["manual"] == true,
        "{r}"
    );
}
both_backends!(import_areas_and_places, importing_areas_and_places);
