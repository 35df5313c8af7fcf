//! Hot-issue mining on the real messages of `demo/appeals/hot_messages.csv`, against the grouping
//! a person wrote down after reading all 30 of them (`tests/fixtures/hot_groups.csv`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, Utc};
use hotline_analytics::hot::{Appeal, HotIssue, Params, mine};

const MESSAGES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../demo/appeals/hot_messages.csv"
);
const GROUPS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hot_groups.csv");

/// The messages; submitted_at is local time in China ("2019-09-25 00:31:33", UTC+8).
fn messages() -> Vec<Appeal> {
    let china = FixedOffset::east_opt(8 * 3600).unwrap();
    let mut reader = csv::Reader::from_path(MESSAGES).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, title, at, detail, likes, dislikes) = (
        column("id"),
        column("title"),
        column("submitted_at"),
        column("detail"),
        column("likes"),
        column("dislikes"),
    );
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            let local = NaiveDateTime::parse_from_str(&record[at], "%Y-%m-%d %H:%M:%S").unwrap();
            Appeal {
                id: record[id].to_owned(),
                title: record[title].to_owned(),
                detail: record[detail].to_owned(),
                place: None,
                at: local.and_local_timezone(china).unwrap().with_timezone(&Utc),
                likes: record[likes].trim().parse().unwrap(),
                dislikes: record[dislikes].trim().parse().unwrap(),
            }
        })
        .collect()
}

/// Expected groups: group name → message ids.
fn expected() -> BTreeMap<String, BTreeSet<String>> {
    let mut reader = csv::Reader::from_path(GROUPS).unwrap();
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for record in reader.records() {
        let record = record.unwrap();
        groups
            .entry(record[0].to_owned())
            .or_default()
            .insert(record[1].to_owned());
    }
    groups
}

/// `now` is the latest message and the window reaches back past the earliest one.
fn mine_all(appeals: &[Appeal]) -> Vec<HotIssue> {
    let now = appeals.iter().map(|a| a.at).max().unwrap();
    let first = appeals.iter().map(|a| a.at).min().unwrap();
    let params = Params {
        window: now - first + Duration::days(1),
        ..Params::default()
    };
    mine(appeals, now, &params)
}

#[test]
fn the_fixture_covers_the_messages() {
    let appeals = messages();
    assert_eq!(appeals.len(), 30);
    let known: BTreeSet<&str> = appeals.iter().map(|a| a.id.as_str()).collect();
    for (group, ids) in expected() {
        assert!(ids.len() >= 2, "group {group} has fewer than two messages");
        for id in ids {
            assert!(
                known.contains(id.as_str()),
                "group {group}: no message {id}"
            );
        }
    }
}

#[test]
fn every_expected_group_is_one_cluster_and_no_cluster_mixes() {
    let appeals = messages();
    let issues = mine_all(&appeals);
    let groups = expected();
    let group_of: BTreeMap<&str, &str> = groups
        .iter()
        .flat_map(|(g, ids)| ids.iter().map(move |id| (id.as_str(), g.as_str())))
        .collect();
    let report: Vec<String> = issues
        .iter()
        .map(|i| format!("{} {:?}", i.label, i.members))
        .collect();

    // Each expected group lies wholly inside one cluster...
    for (group, ids) in &groups {
        let holder = issues
            .iter()
            .find(|i| i.members.iter().any(|m| ids.contains(m)));
        let holder = holder.unwrap_or_else(|| panic!("group {group} not found: {report:#?}"));
        let members: BTreeSet<String> = holder.members.iter().cloned().collect();
        assert!(ids.is_subset(&members), "group {group} split: {report:#?}");
    }
    // ...and no cluster holds a message from another group or one about a matter of its own.
    for issue in &issues {
        let kinds: BTreeSet<&str> = issue
            .members
            .iter()
            .map(|m| group_of.get(m.as_str()).copied().unwrap_or(m))
            .collect();
        assert_eq!(kinds.len(), 1, "cluster mixes matters: {report:#?}");
    }
    assert_eq!(issues.len(), groups.len(), "{report:#?}");
}

#[test]
fn labels_name_the_place_and_the_matter() {
    let issues = mine_all(&messages());
    let smoke = issues
        .iter()
        .find(|i| i.members.contains(&"360101".to_owned()))
        .unwrap();
    assert!(smoke.label.contains("魅力之城"), "{}", smoke.label);
    assert!(
        smoke.label.contains("油烟") || smoke.label.contains("扰民"),
        "{}",
        smoke.label
    );
    let internship = issues
        .iter()
        .find(|i| i.members.contains(&"360112".to_owned()))
        .unwrap();
    assert!(
        internship.label.contains("经济学院"),
        "{}",
        internship.label
    );
    assert!(internship.label.contains("实习"), "{}", internship.label);
    // Boilerplate never makes it into the keywords.
    for issue in &issues {
        for word in ["您好", "领导", "希望", "问题", "反映", "相关部门"] {
            assert!(
                !issue.keywords.iter().any(|k| k == word),
                "{word} in {:?}",
                issue.keywords
            );
        }
    }
}

#[test]
fn the_bigger_and_more_liked_issue_ranks_first() {
    let issues = mine_all(&messages());
    assert!(issues.len() >= 2);
    // The compound's smoke: 10 messages, 18 likes; the internships: 5 messages, 13 likes.
    assert_eq!(issues[0].volume, 10, "{:?}", issues[0].label);
    assert_eq!(issues[0].reaction, 18);
    assert_eq!(issues[1].reaction, 13);
    assert!(issues.windows(2).all(|w| w[0].score >= w[1].score));
    for issue in &issues {
        assert_eq!(issue.volume, issue.members.len());
        assert!(issue.first_at <= issue.last_at);
    }
}

#[test]
fn the_result_does_not_depend_on_input_order() {
    let mut appeals = messages();
    let forward = mine_all(&appeals);
    appeals.reverse();
    appeals.rotate_left(7);
    assert_eq!(mine_all(&appeals), forward);
}

/// Compound names for the scale test: distinct two-word names jieba keeps apart.
fn compound(k: usize) -> String {
    const FIRST: [&str; 10] = [
        "阳光", "幸福", "金色", "翠湖", "锦绣", "和平", "东方", "明珠", "紫荆", "滨江",
    ];
    const SECOND: [&str; 10] = [
        "名城", "华府", "雅居", "花苑", "嘉园", "公馆", "山庄", "豪庭", "绿洲", "春晓",
    ];
    format!("{}{}", FIRST[k % 10], SECOND[(k / 10) % 10])
}

#[test]
fn a_few_thousand_appeals_stay_fast_and_apart() {
    // 100 copies of the 30 messages, each copy at its own compound: 3000 appeals, 100 smoke
    // issues that must not merge across compounds.
    let base = messages();
    let now: DateTime<Utc> = base.iter().map(|a| a.at).max().unwrap();
    let mut appeals = Vec::new();
    for k in 0..100 {
        for (n, a) in base.iter().enumerate() {
            let name = compound(k);
            let hours = i64::try_from((k * 30 + n) % 700).unwrap();
            appeals.push(Appeal {
                id: format!("{k:03}-{}", a.id),
                title: a
                    .title
                    .replace("魅力之城", &name)
                    .replace("经济学院", &format!("{name}学院")),
                detail: a
                    .detail
                    .replace("魅力之城", &name)
                    .replace("经济学院", &format!("{name}学院")),
                at: now - Duration::hours(hours),
                ..a.clone()
            });
        }
    }
    // Its speed is measured, not asserted (tests never assert on time): see the README.
    let issues = mine(&appeals, now, &Params::default());
    let copy_of = |id: &str| id.split('-').next().map(str::to_owned);
    for issue in issues
        .iter()
        .filter(|i| i.members.iter().any(|m| m.ends_with("-360101")))
    {
        let copies: BTreeSet<Option<String>> = issue.members.iter().map(|m| copy_of(m)).collect();
        assert_eq!(
            copies.len(),
            1,
            "{} joins compounds: {:?}",
            issue.label,
            issue.members
        );
    }
    let smoke = issues
        .iter()
        .filter(|i| i.members.iter().any(|m| m.ends_with("-360101")))
        .count();
    assert_eq!(smoke, 100, "one smoke issue per compound");
}
