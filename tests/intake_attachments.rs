#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Attachments through the real binary on both backends: signed multipart appeals from an app
//! with photos and recordings; files recognised by their bytes and refused beyond the limits;
//! EXIF removed from what is stored while its GPS position becomes the appeal's location (and
//! never overrides a given one); the staff routes, scoped like the ticket.

mod common;

use std::path::Path;

use common::{Backend, TestApp, TestDb, seed, start};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const JPEG: &[u8] = include_bytes!("fixtures/attachments/photo-gps.jpg");
const PNG: &[u8] = include_bytes!("fixtures/attachments/photo-gps.png");
const WEBP: &[u8] = include_bytes!("fixtures/attachments/photo-gps.webp");
/// Where photo-gps.jpg was taken (its EXIF GPS).
const JPEG_GPS: (f64, f64) = (
    28.0 + 13.0 / 60.0 + 30.6 / 3600.0,
    112.0 + 56.0 / 60.0 + 24.0 / 3600.0,
);

type Client = common::AppClient;

fn register_client(db: &TestDb) -> Client {
    common::register_client(db, "随手拍", "app")
}

/// A part: name, file name (None for a text part), bytes.
type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = format!("hotline-{}", uuid::Uuid::new_v4().simple());
    let mut b = Vec::new();
    for (name, file, bytes) in parts {
        b.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let head = match file {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ),
            None => format!(
                "Content-Disposition: form-data; name=\"{name}\"\r\nContent-Type: application/json\r\n\r\n"
            ),
        };
        b.extend_from_slice(head.as_bytes());
        b.extend_from_slice(bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

/// Posts a signed appeal (the signature covers the raw body, as for JSON).
async fn post_signed(
    app: &TestApp,
    client: &Client,
    key: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let ts = chrono::Utc::now().timestamp().to_string();
    let nonce = format!("n{}", uuid::Uuid::new_v4().simple());
    let signature = hotline_intake::clients::sign(
        &client.secret,
        "POST",
        "/api/v1/appeals",
        &ts,
        &nonce,
        &body,
    );
    let res = app
        .http()
        .post(app.url("/api/v1/appeals"))
        .header("content-type", content_type)
        .header("x-client-id", &client.id)
        .header("x-timestamp", ts)
        .header("x-nonce", nonce)
        .header("x-signature", signature)
        .header("idempotency-key", key)
        .body(body)
        .send()
        .await
        .expect("send");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap_or(Value::Null))
}

async fn send_parts(app: &TestApp, client: &Client, key: &str, parts: &[Part<'_>]) -> (u16, Value) {
    let (ct, body) = multipart(parts);
    let (status, _, v) = post_signed(app, client, key, &ct, body).await;
    (status, v)
}

fn appeal(extra: Value) -> Vec<u8> {
    let mut a = json!({
        "appeal_type": "report",
        "title": "人行道井盖破损",
        "detail": "A2区桂花坪街道云塘社区门口人行道井盖破损，已拍照。",
        "citizen_phone": "13800138000"
    });
    if let Value::Object(m) = extra {
        a.as_object_mut().unwrap().extend(m);
    }
    serde_json::to_vec(&a).unwrap()
}

/// A WAV recording of `seconds` of a 440 Hz tone (8 kHz, 16-bit mono).
fn wav(seconds: usize) -> Vec<u8> {
    let samples = 8000 * seconds;
    let data = u32::try_from(samples * 2).unwrap();
    let mut w = Vec::with_capacity(44 + samples * 2);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&8000u32.to_le_bytes());
    w.extend_from_slice(&16000u32.to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data.to_le_bytes());
    for i in 0..samples {
        let v = (f64::sin(i as f64 * 440.0 * std::f64::consts::TAU / 8000.0) * 8000.0) as i16;
        w.extend_from_slice(&v.to_le_bytes());
    }
    w
}

async fn app(backend: Backend) -> TestApp {
    let mut db = TestDb::new(backend);
    seed(db.db());
    db.close();
    let (child, base) = start(&db, &["serve"], &[]);
    TestApp::new(base, db, child)
}

/// Every stored object under the default storage dir, by key.
fn stored_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let key = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((key, std::fs::read(&p).unwrap()));
            }
        }
    }
    let root = dir.join("attachments");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn hex_sha256(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

async fn download(api: &common::Api, url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let res = api
        .http
        .get(format!("{}{url}", api.base))
        .bearer_auth(api.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.unwrap().to_vec())
}

/// A signed multipart appeal with two photos: stored once, its location taken from the first
/// photo's GPS, the photos stored without EXIF, listed and served to staff.
async fn photos_through_the_app(backend: Backend) {
    let app = app(backend).await;
    let client = register_client(&app.db);
    let dispatcher = app.login("dispatcher").await;
    let json = appeal(json!({}));
    let parts: &[Part<'_>] = &[
        ("appeal", None, &json),
        ("photo", Some("IMG_0001.JPG"), JPEG),
        ("photo", Some("screenshot.png"), PNG),
    ];
    let (status, receipt) = send_parts(&app, &client, "photos-1", parts).await;
    assert_eq!(status, 201, "{receipt}");
    let id = receipt["ticket_id"].as_str().unwrap().to_owned();

    // 立拍秒办: no location was given, so the first photo's GPS is the appeal's.
    let (s, detail) = dispatcher.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(s, 200, "{detail}");
    let t = &detail["ticket"];
    let (lat, lon) = (
        t["latitude"].as_f64().unwrap(),
        t["longitude"].as_f64().unwrap(),
    );
    assert!(
        (lat - JPEG_GPS.0).abs() < 1e-6 && (lon - JPEG_GPS.1).abs() < 1e-6,
        "{t}"
    );

    let (s, list) = dispatcher
        .get(&format!("/api/v1/tickets/{id}/attachments"))
        .await;
    assert_eq!(s, 200, "{list}");
    let items = list.as_array().unwrap();
    let types: Vec<_> = items
        .iter()
        .map(|a| a["content_type"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 2, "{list}");
    assert!(
        types.contains(&"image/jpeg") && types.contains(&"image/png"),
        "{list}"
    );
    let files = stored_files(app.db.dir.path());
    assert_eq!(
        files.len(),
        2,
        "{:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for a in items {
        assert_eq!(a["kind"], "photo");
        let (s, headers, bytes) = download(&dispatcher, a["url"].as_str().unwrap()).await;
        assert_eq!(s, 200);
        assert_eq!(headers["content-type"], a["content_type"].as_str().unwrap());
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(
            headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("inline")
        );
        assert_eq!(bytes.len() as i64, a["byte_size"].as_i64().unwrap());
        assert_eq!(hex_sha256(&bytes), a["sha256"].as_str().unwrap());
        // Stored as served, under YYYY/MM/DD/<id>, with no name the client chose.
        let key = files
            .iter()
            .find(|(_, b)| *b == bytes)
            .map(|(k, _)| k.clone())
            .unwrap();
        assert!(key.ends_with(a["id"].as_str().unwrap()), "{key}");
        assert_eq!(key.split('/').count(), 4, "{key}");
        assert!(!key.contains("IMG_0001") && !key.contains("screenshot"));
        // EXIF gone: no camera, no GPS, no XMP, no comment.
        for gone in [
            &b"HotlineCam"[..],
            b"GPS",
            b"ns.adobe.com",
            b"13800138000",
            b"eXIf",
        ] {
            assert!(
                !find(&bytes, gone),
                "{:?} survived",
                String::from_utf8_lossy(gone)
            );
        }
        if a["content_type"] == "image/jpeg" {
            assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && bytes.ends_with(&[0xFF, 0xD9]));
            assert!(
                (a["latitude"].as_f64().unwrap() - JPEG_GPS.0).abs() < 1e-6,
                "{a}"
            );
            // Only the orientation is left of the EXIF.
            let tiff_at = bytes.windows(6).position(|w| w == b"Exif\0\0").unwrap() + 6;
            let tiff = &bytes[tiff_at..tiff_at + 26];
            assert_eq!(
                hotline_intake::attachments::content::gps_position(tiff),
                None
            );
        } else {
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        }
    }

    // A retry with the same key creates nothing and leaves no stray files.
    let (status, again) = send_parts(&app, &client, "photos-1", parts).await;
    assert_eq!((status, &again), (201, &receipt));
    assert_eq!(stored_files(app.db.dir.path()).len(), 2);
    let (_, list) = dispatcher
        .get(&format!("/api/v1/tickets/{id}/attachments"))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}
both_backends!(photos_through_the_app_, photos_through_the_app);

/// A given location stays; WebP and a recording of over 64 KiB are accepted (the multipart cap
/// is not the JSON limit, which still holds for JSON).
async fn given_location_webp_and_audio(backend: Backend) {
    let app = app(backend).await;
    let client = register_client(&app.db);
    let dispatcher = app.login("dispatcher").await;
    let json = appeal(json!({"latitude": 28.19, "longitude": 112.98}));
    let recording = wav(8); // 128 KB
    let parts: &[Part<'_>] = &[
        ("appeal", None, &json),
        ("photo", Some("a.webp"), WEBP),
        ("photo", Some("b.jpg"), JPEG),
        ("audio", Some("voice.wav"), &recording),
    ];
    let (status, receipt) = send_parts(&app, &client, "given-1", parts).await;
    assert_eq!(status, 201, "{receipt}");
    let id = receipt["ticket_id"].as_str().unwrap();
    let (_, detail) = dispatcher.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(detail["ticket"]["latitude"], 28.19);
    assert_eq!(detail["ticket"]["longitude"], 112.98);
    let (_, list) = dispatcher
        .get(&format!("/api/v1/tickets/{id}/attachments"))
        .await;
    let kinds: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().into(),
                a["content_type"].as_str().unwrap().into(),
            )
        })
        .collect();
    for expected in [
        ("photo", "image/webp"),
        ("photo", "image/jpeg"),
        ("audio", "audio/wav"),
    ] {
        assert!(
            kinds.contains(&(expected.0.into(), expected.1.into())),
            "{kinds:?}"
        );
    }
    let audio = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "audio")
        .unwrap();
    assert!(audio["latitude"].is_null());
    let (s, headers, bytes) = download(&dispatcher, audio["url"].as_str().unwrap()).await;
    assert_eq!((s, bytes.as_slice()), (200, recording.as_slice()));
    assert_eq!(headers["content-type"], "audio/wav");

    // JSON keeps the small limit.
    let big = appeal(json!({"detail": "长".repeat(30_000)}));
    let (status, _, err) = post_signed(&app, &client, "big-json", "application/json", big).await;
    assert_eq!(status, 413, "{err}");
}
both_backends!(
    given_location_webp_and_audio_,
    given_location_webp_and_audio
);

/// What is refused: a text file named .jpg, a damaged photo, a file over 10 MiB, ten files, an
/// unknown part, no appeal. Nothing is created and nothing stays in the storage.
async fn refusals(backend: Backend) {
    let app = app(backend).await;
    let client = register_client(&app.db);
    let dispatcher = app.login("dispatcher").await;
    let json = appeal(json!({}));
    let mut oversized = JPEG.to_vec();
    oversized.resize(10 * 1024 * 1024 + 1, 0);
    let cases: Vec<(&str, Vec<Part<'_>>, u16, &str, &str)> = vec![
        (
            "text named .jpg",
            vec![
                ("appeal", None, &json),
                ("photo", Some("x.jpg"), b"not really a photo"),
            ],
            422,
            "photo",
            "not a JPEG, PNG or WebP photo",
        ),
        (
            "damaged",
            vec![
                ("appeal", None, &json),
                ("photo", Some("a.jpg"), JPEG),
                ("photo", Some("b.jpg"), &JPEG[..900]),
            ],
            422,
            "photo",
            "damaged",
        ),
        (
            "over 10 MiB",
            vec![
                ("appeal", None, &json),
                ("photo", Some("big.jpg"), &oversized),
            ],
            422,
            "photo",
            "10 MiB",
        ),
        (
            "ten files",
            std::iter::once(("appeal", None, &json[..]))
                .chain((0..10).map(|_| ("photo", Some("p.png"), PNG)))
                .collect(),
            422,
            "photo",
            "at most 9",
        ),
        (
            "unknown part",
            vec![("appeal", None, &json), ("video", Some("v.mp4"), JPEG)],
            422,
            "video",
            "unknown part",
        ),
        (
            "no appeal",
            vec![("photo", Some("a.jpg"), JPEG)],
            422,
            "appeal",
            "missing",
        ),
        (
            "empty file",
            vec![("appeal", None, &json), ("audio", Some("a.amr"), b"")],
            422,
            "audio",
            "empty",
        ),
    ];
    for (i, (label, parts, status, field, reason)) in cases.iter().enumerate() {
        let (s, err) = send_parts(&app, &client, &format!("refused-{i}"), parts).await;
        assert_eq!(s, *status, "{label}: {err}");
        assert_eq!(err["error"]["field"], *field, "{label}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{label}: {message}");
    }
    let (_, list) = dispatcher.get("/api/v1/tickets?channel=app").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
    assert_eq!(stored_files(app.db.dir.path()).len(), 0);

    // A multipart body beyond nine whole files is refused from its declared length, unread.
    let addr = app.base.trim_start_matches("http://").to_owned();
    let head = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.write_all(
            b"POST /api/v1/appeals HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 104857600\r\n\r\n--x\r\n",
        )
        .unwrap();
        let mut buf = [0u8; 64];
        let n = c.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    })
    .await
    .unwrap();
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
}
both_backends!(refusals_, refusals);

/// The staff routes answer only within the ticket's scope: 404 for a unit that never had it,
/// the file once the ticket is dispatched to the unit.
async fn scoped_like_the_ticket(backend: Backend) {
    let app = app(backend).await;
    let client = register_client(&app.db);
    let dispatcher = app.login("dispatcher").await;
    let json = appeal(json!({}));
    let (status, receipt) = send_parts(
        &app,
        &client,
        "scoped-1",
        &[("appeal", None, &json), ("photo", Some("a.jpg"), JPEG)],
    )
    .await;
    assert_eq!(status, 201, "{receipt}");
    let id = receipt["ticket_id"].as_str().unwrap();
    let list_path = format!("/api/v1/tickets/{id}/attachments");
    let (_, list) = dispatcher.get(&list_path).await;
    let url = list[0]["url"].as_str().unwrap().to_owned();

    let a1 = app.login("a1").await;
    let a2 = app.login("a2").await;
    for api in [&a1, &a2] {
        assert_eq!(api.get(&list_path).await.0, 404);
        assert_eq!(download(api, &url).await.0, 404);
    }
    let a2_unit = dispatcher.unit("990103").await;
    dispatcher
        .act(id, "dispatch", json!({"main_unit_id": a2_unit}))
        .await;
    assert_eq!(a2.get(&list_path).await.0, 200);
    let (s, _, bytes) = download(&a2, &url).await;
    assert_eq!(s, 200);
    assert!(bytes.starts_with(&[0xFF, 0xD8]));
    assert_eq!(a1.get(&list_path).await.0, 404);
    assert_eq!(download(&a1, &url).await.0, 404);
    // Unknown or malformed ids, and no session.
    assert_eq!(
        download(&dispatcher, "/api/v1/attachments/not-a-uuid")
            .await
            .0,
        404
    );
    let unknown = format!("/api/v1/attachments/{}", uuid::Uuid::new_v4());
    assert_eq!(download(&dispatcher, &unknown).await.0, 404);
    assert_eq!(app.anonymous().get(&list_path).await.0, 401);
}
both_backends!(scoped_like_the_ticket_, scoped_like_the_ticket);
