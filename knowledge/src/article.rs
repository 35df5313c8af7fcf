//! Knowledge articles: what a writer submits (checked before anything is stored) and what the
//! store reads back.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use hotline_core::domain::text::BoundedText;
use hotline_core::ids::{UnitId, UserId};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use crate::error::KnowledgeError;
use crate::workflow::{ArticleState, Step};

/// An article's internal id (its URL key is the slug).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArticleId(Uuid);

impl ArticleId {
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for ArticleId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ArticleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ArticleId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

pub const MAX_TAGS: usize = 20;
pub const MAX_AREAS: usize = 50;

/// The text of one version, as a writer sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleFields {
    /// The question as citizens ask it: 4–120 characters.
    pub title: String,
    /// The answer in Markdown (rendered safely): at most 20,000 characters.
    pub body: String,
    /// The full name of a category of the catalogue: 劳动和社会保障/社会保险.
    pub category: String,
    /// Words citizens use for the matter (at most 20, each at most 20 characters).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The codes of the org units whose area the answer applies to (at most 50).
    #[serde(default)]
    pub areas: Vec<String>,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    /// The last day the answer holds; the search drops it the day after.
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    /// The policy document or notice the answer rests on.
    #[serde(default)]
    pub source: Option<String>,
}

fn clean(s: &str) -> String {
    s.nfc().collect::<String>().trim().to_owned()
}

fn bounded<const MAX: usize>(field: &str, value: &str) -> Result<String, KnowledgeError> {
    BoundedText::<MAX>::parse(&clean(value))
        .map(BoundedText::into_string)
        .map_err(|reason| KnowledgeError::invalid(field, reason))
}

impl ArticleFields {
    /// The fields normalised (NFC, trimmed, tags de-duplicated), or the first refusal naming
    /// its field. Whether the category and the areas exist is the store's check.
    pub fn checked(self) -> Result<Self, KnowledgeError> {
        let title = bounded::<120>("title", &self.title)?;
        if title.chars().count() < 4 {
            return Err(KnowledgeError::invalid(
                "title",
                "must be at least 4 characters: the question as citizens ask it",
            ));
        }
        let body = bounded::<20_000>("body", &self.body)?;
        let category = bounded::<200>("category", &self.category)?;
        if self.tags.len() > MAX_TAGS {
            return Err(KnowledgeError::invalid(
                "tags",
                format!("at most {MAX_TAGS} tags"),
            ));
        }
        let mut tags: Vec<String> = Vec::with_capacity(self.tags.len());
        for (i, t) in self.tags.iter().enumerate() {
            let t = bounded::<20>(&format!("tags[{i}]"), t)?;
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        if self.areas.len() > MAX_AREAS {
            return Err(KnowledgeError::invalid(
                "areas",
                format!("at most {MAX_AREAS} areas"),
            ));
        }
        let mut areas: Vec<String> = Vec::with_capacity(self.areas.len());
        for (i, a) in self.areas.iter().enumerate() {
            let a = bounded::<40>(&format!("areas[{i}]"), a)?;
            if !areas.contains(&a) {
                areas.push(a);
            }
        }
        if let (Some(from), Some(to)) = (self.valid_from, self.valid_to)
            && to < from
        {
            return Err(KnowledgeError::invalid(
                "valid_to",
                "must not be before valid_from",
            ));
        }
        let source = match self.source.as_deref().map(clean) {
            None => None,
            Some(s) if s.is_empty() => None,
            Some(s) => Some(bounded::<500>("source", &s)?),
        };
        Ok(Self {
            title,
            body,
            category,
            tags,
            areas,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            source,
        })
    }

    /// Whether the answer holds on `day`.
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= day) && self.valid_to.is_none_or(|t| day <= t)
    }
}

/// A slug: 3–80 of `a-z`, `0-9` and `-`, starting with a letter or digit.
pub fn check_slug(slug: &str) -> Result<String, KnowledgeError> {
    let s = slug.trim();
    let ok = (3..=80).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(KnowledgeError::invalid(
            "slug",
            "must be 3–80 characters of a-z, 0-9 and '-', not starting with '-'",
        ))
    }
}

/// An optional note to a step (why it was edited, sent back, archived): at most 500 characters.
pub fn check_note(note: Option<&str>) -> Result<Option<String>, KnowledgeError> {
    match note.map(clean) {
        None => Ok(None),
        Some(n) if n.is_empty() => Ok(None),
        Some(n) => bounded::<500>("note", &n).map(Some),
    }
}

/// An article as the store holds it, with its latest version's text.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Article {
    #[schema(value_type = String, format = Uuid)]
    pub id: ArticleId,
    pub slug: String,
    pub state: ArticleState,
    /// The latest version; an edit or a step names it as `expected_version`.
    pub version: i32,
    /// The version the search and the citizens see, if any.
    pub published_version: Option<i32>,
    pub owner_unit_id: UnitId,
    pub owner_unit_name: String,
    /// Why a reviewer last sent it back.
    pub review_note: Option<String>,
    /// The latest version's text.
    pub latest: ArticleFields,
    /// Who wrote the latest version.
    pub latest_author_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One version of an article.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ArticleVersion {
    pub version: i32,
    pub fields: ArticleFields,
    pub author_id: Option<UserId>,
    pub author_name: Option<String>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// One line of an article's trail.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LogEntry {
    /// `create`, a [`Step`] name, or `import`.
    pub action: String,
    pub version: i32,
    pub actor_id: Option<UserId>,
    pub actor_name: Option<String>,
    pub actor_role: String,
    pub note: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

impl LogEntry {
    pub fn label_zh(&self) -> &str {
        match self.action.parse::<Step>() {
            Ok(step) => step.label_zh(),
            Err(_) => match self.action.as_str() {
                "create" => "新建",
                "import" => "导入并发布",
                other => other,
            },
        }
    }
}

/// An article in a list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ArticleSummary {
    #[schema(value_type = String, format = Uuid)]
    pub id: ArticleId,
    pub slug: String,
    pub title: String,
    pub category: String,
    pub state: ArticleState,
    pub version: i32,
    pub published_version: Option<i32>,
    pub owner_unit_id: UnitId,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> ArticleFields {
        ArticleFields {
            title: "  社保卡丢了怎么补办？ ".into(),
            body: "先挂失，再补办。".into(),
            category: "劳动和社会保障/社会保险".into(),
            tags: vec!["社保卡".into(), "社保卡".into(), "补办".into()],
            areas: vec!["990100".into()],
            valid_from: None,
            valid_to: None,
            source: Some("  ".into()),
        }
    }

    #[test]
    fn fields_are_normalised_and_refusals_name_the_field() {
        let f = fields().checked().unwrap();
        assert_eq!(f.title, "社保卡丢了怎么补办？");
        assert_eq!(f.tags, ["社保卡", "补办"]);
        assert_eq!(f.source, None);
        let field_of = |f: ArticleFields| match f.checked() {
            Err(KnowledgeError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field_of(ArticleFields {
                title: "社保".into(),
                ..fields()
            }),
            "title"
        );
        assert_eq!(
            field_of(ArticleFields {
                body: " ".into(),
                ..fields()
            }),
            "body"
        );
        let long_tag = "标".repeat(21);
        assert_eq!(
            field_of(ArticleFields {
                tags: vec!["好".into(), long_tag],
                ..fields()
            }),
            "tags[1]"
        );
        assert_eq!(
            field_of(ArticleFields {
                valid_from: NaiveDate::from_ymd_opt(2026, 12, 1),
                valid_to: NaiveDate::from_ymd_opt(2026, 11, 1),
                ..fields()
            }),
            "valid_to"
        );
    }

    #[test]
    fn slugs_and_validity() {
        assert!(check_slug("sbk-lost").is_ok());
        assert!(check_slug("SBK").is_err());
        assert!(check_slug("-ab").is_err());
        assert!(check_slug("社保").is_err());
        let f = ArticleFields {
            valid_to: NaiveDate::from_ymd_opt(2026, 12, 31),
            ..fields()
        };
        assert!(f.valid_on(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()));
        assert!(!f.valid_on(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()));
    }
}
