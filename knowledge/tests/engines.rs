#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! What every search engine does, each behaviour run against the embedded engine and against
//! Meilisearch (a real server from `support`): the ways citizens type, filters, facets,
//! snippets with escaping, updates and removals, a full rebuild leaving nothing stale; and
//! Meilisearch going away and coming back.

mod support;

use chrono::NaiveDate;
use hotline_knowledge::embedded::EmbeddedEngine;
use hotline_knowledge::engine::{SearchEngine, SearchError, SearchQuery, SearchResults};
use hotline_knowledge::meili::MeiliEngine;
use support::base::{analyzer, base, doc};

/// An engine holding the base, and the server behind it (if any) for as long as the test runs.
struct Fixture {
    engine: Box<dyn SearchEngine>,
    _server: Option<support::Meili>,
}

async fn fixture(meilisearch: bool) -> Fixture {
    let (engine, server): (Box<dyn SearchEngine>, _) = if meilisearch {
        let server = support::Meili::start();
        let e = MeiliEngine::new(&server.url, Some(support::KEY), "articles", analyzer()).unwrap();
        (Box::new(e), Some(server))
    } else {
        (
            Box::new(EmbeddedEngine::open(None, analyzer()).unwrap()),
            None,
        )
    };
    engine.replace_all(base()).await.unwrap();
    Fixture {
        engine,
        _server: server,
    }
}

/// One behaviour, run on each engine.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test]
            async fn $name() {
                super::$name(&*super::fixture(false).await.engine).await;
            })*
        }
        mod meilisearch {
            $(#[tokio::test]
            async fn $name() {
                let f = super::fixture(true).await;
                super::$name(&*f.engine).await;
            })*
        }
    };
}

on_both_engines!(
    citizens_ways_of_typing_find_the_answer,
    filters_facets_and_snippets,
    updates_and_removals,
    a_full_rebuild_leaves_nothing_stale,
);

async fn search(e: &dyn SearchEngine, text: &str, limit: usize) -> SearchResults {
    let q = SearchQuery {
        text: text.into(),
        limit,
        ..SearchQuery::default()
    };
    e.search(&q).await.unwrap()
}

async fn top(e: &dyn SearchEngine, text: &str) -> String {
    let r = search(e, text, 3).await;
    r.hits.first().map(|h| h.id.clone()).unwrap_or_default()
}

async fn citizens_ways_of_typing_find_the_answer(e: &dyn SearchEngine) {
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
        assert_eq!(top(e, q).await, want, "{}: query {q}", e.name());
    }
    // Nothing to go on: no answers, and no error.
    assert_eq!(top(e, "的了吗").await, "");
    assert_eq!(top(e, "").await, "");
}

async fn filters_facets_and_snippets(e: &dyn SearchEngine) {
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
    let mut q1 = q.clone();
    q1.limit = 1;
    let one = e.search(&q1).await.unwrap();
    assert_eq!(
        (one.hits.len(), one.total),
        (1, 4),
        "limit, and the total of all"
    );

    // A category is a path prefix of whole names.
    q.category = Some("劳动和社会保障".into());
    let labour = e.search(&q).await.unwrap();
    let mut ids: Vec<&str> = labour.hits.iter().map(|h| h.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, vec!["sbk-lost", "wage-arrears"]);
    assert_eq!(labour.total, 2);
    q.category = Some("劳动和社会保障/社会保险".into());
    let ids: Vec<String> = e
        .search(&q)
        .await
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(ids, vec!["sbk-lost"]);
    q.category = Some("劳动".into());
    assert!(
        e.search(&q).await.unwrap().hits.is_empty(),
        "not a whole name"
    );

    // A1区 (990102, in A市 990100) does not get A2区's street-light answer.
    q.category = None;
    q.areas = vec!["990102".into(), "990100".into(), "990000".into()];
    let a1 = e.search(&q).await.unwrap();
    assert!(a1.hits.iter().all(|h| h.id != "streetlight-a2"), "{a1:?}");
    assert_eq!(a1.total, 3);
    q.areas = vec!["990103".into(), "990100".into()];
    let a2 = e.search(&q).await.unwrap();
    assert!(a2.hits.iter().any(|h| h.id == "streetlight-a2"), "{a2:?}");

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
    s.valid_on = NaiveDate::from_ymd_opt(2026, 11, 1);
    assert!(has_subsidy(&s).await, "valid on its first day");
    s.valid_on = NaiveDate::from_ymd_opt(2026, 12, 31);
    assert!(has_subsidy(&s).await, "valid on its last day");
    s.valid_on = NaiveDate::from_ymd_opt(2027, 1, 1);
    assert!(!has_subsidy(&s).await, "expired");
    s.valid_on = NaiveDate::from_ymd_opt(2026, 10, 31);
    assert!(!has_subsidy(&s).await, "not yet valid");
    s.valid_on = None;
    assert!(has_subsidy(&s).await, "no date: any");
    // Open ends are valid on any day.
    let mut gjj = SearchQuery {
        text: "公积金".into(),
        limit: 5,
        valid_on: NaiveDate::from_ymd_opt(1990, 1, 1),
        ..SearchQuery::default()
    };
    assert!(!e.search(&gjj).await.unwrap().hits.is_empty());
    gjj.valid_on = NaiveDate::from_ymd_opt(2990, 1, 1);
    assert!(!e.search(&gjj).await.unwrap().hits.is_empty());

    // Snippets mark the words and the synonyms, escaped.
    let r = search(e, "老板不给钱", 1).await;
    let h = &r.hits[0];
    assert_eq!(h.title_html, "单位<mark>拖欠工资</mark>怎么投诉？");
    assert!(
        h.snippet_html.contains("<mark>拖欠工资</mark>"),
        "{}",
        h.snippet_html
    );
}

async fn updates_and_removals(e: &dyn SearchEngine) {
    let total = async |text: &str| {
        let q = SearchQuery {
            text: text.into(),
            limit: 10,
            facets: true,
            ..SearchQuery::default()
        };
        e.search(&q).await.unwrap().total
    };
    assert_eq!(total("公积金").await, 1);
    let mut changed = base().remove(0);
    changed.title = "<script>alert(1)</script>租房提取住房公积金的额度".into();
    changed.body = "额度按月计算 & <b>不超过</b>房租。".into();
    e.upsert(vec![changed]).await.unwrap();
    assert_eq!(total("公积金").await, 1, "replaced, not added");
    let r = search(e, "公积金额度", 1).await;
    let h = &r.hits[0];
    assert_eq!(h.id, "gjj-rent");
    assert!(h.title.starts_with("<script>"), "{h:?}");
    assert!(
        h.title_html
            .starts_with("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{h:?}"
    );
    assert!(!h.title_html.contains("<script"), "{h:?}");
    assert!(h.snippet_html.contains("&amp; &lt;b&gt;"), "{h:?}");

    // Any id: one the server would not take as a key is still an article's.
    let odd = doc(
        "问答/2026 第1号",
        "电动自行车怎么上牌？",
        "带购车发票和身份证到车管所登记上牌。",
        &["电动车上牌"],
        "交通运输/车辆管理",
        &["990100"],
    );
    e.upsert(vec![odd]).await.unwrap();
    assert_eq!(top(e, "电动车上牌").await, "问答/2026 第1号");

    e.remove(vec!["wage-arrears".into(), "问答/2026 第1号".into()])
        .await
        .unwrap();
    assert_eq!(top(e, "欠薪").await, "");
    assert_eq!(top(e, "电动车上牌").await, "");
    assert_eq!(top(e, "社保卡").await, "sbk-lost", "the others stay");
    // Removing what is not there is no error.
    e.remove(vec!["no-such-article".into()]).await.unwrap();
    e.upsert(Vec::new()).await.unwrap();
}

async fn a_full_rebuild_leaves_nothing_stale(e: &dyn SearchEngine) {
    let mut docs = base();
    docs.retain(|d| d.id != "wage-arrears");
    docs.push(doc(
        "pension-certification",
        "退休人员每年怎么做养老金资格认证？",
        "可在手机上刷脸认证，也可到社区服务中心办理。",
        &["资格认证"],
        "劳动和社会保障/社会保险",
        &["990100"],
    ));
    e.replace_all(docs).await.unwrap();
    assert_eq!(top(e, "欠薪").await, "", "the removed answer is gone");
    assert_eq!(top(e, "养老金认证").await, "pension-certification");
    e.replace_all(Vec::new()).await.unwrap();
    assert_eq!(top(e, "社保卡").await, "", "an empty rebuild empties");
}

/// Meilisearch away: searches and writes say `Unavailable` (so the outbox keeps the change and
/// retries); back again, the same write succeeds and nothing was lost.
#[tokio::test]
async fn meilisearch_down_is_unavailable_and_back_again_works() {
    let mut server = support::Meili::start();
    let e = MeiliEngine::new(&server.url, Some(support::KEY), "articles", analyzer()).unwrap();
    e.replace_all(base()).await.unwrap();
    server.stop();
    let q = SearchQuery {
        text: "社保卡".into(),
        limit: 3,
        ..SearchQuery::default()
    };
    assert!(matches!(
        e.search(&q).await,
        Err(SearchError::Unavailable(_))
    ));
    let new = doc(
        "pension-certification",
        "退休人员每年怎么做养老金资格认证？",
        "可在手机上刷脸认证。",
        &["资格认证"],
        "劳动和社会保障/社会保险",
        &["990100"],
    );
    let down = e.upsert(vec![new.clone()]).await;
    assert!(matches!(down, Err(SearchError::Unavailable(_))), "{down:?}");
    assert!(matches!(
        e.remove(vec!["sbk-lost".into()]).await,
        Err(SearchError::Unavailable(_))
    ));
    assert!(matches!(
        e.replace_all(base()).await,
        Err(SearchError::Unavailable(_))
    ));
    server.restart();
    e.upsert(vec![new]).await.unwrap();
    assert_eq!(top(&e, "养老金认证").await, "pension-certification");
    assert_eq!(
        top(&e, "社保卡").await,
        "sbk-lost",
        "what it held is still there"
    );
}

/// A refused write is `Index`, not worth a retry: here the server's key is wrong.
#[tokio::test]
async fn a_refused_write_is_an_index_error() {
    let server = support::Meili::start();
    let e = MeiliEngine::new(&server.url, Some("not-the-key"), "articles", analyzer()).unwrap();
    let r = e.upsert(base()).await;
    assert!(matches!(r, Err(SearchError::Index(_))), "{r:?}");
}
