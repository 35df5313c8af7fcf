//! The suggestion on the demo's org tree, default rules, place names and areas, with the shipped
//! classifier: what each kind of rule decides, how the classifier's category is routed, the
//! ping-pong guard, the jurisdiction, pass-down and the manual queue.

use std::sync::OnceLock;

use super::engine::{Appeal, Bounds, Router};
use super::offline::{DemoData, demo};
use super::suggestion::{Source, UnitSuggestion};
use crate::places::Via;

const ORG: &str = include_str!("../../../demo/org.csv");
const TAXONOMY: &str = include_str!("../../../demo/appeals/taxonomy.csv");
const PLACES: &str = include_str!("../../../demo/places.csv");
const AREAS: &str = include_str!("../../../demo/areas.geojson");

fn data() -> &'static DemoData {
    static DATA: OnceLock<DemoData> = OnceLock::new();
    DATA.get_or_init(|| demo(ORG, TAXONOMY, PLACES, AREAS))
}

fn router(threshold: f32) -> Router {
    let model = crate::model::shipped().expect("shipped model");
    Router::new(model, data().data.clone(), threshold)
}

fn suggest(r: &Router, title: &str, detail: &str) -> UnitSuggestion {
    r.suggest(
        &Appeal {
            title,
            detail,
            ..Appeal::default()
        },
        &Bounds::default(),
    )
}

fn codes(s: &UnitSuggestion) -> Vec<&str> {
    s.units.iter().map(|u| u.unit.code.as_str()).collect()
}

#[test]
fn a_keyword_rule_decides_before_the_classifier() {
    let r = router(0.5);
    let s = suggest(
        &r,
        "公积金提取问题",
        "我想咨询一下住房公积金提取需要哪些材料",
    );
    assert_eq!(codes(&s).first(), Some(&"990100-GJJ"), "{s:?}");
    let top = &s.units[0];
    assert_eq!((top.source, top.confidence), (Source::Rule, 1.0));
    assert_eq!(
        top.rule.as_deref(),
        Some("关键词「公积金」 → A市住房公积金管理中心")
    );
    assert!(!s.manual);
    assert!(
        s.explanation[0].starts_with("规则命中："),
        "{:?}",
        s.explanation
    );
    // The classifier's units follow, for the dispatcher who disagrees.
    assert!(s.units.len() > 1);
    assert!(s.units[1..].iter().all(|u| u.source == Source::Classifier));
}

#[test]
fn the_classifier_category_goes_to_the_district_of_the_place_or_else_the_city_department() {
    let r = router(0.3);
    let s = suggest(
        &r,
        "A2区景蓉华苑物业管理有问题",
        "位于A市A2区桂花坪街道的景蓉华苑小区物业公司要征收停车费，小区水电改造后物业费收不上来",
    );
    assert_eq!(
        s.category.as_ref().map(|c| c.name.as_str()),
        Some("城乡建设")
    );
    let top = &s.units[0];
    assert_eq!(
        (top.unit.code.as_str(), top.source),
        ("990103", Source::Classifier)
    );
    assert_eq!(
        top.rule.as_deref(),
        Some("分类「城乡建设」 → 事发地所属区县")
    );
    let place = s.place.as_ref().expect("place");
    assert_eq!(
        (place.unit.code.as_str(), place.via),
        ("990103001", Via::Text)
    );
    assert_eq!(
        s.pass_down.as_ref().map(|u| u.code.as_str()),
        Some("990103001")
    );
    assert!(
        s.explanation
            .iter()
            .any(|l| l.contains("桂花坪街道") && l.contains("识别地点"))
    );
    assert!(!s.terms.is_empty());

    // The same matter without a place: the city's housing department.
    let s = suggest(
        &r,
        "小区物业乱收停车费",
        "我们小区的物业公司未经业主同意擅自提高停车费，请住建部门查处",
    );
    assert_eq!(codes(&s).first(), Some(&"990100-ZJJ"), "{s:?}");
    assert!(s.place.is_none() && s.pass_down.is_none());
    assert!(s.explanation.iter().any(|l| l == "未识别出事发地点。"));
}

#[test]
fn units_that_returned_the_ticket_are_never_suggested() {
    let r = router(0.3);
    let a2 = data().units["990103"];
    let zjj = data().units["990100-ZJJ"];
    let appeal = Appeal {
        title: "A2区景蓉华苑物业管理有问题",
        detail: "位于A市A2区桂花坪街道的景蓉华苑小区物业公司要征收停车费",
        ..Appeal::default()
    };
    let s = r.suggest(
        &appeal,
        &Bounds {
            excluded: vec![a2],
            within: None,
        },
    );
    assert!(!codes(&s).contains(&"990103"), "{s:?}");
    // The district rule has nowhere to send: the next category rule does.
    assert_eq!(codes(&s).first(), Some(&"990100-ZJJ"));
    assert_eq!(
        s.excluded
            .iter()
            .map(|u| u.code.as_str())
            .collect::<Vec<_>>(),
        ["990103"]
    );
    assert!(
        s.explanation
            .iter()
            .any(|l| l.contains("曾退单") && l.contains("A2区"))
    );
    let s = r.suggest(
        &appeal,
        &Bounds {
            excluded: vec![a2, zjj],
            within: None,
        },
    );
    assert!(
        !codes(&s).contains(&"990103") && !codes(&s).contains(&"990100-ZJJ"),
        "{s:?}"
    );
}

#[test]
fn area_rules_and_area_limited_keyword_rules() {
    let r = router(0.3);
    // A9市 handles all of its appeals.
    let s = suggest(
        &r,
        "A9市太平桥镇新菜市场里保健品推销欺骗老年人",
        "一群人以讲座为名推销保健品",
    );
    let top = &s.units[0];
    assert_eq!(
        (top.unit.code.as_str(), top.source),
        ("990181", Source::Rule)
    );
    assert_eq!(
        s.pass_down.as_ref().map(|u| u.name.as_str()),
        Some("太平桥镇")
    );
    // Noise in A2区 goes to A2区's enforcement bureau; in A3区 the rule does not apply.
    let s = suggest(
        &r,
        "A2区南托街道工地夜间施工噪音扰民",
        "每天晚上十一点以后还在施工",
    );
    assert_eq!(codes(&s).first(), Some(&"990103-CGJ"), "{s:?}");
    let s = suggest(
        &r,
        "A3区洋湖街道工地夜间施工噪音扰民",
        "每天晚上十一点以后还在施工",
    );
    assert_ne!(codes(&s).first(), Some(&"990103-CGJ"), "{s:?}");
    assert!(s.units.iter().all(|u| u.source == Source::Classifier));
}

#[test]
fn the_agents_category_feeds_the_category_rules_at_once() {
    let r = router(0.3);
    let traffic = data().top_categories["交通运输"];
    let s = r.suggest(
        &Appeal {
            title: "小区门口路灯坏了",
            detail: "晚上一片漆黑",
            category_id: Some(traffic),
            ..Appeal::default()
        },
        &Bounds::default(),
    );
    let top = &s.units[0];
    assert_eq!(
        (top.unit.code.as_str(), top.source),
        ("990100-JTJ", Source::Rule)
    );
    let c = s.category.as_ref().expect("category");
    assert!(c.from_ticket && c.name == "交通运输");
}

#[test]
fn coordinates_place_an_appeal_whose_text_names_no_place() {
    let r = router(0.3);
    // A point in 桂花坪街道's area (demo/areas.geojson).
    let s = r.suggest(
        &Appeal {
            title: "小区物业乱收停车费",
            detail: "物业公司未经业主同意擅自提高停车费",
            point: Some((28.135, 112.98)),
            ..Appeal::default()
        },
        &Bounds::default(),
    );
    let place = s.place.as_ref().expect("place");
    assert_eq!(place.unit.name, "黄谷社区");
    assert_eq!(place.via, Via::Point);
    assert_eq!(codes(&s).first(), Some(&"990103"));
    assert_eq!(
        s.pass_down.as_ref().map(|u| u.name.as_str()),
        Some("黄谷社区")
    );
    assert!(
        s.explanation.iter().any(|l| l.contains("诉求坐标")),
        "{:?}",
        s.explanation
    );
}

#[test]
fn below_the_threshold_the_ticket_waits_for_a_person() {
    let text = ("路边有东西", "请处理一下");
    let low = router(0.99);
    let s = suggest(&low, text.0, text.1);
    assert!(s.confidence < 0.99 && s.manual, "{s:?}");
    assert!(
        s.explanation
            .last()
            .is_some_and(|l| l.contains("人工派单队列"))
    );
    let high = router(0.0);
    assert!(!suggest(&high, text.0, text.1).manual);
    // The jurisdiction: only A2区's subtree may be suggested.
    let a2 = data().units["990103"];
    let path = data()
        .data
        .units
        .iter()
        .find(|u| u.id == a2)
        .map(|u| u.path.clone());
    let s = low.suggest(
        &Appeal {
            title: "小区物业乱收停车费",
            detail: "物业公司擅自提高停车费",
            ..Appeal::default()
        },
        &Bounds {
            excluded: Vec::new(),
            within: path,
        },
    );
    assert!(s.units.is_empty() && s.manual, "{s:?}");
    assert!(s.explanation[0].contains("请人工派单"));
}
