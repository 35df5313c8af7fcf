#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The embedded engine on a small base: the ways citizens type, filters, facets, snippets,
//! updates, and an index reopened from disk.

use std::sync::Arc;

use chrono::NaiveDate;
use hotline_knowledge::analyze::{Analyzer, parse_synonyms};
use hotline_knowledge::embedded::EmbeddedEngine;
use hotline_knowledge::engine::{SearchDoc, SearchEngine, SearchQuery};

fn doc(
    id: &str,
    title: &str,
    body: &str,
    tags: &[&str],
    category: &str,
    areas: &[&str],
) -> SearchDoc {
    SearchDoc {
        id: id.into(),
        title: title.into(),
        body: body.into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        category: category.into(),
        areas: areas.iter().map(|t| (*t).to_owned()).collect(),
        valid_from: None,
        valid_to: None,
    }
}

fn base() -> Vec<SearchDoc> {
    let mut expiring = doc(
        "heating-subsidy-2026",
        "2026年冬季供暖补贴怎么申请？",
        "低保家庭可在12月31日前向社区申请本年度供暖补贴。",
        &["供暖补贴", "低保"],
        "民政/社会救助",
        &["990100"],
    );
    expiring.valid_from = NaiveDate::from_ymd_opt(2026, 11, 1);
    expiring.valid_to = NaiveDate::from_ymd_opt(2026, 12, 31);
    vec![
        doc(
            "gjj-rent",
            "租房可以提取住房公积金吗？",
            "在本市无自有住房且租房居住的职工，可按月提取住房公积金支付房租，每月提取额度不超过本市规定的限额。",
            &["公积金", "租房提取"],
            "城乡建设/住房保障与房地产",
            &["990100"],
        ),
        doc(
            "sbk-lost",
            "社保卡丢了怎么挂失补办？",
            "社会保障卡丢失后，先拨打12333或在掌上办理app挂失，再携带身份证到合作银行网点补办。",
            &["社保卡", "挂失", "补办"],
            "劳动和社会保障/社会保险",
            &["990100"],
        ),
        doc(
            "wage-arrears",
            "单位拖欠工资怎么投诉？",
            "用人单位拖欠工资的，劳动者可向劳动保障监察机构投诉，或申请劳动仲裁。",
            &["拖欠工资", "劳动保障监察"],
            "劳动和社会保障/劳动保障",
            &["990100"],
        ),
        doc(
            "streetlight-a2",
            "A2区路灯故障怎么报修？",
            "A2区的路灯由区城市管理局维护，报修后一般在两个工作日内修复。",
            &["路灯故障", "报修"],
            "城乡建设/城市建设和市政管理",
            &["990103"],
        ),
        doc(
            "noise-night-construction",
            "夜间施工噪声扰民怎么办？",
            "22时至次日6时禁止产生噪声的建筑施工作业，抢修抢险和经批准的连续作业除外。",
            &["夜间施工", "噪声"],
            "环境保护/噪音污染",
            &["990100"],
        ),
        expiring,
    ]
}

fn analyzer() -> Arc<Analyzer> {
    let synonyms = parse_synonyms(
        "拖欠工资,欠薪,不发工资,老板不给钱\n路灯故障,路灯不亮,路灯坏了\n噪声,噪音\n社会保险,社保\n",
    )
    .unwrap();
    Arc::new(Analyzer::new(synonyms, &[]))
}

async fn engine() -> EmbeddedEngine {
    let e = EmbeddedEngine::open(None, analyzer()).unwrap();
    e.replace_all(base()).await.unwrap();
    e
}

async fn top(e: &EmbeddedEngine, text: &str) -> String {
    let q = SearchQuery {
        text: text.into(),
        limit: 3,
        ..SearchQuery::default()
    };
    let r = e.search(&q).await.unwrap();
    r.hits.first().map(|h| h.id.clone()).unwrap_or_default()
}

#[tokio::test]
async fn citizens_ways_of_typing_find_the_answer() {
    let e = engine().await;
    for (q, want) in [
        ("租房提取公积金", "gjj-rent"),
        ("gongjijin zufang", "gjj-rent"),
        ("gjj", "gjj-rent"),
        ("公基金租房", "gjj-rent"),
        ("公积全", "gjj-rent"),
        ("公積金租房提取", "gjj-rent"),
        ("sbk丢了", "sbk-lost"),
        ("shebaoka guashi", "sbk-lost"),
        ("社宝卡丢了", "sbk-lost"),
        ("老板不给钱怎么办", "wage-arrears"),
        ("欠薪", "wage-arrears"),
        ("路灯不亮", "streetlight-a2"),
        (
            "工地晚上十二点还在施工太吵了噪音扰民",
            "noise-night-construction",
        ),
    ] {
        assert_eq!(top(&e, q).await, want, "query {q}");
    }
    // Nothing to go on: no answers, and no error.
    assert_eq!(top(&e, "的了吗").await, "");
    assert_eq!(top(&e, "").await, "");
}

#[tokio::test]
async fn filters_facets_and_snippets() {
    let e = engine().await;
    let mut q = SearchQuery {
        text: "社保 工资 路灯 公积金".into(),
        limit: 10,
        facets: true,
        ..SearchQuery::default()
    };
    let all = e.search(&q).await.unwrap();
    assert_eq!(all.total, 4, "{all:?}");
    let facets: Vec<(&str, u64)> = all.facets.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    assert_eq!(facets, vec![("劳动和社会保障", 2), ("城乡建设", 2)]);

    q.category = Some("劳动和社会保障".into());
    let labour = e.search(&q).await.unwrap();
    let mut ids: Vec<&str> = labour.hits.iter().map(|h| h.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, vec!["sbk-lost", "wage-arrears"]);

    // A1区 (990102, in A市 990100) does not get A2区's street-light answer.
    q.category = None;
    q.areas = vec!["990102".into(), "990100".into(), "990000".into()];
    let a1 = e.search(&q).await.unwrap();
    assert!(a1.hits.iter().all(|h| h.id != "streetlight-a2"), "{a1:?}");
    q.areas = vec!["990103".into(), "990100".into()];
    assert!(
        e.search(&q)
            .await
            .unwrap()
            .hits
            .iter()
            .any(|h| h.id == "streetlight-a2")
    );

    // Validity: the subsidy answer only in its season.
    let mut s = SearchQuery {
        text: "供暖补贴".into(),
        limit: 5,
        ..SearchQuery::default()
    };
    let has_subsidy = async |s: &SearchQuery| {
        e.search(s)
            .await
            .unwrap()
            .hits
            .iter()
            .any(|h| h.id == "heating-subsidy-2026")
    };
    s.valid_on = NaiveDate::from_ymd_opt(2026, 12, 1);
    assert!(has_subsidy(&s).await, "valid on its day");
    s.valid_on = NaiveDate::from_ymd_opt(2026, 12, 31);
    assert!(has_subsidy(&s).await, "valid on its last day");
    s.valid_on = NaiveDate::from_ymd_opt(2027, 1, 1);
    assert!(!has_subsidy(&s).await, "expired");
    s.valid_on = NaiveDate::from_ymd_opt(2026, 10, 31);
    assert!(!has_subsidy(&s).await, "not yet valid");
    s.valid_on = None;
    assert!(has_subsidy(&s).await, "no date: any");

    // Snippets mark the words and the synonyms, escaped.
    let r = e
        .search(&SearchQuery {
            text: "老板不给钱".into(),
            limit: 1,
            ..SearchQuery::default()
        })
        .await
        .unwrap();
    let h = &r.hits[0];
    assert_eq!(h.title_html, "单位<mark>拖欠工资</mark>怎么投诉？");
    assert!(
        h.snippet_html.contains("<mark>拖欠工资</mark>"),
        "{}",
        h.snippet_html
    );
}

#[tokio::test]
async fn updates_removals_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let e = EmbeddedEngine::open(Some(dir.path()), analyzer()).unwrap();
        e.replace_all(base()).await.unwrap();
        assert_eq!(e.len(), 6);
        let mut changed = base().remove(0);
        changed.title = "<script>alert(1)</script>租房提取住房公积金的额度".into();
        e.upsert(vec![changed]).await.unwrap();
        assert_eq!(e.len(), 6, "replaced, not added");
        e.remove(vec!["wage-arrears".into()]).await.unwrap();
        assert_eq!(top(&e, "欠薪").await, "");
    }
    let e = EmbeddedEngine::open(Some(dir.path()), analyzer()).unwrap();
    assert_eq!(e.len(), 5);
    let r = e
        .search(&SearchQuery {
            text: "公积金额度".into(),
            limit: 1,
            ..SearchQuery::default()
        })
        .await
        .unwrap();
    assert!(
        r.hits[0].title_html.starts_with("&lt;script&gt;"),
        "{:?}",
        r.hits[0]
    );
}
