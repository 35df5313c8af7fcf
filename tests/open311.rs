#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Open311 GeoReport v2 through the real binary, as a third-party client sees it: every resource
//! in XML (read with a real XML parser) and JSON, keys from the real CLI, on SQLite and PostgreSQL.

mod common;
mod open311_support;

use chrono::{Duration, Utc};
use common::{Api, Backend, TestApp, spawn_app};
use open311_support::{
    child, form, get, items, listed, new_key, open311_key, post, send, staff_ticket, text, w3c,
};
use serde_json::{Value, json};

const BOTH: [&str; 2] = ["json", "xml"];

// ---- the scenario ------------------------------------------------------------------------------

/// Discovery, the service list and a definition: returns a service's code and name, and how
/// many services there are.
async fn catalogue(app: &TestApp, staff: &Api) -> (String, String, usize) {
    for f in BOTH {
        let a = get(app, &format!("discovery.{f}")).await;
        assert_eq!(a.status, 200, "{}", a.body);
        let (formats, spec, url) = if f == "xml" {
            let doc = a.xml();
            let endpoint = child(child(doc.root_element(), "endpoints"), "endpoint");
            assert!(!text(doc.root_element(), "changeset").is_empty());
            let formats: Vec<String> = child(endpoint, "formats")
                .children()
                .filter(|n| n.has_tag_name("format"))
                .map(|n| n.text().unwrap_or_default().to_owned())
                .collect();
            (
                formats,
                text(endpoint, "specification"),
                text(endpoint, "url"),
            )
        } else {
            let v = a.json();
            let e = &v["endpoints"][0];
            assert!(v["key_service"].is_string() && v["contact"].is_string());
            let formats = e["formats"].as_array().unwrap().iter();
            (
                formats.map(|f| f.as_str().unwrap().to_owned()).collect(),
                e["specification"].as_str().unwrap().to_owned(),
                e["url"].as_str().unwrap().to_owned(),
            )
        };
        assert_eq!(formats, ["text/xml", "application/json"]);
        assert_eq!(spec, "http://wiki.open311.org/GeoReport_v2");
        assert_eq!(url, app.url("/open311/v2"));
    }
    // The services are exactly the active level-2 categories.
    let (s, cats) = staff.get("/api/v1/categories").await;
    assert_eq!(s, 200);
    let level2 = cats
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["level"] == 2 && c["active"] == true)
        .count();
    let json = get(app, "services.json").await.json();
    let services = json.as_array().unwrap();
    assert_eq!(services.len(), level2);
    let xml = get(app, "services.xml").await;
    let xml_services = items(&xml.xml(), "service");
    assert_eq!(xml_services.len(), level2);
    let s = services
        .iter()
        .find(|s| s["service_name"] == "城市建设和市政管理")
        .expect("the service");
    assert_eq!(s["group"], "城乡建设");
    assert_eq!(
        (&s["metadata"], &s["type"]),
        (&json!(true), &json!("realtime"))
    );
    assert!(s["description"].as_str().unwrap().contains("园林绿化环卫"));
    let code = s["service_code"].as_str().unwrap().to_owned();
    assert!(
        xml_services
            .iter()
            .any(|x| x["service_code"] == code && x["metadata"] == "true")
    );
    // Its definition: the appeal type (required), the urgency and the ID number (optional).
    let def = get(app, &format!("services/{code}.json")).await.json();
    assert_eq!(def["service_code"], code.as_str());
    let attrs = def["attributes"].as_array().unwrap();
    let codes: Vec<&str> = attrs.iter().map(|a| a["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["appeal_type", "urgency", "citizen_id_number"]);
    assert_eq!(
        (&attrs[0]["datatype"], &attrs[0]["required"]),
        (&json!("singlevaluelist"), &json!(true))
    );
    assert!(
        attrs[0]["values"]
            .as_array()
            .unwrap()
            .contains(&json!({"key": "complaint", "name": "投诉"}))
    );
    assert_eq!(attrs[1]["values"].as_array().unwrap().len(), 2);
    assert_eq!(
        (&attrs[2]["datatype"], &attrs[2]["required"]),
        (&json!("string"), &json!(false))
    );
    let def = get(app, &format!("services/{code}.xml")).await;
    let doc = def.xml();
    assert_eq!(doc.root_element().tag_name().name(), "service_definition");
    let first = child(child(doc.root_element(), "attributes"), "attribute");
    assert_eq!(text(first, "code"), "appeal_type");
    assert_eq!(
        child(first, "values")
            .children()
            .filter(|n| n.has_tag_name("value"))
            .count(),
        6
    );
    for f in BOTH {
        let a = get(
            app,
            &format!("services/00000000-0000-0000-0000-000000000000.{f}"),
        )
        .await;
        assert_eq!(a.status, 404);
        assert_eq!(a.error(f == "xml").0, 404);
    }
    (code, s["service_name"].as_str().unwrap().to_owned(), level2)
}

async fn georeport_v2(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = new_key(&app, "市民随手拍");
    assert!(key.len() >= 40, "{key}");
    let dispatcher = app.login("dispatcher").await;
    let (code, name, services) = catalogue(&app, &dispatcher).await;

    // POST with lat/long (JSON answer).
    let a = post(
        &app,
        "json",
        &[
            ("api_key", &key),
            ("jurisdiction_id", "a.example"),
            ("service_code", &code),
            ("lat", "28.19"),
            ("long", "112.97"),
            ("account_id", "acct-7"),
            (
                "description",
                "桂花坪街道某小区门口的路灯连续一周不亮，晚上出行很不方便，请尽快维修。",
            ),
        ],
        None,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let r = &a.json()[0];
    let by_latlong = r["service_request_id"]
        .as_u64()
        .expect("a number")
        .to_string();
    assert_eq!(by_latlong.len(), 14);
    assert!(r["token"].is_string() && r["service_notice"].as_str().unwrap().contains(&by_latlong));
    assert_eq!(r["account_id"], "acct-7");
    let t = staff_ticket(&dispatcher, &by_latlong).await;
    assert_eq!(
        (&t["channel"], &t["appeal_type"], &t["category_id"]),
        (&json!("open311"), &json!("help"), &json!(code))
    );
    assert!(
        t["title"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{name}：桂花坪街道"))
    );

    // POST with address_string, a complaint, a photo and the citizen's contact (XML answer).
    let a = post(
        &app,
        "xml",
        &[
            ("api_key", &key),
            ("service_code", &code),
            ("address_string", "A2区桂花坪街道某小区东门"),
            ("attribute[appeal_type]", "complaint"),
            ("attribute[urgency]", "urgent"),
            ("media_url", "https://img.example/p/1.jpg"),
            ("first_name", "三"),
            ("last_name", "张"),
            ("phone", "13800138000"),
            ("email", "zhang@example.com"),
            ("description", "工地夜间施工噪音 <扰民> & 不停"),
        ],
        None,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let r = &items(&a.xml(), "request")[0];
    let complaint = r["service_request_id"].clone();
    let token = r["token"].clone();
    let t = staff_ticket(&dispatcher, &complaint).await;
    assert_eq!(
        (&t["appeal_type"], &t["urgency"]),
        (&json!("complaint"), &json!("urgent"))
    );
    assert_eq!(t["citizen_name"], "张三");
    assert_eq!(t["address"], "A2区桂花坪街道某小区东门");

    // A retry with the same Idempotency-Key answers the same request and creates nothing.
    let (_, before) = dispatcher
        .get("/api/v1/tickets?channel=open311&limit=200")
        .await;
    let fields = [
        ("api_key", key.as_str()),
        ("service_code", &code),
        ("address_id", "ADDR-0731-17"),
    ];
    let first = post(&app, "json", &fields, Some("retry-1")).await;
    let again = post(&app, "json", &fields, Some("retry-1")).await;
    assert_eq!((first.status, again.status), (200, 200), "{}", again.body);
    assert_eq!(first.body, again.body);
    assert!(again.replayed && !first.replayed);
    let by_address_id = first.json()[0]["service_request_id"]
        .as_u64()
        .unwrap()
        .to_string();
    let (_, after) = dispatcher
        .get("/api/v1/tickets?channel=open311&limit=200")
        .await;
    assert_eq!(
        after["items"].as_array().unwrap().len(),
        before["items"].as_array().unwrap().len() + 1
    );

    // A phone appeal in the same service: listed, but what the citizen said stays private.
    let level3 = {
        let (_, cats) = dispatcher.get("/api/v1/categories").await;
        cats.as_array()
            .unwrap()
            .iter()
            .find(|c| c["parent_id"] == code.as_str())
            .unwrap()["id"]
            .clone()
    };
    let agent = app.login("agent").await;
    let (s, phone) = agent
        .post(
            "/api/v1/tickets",
            json!({"appeal_type": "help", "category_id": level3,
            "title": "绿化带杂草", "detail": "家门口绿化带杂草丛生", "address": "某小区8栋",
            "citizen_name": "李四", "citizen_phone": "13900139000"}),
        )
        .await;
    assert_eq!(s, 201, "{phone}");
    let by_phone = phone["number"].as_str().unwrap().to_owned();

    requests_by_id(
        &app,
        &[&by_latlong, &complaint, &by_address_id, &by_phone],
        &code,
    )
    .await;

    // Close the lat/long one through the staff API.
    let id = staff_ticket(&dispatcher, &by_latlong).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a2 = app.login("a2").await;
    dispatcher
        .act(
            &id,
            "dispatch",
            json!({"main_unit_id": dispatcher.unit("990103").await}),
        )
        .await;
    a2.act(&id, "sign", json!({})).await;
    a2.act(
        &id,
        "reply",
        json!({"reply": "已安排维修，路灯已恢复照明。"}),
    )
    .await;
    dispatcher
        .act(&id, "return-visit", json!({"reached": true}))
        .await;
    dispatcher
        .act(&id, "rate", json!({"rating": "satisfied"}))
        .await;
    dispatcher
        .act(&id, "close", json!({"resolution": "路灯已修复。"}))
        .await;
    let one = get(&app, &format!("requests/{by_latlong}.json"))
        .await
        .json();
    assert_eq!(one.as_array().unwrap().len(), 1);
    let r = &one[0];
    assert_eq!(r["status"], "closed");
    assert!(
        r["status_notes"]
            .as_str()
            .unwrap()
            .contains("路灯已恢复照明"),
        "{r}"
    );
    assert!(
        r["agency_responsible"].as_str().unwrap().contains("A2"),
        "{r}"
    );
    assert!(r["expected_datetime"].is_string() && r["updated_datetime"].is_string());

    filters(&app, &code, &by_latlong, &complaint).await;

    // Token lookup.
    for f in BOTH {
        let a = get(&app, &format!("tokens/{token}.{f}")).await;
        assert_eq!(a.status, 200, "{}", a.body);
        let (id, tok) = if f == "xml" {
            let r = &items(&a.xml(), "request")[0];
            (r["service_request_id"].clone(), r["token"].clone())
        } else {
            let r = &a.json()[0];
            (
                r["service_request_id"].as_u64().unwrap().to_string(),
                r["token"].as_str().unwrap().to_owned(),
            )
        };
        assert_eq!((id, tok), (complaint.clone(), token.clone()));
        let a = get(&app, &format!("tokens/no-such-token.{f}")).await;
        assert_eq!((a.status, a.error(f == "xml").0), (404, 404));
    }

    refusals(&app, &key, &code).await;

    // A retired service is gone from the list, its definition, and POST.
    let admin = app.login("admin").await;
    let (s, _) = admin
        .patch(
            &format!("/api/v1/categories/{code}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(s, 200);
    let list = get(&app, "services.json").await;
    assert_eq!(list.json().as_array().unwrap().len(), services - 1);
    assert!(!list.body.contains(&code));
    assert_eq!(
        items(&get(&app, "services.xml").await.xml(), "service").len(),
        services - 1
    );
    assert_eq!(
        get(&app, &format!("services/{code}.json")).await.status,
        404
    );
    let a = post(
        &app,
        "json",
        &[
            ("api_key", &key),
            ("service_code", &code),
            ("lat", "1"),
            ("long", "1"),
        ],
        None,
    )
    .await;
    assert_eq!(a.status, 404, "{}", a.body);
}

/// service_request_id lists, in both formats, and what a request shows.
async fn requests_by_id(app: &TestApp, ids: &[&str; 4], code: &str) {
    let [latlong, complaint, address_id, phone] = *ids;
    let query = format!(
        "service_request_id={latlong},{complaint},{address_id},{phone}&status=closed&service_code=x"
    );
    for f in BOTH {
        assert_eq!(
            listed(app, f, &query).await,
            [latlong, complaint, address_id, phone],
            "{f}"
        );
    }
    let a = get(app, &format!("requests.json?{query}")).await;
    let all = a.json();
    for personal in [
        "13800138000",
        "138****8000",
        "张三",
        "zhang@example.com",
        "李四",
        "13900139000",
        "某小区8栋",
    ] {
        assert!(!a.body.contains(personal), "{personal} leaked: {}", a.body);
    }
    for r in all.as_array().unwrap() {
        for field in [
            "service_request_id",
            "status",
            "status_notes",
            "service_name",
            "service_code",
            "description",
            "agency_responsible",
            "service_notice",
            "requested_datetime",
            "updated_datetime",
            "expected_datetime",
            "address",
            "address_id",
            "zipcode",
            "lat",
            "long",
            "media_url",
        ] {
            assert!(r.get(field).is_some(), "{field} missing: {r}");
        }
        assert_eq!(r.as_object().unwrap().len(), 17, "{r}");
        assert_eq!(r["service_code"], code);
        assert_eq!(r["status"], "open");
    }
    assert_eq!(
        (&all[0]["lat"], &all[0]["long"]),
        (&json!(28.19), &json!(112.97))
    );
    assert_eq!(all[1]["media_url"], "https://img.example/p/1.jpg");
    assert_eq!(all[1]["description"], "工地夜间施工噪音 <扰民> & 不停");
    assert_eq!(
        (&all[2]["address_id"], &all[2]["address"]),
        (&json!("ADDR-0731-17"), &Value::Null)
    );
    assert_eq!(
        (&all[3]["description"], &all[3]["address"]),
        (&Value::Null, &Value::Null)
    );
    // The XML says the same, escaped.
    let x = get(app, &format!("requests.xml?{query}")).await;
    let rows = items(&x.xml(), "request");
    assert_eq!(rows[1]["description"], "工地夜间施工噪音 <扰民> & 不停");
    assert_eq!(rows[1]["media_url"], "https://img.example/p/1.jpg");
    assert_eq!(rows[0]["lat"], "28.19");
    // One request, and one that is not there.
    for f in BOTH {
        let a = get(app, &format!("requests/{complaint}.{f}")).await;
        assert_eq!(a.status, 200);
        let a = get(app, &format!("requests/20200101000001.{f}")).await;
        assert_eq!((a.status, a.error(f == "xml").0), (404, 404), "{}", a.body);
    }
}

/// service_code, status and date filters, both formats.
async fn filters(app: &TestApp, code: &str, closed: &str, open: &str) {
    let now = Utc::now();
    let window = format!(
        "start_date={}&end_date={}",
        w3c(now - Duration::hours(1)),
        w3c(now + Duration::minutes(5))
    );
    for f in BOTH {
        let has = |list: &[String], id: &str| list.iter().any(|x| x == id);
        let all = listed(app, f, "").await;
        assert!(has(&all, closed) && has(&all, open), "{f}");
        let mine = listed(app, f, &format!("service_code={code}")).await;
        assert!(has(&mine, closed) && has(&mine, open));
        let other = listed(
            app,
            f,
            "service_code=00000000-0000-0000-0000-000000000000,nonsense",
        )
        .await;
        assert!(other.is_empty());
        let c = listed(app, f, "status=closed").await;
        assert!(has(&c, closed) && !has(&c, open));
        let o = listed(app, f, &format!("status=open&service_code={code}")).await;
        assert!(!has(&o, closed) && has(&o, open));
        let both = listed(app, f, "status=open,closed").await;
        assert_eq!(both.len(), all.len());
        let w = listed(app, f, &window).await;
        assert!(has(&w, closed) && has(&w, open));
        let later = listed(
            app,
            f,
            &format!("start_date={}", w3c(now + Duration::hours(1))),
        )
        .await;
        assert!(later.is_empty());
        let earlier = listed(
            app,
            f,
            &format!("end_date={}", w3c(now - Duration::days(1))),
        )
        .await;
        assert!(earlier.is_empty());
        // An offset other than Z ('+' must be encoded in a query string).
        let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        let start = (now - Duration::hours(1)).with_timezone(&cst).to_rfc3339();
        let local = listed(app, f, &form(&[("start_date", &start)])).await;
        assert!(has(&local, open), "{start}");
        for bad in [
            format!(
                "start_date={}&end_date={}",
                w3c(now - Duration::days(91)),
                w3c(now)
            ),
            "start_date=yesterday".to_owned(),
            format!(
                "start_date={}&end_date={}",
                w3c(now),
                w3c(now - Duration::days(1))
            ),
            "status=pending".to_owned(),
        ] {
            let a = get(app, &format!("requests.{f}?{bad}")).await;
            assert_eq!(
                (a.status, a.error(f == "xml").0),
                (400, 400),
                "{bad}: {}",
                a.body
            );
        }
    }
}

type Fields = Vec<(String, String)>;

/// Refusals, each in the spec's error format with the matching status, in both formats.
async fn refusals(app: &TestApp, key: &str, code: &str) {
    let revoked = new_key(app, "旧应用");
    assert!(open311_key(app, "revoke", "旧应用").starts_with("revoked 1 "));
    let ok = [("service_code", code), ("lat", "28.2"), ("long", "112.9")];
    let with = |extra: &[(&'static str, &'static str)], key: Option<&str>| {
        let mut v: Vec<(String, String)> = ok
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if let Some(k) = key {
            v.push(("api_key".into(), k.into()));
        }
        for (k, val) in extra {
            v.retain(|(x, _)| x != k);
            if !val.is_empty() {
                v.push(((*k).into(), (*val).into()));
            }
        }
        v
    };
    let cases: Vec<(Fields, u16, &str)> = vec![
        (with(&[], None), 403, "api_key"),
        (with(&[], Some("wrong-key")), 403, "api_key"),
        (with(&[], Some(&revoked)), 403, "api_key"),
        (
            with(&[("lat", ""), ("long", "")], Some(key)),
            400,
            "location",
        ),
        (with(&[("long", "")], Some(key)), 400, "long"),
        (
            with(&[("service_code", "")], Some(key)),
            400,
            "service_code",
        ),
        (
            with(
                &[("service_code", "00000000-0000-0000-0000-000000000000")],
                Some(key),
            ),
            404,
            "service_code",
        ),
        (with(&[("phone", "12345")], Some(key)), 400, "phone"),
        (
            with(&[("attribute[appeal_type]", "gossip")], Some(key)),
            400,
            "attribute[appeal_type]",
        ),
        (
            with(&[("attribute[colour]", "red")], Some(key)),
            400,
            "attribute[colour]",
        ),
        (
            with(
                &[("attribute[citizen_id_number]", "110105194912310021")],
                Some(key),
            ),
            400,
            "attribute[citizen_id_number]",
        ),
        (
            with(&[("media_url", "javascript:alert(1)")], Some(key)),
            400,
            "media_url",
        ),
        (with(&[("lat", "north")], Some(key)), 400, "lat"),
    ];
    for (fields, status, field) in cases {
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        for f in BOTH {
            let a = post(app, f, &pairs, None).await;
            assert_eq!(a.status, status, "{field}: {}", a.body);
            let (c, description) = a.error(f == "xml");
            assert_eq!(c, u64::from(status));
            assert!(
                description.starts_with(&format!("{field}:")),
                "{field}: {description}"
            );
        }
    }
    // Only the spec's form encoding (multipart would carry files GeoReport v2 has no place for).
    let a = send(
        app.http()
            .post(app.url("/open311/v2/requests.xml"))
            .header("content-type", "multipart/form-data; boundary=x")
            .body("--x\r\nContent-Disposition: form-data; name=\"api_key\"\r\n\r\nk\r\n--x--\r\n"),
    )
    .await;
    assert_eq!((a.status, a.error(true).0), (415, 415));
    // The same Idempotency-Key with another request is refused.
    let pairs = [
        ("api_key", key),
        ("service_code", code),
        ("address_string", "某路口"),
    ];
    assert_eq!(post(app, "json", &pairs, Some("k-2")).await.status, 200);
    let other = [
        ("api_key", key),
        ("service_code", code),
        ("address_string", "另一个路口"),
    ];
    let a = post(app, "json", &other, Some("k-2")).await;
    assert_eq!((a.status, a.error(false).0), (400, 400), "{}", a.body);
    // Unknown formats and resources, wrong methods.
    for path in [
        "services.yaml",
        "requests/1.html",
        "nothing.json",
        "services/x/y.xml",
    ] {
        let a = get(app, path).await;
        assert_eq!(a.status, 404, "{path}: {}", a.body);
        assert_eq!(a.error(path.ends_with(".xml")).0, 404);
    }
    let a = send(app.http().delete(app.url("/open311/v2/services.xml"))).await;
    assert_eq!((a.status, a.error(true).0), (405, 405));
}

both_backends!(georeport_v2, georeport_v2);
