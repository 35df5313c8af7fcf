#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The shipped evaluation set on the demo base with the embedded engine: the target
//! (hit@3 ≥ 0.95), and no kind of query left far behind.

use hotline_knowledge::demo;
use hotline_knowledge::eval;

#[tokio::test]
async fn the_shipped_queries_find_their_answers() {
    let articles = demo::articles().unwrap();
    let queries = eval::parse_queries(demo::QUERIES).unwrap();
    assert!(queries.len() >= 200, "{} queries", queries.len());
    let slugs: std::collections::HashSet<&str> = articles.iter().map(|a| a.slug.as_str()).collect();
    for q in &queries {
        for a in q.answers() {
            assert!(
                slugs.contains(a),
                "query {:?} names no article {a}",
                q.query
            );
        }
    }
    let kinds: std::collections::HashSet<&str> = queries.iter().map(|q| q.kind.as_str()).collect();
    for k in [
        "plain",
        "pinyin",
        "initials",
        "homophone",
        "shape",
        "synonym",
        "traditional",
        "colloquial",
    ] {
        assert!(kinds.contains(k), "no {k} queries");
    }
    let engine = demo::index(&articles).unwrap();
    let report = eval::evaluate(&engine, &queries).await.unwrap();
    assert!(report.all.hit3 >= 0.95, "{report:#?}");
    for (kind, f) in &report.by_kind {
        assert!(f.hit3 >= 0.85, "{kind}: {f:?}\n{report:#?}");
    }
}
