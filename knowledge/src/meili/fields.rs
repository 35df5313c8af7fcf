//! What the Meilisearch engine stores for an article and sends for a query: the article's own
//! text (the server segments Chinese with jieba and folds it to tonal pinyin, so traditional
//! characters and most homophone typos meet on their own), plus helper fields from our
//! [`Analyzer`] for what the server cannot know: the synonym list's concepts, toneless pinyin
//! and initials as citizens type them, the title's characters and character pairs as they are
//! written (for shape typos), and the filter fields. A query becomes [`Probe`]s: one search
//! per term (`search.rs` ranks their answers together).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::analyze::{Analyzer, Terms, normalise, split_pinyin};
use crate::engine::{SearchDoc, SearchError, SearchQuery};

/// Open ends of a validity range, as day numbers far beyond any real date.
const OPEN_FROM: i64 = -1_000_000_000;
const OPEN_TO: i64 = 1_000_000_000;

/// The searchable fields, most telling first (the server's `attribute` rule reads this order).
pub const SEARCHABLE: [&str; 8] = [
    "title",
    "tags",
    "concepts",
    "spell",
    "grams",
    "chars",
    "body",
    "body_concepts",
];
/// The fields typos are not tolerated in: the server's typos on Chinese are edits of its
/// pinyin (工资 would meet 公司), and the concepts and literals are opaque words. Typed pinyin
/// and initials (`spell`) keep them.
pub const NO_TYPOS: [&str; 7] = [
    "concepts",
    "body_concepts",
    "title",
    "tags",
    "body",
    "grams",
    "chars",
];
/// `key` for fetching the hits found; the rest for the query's filters and facets.
pub const FILTERABLE: [&str; 6] = [
    "key",
    "categories",
    "top",
    "areas",
    "valid_from",
    "valid_to",
];
/// The facet of the top-level category.
pub const FACET: &str = "top";
pub const RETRIEVE: [&str; 5] = ["key", "id", "title", "body", "category"];
pub const RETRIEVE_KEY: [&str; 1] = ["key"];
pub const PRIMARY_KEY: &str = "key";

/// An article as the index holds it.
#[derive(Debug, Clone, Serialize)]
pub struct Stored {
    key: String,
    id: String,
    title: String,
    tags: Vec<String>,
    body: String,
    category: String,
    /// The category path and every path above it (`a`, `a/b`): a filter on one of them is a
    /// filter on a path prefix of whole names.
    categories: Vec<String>,
    top: String,
    areas: Vec<String>,
    valid_from: i64,
    valid_to: i64,
    concepts: String,
    spell: String,
    /// The title's and tags' character pairs and characters, each its own word (as
    /// [`literal`]s): a word jieba cuts differently, or one written with a wrong character,
    /// still meets most of them.
    grams: String,
    chars: String,
    body_concepts: String,
}

/// What a hit brings back.
#[derive(Debug, Clone, Deserialize)]
pub struct Found {
    pub key: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub category: String,
}

/// The document key of an id: the id itself when Meilisearch accepts it as one (ASCII letters,
/// digits and `-`), otherwise `_` and its bytes in hex (no accepted id holds `_`, so no two ids
/// share a key).
pub fn key(id: &str) -> Result<String, SearchError> {
    let plain = !id.is_empty()
        && id.len() <= 511
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if plain {
        return Ok(id.to_owned());
    }
    if id.is_empty() || id.len() > 255 {
        return Err(SearchError::Index(format!(
            "an article id must have 1 to 255 bytes: {id:?}"
        )));
    }
    let mut k = String::with_capacity(1 + 2 * id.len());
    k.push('_');
    for b in id.bytes() {
        k.push_str(&format!("{b:02x}"));
    }
    Ok(k)
}

/// The whole names of a category path, as the embedded engine's facets read it.
fn path(category: &str) -> Vec<&str> {
    category.split('/').filter(|p| !p.is_empty()).collect()
}

/// The category filter's value: the path of whole names, `None` when it names none.
pub fn category_value(category: &str) -> Option<String> {
    let p = path(category);
    (!p.is_empty()).then(|| p.join("/"))
}

fn day(d: Option<NaiveDate>, open: i64) -> i64 {
    d.map_or(open, |d| i64::from(d.num_days_from_ce()))
}

/// A stable opaque word for a concept (the synonym group's official term): letters only, so
/// the server keeps it one word, with a prefix no pinyin starts with.
pub fn concept_token(term: &str) -> String {
    // FNV-1a: the same word in every process and version.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in term.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::from("vq");
    for _ in 0..8 {
        out.push(char::from(b'a' + (h % 26) as u8));
        h /= 26;
    }
    out
}

/// A Han text as letters, character by character (each its code point in sixteen letters),
/// after an `x`: the server then matches the characters themselves, not their sound.
pub fn literal(text: &str) -> String {
    let mut out = String::from("x");
    for c in text.chars() {
        let n = u32::from(c);
        for shift in (0..6).rev() {
            out.push(char::from(b'a' + ((n >> (4 * shift)) & 0xf) as u8));
        }
    }
    out
}

fn literals(items: &[String]) -> String {
    items
        .iter()
        .map(|g| literal(g))
        .collect::<Vec<_>>()
        .join(" ")
}

fn concepts_of(t: &Terms) -> String {
    let mut c: Vec<String> = t.concepts.iter().map(|c| concept_token(c)).collect();
    c.sort();
    c.dedup();
    c.join(" ")
}

/// Toneless pinyin and initials of a short text's words, and the pinyin of adjacent words run
/// together (`shebao` `ka` → `shebaoka`), as citizens type them.
fn spell_of(t: &Terms) -> String {
    let mut out: Vec<String> = Vec::new();
    out.extend(t.word_pinyin.iter().cloned());
    for w in t.word_pinyin.windows(2) {
        out.push(w.concat());
    }
    out.extend(t.initials.iter().cloned());
    out.join(" ")
}

/// The stored form of an article.
pub fn stored(analyzer: &Analyzer, d: &SearchDoc) -> Result<Stored, SearchError> {
    let names = path(&d.category);
    let categories = (1..=names.len()).map(|n| names[..n].join("/")).collect();
    let short = format!("{} {}", d.title, d.tags.join(" "));
    let short = analyzer.document(&short, true);
    let body = analyzer.document(&d.body, false);
    Ok(Stored {
        key: key(&d.id)?,
        id: d.id.clone(),
        title: d.title.clone(),
        tags: d.tags.clone(),
        body: d.body.clone(),
        category: d.category.clone(),
        categories,
        top: names.first().map(|s| (*s).to_owned()).unwrap_or_default(),
        areas: d.areas.clone(),
        valid_from: day(d.valid_from, OPEN_FROM),
        valid_to: day(d.valid_to, OPEN_TO),
        concepts: concepts_of(&short),
        spell: spell_of(&short),
        grams: literals(&short.grams),
        chars: literals(&short.chars),
        body_concepts: concepts_of(&body),
    })
}

/// A filter value in double quotes, its quotes and backslashes escaped.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The filters of a query (all must hold), as the embedded engine applies them.
pub fn filters(q: &SearchQuery) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = q.category.as_deref().and_then(category_value) {
        out.push(format!("categories = {}", quoted(&c)));
    }
    if !q.areas.is_empty() {
        let any: Vec<String> = q.areas.iter().map(|a| quoted(a)).collect();
        out.push(format!("areas IN [{}]", any.join(", ")));
    }
    if let Some(d) = q.valid_on {
        let d = day(Some(d), 0);
        out.push(format!("valid_from <= {d} AND valid_to >= {d}"));
    }
    out
}

/// One search sent for a query: a word (or a concept's opaque word) in some fields, and what a
/// match is worth.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub text: String,
    pub weight: f32,
    pub on: &'static [&'static str],
}

const CONCEPTS_ON: &[&str] = &["concepts", "body_concepts"];
const TEXT_ON: &[&str] = &["title", "tags", "body"];
const GRAMS_ON: &[&str] = &["grams"];
const CHARS_ON: &[&str] = &["chars"];
const TYPED_ON: &[&str] = &["spell", "title", "tags", "body"];

/// A query with fewer searches than this also searches its single characters.
const FEW_PROBES: usize = 10;
/// The most searches one query sends.
pub const MAX_PROBES: usize = 12;

/// The searches of a query, most telling first: the concepts it mentions (as their opaque
/// words), its own words without function words (the longest of jieba's overlapping ones),
/// typed pinyin and initials as typed, then the character pairs and characters of its Han
/// text against the title's and tags' (a shape typo, 电悌, still has 电 in common).
pub fn probes(terms: &Terms, text: &str) -> Vec<Probe> {
    let mut out: Vec<Probe> = Vec::new();
    let push = |out: &mut Vec<Probe>, text: String, weight: f32, on: &'static [&'static str]| {
        if !text.is_empty() && !out.iter().any(|p| p.text == text && p.on == on) {
            out.push(Probe { text, weight, on });
        }
    };
    for c in &terms.concepts {
        push(&mut out, concept_token(c), 3.0, CONCEPTS_ON);
    }
    let han: Vec<&String> = terms.words.iter().filter(|w| !w.is_ascii()).collect();
    // cut_for_search gives 住房, 公积金 and 住房公积金: keep the words no longer one holds.
    let mut words: Vec<&String> = han
        .iter()
        .filter(|w| {
            !han.iter()
                .any(|o| o.len() > w.len() && o.contains(w.as_str()))
        })
        .copied()
        .collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count().min(3)));
    for w in words.iter().filter(|w| w.chars().count() >= 2) {
        push(&mut out, (*w).clone(), 2.0, TEXT_ON);
    }
    let text = normalise(text);
    for chunk in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        push(&mut out, chunk.to_owned(), 2.0, TYPED_ON);
        if let Some(s) = split_pinyin(chunk).filter(|s| s.len() > 1) {
            // Typed words may run several together (`shebaoka`): each pair too.
            for pair in s.windows(2) {
                push(&mut out, pair.concat(), 1.0, TYPED_ON);
            }
        }
    }
    for g in terms.grams.iter().filter(|g| g.chars().count() == 2) {
        push(&mut out, literal(g), 1.5, GRAMS_ON);
    }
    // Single characters are the weakest sign: only for a short query (as the embedded
    // engine's most telling terms leave them out of a long one).
    if out.len() < FEW_PROBES {
        for c in &terms.chars {
            push(&mut out, literal(c), 0.5, CHARS_ON);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may fail loudly
mod tests {
    use super::*;

    #[test]
    fn keys_are_accepted_and_distinct() {
        assert_eq!(key("gjj-rent").unwrap(), "gjj-rent");
        assert_eq!(key("a_b").unwrap(), "_615f62");
        assert_eq!(key("公积金").unwrap(), "_e585ace7a7afe98791");
        assert!(key("").is_err());
    }

    #[test]
    fn filters_quote_their_values() {
        let q = SearchQuery {
            category: Some("/劳动\"和/社保/".into()),
            areas: vec!["990100".into()],
            valid_on: NaiveDate::from_ymd_opt(2026, 1, 1),
            ..SearchQuery::default()
        };
        let f = filters(&q);
        assert_eq!(f[0], r#"categories = "劳动\"和/社保""#);
        assert_eq!(f[1], r#"areas IN ["990100"]"#);
        assert!(f[2].starts_with("valid_from <= "), "{f:?}");
        assert!(
            filters(&SearchQuery {
                category: Some("/".into()),
                ..SearchQuery::default()
            })
            .is_empty()
        );
    }

    #[test]
    fn literals_are_letters_of_fixed_length() {
        // 公 is U+516C.
        assert_eq!(literal("公"), "xaafbgm");
        assert_eq!(literal("公积").len(), 13);
    }

    #[test]
    fn concept_tokens_are_stable_letters() {
        let t = concept_token("拖欠工资");
        assert_eq!(t, concept_token("拖欠工资"));
        assert_ne!(t, concept_token("社会保险"));
        assert!(
            t.len() == 10 && t.chars().all(|c| c.is_ascii_lowercase()),
            "{t}"
        );
    }
}
