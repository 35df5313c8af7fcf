#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The knowledge pages through the real binary: an agent searches and reads; a unit admin
//! writes through the form (a refused field is shown beside the form); a reviewer sends it back
//! and publishes; the versions page shows the readable difference; script in an article stays
//! inert.

mod common;
mod pages_support;

use common::{Backend, spawn_with_answers};
use pages_support::{Browser, hidden};

/// The article id in a `/knowledge/{id}?done=…` location.
fn id_of(location: &str) -> String {
    location
        .trim_start_matches("/knowledge/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

/// Takes a workflow step through the article page's form.
async fn step(b: &Browser, id: &str, name: &str, note: &str) -> pages_support::Page {
    let page = b.get(&format!("/knowledge/{id}")).await;
    let csrf = hidden(&page.body, "csrf_token");
    let version = hidden(&page.body, "version");
    b.post(
        &format!("/knowledge/{id}/step"),
        &[
            ("csrf_token", &csrf),
            ("version", &version),
            ("step", name),
            ("note", note),
        ],
    )
    .await
}

async fn knowledge_pages(backend: Backend) {
    let app = spawn_with_answers(backend).await;
    let agent = Browser::signed_in(&app, "agent").await;
    let p = agent
        .get("/knowledge?q=%E7%A7%9F%E6%88%BF%E6%8F%90%E5%8F%96%E5%85%AC%E7%A7%AF%E9%87%91")
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body.contains("data-slug=\"gjj-withdraw-rent\""),
        "{}",
        p.body
    );
    assert!(p.body.contains("<mark>"), "matched words are marked");
    assert!(!p.body.contains("新建文章"), "agents do not write");
    let link = agent.get("/knowledge/by-slug/gjj-withdraw-rent").await;
    assert_eq!(link.status, 303);
    let page = agent.get(link.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("租房"), "{}", page.body);
    assert!(
        !page.body.contains("id=\"versions\""),
        "readers see no versions"
    );

    // A unit admin writes; a refused field is named above the form, the text kept.
    let writer = Browser::signed_in(&app, "a2admin").await;
    let form = writer.get("/knowledge/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = hidden(&form.body, "csrf_token");
    let body = "桂花坪街道的便民服务中心周一至周五9:00至17:00办理业务。\n\n<script>alert(1)</script>\n\n节假日休息。";
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("slug", "a2-service-centre-hours"),
        ("title", "桂花坪街道便民服务中心几点上班？"),
        ("category", "不存在的分类"),
        ("tags", "便民服务中心、办事时间"),
        ("body", body),
    ];
    let refused = writer.post("/knowledge/new", &fields).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("category"), "{}", refused.body);
    assert!(
        refused.body.contains("桂花坪街道便民服务中心几点上班？"),
        "the text is kept"
    );
    fields[3] = ("category", "城乡建设/城市建设和市政管理");
    let made = writer.post("/knowledge/new", &fields).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let id = id_of(made.location.as_deref().unwrap());
    let page = writer.get(&format!("/knowledge/{id}")).await;
    assert!(page.body.contains("草稿"), "{}", page.body);
    assert!(
        !page.body.contains("<script>alert(1)</script>"),
        "script stays inert"
    );
    assert_eq!(step(&writer, &id, "submit", "").await.status, 303);

    // The reviewer sends it back with a reason, the writer fixes it, the reviewer publishes.
    let reviewer = Browser::signed_in(&app, "reviewer").await;
    let page = reviewer.get(&format!("/knowledge/{id}")).await;
    assert!(
        page.body.contains("审核发布") && page.body.contains("退回修改"),
        "{}",
        page.body
    );
    assert_eq!(
        step(&reviewer, &id, "reject", "请写明午休时间")
            .await
            .status,
        303
    );
    let edit = writer.get(&format!("/knowledge/{id}/edit")).await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    let csrf = hidden(&edit.body, "csrf_token");
    let version = hidden(&edit.body, "version");
    let fixed = body.replace("9:00至17:00", "9:00至12:00、14:00至17:00");
    let saved = writer
        .post(
            &format!("/knowledge/{id}/edit"),
            &[
                ("csrf_token", &csrf),
                ("version", &version),
                ("title", "桂花坪街道便民服务中心几点上班？"),
                ("category", "城乡建设/城市建设和市政管理"),
                ("tags", "便民服务中心、办事时间"),
                ("body", &fixed),
                ("note", "补充午休时间"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(step(&writer, &id, "submit", "").await.status, 303);
    assert_eq!(step(&reviewer, &id, "publish", "").await.status, 303);
    let page = reviewer.get(&format!("/knowledge/{id}")).await;
    assert!(page.body.contains("已发布"), "{}", page.body);
    assert!(
        page.body.contains("请写明午休时间"),
        "the trail keeps the reason"
    );
    let diff = writer
        .get(&format!("/knowledge/{id}/diff?from=1&to=2"))
        .await;
    assert_eq!(diff.status, 200, "{}", diff.body);
    assert!(
        diff.body.contains("class=\"diff-insert\"") && diff.body.contains("<ins>"),
        "{}",
        diff.body
    );
    assert!(
        diff.body.contains("补充午休时间") || diff.body.contains("第1版 → 第2版"),
        "{}",
        diff.body
    );
    assert!(
        !diff.body.contains("<script>alert"),
        "the diff escapes the text"
    );
    // A stale form answers with the conflict on the page, not a 500.
    let stale = writer
        .post(
            &format!("/knowledge/{id}/step"),
            &[
                ("csrf_token", &csrf),
                ("version", "1"),
                ("step", "archive"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);

    // The statistics: the agent's searches, the one that found nothing, the answer opened.
    let nothing = agent.get("/knowledge?q=xkcdqwrtp").await;
    assert!(nothing.body.contains("没有找到答案"), "{}", nothing.body);
    assert_eq!(agent.get("/knowledge/stats").await.status, 403);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let stats = loop {
        let p = reviewer.get("/knowledge/stats").await;
        assert_eq!(p.status, 200, "{}", p.body);
        if p.body.contains("xkcdqwrtp") {
            break p.body;
        }
        assert!(std::time::Instant::now() < until, "{}", p.body);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let no_result =
        &stats[stats.find("id=\"no-result\"").unwrap()..stats.find("id=\"top\"").unwrap()];
    assert!(no_result.contains("xkcdqwrtp"), "{no_result}");
    assert!(!no_result.contains("租房提取公积金"), "{no_result}");
    let used = &stats[stats.find("id=\"used\"").unwrap()..];
    assert!(
        used.contains("租房") && used.contains("<td>1</td>"),
        "{used}"
    );
}
both_backends!(knowledge, knowledge_pages);
