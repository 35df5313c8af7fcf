//! What a suggestion says, as the API returns it and the ticket page shows it.

use hotline_core::domain::Level;
use hotline_core::ids::{CategoryId, UnitId};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::engine::UnitInfo;
use crate::places::Via;

/// A unit, named.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UnitBrief {
    pub id: UnitId,
    pub code: String,
    pub name: String,
    pub level: Level,
}

impl UnitBrief {
    pub fn of(u: &UnitInfo) -> Self {
        Self {
            id: u.id,
            code: u.code.clone(),
            name: u.name.clone(),
            level: u.level,
        }
    }
}

/// Why a unit is suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A rule decided on what was known before classifying (words, place, the agent's category).
    Rule,
    /// The classifier's category, routed by a category rule.
    Classifier,
}

/// One suggested unit.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RankedUnit {
    pub unit: UnitBrief,
    /// 0–1: 1 for a deciding rule; else the classifier's probability of the categories routed
    /// to this unit.
    pub confidence: f32,
    pub source: Source,
    /// The rule that sent here.
    pub rule_id: Option<Uuid>,
    /// That rule, readable (Chinese).
    pub rule: Option<String>,
    /// The classifier's category that led here.
    pub category: Option<String>,
}

/// The appeal's category: the agent's, or the classifier's best guess.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CategoryFound {
    pub id: Option<CategoryId>,
    pub name: String,
    pub confidence: f32,
    /// The category the ticket was registered with (not a guess).
    pub from_ticket: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClassScore {
    pub category: String,
    pub probability: f32,
}

/// A term that weighed for the classifier's category.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Term {
    pub term: String,
    pub weight: f32,
}

/// The place recognised.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PlaceFound {
    /// The most specific unit: a district, street or community.
    pub unit: UnitBrief,
    pub district: Option<UnitBrief>,
    pub via: Via,
    /// The words that named it.
    pub words: Option<String>,
    /// The unit whose area holds the appeal's coordinates, when one does.
    pub point_unit: Option<UnitBrief>,
    /// The coordinates lie elsewhere than the text says (the text wins).
    pub point_disagrees: bool,
}

/// Where a ticket should go, and why.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UnitSuggestion {
    /// Best first, at most 5.
    pub units: Vec<RankedUnit>,
    /// The first unit's confidence (0 when there is none).
    pub confidence: f32,
    /// Below the threshold (or with no unit) the ticket is in the dispatcher's manual queue.
    pub manual: bool,
    pub threshold: f32,
    pub category: Option<CategoryFound>,
    /// The classifier's three likeliest first-level categories.
    pub classes: Vec<ClassScore>,
    /// The terms that weighed most for the classifier's first category.
    pub terms: Vec<Term>,
    pub place: Option<PlaceFound>,
    /// The recognised street or community below the first unit: where it may pass the ticket down.
    pub pass_down: Option<UnitBrief>,
    /// Units never suggested because they returned the ticket.
    pub excluded: Vec<UnitBrief>,
    /// The explanation for a dispatcher, line by line (Chinese).
    pub explanation: Vec<String>,
}
