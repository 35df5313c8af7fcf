//! The demo knowledge base shipped in `knowledge/demo/`: articles as Markdown with TOML front
//! matter (`FORMAT.md` there), and the starting synonym list.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::analyze::{Analyzer, SynonymError, parse_synonyms};
use crate::embedded::EmbeddedEngine;
use crate::engine::{SearchDoc, SearchError};

/// The synonym list the demo starts with.
pub const SYNONYMS: &str = include_str!("../demo/synonyms.txt");

/// The demo's article files: (file name, text).
pub const FILES: &[(&str, &str)] = &[
    (
        "social-security.md",
        include_str!("../demo/articles/social-security.md"),
    ),
    (
        "housing-fund.md",
        include_str!("../demo/articles/housing-fund.md"),
    ),
    (
        "medical-insurance.md",
        include_str!("../demo/articles/medical-insurance.md"),
    ),
    (
        "household-registration.md",
        include_str!("../demo/articles/household-registration.md"),
    ),
    (
        "education.md",
        include_str!("../demo/articles/education.md"),
    ),
    ("labour.md", include_str!("../demo/articles/labour.md")),
    (
        "civil-affairs.md",
        include_str!("../demo/articles/civil-affairs.md"),
    ),
    ("property.md", include_str!("../demo/articles/property.md")),
    (
        "city-management.md",
        include_str!("../demo/articles/city-management.md"),
    ),
    (
        "noise-environment.md",
        include_str!("../demo/articles/noise-environment.md"),
    ),
    (
        "utilities.md",
        include_str!("../demo/articles/utilities.md"),
    ),
    (
        "transport.md",
        include_str!("../demo/articles/transport.md"),
    ),
    (
        "market-consumer.md",
        include_str!("../demo/articles/market-consumer.md"),
    ),
    (
        "health-safety.md",
        include_str!("../demo/articles/health-safety.md"),
    ),
    (
        "replies-01.md",
        include_str!("../demo/articles/replies-01.md"),
    ),
    (
        "replies-02.md",
        include_str!("../demo/articles/replies-02.md"),
    ),
    (
        "replies-03.md",
        include_str!("../demo/articles/replies-03.md"),
    ),
    (
        "replies-04.md",
        include_str!("../demo/articles/replies-04.md"),
    ),
    (
        "replies-05.md",
        include_str!("../demo/articles/replies-05.md"),
    ),
    (
        "replies-06.md",
        include_str!("../demo/articles/replies-06.md"),
    ),
];

/// The shipped evaluation queries (`knowledge/eval/queries.csv`).
pub const QUERIES: &str = include_str!("../eval/queries.csv");

/// One article as the demo files write it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoArticle {
    pub slug: String,
    pub title: String,
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub areas: Vec<String>,
    pub owner: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    #[serde(skip)]
    pub body: String,
}

/// A demo file that does not parse: which file, which article, why.
#[derive(Debug, thiserror::Error)]
#[error("{file}, article {index}: {reason}")]
pub struct DemoError {
    pub file: String,
    pub index: usize,
    pub reason: String,
}

/// Parses one file of articles: `+++` front matter `+++` body, repeated.
pub fn parse_file(file: &str, text: &str) -> Result<Vec<DemoArticle>, DemoError> {
    let err = |index: usize, reason: String| DemoError {
        file: file.to_owned(),
        index,
        reason,
    };
    // Split on lines that are exactly `+++`.
    let mut blocks: Vec<String> = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "+++" {
            blocks.push(String::new());
        } else if let Some(b) = blocks.last_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    if !blocks[0].trim().is_empty() {
        return Err(err(0, "text before the first +++".into()));
    }
    let rest = &blocks[1..];
    if !rest.len().is_multiple_of(2) {
        return Err(err(
            rest.len() / 2 + 1,
            "front matter without a closing +++".into(),
        ));
    }
    let mut out = Vec::new();
    for (i, pair) in rest.chunks(2).enumerate() {
        let mut a: DemoArticle =
            toml::from_str(&pair[0]).map_err(|e| err(i + 1, e.message().to_owned()))?;
        a.body = pair[1].trim().to_owned();
        if a.body.is_empty() {
            return Err(err(i + 1, format!("{}: empty body", a.slug)));
        }
        out.push(a);
    }
    Ok(out)
}

/// Every demo article, in file order.
pub fn articles() -> Result<Vec<DemoArticle>, DemoError> {
    let mut all = Vec::new();
    for (file, text) in FILES {
        all.extend(parse_file(file, text)?);
    }
    Ok(all)
}

impl DemoArticle {
    /// The article as the engines index it.
    pub fn search_doc(&self) -> SearchDoc {
        SearchDoc {
            id: self.slug.clone(),
            title: self.title.clone(),
            body: plain_text(&self.body),
            tags: self.tags.clone(),
            category: self.category.clone(),
            areas: self.areas.clone(),
            valid_from: self.valid_from,
            valid_to: self.valid_to,
        }
    }
}

/// The demo's analyzer: its synonym list, and the articles' tags as words jieba keeps whole.
pub fn analyzer(articles: &[DemoArticle]) -> Result<Analyzer, SynonymError> {
    let groups = parse_synonyms(SYNONYMS)?;
    let mut tags: Vec<String> = articles
        .iter()
        .flat_map(|a| a.tags.iter().cloned())
        .collect();
    tags.sort();
    tags.dedup();
    Ok(Analyzer::new(groups, &tags))
}

/// The demo base indexed in memory by the embedded engine (for the evaluation).
pub fn index(articles: &[DemoArticle]) -> Result<EmbeddedEngine, SearchError> {
    let analyzer = analyzer(articles).map_err(|e| SearchError::Index(e.to_string()))?;
    let engine = EmbeddedEngine::open(None, Arc::new(analyzer))?;
    engine.replace_blocking(articles.iter().map(DemoArticle::search_doc).collect())?;
    Ok(engine)
}

/// The plain text of a Markdown body (for the index and snippets): text and code, paragraphs
/// and list items on lines of their own.
pub fn plain_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, TagEnd};
    let mut out = String::with_capacity(markdown.len());
    for ev in Parser::new_ext(markdown, crate::markdown::options()) {
        match ev {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::TableCell) => out.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::Heading(_)
                | TagEnd::TableRow
                | TagEnd::TableHead,
            ) => out.push('\n'),
            _ => {}
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may fail loudly
mod tests {
    use super::*;

    #[test]
    fn parses_articles_and_names_bad_ones() {
        let text = "+++\nslug = \"a\"\ntitle = \"问\"\ncategory = \"x/y\"\nowner = \"990100-RSJ\"\n+++\n**答**：是。\n+++\nslug = \"b\"\ntitle = \"问二\"\ncategory = \"x/y\"\nowner = \"990100-RSJ\"\nvalid_to = \"2026-12-31\"\n+++\n- 一\n- 二\n";
        let a = parse_file("t.md", text).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[1].valid_to, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(plain_text(&a[0].body), "答：是。");
        assert_eq!(plain_text(&a[1].body), "一\n二");
        assert_eq!(
            plain_text("| 项目 | 标准 |\n|---|---|\n| 补卡 | 免费 |\n"),
            "项目 标准 \n补卡 免费"
        );
        let bad = parse_file("t.md", "+++\nslug = \"a\"\nnope = 1\n+++\nx\n").unwrap_err();
        assert_eq!(bad.index, 1);
        assert!(bad.reason.contains("nope"), "{bad}");
    }

    #[test]
    fn the_demo_base_is_whole() {
        let all = articles().unwrap();
        assert!(all.len() >= 300, "{} articles", all.len());
        let mut slugs: Vec<&str> = all.iter().map(|a| a.slug.as_str()).collect();
        slugs.sort_unstable();
        let n = slugs.len();
        slugs.dedup();
        assert_eq!(slugs.len(), n, "slugs are unique");
        assert_eq!(
            all.iter().filter(|a| a.slug.starts_with("reply-")).count(),
            120,
            "every official reply is an article"
        );
        crate::analyze::parse_synonyms(SYNONYMS).unwrap();
    }
}
