#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! What only the embedded engine does: its index lives on disk and opens again with what it
//! held. (What every engine does is in `engines.rs`, run on this one too.)

mod support;

use hotline_knowledge::embedded::EmbeddedEngine;
use hotline_knowledge::engine::{SearchEngine, SearchQuery};
use support::base::{analyzer, base};

#[tokio::test]
async fn the_index_reopens_from_disk_with_what_it_held() {
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
