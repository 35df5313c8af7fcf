//! An article's Markdown body as the pages show it: rendered by pulldown-cmark (tables and
//! strikethrough on), then cleaned by ammonia, so whatever an editor types (raw HTML, a
//! `javascript:` link, an event attribute) can only become harmless markup.

use pulldown_cmark::{Options, Parser, html};

/// The Markdown extensions articles may use.
pub(crate) fn options() -> Options {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options
}

/// Safe HTML of a Markdown text.
pub fn to_safe_html(markdown: &str) -> String {
    let options = options();
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&raw)
        .to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may fail loudly
mod tests {
    use super::*;

    #[test]
    fn renders_markdown() {
        let h = to_safe_html(
            "**要交。**\n\n1. 第一步\n2. 第二步\n\n| 项目 | 标准 |\n|---|---|\n| 补卡 | 免费 |\n",
        );
        assert!(h.contains("<strong>要交。</strong>"), "{h}");
        assert!(h.contains("<ol>") && h.contains("<li>第一步</li>"), "{h}");
        assert!(h.contains("<table>") && h.contains("<td>补卡</td>"), "{h}");
    }

    #[test]
    fn nothing_an_editor_types_can_run() {
        for payload in [
            "<script>alert(1)</script>正文",
            "<img src=x onerror=alert(1)>",
            "[点我](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">点我</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<div style=\"background:url(javascript:alert(1))\" onclick=\"alert(1)\">x</div>",
            "<svg><script>alert(1)</script></svg>",
        ] {
            let h = to_safe_html(payload).to_lowercase();
            for bad in [
                "<script",
                "onerror",
                "onclick",
                "javascript:",
                "<iframe",
                "style=",
                "<svg",
            ] {
                assert!(!h.contains(bad), "{payload:?} → {h}");
            }
        }
        // Text that looks like markup stays visible as text.
        assert!(to_safe_html("a < b & c").contains("a &lt; b &amp; c"));
        // Links keep working, and cannot steer the opener.
        let h = to_safe_html("[政策原文](https://gov.example/policy)");
        assert!(h.contains("href=\"https://gov.example/policy\""), "{h}");
        assert!(h.contains("rel=\"noopener noreferrer nofollow\""), "{h}");
    }

    #[test]
    fn every_demo_article_renders() {
        for a in crate::demo::articles().unwrap() {
            let h = to_safe_html(&a.body);
            assert!(h.len() > 100 && !h.contains("<script"), "{}: {h}", a.slug);
        }
    }
}
