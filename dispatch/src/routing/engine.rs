//! The suggestion: rules, classifier and places together, in memory. A [`Router`] is built from
//! a snapshot of the org tree, the catalogue, the rules, the place names and the areas; it does
//! no I/O, so one suggestion costs what the classifier and a scan of the text cost.

use std::collections::HashMap;
use std::sync::Arc;

use hotline_core::domain::{Level, UnitKind};
use hotline_core::ids::{CategoryId, UnitId};
use hotline_core::places::PlaceRow;

use super::explain;
use super::rule::{Rule, RuleKind, Target};
use super::suggestion::{
    CategoryFound, ClassScore, PlaceFound, RankedUnit, Source, Term, UnitBrief, UnitSuggestion,
};
use crate::model::Model;
use crate::places::{Located, Resolver, prepare};

/// An org unit as the router knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitInfo {
    pub id: UnitId,
    pub code: String,
    pub name: String,
    pub level: Level,
    pub kind: UnitKind,
    pub path: String,
    pub active: bool,
}

/// A category as the router knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryInfo {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub level: i32,
    pub name: String,
}

/// Everything a router is built from.
#[derive(Debug, Clone, Default)]
pub struct RouterData {
    pub units: Vec<UnitInfo>,
    pub categories: Vec<CategoryInfo>,
    /// In the order they are tried.
    pub rules: Vec<Rule>,
    /// The org tree's local governments, for the gazetteer.
    pub places: Vec<PlaceRow>,
    /// Extra place names: (name, unit id).
    pub place_names: Vec<(String, String)>,
    /// Areas: (unit id, shape).
    pub areas: Vec<(String, geo::MultiPolygon<f64>)>,
}

/// What is known of the appeal to route.
#[derive(Debug, Clone, Default)]
pub struct Appeal<'a> {
    pub title: &'a str,
    pub detail: &'a str,
    pub address: Option<&'a str>,
    /// WGS 84 (latitude, longitude).
    pub point: Option<(f64, f64)>,
    /// The category the agent chose, if any.
    pub category_id: Option<CategoryId>,
}

/// Where the suggestion may send.
#[derive(Debug, Clone, Default)]
pub struct Bounds {
    /// Units that returned the ticket: never suggested (the ping-pong guard).
    pub excluded: Vec<UnitId>,
    /// Only units at or below this org path (the dispatching centre's jurisdiction).
    pub within: Option<String>,
}

/// How many units a suggestion lists.
pub const MAX_UNITS: usize = 5;

struct Compiled {
    rule: Rule,
    /// NFKC lower-case keywords.
    keywords: Vec<String>,
    /// The area's org path.
    area_path: Option<String>,
    description: String,
}

/// The facts a rule is matched against.
#[derive(Clone, Copy)]
struct Facts<'a> {
    text: &'a str,
    /// The appeal's category and every category above it.
    categories: &'a [CategoryId],
    place_path: Option<&'a str>,
    place_district: Option<UnitId>,
}

pub struct Router {
    model: Arc<Model>,
    units: Vec<UnitInfo>,
    unit_index: HashMap<UnitId, usize>,
    categories: HashMap<CategoryId, CategoryInfo>,
    /// First-level category by name (the classifier's classes).
    top_category: HashMap<String, CategoryId>,
    rules: Vec<Compiled>,
    resolver: Resolver,
    /// Below this confidence a ticket goes to the dispatcher's manual queue.
    pub threshold: f32,
}

fn lower(s: &str) -> String {
    prepare(s, usize::MAX).into_iter().collect()
}

impl Router {
    pub fn new(model: Arc<Model>, data: RouterData, threshold: f32) -> Self {
        let unit_index: HashMap<UnitId, usize> = data
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id, i))
            .collect();
        let categories: HashMap<CategoryId, CategoryInfo> =
            data.categories.iter().map(|c| (c.id, c.clone())).collect();
        let top_category = data
            .categories
            .iter()
            .filter(|c| c.level == 1)
            .map(|c| (c.name.clone(), c.id))
            .collect();
        let resolver = Resolver::new(&data.places, &data.place_names, data.areas);
        let mut router = Self {
            model,
            units: data.units,
            unit_index,
            categories,
            top_category,
            rules: Vec::new(),
            resolver,
            threshold,
        };
        router.rules = data
            .rules
            .into_iter()
            .filter(|r| r.active)
            .map(|rule| Compiled {
                keywords: rule.keywords.iter().map(|k| lower(k)).collect(),
                area_path: rule
                    .area_unit_id
                    .and_then(|a| router.unit(a))
                    .map(|u| u.path.clone()),
                description: explain::describe(&rule, &|u| router.unit_name(u), &|c| {
                    router.category_name(c)
                }),
                rule,
            })
            .collect();
        router
    }

    pub fn unit(&self, id: UnitId) -> Option<&UnitInfo> {
        self.unit_index.get(&id).map(|i| &self.units[*i])
    }

    fn unit_name(&self, id: UnitId) -> String {
        self.unit(id)
            .map_or_else(|| "（未知单位）".into(), |u| u.name.clone())
    }

    fn category_name(&self, id: CategoryId) -> String {
        self.categories
            .get(&id)
            .map_or_else(|| "（未知分类）".into(), |c| c.name.clone())
    }

    fn brief(&self, id: UnitId) -> Option<UnitBrief> {
        self.unit(id).map(UnitBrief::of)
    }

    /// The category and every category above it.
    fn lineage(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut out = vec![id];
        let mut at = self.categories.get(&id).and_then(|c| c.parent_id);
        while let Some(p) = at {
            if out.contains(&p) || out.len() > 8 {
                break;
            }
            out.push(p);
            at = self.categories.get(&p).and_then(|c| c.parent_id);
        }
        out
    }

    fn matches(&self, c: &Compiled, f: &Facts<'_>) -> bool {
        let in_area = || match (&c.area_path, f.place_path) {
            (None, _) => c.rule.area_unit_id.is_none(),
            (Some(area), Some(place)) => place.starts_with(area.as_str()),
            (Some(_), None) => false,
        };
        let kind_matches = match c.rule.kind {
            RuleKind::Category => c
                .rule
                .category_id
                .is_some_and(|id| f.categories.contains(&id)),
            RuleKind::Area => true,
            RuleKind::Keyword => c.keywords.iter().any(|k| f.text.contains(k.as_str())),
        };
        kind_matches && in_area()
    }

    fn target(&self, c: &Compiled, f: &Facts<'_>) -> Option<UnitId> {
        match c.rule.target {
            Target::Unit => c.rule.unit_id,
            Target::District => f.place_district,
        }
    }

    fn allowed(&self, unit: UnitId, b: &Bounds) -> bool {
        self.unit(unit).is_some_and(|u| {
            u.active
                && u.kind != UnitKind::Centre
                && !b.excluded.contains(&unit)
                && b.within.as_deref().is_none_or(|w| u.path.starts_with(w))
        })
    }

    /// The first rule that matches and sends somewhere allowed, and where.
    fn first_rule(
        &self,
        f: &Facts<'_>,
        b: &Bounds,
        only_category: bool,
    ) -> Option<(&Compiled, UnitId)> {
        self.rules
            .iter()
            .filter(|c| !only_category || c.rule.kind == RuleKind::Category)
            .filter(|c| self.matches(c, f))
            .find_map(|c| {
                let u = self.target(c, f)?;
                self.allowed(u, b).then_some((c, u))
            })
    }

    fn place_found(&self, l: &Located) -> Option<PlaceFound> {
        let id = |i: usize| self.resolver.unit(i).id.parse::<UnitId>().ok();
        Some(PlaceFound {
            unit: self.brief(id(l.unit)?)?,
            district: self
                .resolver
                .district_of(l.unit)
                .and_then(id)
                .and_then(|d| self.brief(d)),
            via: l.via,
            words: l.words.clone(),
            point_unit: l.point_unit.and_then(id).and_then(|u| self.brief(u)),
            point_disagrees: l.disagree,
        })
    }

    /// Ranked units for an appeal, with the explanation (see the module comment of
    /// [`crate::routing`] for the order of things).
    pub fn suggest(&self, a: &Appeal<'_>, b: &Bounds) -> UnitSuggestion {
        let located = self.resolver.locate(a.address, a.title, a.detail, a.point);
        let place = located.as_ref().and_then(|l| self.place_found(l));
        let place_path = place
            .as_ref()
            .and_then(|p| self.unit(p.unit.id))
            .map(|u| u.path.as_str());
        let place_district = place
            .as_ref()
            .and_then(|p| p.district.as_ref())
            .map(|d| d.id);
        let text = lower(&format!(
            "{}\n{}\n{}",
            a.title,
            a.detail,
            a.address.unwrap_or_default()
        ));
        let own = a.category_id.map(|c| self.lineage(c)).unwrap_or_default();
        let known = Facts {
            text: &text,
            categories: &own,
            place_path,
            place_district,
        };

        // 1. Rules on what is known before classifying: words, place, the agent's category.
        let decided = self.first_rule(&known, b, false);
        // 2. The classifier, whose categories feed the category rules.
        let guess = self.model.classify(a.title, a.detail);
        let mut by_unit: Vec<RankedUnit> = Vec::new();
        if let Some((c, u)) = decided
            && let Some(unit) = self.brief(u)
        {
            by_unit.push(RankedUnit {
                unit,
                confidence: 1.0,
                source: Source::Rule,
                rule_id: Some(c.rule.id),
                rule: Some(c.description.clone()),
                category: None,
            });
        }
        for (class, p) in &guess.ranked {
            let Some(cat) = self.top_category.get(class) else {
                continue;
            };
            let ids = [*cat];
            let classified = Facts {
                categories: &ids,
                ..known
            };
            let Some((c, u)) = self.first_rule(&classified, b, true) else {
                continue;
            };
            match by_unit.iter_mut().find(|r| r.unit.id == u) {
                Some(r) if r.source == Source::Classifier => r.confidence += p,
                Some(_) => {}
                None => {
                    if let Some(unit) = self.brief(u) {
                        by_unit.push(RankedUnit {
                            unit,
                            confidence: *p,
                            source: Source::Classifier,
                            rule_id: Some(c.rule.id),
                            rule: Some(c.description.clone()),
                            category: Some(class.clone()),
                        });
                    }
                }
            }
        }
        // A deciding rule's unit stays first; the classifier's are ranked by confidence.
        let from = usize::from(decided.is_some()).min(by_unit.len());
        by_unit[from..].sort_by(|x, y| y.confidence.total_cmp(&x.confidence));
        by_unit.truncate(MAX_UNITS);
        for r in &mut by_unit {
            r.confidence = r.confidence.clamp(0.0, 1.0);
        }

        let confidence = by_unit.first().map_or(0.0, |r| r.confidence);
        let pass_down = by_unit.first().and_then(|top| {
            let top = self.unit(top.unit.id)?;
            let p = place.as_ref()?;
            let at = self.unit(p.unit.id)?;
            (at.id != top.id && at.path.starts_with(top.path.as_str())).then(|| UnitBrief::of(at))
        });
        let category = match a.category_id {
            Some(id) => Some(CategoryFound {
                id: Some(id),
                name: self.category_name(id),
                confidence: 1.0,
                from_ticket: true,
            }),
            None => guess.ranked.first().map(|(name, p)| CategoryFound {
                id: self.top_category.get(name).copied(),
                name: name.clone(),
                confidence: *p,
                from_ticket: false,
            }),
        };
        let mut s = UnitSuggestion {
            manual: by_unit.is_empty() || confidence < self.threshold,
            units: by_unit,
            confidence,
            threshold: self.threshold,
            category,
            classes: guess
                .ranked
                .iter()
                .take(3)
                .map(|(c, p)| ClassScore {
                    category: c.clone(),
                    probability: *p,
                })
                .collect(),
            terms: guess
                .terms
                .iter()
                .map(|(t, w)| Term {
                    term: t.clone(),
                    weight: *w,
                })
                .collect(),
            place,
            pass_down,
            excluded: b.excluded.iter().filter_map(|u| self.brief(*u)).collect(),
            explanation: Vec::new(),
        };
        s.explanation = explain::lines(&s);
        s
    }

    /// A rule's readable description.
    pub fn describe(&self, rule: &Rule) -> String {
        explain::describe(rule, &|u| self.unit_name(u), &|c| self.category_name(c))
    }
}
