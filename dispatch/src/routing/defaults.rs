//! The rules the demo ships with, for its org tree (`demo/org.csv`) and the official category
//! tree. Installed once, into a database whose rules were never edited (no audit entry yet), so
//! that a restart adds nothing and an administrator's deletions stay deleted.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_core::db::DbConn;
use hotline_core::ids::{CategoryId, UnitId};
use hotline_core::store::{categories, units};

use super::rule::{RuleInput, RuleKind, Target};
use super::store::{self, Editor};
use crate::error::DispatchError;
use crate::schema::dispatch_rule_audit;

/// One default rule, by names and codes: (kind, level-1 category, area code, keywords,
/// unit code (None: the place's district), note).
type Default = (
    RuleKind,
    Option<&'static str>,
    Option<&'static str>,
    &'static [&'static str],
    Option<&'static str>,
    &'static str,
);

/// Tried in this order within each kind's default priority (keywords, then areas, then
/// categories). For a category handled locally, the district of a recognised place comes first
/// and the city department is the fallback when no place is recognised.
pub const DEFAULT_RULES: &[Default] = &[
    (
        RuleKind::Keyword,
        None,
        None,
        &["公积金"],
        Some("990100-GJJ"),
        "住房公积金的缴存、提取、贷款",
    ),
    (
        RuleKind::Keyword,
        None,
        None,
        &["医保", "医疗保险"],
        Some("990100-YBJ"),
        "医疗保障",
    ),
    (
        RuleKind::Keyword,
        None,
        None,
        &["退役军人", "退伍军人", "复员军人"],
        Some("990100-TYJRJ"),
        "退役军人事务",
    ),
    (
        RuleKind::Keyword,
        None,
        None,
        &["食品安全", "过期食品", "假冒伪劣"],
        Some("990100-SJJ"),
        "市场监管",
    ),
    (
        RuleKind::Keyword,
        None,
        Some("990103"),
        &["噪音", "噪声", "扰民"],
        Some("990103-CGJ"),
        "A2区的噪声扰民由区城管执法局直接办理",
    ),
    (
        RuleKind::Area,
        None,
        Some("990181"),
        &[],
        Some("990181"),
        "A9市（县级市）的诉求统一交市政府办理",
    ),
    (
        RuleKind::Category,
        Some("城乡建设"),
        None,
        &[],
        None,
        "有属地的交属地区县",
    ),
    (
        RuleKind::Category,
        Some("城乡建设"),
        None,
        &[],
        Some("990100-ZJJ"),
        "无属地的交市住建局",
    ),
    (
        RuleKind::Category,
        Some("劳动和社会保障"),
        None,
        &[],
        None,
        "有属地的交属地区县",
    ),
    (
        RuleKind::Category,
        Some("劳动和社会保障"),
        None,
        &[],
        Some("990100-RSJ"),
        "无属地的交市人社局",
    ),
    (
        RuleKind::Category,
        Some("教育文体"),
        None,
        &[],
        None,
        "有属地的交属地区县",
    ),
    (
        RuleKind::Category,
        Some("教育文体"),
        None,
        &[],
        Some("990100-JYJ"),
        "无属地的交市教育局",
    ),
    (
        RuleKind::Category,
        Some("卫生计生"),
        None,
        &[],
        None,
        "有属地的交属地区县",
    ),
    (
        RuleKind::Category,
        Some("卫生计生"),
        None,
        &[],
        Some("990100-WJW"),
        "无属地的交市卫健委",
    ),
    (
        RuleKind::Category,
        Some("商贸旅游"),
        None,
        &[],
        None,
        "有属地的交属地区县",
    ),
    (
        RuleKind::Category,
        Some("商贸旅游"),
        None,
        &[],
        Some("990100-SWJ"),
        "无属地的交市商务局",
    ),
    (
        RuleKind::Category,
        Some("交通运输"),
        None,
        &[],
        Some("990100-JTJ"),
        "交通运输由市交通运输局统一办理",
    ),
    (
        RuleKind::Category,
        Some("环境保护"),
        None,
        &[],
        Some("990100-STHJJ"),
        "环境保护由市生态环境局统一办理",
    ),
    (
        RuleKind::Category,
        Some("民政"),
        None,
        &[],
        Some("990100-MZJ"),
        "",
    ),
    (
        RuleKind::Category,
        Some("农村农业"),
        None,
        &[],
        Some("990100-NYNCJ"),
        "",
    ),
    (
        RuleKind::Category,
        Some("国土资源"),
        None,
        &[],
        Some("990100-ZRZYJ"),
        "",
    ),
    (
        RuleKind::Category,
        Some("经济管理"),
        None,
        &[],
        Some("990100-FGW"),
        "",
    ),
];

/// The default rules as inputs, resolved with `unit` (code → id) and `category` (level-1 name →
/// id); a rule whose unit or category does not exist is left out.
pub fn inputs(
    unit: &dyn Fn(&str) -> Option<UnitId>,
    category: &dyn Fn(&str) -> Option<CategoryId>,
) -> Vec<RuleInput> {
    DEFAULT_RULES
        .iter()
        .filter_map(|(kind, cat, area, words, to, note)| {
            Some(RuleInput {
                kind: *kind,
                category_id: match cat {
                    Some(c) => Some(category(c)?),
                    None => None,
                },
                area_unit_id: match area {
                    Some(a) => Some(unit(a)?),
                    None => None,
                },
                keywords: words.iter().map(|w| (*w).to_owned()).collect(),
                target: if to.is_some() {
                    Target::Unit
                } else {
                    Target::District
                },
                unit_id: match to {
                    Some(u) => Some(unit(u)?),
                    None => None,
                },
                priority: None,
                position: None,
                active: Some(true),
                note: Some((*note).to_owned()).filter(|n| !n.is_empty()),
            })
        })
        .collect()
}

/// Installs the default rules when no rule was ever created here. Returns how many.
pub fn install(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, DispatchError> {
    let edited: i64 = dispatch_rule_audit::table.count().get_result(conn)?;
    if edited > 0 {
        return Ok(0);
    }
    let all_units = units::list(conn, &units::UnitFilter::default())?;
    let all_categories = categories::list(conn)?;
    let list = inputs(
        &|code| all_units.iter().find(|u| u.code == code).map(|u| u.id),
        &|name| {
            all_categories
                .iter()
                .find(|c| c.level == 1 && c.name == name)
                .map(|c| c.id)
        },
    );
    let editor = Editor::system();
    for i in &list {
        store::create(conn, i, &editor, now)?;
    }
    Ok(list.len())
}
