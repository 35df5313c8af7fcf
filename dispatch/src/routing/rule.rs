//! A routing rule: what it matches, where it sends, and in which order it is tried. The
//! semantics are in the module comment of [`crate::routing`].

use chrono::{DateTime, Utc};
use hotline_core::ids::{CategoryId, UnitId};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// What a rule matches on.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    strum::Display,
    strum::EnumString,
    strum::EnumIter,
    strum::AsRefStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RuleKind {
    /// The appeal's category (the one the agent chose, else the classifier's) is
    /// `category_id` or lies below it; optionally only in `area_unit_id`.
    Category,
    /// The appeal's place lies in `area_unit_id`'s subtree.
    Area,
    /// The title, description or address contains one of `keywords`; optionally only in
    /// `area_unit_id`.
    Keyword,
}

impl RuleKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Category => "按分类",
            Self::Area => "按属地",
            Self::Keyword => "按关键词",
        }
    }

    /// The priority a rule of this kind gets when none is given: keywords before areas before
    /// categories, since the more particular rule should speak first.
    pub fn default_priority(self) -> i32 {
        match self {
            Self::Keyword => 300,
            Self::Area => 200,
            Self::Category => 100,
        }
    }
}

/// Where a matching rule sends the ticket.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    strum::Display,
    strum::EnumString,
    strum::EnumIter,
    strum::AsRefStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Target {
    /// The unit `unit_id`.
    Unit,
    /// The district (区县 government) of the appeal's place; the rule does not apply when no
    /// place is recognised.
    District,
}

impl Target {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Unit => "指定单位",
            Self::District => "属地区县",
        }
    }
}

pub const MAX_KEYWORDS: usize = 20;
pub const MAX_KEYWORD_CHARS: usize = 20;
pub const MAX_NOTE_CHARS: usize = 200;
pub const MAX_PRIORITY: i32 = 1000;
pub const MAX_POSITION: i32 = 100_000;

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rule {
    pub id: Uuid,
    pub kind: RuleKind,
    /// Category rules: a category of the catalogue (its subtree matches).
    pub category_id: Option<CategoryId>,
    /// Area rules: the area; category and keyword rules: an optional restriction to it.
    pub area_unit_id: Option<UnitId>,
    /// Keyword rules: any of these words (matched after NFKC, case-insensitive).
    pub keywords: Vec<String>,
    pub target: Target,
    /// The unit a `unit` target sends to.
    pub unit_id: Option<UnitId>,
    /// Higher first (0–1000).
    pub priority: i32,
    /// The order among rules of the same priority, lower first.
    pub position: i32,
    pub active: bool,
    pub note: Option<String>,
    /// Goes up by one with every change; `expected_version` guards against lost updates.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A rule as an administrator gives it (create), or the whole of a rule after an update.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub kind: RuleKind,
    pub category_id: Option<CategoryId>,
    pub area_unit_id: Option<UnitId>,
    /// Keyword rules: 1 to 20 words of 1 to 20 characters.
    #[serde(default)]
    pub keywords: Vec<String>,
    pub target: Target,
    pub unit_id: Option<UnitId>,
    /// 0–1000, higher first; default 300 for keyword, 200 for area, 100 for category rules.
    #[schema(minimum = 0, maximum = 1000)]
    pub priority: Option<i32>,
    /// 0–100000; default after the last rule of the same priority.
    #[schema(minimum = 0, maximum = 100000)]
    pub position: Option<i32>,
    /// Default true.
    pub active: Option<bool>,
    /// At most 200 characters.
    #[schema(max_length = 200)]
    pub note: Option<String>,
}

/// A field that may be absent (keep), `null` (clear) or a value.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A change to a rule: absent fields keep their value; `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulePatch {
    pub kind: Option<RuleKind>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub category_id: Option<Option<CategoryId>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub area_unit_id: Option<Option<UnitId>>,
    pub keywords: Option<Vec<String>>,
    pub target: Option<Target>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub unit_id: Option<Option<UnitId>>,
    #[schema(minimum = 0, maximum = 1000)]
    pub priority: Option<i32>,
    #[schema(minimum = 0, maximum = 100000)]
    pub position: Option<i32>,
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub note: Option<Option<String>>,
    /// The version the caller last read; a rule changed meanwhile answers 409.
    pub expected_version: Option<i32>,
}

impl Rule {
    /// A rule of these fields; its id, version and times are the caller's to set.
    pub fn from_input(i: &RuleInput) -> Self {
        let now = chrono::DateTime::<Utc>::UNIX_EPOCH;
        Self {
            id: Uuid::nil(),
            kind: i.kind,
            category_id: i.category_id,
            area_unit_id: i.area_unit_id,
            keywords: i.keywords.clone(),
            target: i.target,
            unit_id: i.unit_id,
            priority: i.priority.unwrap_or_else(|| i.kind.default_priority()),
            position: i.position.unwrap_or(0),
            active: i.active.unwrap_or(true),
            note: i.note.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// The rule as an input, to apply a patch to.
    pub fn input(&self) -> RuleInput {
        RuleInput {
            kind: self.kind,
            category_id: self.category_id,
            area_unit_id: self.area_unit_id,
            keywords: self.keywords.clone(),
            target: self.target,
            unit_id: self.unit_id,
            priority: Some(self.priority),
            position: Some(self.position),
            active: Some(self.active),
            note: self.note.clone(),
        }
    }

    /// The units a rule names (its area and its unit), for scope checks.
    pub fn units(&self) -> impl Iterator<Item = UnitId> {
        self.area_unit_id.into_iter().chain(self.unit_id)
    }
}

impl RulePatch {
    pub fn apply(self, mut to: RuleInput) -> RuleInput {
        if let Some(v) = self.kind {
            to.kind = v;
        }
        if let Some(v) = self.category_id {
            to.category_id = v;
        }
        if let Some(v) = self.area_unit_id {
            to.area_unit_id = v;
        }
        if let Some(v) = self.keywords {
            to.keywords = v;
        }
        if let Some(v) = self.target {
            to.target = v;
        }
        if let Some(v) = self.unit_id {
            to.unit_id = v;
        }
        if self.priority.is_some() {
            to.priority = self.priority;
        }
        if self.position.is_some() {
            to.position = self.position;
        }
        if self.active.is_some() {
            to.active = self.active;
        }
        if let Some(v) = self.note {
            to.note = v;
        }
        to
    }
}

/// The shape checks that need no database: which fields each kind and target needs, keyword
/// and note lengths, ranges. Returns the keywords trimmed and the note trimmed.
pub fn check_shape(i: &RuleInput) -> Result<(Vec<String>, Option<String>), (String, String)> {
    let bad = |f: &str, m: &str| Err((f.to_owned(), m.to_owned()));
    match i.kind {
        RuleKind::Category if i.category_id.is_none() => {
            return bad("category_id", "a category rule needs a category");
        }
        RuleKind::Area if i.area_unit_id.is_none() => {
            return bad("area_unit_id", "an area rule needs an area");
        }
        RuleKind::Area | RuleKind::Keyword if i.category_id.is_some() => {
            return bad("category_id", "only category rules have a category");
        }
        RuleKind::Keyword if i.keywords.is_empty() => {
            return bad("keywords", "a keyword rule needs 1 to 20 words");
        }
        RuleKind::Category | RuleKind::Area if !i.keywords.is_empty() => {
            return bad("keywords", "only keyword rules have keywords");
        }
        _ => {}
    }
    if i.keywords.len() > MAX_KEYWORDS {
        return bad("keywords", "at most 20 words");
    }
    let mut words: Vec<String> = Vec::new();
    for (n, k) in i.keywords.iter().enumerate() {
        let w = k.trim();
        let field = format!("keywords[{n}]");
        if w.is_empty() || w.chars().count() > MAX_KEYWORD_CHARS || w.chars().any(char::is_control)
        {
            return Err((field, "1 to 20 characters, no control characters".into()));
        }
        if words.iter().any(|x| x == w) {
            return Err((field, "listed twice".into()));
        }
        words.push(w.to_owned());
    }
    match i.target {
        Target::Unit if i.unit_id.is_none() => return bad("unit_id", "the unit to send to"),
        Target::District if i.unit_id.is_some() => {
            return bad(
                "unit_id",
                "a district target sends to the place's district, not a unit",
            );
        }
        _ => {}
    }
    if let Some(p) = i.priority
        && !(0..=MAX_PRIORITY).contains(&p)
    {
        return bad("priority", "0 to 1000");
    }
    if let Some(p) = i.position
        && !(0..=MAX_POSITION).contains(&p)
    {
        return bad("position", "0 to 100000");
    }
    let note = i.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = note
        && (n.chars().count() > MAX_NOTE_CHARS || n.chars().any(|c| c.is_control() && c != '\n'))
    {
        return bad("note", "at most 200 characters");
    }
    Ok((words, note.map(str::to_owned)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: RuleKind, target: Target) -> RuleInput {
        RuleInput {
            kind,
            category_id: None,
            area_unit_id: None,
            keywords: Vec::new(),
            target,
            unit_id: Some(UnitId::new()),
            priority: None,
            position: None,
            active: None,
            note: None,
        }
    }

    fn field(i: &RuleInput) -> String {
        check_shape(i).err().map(|e| e.0).unwrap_or_default()
    }

    #[test]
    fn each_kind_and_target_needs_its_fields() {
        let mut c = input(RuleKind::Category, Target::Unit);
        assert_eq!(field(&c), "category_id");
        c.category_id = Some(CategoryId::new());
        assert!(check_shape(&c).is_ok());
        c.keywords = vec!["x".into()];
        assert_eq!(field(&c), "keywords");

        let mut a = input(RuleKind::Area, Target::District);
        assert_eq!(field(&a), "area_unit_id");
        a.area_unit_id = Some(UnitId::new());
        assert_eq!(field(&a), "unit_id", "a district target names no unit");
        a.unit_id = None;
        assert!(check_shape(&a).is_ok());

        let mut k = input(RuleKind::Keyword, Target::Unit);
        assert_eq!(field(&k), "keywords");
        k.keywords = vec![" 公积金 ".into(), "提取".into()];
        assert_eq!(
            check_shape(&k).map(|r| r.0).ok(),
            Some(vec!["公积金".into(), "提取".into()])
        );
        k.keywords.push("公积金".into());
        assert_eq!(field(&k), "keywords[2]");
        k.keywords = vec!["".into()];
        assert_eq!(field(&k), "keywords[0]");
        k.keywords = vec!["医保".into()];
        k.unit_id = None;
        assert_eq!(field(&k), "unit_id");
        k.unit_id = Some(UnitId::new());
        k.priority = Some(1001);
        assert_eq!(field(&k), "priority");
        k.priority = Some(0);
        k.note = Some("长".repeat(201));
        assert_eq!(field(&k), "note");
        k.note = Some("  ".into());
        assert_eq!(check_shape(&k).map(|r| r.1).ok(), Some(None));
    }

    #[test]
    fn a_patch_keeps_absent_fields_and_clears_nulls() {
        let mut base = input(RuleKind::Keyword, Target::Unit);
        base.keywords = vec!["噪音".into()];
        base.area_unit_id = Some(UnitId::new());
        base.note = Some("夜间施工".into());
        let p: RulePatch =
            serde_json::from_str(r#"{"area_unit_id": null, "priority": 5}"#).expect("patch");
        let out = p.apply(base.clone());
        assert_eq!(out.area_unit_id, None);
        assert_eq!(out.priority, Some(5));
        assert_eq!(
            (out.keywords, out.note, out.unit_id),
            (base.keywords, base.note, base.unit_id)
        );
        assert!(serde_json::from_str::<RulePatch>(r#"{"colour": 1}"#).is_err());
    }
}
