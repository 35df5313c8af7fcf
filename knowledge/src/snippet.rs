//! Highlighting: the query's words marked in a title or the best passage of a body, the rest
//! HTML-escaped, so a page may show it as it is.

use aho_corasick::{AhoCorasick, MatchKind};

use crate::analyze::{Analyzer, Terms};

/// What to mark for one query: its words and character pairs, and every term of the synonym
/// groups it mentions (a query for 老板不给钱 marks 拖欠工资 and 欠薪 in the answer).
pub struct Marks {
    matcher: Option<AhoCorasick>,
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

impl Marks {
    /// The marks of a query, from its terms as [`Analyzer::query`] gave them.
    pub fn new(analyzer: &Analyzer, t: &Terms) -> Self {
        let mut needles: Vec<String> = t
            .words
            .iter()
            .chain(t.grams.iter())
            .filter(|w| w.chars().count() >= 2)
            .cloned()
            .collect();
        for c in &t.concepts {
            if let Some(g) = analyzer.synonyms().iter().find(|g| &g.terms[0] == c) {
                needles.extend(g.terms.iter().cloned());
            }
        }
        needles.sort();
        needles.dedup();
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .build(&needles)
            .ok()
            .filter(|_| !needles.is_empty());
        Self { matcher }
    }

    /// The byte ranges of the matches in `text`.
    fn ranges(&self, text: &str) -> Vec<(usize, usize)> {
        self.matcher.as_ref().map_or_else(Vec::new, |m| {
            m.find_iter(text).map(|h| (h.start(), h.end())).collect()
        })
    }

    fn render(text: &str, ranges: &[(usize, usize)]) -> String {
        let mut out = String::with_capacity(text.len() + 16 * ranges.len());
        let mut at = 0;
        for &(s, e) in ranges {
            if s < at {
                continue;
            }
            escape(&text[at..s], &mut out);
            out.push_str("<mark>");
            escape(&text[s..e], &mut out);
            out.push_str("</mark>");
            at = e;
        }
        escape(&text[at..], &mut out);
        out
    }

    /// The whole text, escaped, with the matches marked.
    pub fn whole(&self, text: &str) -> String {
        Self::render(text, &self.ranges(text))
    }

    /// About `chars` characters of `text` where the matches are densest (from the start
    /// when nothing matches), escaped and marked, with `…` where it was cut.
    pub fn passage(&self, text: &str, chars: usize) -> String {
        let text = text.trim();
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();
        let n = bounds.len() - 1;
        if n <= chars {
            return self.whole(text);
        }
        let ranges = self.ranges(text);
        // Start of the window (in chars) that holds the most match starts.
        let starts: Vec<usize> = ranges
            .iter()
            .map(|&(s, _)| bounds.partition_point(|&b| b < s))
            .collect();
        let mut best = (0usize, 0usize);
        for (i, &s) in starts.iter().enumerate() {
            let count = starts[i..].iter().take_while(|&&x| x < s + chars).count();
            if count > best.1 {
                best = (s.saturating_sub(chars / 6), count);
            }
        }
        let from = best.0.min(n - chars);
        let to = from + chars;
        let (a, b) = (bounds[from], bounds[to]);
        let inner: Vec<(usize, usize)> = ranges
            .iter()
            .filter(|&&(s, e)| s >= a && e <= b)
            .map(|&(s, e)| (s - a, e - a))
            .collect();
        let mut out = String::new();
        if from > 0 {
            out.push('…');
        }
        out.push_str(&Self::render(&text[a..b], &inner));
        if to < n {
            out.push('…');
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may fail loudly
mod tests {
    use super::*;
    use crate::analyze::parse_synonyms;

    #[test]
    fn marks_words_and_synonyms_and_escapes_the_rest() {
        let a = Analyzer::new(parse_synonyms("拖欠工资,欠薪,老板不给钱").unwrap(), &[]);
        let m = Marks::new(&a, &a.query("老板不给钱"));
        assert_eq!(
            m.whole("<b>欠薪</b>可向劳动保障监察投诉"),
            "&lt;b&gt;<mark>欠薪</mark>&lt;/b&gt;可向劳动保障监察投诉"
        );
        let long = format!(
            "{}拖欠工资的，{}",
            "无关内容。".repeat(40),
            "尾".repeat(100)
        );
        let p = m.passage(&long, 30);
        assert!(p.starts_with('…') && p.ends_with('…'), "{p}");
        assert!(p.contains("<mark>拖欠工资</mark>"), "{p}");
    }
}
