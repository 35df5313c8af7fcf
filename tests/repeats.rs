#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Repeat appeals on both backends: the real case of `demo/appeals/hot_messages.csv` against the
//! groups written down in `tests/fixtures/hot_messages_groups.json`, the windows of the rule,
//! place and text, and a flagged pair merged through the staff API.

mod common;
mod pages_support;
mod storage_support;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use common::{Backend, TestDb, hotline, seed, spawn_app};
use hotline_core::domain::Channel;
use hotline_core::ids::TicketId;
use hotline_core::ticket::Action;
use hotline_core::workflow::Hotline;
use hotline_core::{Db, DbUrl};
use hotline_intake::appeal::{AppealInput, validate};
use hotline_intake::repeats::{self, Appeal, Reason};
use hotline_intake::submit::{Answer, Submission, submit};
use serde_json::{Value, json};
use storage_support::{Team, china, reason};

const HOT_CSV: &str = include_str!("../demo/appeals/hot_messages.csv");
const GROUPS_JSON: &str = include_str!("fixtures/hot_messages_groups.json");

/// Registers an appeal through the intake's one path, as every channel does.
async fn appeal(h: &Hotline, team: &Team, input: AppealInput) -> TicketId {
    let appeal = validate(&input, Channel::Web).expect("valid appeal");
    let id = submit(
        h,
        Submission {
            actor: team.agent.actor.clone(),
            centre_id: team.centre,
            appeal,
            client_id: None,
            nonce: None,
            raw_payload: "{}".into(),
            remote_addr: None,
            idempotency: None,
            attachments: Vec::new(),
        },
        |_| Answer {
            status: 201,
            content_type: "application/json".into(),
            body: "{}".into(),
        },
    )
    .await
    .expect("submitted")
    .ticket_id;
    // The check runs after the acknowledgement; wait for it, as the next appeal would find it.
    repeats::settle().await;
    id
}

fn input(title: &str, detail: &str, phone: Option<&str>) -> AppealInput {
    AppealInput {
        appeal_type: Some(hotline_core::domain::AppealType::Complaint),
        title: title.into(),
        detail: detail.into(),
        citizen_phone: phone.map(Into::into),
        ..AppealInput::default()
    }
}

fn links_of(db: &Db, id: TicketId) -> Vec<repeats::CandidateRow> {
    repeats::for_ticket(&mut db.get().expect("conn"), id).expect("candidates")
}

// ---- the real case -----------------------------------------------------------------------------

struct Message {
    id: String,
    user: String,
    title: String,
    detail: String,
    at: DateTime<Utc>,
}

fn messages() -> Vec<Message> {
    let mut reader = csv::Reader::from_reader(HOT_CSV.as_bytes());
    let mut out: Vec<Message> = reader
        .deserialize::<HashMap<String, String>>()
        .map(|r| {
            let r = r.expect("row");
            let local = NaiveDateTime::parse_from_str(&r["submitted_at"], "%Y-%m-%d %H:%M:%S")
                .expect("submitted_at");
            Message {
                id: r["id"].clone(),
                user: r["user"].clone(),
                title: r["title"].clone(),
                detail: r["detail"].clone(),
                at: chrono_tz::Asia::Shanghai
                    .from_local_datetime(&local)
                    .single()
                    .expect("China time")
                    .to_utc(),
            }
        })
        .collect();
    out.sort_by_key(|m| m.at);
    out
}

/// The fixture's matter of every message: groups by their index, singletons by their own id.
fn matters() -> BTreeMap<String, String> {
    let f: Value = serde_json::from_str(GROUPS_JSON).expect("fixture");
    let mut out = BTreeMap::new();
    for (i, g) in f["groups"].as_array().expect("groups").iter().enumerate() {
        for id in g["ids"].as_array().expect("ids") {
            out.insert(id.as_str().expect("id").to_owned(), format!("group {i}"));
        }
    }
    for s in f["singletons"].as_array().expect("singletons") {
        let id = s["id"].as_str().expect("id").to_owned();
        out.insert(id.clone(), id);
    }
    out
}

type Pair = (String, String);

fn pair(a: &str, b: &str) -> Pair {
    if a < b {
        (a.to_owned(), b.to_owned())
    } else {
        (b.to_owned(), a.to_owned())
    }
}

/// Same-matter pairs the rule does not find although its windows allow them, with the score it
/// gives them. Measured, not wished: if detection gets better, this test says so and the list
/// (and the README) must shrink.
const KNOWN_MISSES: &[(&str, &str, &str)] = &[(
    "360101",
    "360108",
    "same 魅力之城小区, 4 days apart, but the two accounts share little wording: text 0.095 < 0.11",
)];

/// The 30 hot messages, in their order and at their real time (China time, 2017–2020), each
/// from a phone number of its own user, through the intake; then every flagged pair is compared
/// with the fixture's groups.
///
/// What the rule can find is bounded by its windows: a similar appeal near the same place within
/// 7 days, the same caller within 30. The fixture's groups span months (魅力之城, July–September
/// 2019) and years (A市经济学院, 2017–2019), so the test expects exactly the same-matter pairs
/// that fall within a window to be linked **directly** (a flag between the two tickets), and
/// reports the rest. No pair of different matters may be linked at all.
async fn real_case(backend: Backend) {
    let t = TestDb::new(backend);
    seed(t.db());
    let msgs = messages();
    let h = hotline(t.db(), msgs[0].at);
    let team = Team::of(t.db());
    let matter = matters();
    assert_eq!(matter.len(), 30, "the fixture names every message once");

    // One phone number per user id, in order of appearance.
    let mut phones: HashMap<String, String> = HashMap::new();
    let mut ticket_of: BTreeMap<String, TicketId> = BTreeMap::new();
    let mut message_of: HashMap<TicketId, String> = HashMap::new();
    for m in &msgs {
        let n = phones.len() + 1;
        let phone = phones
            .entry(m.user.clone())
            .or_insert_with(|| format!("139{n:08}"))
            .clone();
        h.now.set(m.at);
        let id = appeal(&h, &team, input(&m.title, &m.detail, Some(&phone))).await;
        ticket_of.insert(m.id.clone(), id);
        message_of.insert(id, m.id.clone());
    }

    // Every flagged pair, by message id, with its reason and score.
    let mut found: BTreeMap<Pair, (Reason, f64)> = BTreeMap::new();
    for (mid, id) in &ticket_of {
        for row in links_of(t.db(), *id) {
            found.insert(pair(mid, &message_of[&row.id]), (row.reason, row.score));
        }
    }

    // What the windows allow among the same-matter pairs.
    let at: HashMap<&str, (DateTime<Utc>, &str)> = msgs
        .iter()
        .map(|m| (m.id.as_str(), (m.at, m.user.as_str())))
        .collect();
    let mut expected: BTreeMap<Pair, &str> = BTreeMap::new();
    let mut beyond: Vec<Pair> = Vec::new();
    let ids: Vec<&String> = matter.keys().collect();
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            if matter[*a] != matter[*b] {
                continue;
            }
            let ((ta, ua), (tb, ub)) = (at[a.as_str()], at[b.as_str()]);
            let gap = (ta - tb).abs();
            if ua == ub && gap <= Duration::days(repeats::CALLER_WINDOW_DAYS) {
                expected.insert(pair(a, b), "same caller within 30 days");
            } else if gap <= Duration::days(repeats::NEARBY_WINDOW_DAYS) {
                expected.insert(pair(a, b), "within 7 days");
            } else {
                beyond.push(pair(a, b));
            }
        }
    }

    // 1. Nothing of different matters is linked.
    let false_links: Vec<_> = found
        .iter()
        .filter(|((a, b), _)| matter[a] != matter[b])
        .collect();
    assert!(
        false_links.is_empty(),
        "different matters linked: {false_links:?}"
    );

    // 2. Every same-matter pair the windows allow is linked directly, but the known misses.
    let known: BTreeSet<Pair> = KNOWN_MISSES.iter().map(|(a, b, _)| pair(a, b)).collect();
    let missed: Vec<_> = expected
        .keys()
        .filter(|p| !found.contains_key(*p) && !known.contains(*p))
        .collect();
    assert!(
        missed.is_empty(),
        "same matter, within a window, not linked: {missed:?}"
    );
    for p in &known {
        assert!(expected.contains_key(p), "{p:?} is no in-window pair");
        assert!(
            !found.contains_key(p),
            "{p:?} is found now: take it off KNOWN_MISSES and update the README"
        );
    }
    // The same citizen's message sent twice is flagged as the same caller, a copy.
    let (reason, score) = found[&pair("360107", "360108")];
    assert_eq!(reason, Reason::SameCaller);
    assert!(score > 0.9, "{score}");

    // Links beyond the windows do not happen (the rule looks back 7 or 30 days only).
    let outside: Vec<_> = found.keys().filter(|p| beyond.contains(p)).collect();
    assert!(outside.is_empty(), "linked beyond the windows: {outside:?}");

    // 3. The rule's place and text, without the windows, on every pair: what a longer window
    //    would find. Nothing of different matters passes; the same-matter pairs that pass are
    //    reported.
    let mut c = t.db().get().expect("conn");
    let g = repeats::places::gazetteer(&mut c).expect("gazetteer");
    let analysed: BTreeMap<&str, repeats::Analysis> = msgs
        .iter()
        .map(|m| {
            let a = Appeal {
                title: &m.title,
                detail: &m.detail,
                address: None,
                point: None,
            };
            (m.id.as_str(), repeats::analyse(&g, &a))
        })
        .collect();
    let mut same_pass = 0;
    let mut same_total = 0;
    let mut same_fail = Vec::new();
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            let hit = repeats::similar_nearby(&analysed[a.as_str()], &analysed[b.as_str()]);
            if matter[*a] == matter[*b] {
                same_total += 1;
                same_pass += usize::from(hit.is_some());
                if hit.is_none() {
                    let (x, y) = (&analysed[a.as_str()], &analysed[b.as_str()]);
                    same_fail.push(format!(
                        "{a}-{b} {:?} {:.3}",
                        repeats::places::near(&x.places, &y.places),
                        x.vector.cosine(&y.vector)
                    ));
                }
            } else {
                assert!(
                    hit.is_none(),
                    "{a} and {b} (different matters) pass: {hit:?}"
                );
            }
        }
    }

    let report = format!(
        "real case: {} same-matter pairs; {} within a window, {} found ({} by the same caller), \
         {} known misses; {} beyond the windows; ignoring time, place + text link {same_pass} of \
         {same_total}; false links 0",
        expected.len() + beyond.len(),
        expected.len(),
        found.len(),
        found
            .values()
            .filter(|(r, _)| *r == Reason::SameCaller)
            .count(),
        known.len(),
        beyond.len(),
    );
    eprintln!("{report}");
    for (p, (r, s)) in &found {
        eprintln!(
            "  found {p:?} {r} {s:.3} ({})",
            expected.get(p).unwrap_or(&"?")
        );
    }
    eprintln!("  ignoring time, not linked: {same_fail:?}");
    // The figures the README reports.
    assert_eq!(
        (expected.len(), found.len(), beyond.len()),
        (6, 5, 49),
        "{report}"
    );
    assert_eq!(
        (same_pass, same_total),
        (EXPECTED_PASS_IGNORING_TIME, 55),
        "{report}"
    );
}

/// Same-matter pairs (of 55) that place + text link when time is ignored.
const EXPECTED_PASS_IGNORING_TIME: usize = 46;

both_backends!(real_case_of_the_hot_messages, real_case);

// ---- the rule, case by case --------------------------------------------------------------------

const SMOKE_TITLE: &str = "A5区劳动东路魅力之城小区底层餐馆油烟扰民";
const SMOKE: &str = "A5区劳动东路魅力之城小区底层几家餐馆没有烟道，油烟直排，窗户不能打开，\
    晚上营业到凌晨三点，炒菜和烧烤的噪音影响居民休息，请相关部门处理。";

async fn same_caller_within_30_days(backend: Backend) {
    let t = TestDb::new(backend);
    seed(t.db());
    let start = china(3, 2, 9, 0);
    let h = hotline(t.db(), start);
    let team = Team::of(t.db());
    let phone = Some("13912345678");
    let first = appeal(
        &h,
        &team,
        input(
            "咨询公积金提取",
            "想咨询住房公积金提取需要哪些材料。",
            phone,
        ),
    )
    .await;
    // 29 days later the same number calls about something else: flagged, with a low score.
    h.now.set(start + Duration::days(29));
    let second = appeal(
        &h,
        &team,
        input("路灯不亮", "家门口的路灯坏了一个星期。", phone),
    )
    .await;
    let rows = links_of(t.db(), second);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].id, rows[0].reason), (first, Reason::SameCaller));
    assert!(rows[0].score < repeats::SAME_PLACE_MIN, "{}", rows[0].score);
    assert_eq!(rows[0].direction, repeats::Direction::Earlier);
    // The first sees it from the other side.
    let back = links_of(t.db(), first);
    assert_eq!(
        (back[0].id, back[0].direction),
        (second, repeats::Direction::Later)
    );
    // 31 days after the second (and 60 after the first): nothing.
    h.now.set(start + Duration::days(60));
    let third = appeal(
        &h,
        &team,
        input("路灯又不亮", "家门口的路灯又坏了。", phone),
    )
    .await;
    assert!(links_of(t.db(), third).is_empty());
    // Another number: nothing either, even the next minute.
    h.now.set(start + Duration::days(60) + Duration::minutes(1));
    let other = appeal(
        &h,
        &team,
        input("路灯又不亮", "家门口的路灯又坏了。", Some("13900000000")),
    )
    .await;
    assert!(links_of(t.db(), other).is_empty());
}

both_backends!(same_caller_within_30_days_only, same_caller_within_30_days);

async fn place_and_text(backend: Backend) {
    let t = TestDb::new(backend);
    seed(t.db());
    let start = china(3, 2, 9, 0);
    let h = hotline(t.db(), start);
    let team = Team::of(t.db());
    let first = appeal(&h, &team, input(SMOKE_TITLE, SMOKE, None)).await;

    // The same complaint in another district's 小区: the place rule says no, whatever the text.
    h.now.set(start + Duration::hours(1));
    let elsewhere = appeal(
        &h,
        &team,
        input(
            "A2区桂花坪街道丽景小区底层餐馆油烟扰民",
            &SMOKE.replace("A5区劳动东路魅力之城小区", "A2区桂花坪街道丽景小区"),
            None,
        ),
    )
    .await;
    assert!(links_of(t.db(), elsewhere).is_empty());

    // An unrelated appeal on the same street (劳动东路 is a community of 新城街道): no.
    h.now.set(start + Duration::hours(2));
    let unrelated = appeal(
        &h,
        &team,
        input(
            "劳动东路社区井盖缺失",
            "A5区新城街道劳动东路社区公交站旁边的井盖丢了好几天，晚上行人容易掉下去，请尽快补上。",
            None,
        ),
    )
    .await;
    assert!(links_of(t.db(), unrelated).is_empty());

    // The same matter told by another neighbour, two days later: flagged, same place.
    h.now.set(start + Duration::days(2));
    let repeat = appeal(
        &h,
        &team,
        input(
            "万科魅力之城小区楼下烧烤店油烟和噪音",
            "我是魅力之城小区业主，楼下临街的烧烤店、夜宵店每天营业到凌晨，油烟直接排到楼上，\
             噪音吵得睡不着，希望管一管。",
            None,
        ),
    )
    .await;
    let rows = links_of(t.db(), repeat);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].id, rows[0].reason), (first, Reason::SimilarNearby));
    assert!(rows[0].score >= repeats::SAME_PLACE_MIN);

    // Eight days after the first (6 after the repeat): only the repeat is within 7 days.
    h.now.set(start + Duration::days(8));
    let late = appeal(&h, &team, input(SMOKE_TITLE, SMOKE, None)).await;
    let rows = links_of(t.db(), late);
    assert_eq!(
        rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![repeat],
        "{rows:?}"
    );

    // Coordinates within 1 km stand for a place when the text names none.
    h.now.set(start + Duration::days(20));
    let lamp = |lat: f64| AppealInput {
        latitude: Some(lat),
        longitude: Some(112.98),
        ..input(
            "路灯不亮",
            "门口这一排路灯连续一周晚上都不亮，老人晚上出门很不方便，请尽快维修。",
            None,
        )
    };
    let a = appeal(&h, &team, lamp(28.1)).await;
    let b = appeal(&h, &team, lamp(28.105)).await; // 556 m north
    let c = appeal(&h, &team, lamp(28.13)).await; // 3.3 km north
    assert_eq!(
        links_of(t.db(), b).iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![a]
    );
    assert!(links_of(t.db(), c).is_empty());

    // Closed, merged and withdrawn tickets are no candidates.
    h.act(
        team.agent.actor.clone(),
        team.agent.scope.clone(),
        a,
        Action::Withdraw {
            reason: reason("市民撤回"),
        },
        None,
    )
    .await
    .expect("withdrawn");
    let d = appeal(&h, &team, lamp(28.1)).await;
    assert_eq!(
        links_of(t.db(), d).iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![b]
    );
}

both_backends!(place_and_text_decide, place_and_text);

// ---- through the staff API -----------------------------------------------------------------------

async fn merge_through_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let agent = app.login("agent").await;
    let a2 = app.login("a2").await;
    let register = |title: &'static str, detail: &'static str, phone: &'static str| {
        let agent = agent.clone();
        async move {
            let (s, t) = agent
                .post(
                    "/api/v1/tickets",
                    json!({"appeal_type": "complaint", "title": title, "detail": detail,
                           "citizen_phone": phone}),
                )
                .await;
            assert_eq!(s, 201, "{t}");
            (
                t["id"].as_str().expect("id").to_owned(),
                t["number"].as_str().expect("number").to_owned(),
            )
        }
    };
    let (main, main_number) = register(SMOKE_TITLE, SMOKE, "13911112222").await;
    let (dup, dup_number) = register(
        "魅力之城小区楼下餐馆油烟直排、深夜噪音",
        "A5区魅力之城小区临街的餐馆没有烟道，油烟直排进楼上住户家里，烧烤营业到凌晨，噪音很大。",
        "13933334444",
    )
    .await;

    // The duplicate's detail names the main ticket as a candidate, and the other way round, once
    // the check that runs after the acknowledgement is done.
    let mut tries = 0;
    let d = loop {
        let (s, d) = agent.get(&format!("/api/v1/tickets/{dup}")).await;
        assert_eq!(s, 200, "{d}");
        if d["repeat_candidates"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
            || tries == 300
        {
            break d;
        }
        tries += 1;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let c = &d["repeat_candidates"];
    assert_eq!(c.as_array().map(Vec::len), Some(1), "{d}");
    assert_eq!(c[0]["id"], main.as_str());
    assert_eq!(c[0]["number"], main_number.as_str());
    assert_eq!(c[0]["reason"], "similar_nearby");
    assert_eq!(c[0]["direction"], "earlier");
    assert_eq!(c[0]["status"], "received");
    assert!(c[0]["score"].as_f64().expect("score") >= repeats::SAME_PLACE_MIN);
    let (_, m) = agent.get(&format!("/api/v1/tickets/{main}")).await;
    assert_eq!(m["repeat_candidates"][0]["id"], dup.as_str());
    assert_eq!(m["repeat_candidates"][0]["direction"], "later");
    // The agent's ticket page shows the candidate, with a link to it.
    let browser = pages_support::Browser::signed_in(&app, "agent").await;
    let page = browser.get(&format!("/tickets/{dup}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("疑似重复诉求"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("<a href=\"/tickets/{main}\">{main_number}</a>")),
        "{}",
        page.body
    );
    assert!(page.body.contains("地点相近、内容相似"), "{}", page.body);

    // Only candidates the caller may see: A2区 sees the main ticket once it is dispatched there,
    // but not the duplicate, which is still with the centre.
    let a2_unit = agent.unit("990103").await;
    agent
        .act(&main, "dispatch", json!({"main_unit_id": a2_unit}))
        .await;
    let (s, m) = a2.get(&format!("/api/v1/tickets/{main}")).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["repeat_candidates"], json!([]), "{m}");

    // The agent merges the duplicate into the main ticket.
    let merged = agent
        .act(
            &dup,
            "merge",
            json!({"target_id": main, "reason": "同一小区同一油烟噪音问题"}),
        )
        .await;
    assert_eq!(merged["status"], "merged");
    assert_eq!(merged["merged_into"], main.as_str());
    // Both histories are kept, each with its side of the merge.
    let kinds = |v: &Value| -> Vec<String> {
        v["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["kind"].as_str().expect("kind").to_owned())
            .collect()
    };
    let (_, d) = agent.get(&format!("/api/v1/tickets/{dup}")).await;
    assert_eq!(kinds(&d), ["received", "merged_into"]);
    let (_, m) = agent.get(&format!("/api/v1/tickets/{main}")).await;
    assert_eq!(kinds(&m), ["received", "dispatched", "absorbed"]);
    // The pair stays listed on both sides, with the duplicate's new status.
    assert_eq!(m["repeat_candidates"][0]["status"], "merged");

    // The citizen's number of the duplicate leads to the main ticket.
    let db = Db::connect(&DbUrl::parse(&app.db.url), 1).expect("db");
    let mut c = db.get().expect("conn");
    let lead = repeats::main_ticket(&mut c, &dup_number)
        .expect("query")
        .expect("ticket");
    assert_eq!(lead.number.as_str(), main_number);
    let own = repeats::main_ticket(&mut c, &main_number)
        .expect("query")
        .expect("ticket");
    assert_eq!(own.number.as_str(), main_number);
    assert!(
        repeats::main_ticket(&mut c, "20991231000001")
            .expect("query")
            .is_none()
    );
}

both_backends!(merge_a_flagged_pair_through_the_api, merge_through_the_api);
