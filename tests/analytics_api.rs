#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The analytics API on both backends, through the real binary: tickets registered and worked
//! through the API reach the rollups from the event stream; the heat maps are valid GeoJSON
//! (read with the geojson crate) with the right counts; rates and rankings; scope and roles;
//! bad parameters named.

mod common;

use std::time::Duration;

use common::Backend;
use serde_json::{Value, json};

async fn geojson_of(api: &common::Api, path: &str) -> geojson::FeatureCollection {
    let res = api
        .http
        .get(format!("{}{path}", api.base))
        .bearer_auth(api.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{path}");
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/geo+json"
    );
    let text = res.text().await.unwrap();
    match text.parse::<geojson::GeoJson>().expect("valid GeoJSON") {
        geojson::GeoJson::FeatureCollection(fc) => fc,
        other => panic!("not a FeatureCollection: {other}"),
    }
}

fn counts_by_name(fc: &geojson::FeatureCollection) -> std::collections::BTreeMap<String, i64> {
    fc.features
        .iter()
        .map(|f| {
            (
                f.property("name")
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_owned(),
                f.property("count").and_then(Value::as_i64).unwrap(),
            )
        })
        .collect()
}

async fn analytics_api(backend: Backend) {
    let app = common::spawn_with_areas(backend).await;
    let agent = app.login("agent").await;
    let dispatcher = app.login("dispatcher").await;
    let leader = app.login("leader").await;
    let a2 = app.login("a2").await;
    let a2admin = app.login("a2admin").await;
    let mut ids = Vec::new();
    for (title, detail, at) in [
        (
            "小区门口路灯不亮",
            "门口路灯坏了一周。",
            Some((28.125, 112.975)),
        ),
        (
            "小区噪音扰民",
            "夜间施工噪音很大，非常不满。",
            Some((28.13, 112.98)),
        ),
        ("道路积水", "A5区某路口积水严重。", Some((28.1, 113.05))),
        (
            "公积金提取咨询",
            "A2区桂花坪街道居民，想问公积金怎么提取。",
            None,
        ),
    ] {
        let mut body = json!({"appeal_type": "complaint", "title": title, "detail": detail,
            "citizen_phone": "13800138000"});
        if let Some((lat, lon)) = at {
            body["latitude"] = json!(lat);
            body["longitude"] = json!(lon);
        }
        let (s, t) = agent.post("/api/v1/tickets", body).await;
        assert_eq!(s, 201, "{t}");
        ids.push(t["id"].as_str().unwrap().to_owned());
    }
    let a2_unit = dispatcher.unit("990103").await;
    dispatcher
        .act(&ids[0], "dispatch", json!({"main_unit_id": a2_unit}))
        .await;
    a2.act(&ids[0], "sign", json!({})).await;

    // The rollups follow the event stream: wait until they hold the four tickets and the sign.
    let mut summary = Value::Null;
    for _ in 0..100 {
        let (s, v) = leader.get("/api/v1/analytics/summary").await;
        assert_eq!(s, 200, "{v}");
        summary = v;
        if summary["rates"]["tickets"] == 4 && summary["rates"]["response"] == 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(summary["rates"]["tickets"], 4, "{summary}");
    assert_eq!(summary["rates"]["dispatched"], 1, "{summary}");
    assert_eq!(summary["rates"]["response"], 1.0, "{summary}");
    assert!(
        summary["rates"]["satisfaction"].is_null(),
        "nothing rated yet: {summary}"
    );
    let statuses: Vec<(String, i64)> = summary["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["key"].as_str().unwrap().to_owned(),
                c["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, [("handling".into(), 1), ("received".into(), 3)]);

    // Districts: two positions and one text in A2区, one position in A5区, the rest zero.
    let fc = geojson_of(&leader, "/api/v1/analytics/heatmap/areas?level=district").await;
    let by_name = counts_by_name(&fc);
    assert_eq!(
        by_name.len(),
        9,
        "every district with a boundary: {by_name:?}"
    );
    assert_eq!(by_name["A2区"], 3, "{by_name:?}");
    assert_eq!(by_name["A5区"], 1, "{by_name:?}");
    assert_eq!(by_name.values().sum::<i64>(), 4);
    for f in &fc.features {
        let g = f.geometry.as_ref().unwrap();
        assert!(
            matches!(
                g.value,
                geojson::GeometryValue::Polygon { .. }
                    | geojson::GeometryValue::MultiPolygon { .. }
            ),
            "{g:?}"
        );
    }
    let streets =
        counts_by_name(&geojson_of(&leader, "/api/v1/analytics/heatmap/areas?level=street").await);
    assert_eq!(streets["桂花坪街道"], 3, "{streets:?}");

    // Hexagons: the three appeals with a position, each cell a closed ring of 7 positions.
    for res in [5, 7, 9] {
        let fc = geojson_of(
            &leader,
            &format!("/api/v1/analytics/heatmap/hex?resolution={res}"),
        )
        .await;
        let total: i64 = fc
            .features
            .iter()
            .map(|f| f.property("count").and_then(Value::as_i64).unwrap())
            .sum();
        assert_eq!(total, 3, "resolution {res}");
        for f in &fc.features {
            assert_eq!(f.property("resolution").and_then(Value::as_i64), Some(res));
            let Some(geojson::GeometryValue::Polygon { coordinates }) =
                f.geometry.as_ref().map(|g| &g.value)
            else {
                panic!("a cell is a Polygon");
            };
            assert_eq!(coordinates[0].len(), 7, "six corners, closed");
            assert_eq!(coordinates[0].first(), coordinates[0].last());
        }
        if res == 9 {
            assert_eq!(fc.features.len(), 3, "three positions far enough apart");
        }
    }
    // The type filter narrows: none of them is a consultation.
    let none = geojson_of(&leader, "/api/v1/analytics/heatmap/hex?type=consult").await;
    assert!(none.features.is_empty());

    // Rates per unit: A2区 signed its one ticket in time.
    let (s, r) = leader.get("/api/v1/analytics/rates?group=unit").await;
    assert_eq!(s, 200, "{r}");
    let line = r["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "A2区")
        .expect("A2区");
    assert_eq!(
        (line["rank"].as_i64(), line["rates"]["response"].as_f64()),
        (Some(1), Some(1.0)),
        "{r}"
    );
    let (s, r) = leader.get("/api/v1/analytics/rates?group=area").await;
    assert_eq!(s, 200, "{r}");
    let (s, t) = leader.get("/api/v1/analytics/trend").await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["days"].as_array().unwrap().len(), 30);
    assert_eq!(
        t["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["tickets"].as_i64().unwrap())
            .sum::<i64>(),
        4
    );

    // Exports with the same filters: CSV (with a BOM) and XLSX, personal data masked.
    let download = |api: common::Api, path: String| async move {
        let res = api
            .http
            .get(format!("{}{path}", api.base))
            .bearer_auth(api.token.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let disposition = res
            .headers()
            .get("content-disposition")
            .map(|h| h.to_str().unwrap().to_owned());
        (status, disposition, res.bytes().await.unwrap().to_vec())
    };
    let (s, disposition, csv_bytes) = download(
        leader.clone(),
        "/api/v1/analytics/export/tickets.csv".into(),
    )
    .await;
    assert_eq!(s, 200);
    assert!(disposition.unwrap().contains("tickets-"), "a file name");
    assert!(csv_bytes.starts_with("\u{feff}".as_bytes()));
    let mut reader = csv::Reader::from_reader(&csv_bytes[3..]);
    assert_eq!(&reader.headers().unwrap()[0], "工单编号");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    assert!(
        rows.iter().all(|r| &r[10] == "138****8000"),
        "phones masked: {rows:?}"
    );
    assert!(
        rows.iter().any(|r| &r[8] == "A2区" && &r[7] == "办理中"),
        "{rows:?}"
    );
    let (s, _, xlsx) = download(
        leader.clone(),
        "/api/v1/analytics/export/rates.xlsx?group=unit".into(),
    )
    .await;
    assert_eq!(s, 200);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).expect("an XLSX is a zip");
    let mut strings = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/sharedStrings.xml").unwrap(),
        &mut strings,
    )
    .unwrap();
    let doc = roxmltree::Document::parse(&strings).expect("XML");
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(
        texts.contains(&"满意率") && texts.contains(&"A2区"),
        "{texts:?}"
    );
    let (s, _, _) = download(
        leader.clone(),
        "/api/v1/analytics/export/tickets.pdf".into(),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _, _) = download(a2.clone(), "/api/v1/analytics/export/tickets.csv".into()).await;
    assert_eq!(s, 403);

    // Pictures: the map as SVG (XML with the district names and a legend) and PNG, the charts.
    let (s, _, svg) = download(
        leader.clone(),
        "/api/v1/analytics/heatmap.svg?level=street".into(),
    )
    .await;
    assert_eq!(s, 200);
    let svg = String::from_utf8(svg).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the map is XML");
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(texts.iter().any(|t| t.contains("A2区")), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.contains("诉求件数")),
        "the legend: {texts:?}"
    );
    let (s, _, png) = download(
        leader.clone(),
        "/api/v1/analytics/heatmap.png?kind=hex&resolution=8".into(),
    )
    .await;
    assert_eq!(s, 200);
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    for chart in ["trend.svg", "rates.svg?group=unit&rate=response"] {
        let (s, _, svg) =
            download(leader.clone(), format!("/api/v1/analytics/charts/{chart}")).await;
        assert_eq!(s, 200, "{chart}");
        roxmltree::Document::parse(std::str::from_utf8(&svg).unwrap()).expect(chart);
    }
    let (s, _, svg) = download(leader.clone(), "/api/v1/analytics/charts/rates.svg".into()).await;
    assert!(s == 200 && String::from_utf8(svg).unwrap().contains("A2区"));
    let (s, w) = leader.get("/api/v1/analytics/warnings").await;
    assert_eq!(s, 200, "{w}");
    assert!(
        w["warnings"].as_array().unwrap().is_empty(),
        "four tickets are no burst: {w}"
    );
    assert_eq!(w["rule"]["window_days"], 3);

    // Scope: A2区's administrator sees A2区's figures only; a handler sees none.
    let mine = counts_by_name(&geojson_of(&a2admin, "/api/v1/analytics/heatmap/areas").await);
    assert_eq!((mine["A2区"], mine["A5区"]), (3, 0), "{mine:?}");
    let cells = geojson_of(&a2admin, "/api/v1/analytics/heatmap/hex?resolution=9").await;
    assert_eq!(cells.features.len(), 2, "only the cells in A2区");
    let (s, e) = a2.get("/api/v1/analytics/summary").await;
    assert_eq!(s, 403, "{e}");
    let (s, _) = app.anonymous().get("/api/v1/analytics/summary").await;
    assert_eq!(s, 401);

    // Bad parameters are named.
    for (path, field) in [
        ("/api/v1/analytics/summary?from=2026-13-01", "from"),
        (
            "/api/v1/analytics/summary?from=2026-11-02&to=2026-11-01",
            "from",
        ),
        (
            "/api/v1/analytics/summary?from=2020-01-01&to=2026-11-01",
            "from",
        ),
        ("/api/v1/analytics/summary?type=gossip", "type"),
        ("/api/v1/analytics/summary?channel=fax", "channel"),
        ("/api/v1/analytics/summary?category=nonsense", "category"),
        ("/api/v1/analytics/heatmap/hex?resolution=12", "resolution"),
        ("/api/v1/analytics/heatmap/areas?level=planet", "level"),
        ("/api/v1/analytics/rates?group=stars", "group"),
        ("/api/v1/analytics/heatmap.svg?kind=dots", "kind"),
        ("/api/v1/analytics/charts/rates.svg?rate=happiness", "rate"),
        ("/api/v1/analytics/warnings?to=yesterday", "to"),
    ] {
        let (s, e) = leader.get(path).await;
        assert!((400..500).contains(&s), "{path}: {s} {e}");
        assert_eq!(e["error"]["field"], field, "{path}: {e}");
    }

    // Hot issues: two more appeals about the night-time building noise join the first one.
    for detail in [
        "晚上十一点还在施工，噪音扰民严重。",
        "工地夜间施工噪音太大，影响休息。",
    ] {
        let (s, t) = agent
            .post(
                "/api/v1/tickets",
                json!({"appeal_type": "complaint", "title": "小区旁工地夜间施工噪音扰民",
                    "detail": detail, "latitude": 28.131, "longitude": 112.981}),
            )
            .await;
        assert_eq!(s, 201, "{t}");
    }
    let (s, h) = leader.get("/api/v1/analytics/hot-issues").await;
    assert_eq!(s, 200, "{h}");
    let issues = h["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "one matter appears three times: {h}");
    let titles: Vec<&str> = issues[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 3, "{h}");
    assert!(titles.iter().all(|t| t.contains("噪音")), "{titles:?}");
    assert!(issues[0]["label"].as_str().unwrap().contains("噪音"), "{h}");

    // The OpenAPI document lists the analytics endpoints.
    let doc: Value = app
        .http()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "summary",
        "trend",
        "rates",
        "heatmap/hex",
        "heatmap/areas",
        "hot-issues",
        "export/{file}",
        "warnings",
        "heatmap.{format}",
        "charts/{chart}",
    ] {
        assert!(
            doc["paths"]
                .get(format!("/api/v1/analytics/{path}"))
                .is_some(),
            "{path} is in the OpenAPI document"
        );
    }
    let paths = doc["paths"].as_object().unwrap();
    let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    println!("openapi: {operations} operations on {} paths", paths.len());
}

both_backends!(analytics_api_sqlite_and_pg, analytics_api);
