//! Behaviour of the miner on small hand-made batches.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 30, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn appeal(id: &str, title: &str, detail: &str, days_ago: i64, likes: i64) -> Appeal {
    Appeal {
        id: id.to_owned(),
        title: title.to_owned(),
        detail: detail.to_owned(),
        place: None,
        at: now() - Duration::days(days_ago),
        likes,
        dislikes: 0,
    }
}

/// Four appeals about the street lights of one compound, in different words.
fn lights(compound: &str, prefix: &str) -> Vec<Appeal> {
    vec![
        appeal(
            &format!("{prefix}1"),
            &format!("A2区{compound}路灯不亮"),
            &format!("{compound}里的路灯坏了半个月，晚上一片漆黑，老人出门摔倒。"),
            3,
            1,
        ),
        appeal(
            &format!("{prefix}2"),
            &format!("{compound}路灯长期不亮"),
            &format!("您好，{compound}路灯晚上都不亮，出行很不安全，请尽快维修路灯。"),
            5,
            0,
        ),
        appeal(
            &format!("{prefix}3"),
            &format!("A2区{compound}晚上路灯坏了没人修"),
            &format!("{compound}的路灯坏了很久，晚上漆黑，希望物业和供电部门维修。"),
            8,
            2,
        ),
    ]
}

fn ids(issue: &HotIssue) -> Vec<&str> {
    let mut ids: Vec<&str> = issue.members.iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids
}

#[test]
fn empty_and_single_inputs_have_no_issues() {
    assert!(mine(&[], now(), &Params::default()).is_empty());
    let one = lights("阳光小区", "a");
    assert!(mine(&one[..1], now(), &Params::default()).is_empty());
}

#[test]
fn one_matter_at_one_place_is_one_issue() {
    let issues = mine(&lights("阳光小区", "a"), now(), &Params::default());
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let issue = &issues[0];
    assert_eq!(ids(issue), ["a1", "a2", "a3"]);
    assert_eq!(issue.volume, 3);
    assert_eq!(issue.reaction, 3);
    assert!(
        issue.label.contains("阳光小区") && issue.label.contains("路灯"),
        "{}",
        issue.label
    );
    assert_eq!(issue.place_name.as_deref(), Some("A2区 阳光小区"));
    assert!(
        issue.keywords.iter().any(|k| k == "路灯"),
        "{:?}",
        issue.keywords
    );
    assert_eq!(issue.first_at, now() - Duration::days(8));
    assert_eq!(issue.last_at, now() - Duration::days(3));
}

#[test]
fn unrelated_appeals_are_not_joined() {
    let batch = [
        appeal(
            "u1",
            "A2区阳光小区路灯不亮",
            "阳光小区的路灯坏了半个月，晚上一片漆黑。",
            2,
            0,
        ),
        appeal(
            "u2",
            "请给K3县乡村医生发执业许可证",
            "K3县的乡村卫生室许可证过期两年，迟迟不发。",
            3,
            0,
        ),
        appeal(
            "u3",
            "A市什么时候普及5G网络",
            "希望5G网络尽快覆盖全市，请问有什么计划？",
            4,
            0,
        ),
        appeal(
            "u4",
            "驾驶证期满换证无人受理",
            "在12123上申请驾驶证期满换证，一个星期没人受理。",
            5,
            0,
        ),
    ];
    let issues = mine(&batch, now(), &Params::default());
    assert!(issues.is_empty(), "{issues:#?}");
}

#[test]
fn the_same_matter_at_two_places_is_two_issues() {
    let mut batch = lights("阳光小区", "a");
    batch.extend(lights("幸福小区", "b"));
    let issues = mine(&batch, now(), &Params::default());
    assert_eq!(issues.len(), 2, "{issues:#?}");
    let mut groups: Vec<Vec<&str>> = issues.iter().map(ids).collect();
    groups.sort();
    assert_eq!(groups, [vec!["a1", "a2", "a3"], vec!["b1", "b2", "b3"]]);
}

#[test]
fn different_matters_at_one_place_are_not_joined_by_the_place_alone() {
    let batch = [
        appeal(
            "p1",
            "A2区阳光小区路灯不亮",
            "阳光小区的路灯坏了半个月，晚上一片漆黑。",
            2,
            0,
        ),
        appeal(
            "p2",
            "A2区阳光小区开发商捆绑销售车位",
            "阳光小区开发商买房必须买车位，捆绑销售。",
            3,
            0,
        ),
    ];
    let issues = mine(&batch, now(), &Params::default());
    assert!(issues.is_empty(), "{issues:#?}");
}

#[test]
fn different_known_area_units_are_not_joined() {
    let mut batch = lights("阳光小区", "a");
    batch[0].place = Some("unit-1".to_owned());
    batch[1].place = Some("unit-2".to_owned());
    let issues = mine(&batch, now(), &Params::default());
    assert!(
        issues.iter().all(
            |i| !(i.members.contains(&"a1".to_owned()) && i.members.contains(&"a2".to_owned()))
        )
    );
    batch[1].place = Some("unit-1".to_owned());
    let issues = mine(&batch, now(), &Params::default());
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].place.as_deref(), Some("unit-1"));
}

#[test]
fn ranking_prefers_volume_then_likes() {
    let mut batch = lights("阳光小区", "a");
    let mut smaller = lights("幸福小区", "b");
    smaller.truncate(2);
    batch.extend(smaller);
    let issues = mine(&batch, now(), &Params::default());
    assert_eq!(issues.len(), 2, "{issues:#?}");
    assert_eq!(issues[0].volume, 3, "the bigger cluster first: {issues:#?}");
    assert!(issues[0].score > issues[1].score);

    // Now the small one is much liked: it overtakes.
    for a in batch.iter_mut().filter(|a| a.id.starts_with('b')) {
        a.likes = 40;
    }
    let issues = mine(&batch, now(), &Params::default());
    assert_eq!(issues[0].volume, 2, "the liked cluster first: {issues:#?}");
    assert_eq!(issues[0].reaction, 80);
}

#[test]
fn score_grows_with_volume_growth_and_likes() {
    let p = Params::default();
    assert!(score(3, 1.0, 0, &p) > score(2, 1.0, 0, &p));
    assert!(score(2, 2.0, 0, &p) > score(2, 1.0, 0, &p));
    assert!(score(2, 1.0, 10, &p) > score(2, 1.0, 0, &p));
    let expected = 3f64.ln() + 0.5 * 2f64.ln() + 0.5 * 11f64.ln();
    assert!((score(2, 2.0, 10, &p) - expected).abs() < 1e-12);
    assert_eq!(
        score(2, 1.0, -5, &p),
        score(2, 1.0, 0, &p),
        "negative likes are ignored"
    );
}

#[test]
fn growth_compares_the_halves_of_the_window() {
    let window = Duration::days(30);
    let at = |days: i64| now() - Duration::days(days);
    // Three in the recent half, one in the earlier half: (3 + 1) / (1 + 1).
    let rising = [at(1), at(5), at(14), at(20)];
    assert!((growth(&rising, now(), window) - 2.0).abs() < 1e-12);
    // The reverse fades: (1 + 1) / (3 + 1).
    let fading = [at(2), at(16), at(20), at(29)];
    assert!((growth(&fading, now(), window) - 0.5).abs() < 1e-12);
    // The exact middle belongs to the earlier half; times outside the window are ignored.
    let edge = [at(15), at(31), now() + Duration::days(1)];
    assert!((growth(&edge, now(), window) - 0.5).abs() < 1e-12);
    assert!((growth(&[], now(), window) - 1.0).abs() < 1e-12);
}

#[test]
fn appeals_outside_the_window_are_ignored() {
    let mut batch = lights("阳光小区", "a");
    batch[2].at = now() - Duration::days(40);
    let issues = mine(&batch, now(), &Params::default());
    assert_eq!(issues.len(), 1);
    assert_eq!(ids(&issues[0]), ["a1", "a2"]);
    let longer = Params {
        window: Duration::days(60),
        ..Params::default()
    };
    assert_eq!(mine(&batch, now(), &longer)[0].volume, 3);
}

#[test]
fn min_members_drops_small_clusters() {
    let params = Params {
        min_members: 4,
        ..Params::default()
    };
    assert!(mine(&lights("阳光小区", "a"), now(), &params).is_empty());
}

#[test]
fn input_order_does_not_matter() {
    let mut batch = lights("阳光小区", "a");
    batch.extend(lights("幸福小区", "b"));
    let forward = mine(&batch, now(), &Params::default());
    batch.reverse();
    assert_eq!(mine(&batch, now(), &Params::default()), forward);
}
