//! The explanation a dispatcher reads (Chinese): which rule sent where, what the classifier
//! thought and why, which place was recognised, what was excluded, and whether the ticket waits
//! for a person.

use hotline_core::ids::{CategoryId, UnitId};

use super::rule::{Rule, RuleKind, Target};
use super::suggestion::{Source, UnitSuggestion};
use crate::places::Via;

fn percent(p: f32) -> String {
    format!("{:.0}%", (p * 100.0).clamp(0.0, 100.0))
}

/// A rule in a line: 分类「城乡建设」（限A2区）→ 事发地所属区县.
pub fn describe(
    rule: &Rule,
    unit_name: &dyn Fn(UnitId) -> String,
    category_name: &dyn Fn(CategoryId) -> String,
) -> String {
    let area = rule.area_unit_id.map(unit_name);
    let what = match rule.kind {
        RuleKind::Category => format!(
            "分类「{}」",
            rule.category_id.map(category_name).unwrap_or_default()
        ),
        RuleKind::Area => format!("属地「{}」", area.clone().unwrap_or_default()),
        RuleKind::Keyword => format!("关键词「{}」", rule.keywords.join("、")),
    };
    let limit = match (&area, rule.kind) {
        (Some(a), RuleKind::Category | RuleKind::Keyword) => format!("（限{a}）"),
        _ => String::new(),
    };
    let to = match rule.target {
        Target::Unit => rule.unit_id.map(unit_name).unwrap_or_default(),
        Target::District => "事发地所属区县".to_owned(),
    };
    format!("{what}{limit} → {to}")
}

/// The explanation of a suggestion, line by line.
pub fn lines(s: &UnitSuggestion) -> Vec<String> {
    let mut out = Vec::new();
    match s.units.first() {
        Some(top) if top.source == Source::Rule => out.push(format!(
            "规则命中：{}，建议派往{}。",
            top.rule.as_deref().unwrap_or_default(),
            top.unit.name
        )),
        Some(top) => out.push(format!(
            "分类模型判断为「{}」（置信度{}），按规则“{}”建议派往{}。",
            top.category.as_deref().unwrap_or_default(),
            percent(top.confidence),
            top.rule.as_deref().unwrap_or_default(),
            top.unit.name
        )),
        None => out.push("没有适用的派单规则，未能给出承办单位，请人工派单。".to_owned()),
    }
    if let Some(c) = s.category.as_ref().filter(|c| c.from_ticket) {
        out.push(format!("受理时已选分类：{}。", c.name));
    }
    if !s.terms.is_empty() {
        let terms: Vec<&str> = s.terms.iter().map(|t| t.term.as_str()).collect();
        out.push(format!("分类主要依据的词语：{}。", terms.join("、")));
    }
    match &s.place {
        Some(p) => {
            let district = p
                .district
                .as_ref()
                .filter(|d| d.id != p.unit.id)
                .map(|d| format!("（{}）", d.name))
                .unwrap_or_default();
            let how = match (p.via, &p.words) {
                (Via::Point, Some(w)) => format!("文字「{w}」，并由坐标细化"),
                (Via::Point, None) => "诉求坐标".to_owned(),
                (Via::Text, Some(w)) => format!("文字「{w}」"),
                (Via::Text, None) => "文字".to_owned(),
            };
            out.push(format!("识别地点：{}{district}，依据{how}。", p.unit.name));
            if let Some(q) = p.point_unit.as_ref().filter(|_| p.point_disagrees) {
                out.push(format!(
                    "诉求坐标位于{}，与文字所述不一致，以文字为准。",
                    q.name
                ));
            }
        }
        None => out.push("未识别出事发地点。".to_owned()),
    }
    if let Some(d) = &s.pass_down {
        out.push(format!("可下派至{}。", d.name));
    }
    if !s.excluded.is_empty() {
        let names: Vec<&str> = s.excluded.iter().map(|u| u.name.as_str()).collect();
        out.push(format!("曾退单的单位不再推荐：{}。", names.join("、")));
    }
    if s.manual && !s.units.is_empty() {
        out.push(format!(
            "置信度{}低于阈值{}，已转入人工派单队列。",
            percent(s.confidence),
            percent(s.threshold)
        ));
    }
    out
}
