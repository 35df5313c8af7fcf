//! Where an appeal is: the places its text names, recognised from the gazetteer (the org tree's
//! districts, streets and communities) and from the shape of Chinese place names (a name ending
//! in 小区, 学院, 路 …), and its coordinates when the channel sent them.
//!
//! **Near** (see [`near`]), in this order:
//! 1. Both name districts (directly, or through a street or community of theirs) and no district is
//!    common to both: **not near**, whatever else they share (two 万达广场 in two districts).
//! 2. Both name the same street, or a community in the same street, or the same named place (a
//!    小区, school, road…): the **same place**.
//! 3. Both have coordinates within 1 km (haversine): the **same place**.
//! 4. They share a district, and at least one of them names no street, community or named place
//!    (it may be anywhere in the district): the **same district** (the caller asks for much more
//!    text similarity). Two appeals that name different places of one district are not near.
//! 5. Otherwise not near: an appeal that names no place and has no coordinates is never "near"
//!    anything.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::DbConn;
use hotline_core::db::schema::org_units;

/// Distance under which two appeals' coordinates are the same place.
pub const NEARBY_METRES: f64 = 1000.0;

/// Grid of the coordinate index: 0.01° (1.1 km of latitude).
const CELL_DEGREES: f64 = 0.01;

/// Endings of place names a citizen writes that are not in the org tree. A one-character ending
/// is no ending where it begins a word (路灯, 路面, 街道: see [`NOT_AN_ENDING`]).
const SUFFIXES: &[&str] = &[
    "小区", "花园", "公寓", "家园", "新村", "山庄", "广场", "大厦", "学院", "大学", "中学", "小学",
    "医院", "公园", "市场", "商场", "大道", "路", "街", "巷",
];

/// Words that begin with a one-character ending and are no place (路灯 is a street light, not
/// the road 一排路).
const NOT_AN_ENDING: &[&str] = &[
    "路灯", "路面", "路况", "路费", "路线", "路过", "路人", "路由", "路径", "路程", "路牌", "路障",
    "路途", "路段", "路基", "街道", "街坊", "巷子",
];

/// Characters a place name does not run across: administrative endings, particles, pronouns,
/// measure words, position words and common verbs of direction.
const BOUNDARIES: &str = "省市区县镇乡村路街巷的在是了和与及到往从于向对把被我你他她它们这那个条号栋楼层门里内外旁边附近对面位上下入进出";

/// How many characters before the ending a name keeps (万科魅力之城小区 → 魅力之城小区).
const NAME_CHARS: usize = 4;
/// How many characters before the ending two names must share at least.
const NAME_MIN_CHARS: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    District,
    Street,
    Community,
}

#[derive(Debug, Clone)]
struct PlaceUnit {
    code: String,
    level: Level,
    /// The street a community is in (its code), for communities.
    street: Option<String>,
    /// The district (its code).
    district: Option<String>,
}

/// The org tree's places and the names they go by in text.
#[derive(Debug, Default)]
pub struct Gazetteer {
    /// Which build this is: analyses made with another gazetteer are not reused.
    pub(crate) generation: u64,
    units: Vec<PlaceUnit>,
    /// Surface forms by first character, longest first: (form, unit index).
    forms: HashMap<char, Vec<(Vec<char>, usize)>>,
}

/// The short form a citizen writes: 劳动东路社区 → 劳动东路. Only when at least three characters
/// remain, since two-character stems (东风, 建设, 文化) are everyday words.
fn stem(name: &str) -> Option<&str> {
    for ending in ["街道", "社区", "居委会", "村委会", "镇", "乡", "村"] {
        if let Some(s) = name.strip_suffix(ending)
            && s.chars().count() >= 3
        {
            return Some(s);
        }
    }
    None
}

impl Gazetteer {
    /// Builds from (id, code, name, level, parent id) of the local-government units at district,
    /// street and community level.
    pub(crate) fn build(rows: &[(String, String, String, String, Option<String>)]) -> Self {
        let level_of = |s: &str| match s {
            "district" => Some(Level::District),
            "street" => Some(Level::Street),
            "community" => Some(Level::Community),
            _ => None,
        };
        let by_id: HashMap<&str, &(String, String, String, String, Option<String>)> =
            rows.iter().map(|r| (r.0.as_str(), r)).collect();
        static BUILT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let mut g = Self {
            generation: BUILT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            ..Self::default()
        };
        for r in rows {
            let Some(level) = level_of(&r.3) else {
                continue;
            };
            let parent = r.4.as_deref().and_then(|p| by_id.get(p));
            let grandparent = parent
                .and_then(|p| p.4.as_deref())
                .and_then(|p| by_id.get(p));
            let (street, district) = match level {
                Level::District => (None, Some(r.1.clone())),
                Level::Street => (None, parent.map(|p| p.1.clone())),
                Level::Community => (
                    parent.map(|p| p.1.clone()),
                    grandparent.map(|p| p.1.clone()),
                ),
            };
            let index = g.units.len();
            g.units.push(PlaceUnit {
                code: r.1.clone(),
                level,
                street,
                district,
            });
            let mut forms = vec![r.2.as_str()];
            if level != Level::District {
                forms.extend(stem(&r.2));
            }
            for f in forms {
                let chars: Vec<char> = f.chars().map(|c| c.to_ascii_lowercase()).collect();
                if let Some(first) = chars.first() {
                    g.forms.entry(*first).or_default().push((chars, index));
                }
            }
        }
        for list in g.forms.values_mut() {
            list.sort_by_key(|f| std::cmp::Reverse(f.0.len()));
        }
        g
    }

    /// A gazetteer that knows no unit (names are still found by their endings).
    pub fn empty() -> Self {
        Self::default()
    }
}

type Fingerprint = (i64, Option<chrono::NaiveDateTime>);

/// The gazetteer of the database `conn` is on, rebuilt when the org tree changed (its unit count
/// or latest update). One per process: nodes and tests that share an org tree share it.
pub fn gazetteer(conn: &mut DbConn) -> Result<Arc<Gazetteer>, StoreError> {
    static CACHE: Mutex<Option<(Fingerprint, Arc<Gazetteer>)>> = Mutex::new(None);
    let fingerprint: Fingerprint = org_units::table
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(org_units::updated_at),
        ))
        .first(conn)?;
    if let Some((f, g)) = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
        && *f == fingerprint
    {
        return Ok(g.clone());
    }
    let rows: Vec<(String, String, String, String, Option<String>)> = org_units::table
        .filter(org_units::kind.eq("government"))
        .filter(org_units::level.eq_any(["district", "street", "community"]))
        .filter(org_units::active.eq(true))
        .select((
            org_units::id,
            org_units::code,
            org_units::name,
            org_units::level,
            org_units::parent_id,
        ))
        .load(conn)?;
    let g = Arc::new(Gazetteer::build(&rows));
    *CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((fingerprint, g.clone()));
    Ok(g)
}

/// The places one appeal names or is at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Places {
    /// District codes named, directly or through a street or community.
    pub districts: BTreeSet<String>,
    /// Street codes named, directly or through a community.
    pub streets: BTreeSet<String>,
    /// Names found by their endings, at most [`NAME_CHARS`] characters before the ending
    /// (魅力之城小区, 经济学院, 劳动东路).
    pub names: BTreeSet<String>,
    /// WGS 84 (latitude, longitude).
    pub point: Option<(f64, f64)>,
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// The endings that make a name, as characters, and the characters they start with.
struct Endings {
    boundaries: HashSet<char>,
    suffixes: Vec<Vec<char>>,
    not_endings: Vec<Vec<char>>,
    firsts: HashSet<char>,
}

fn endings() -> &'static Endings {
    static ENDINGS: std::sync::OnceLock<Endings> = std::sync::OnceLock::new();
    ENDINGS.get_or_init(|| {
        let suffixes: Vec<Vec<char>> = SUFFIXES.iter().map(|s| s.chars().collect()).collect();
        Endings {
            boundaries: BOUNDARIES.chars().collect(),
            firsts: suffixes.iter().filter_map(|s| s.first().copied()).collect(),
            suffixes,
            not_endings: NOT_AN_ENDING.iter().map(|s| s.chars().collect()).collect(),
        }
    })
}

/// Recognises the places in `chars` (already NFKC and lower case), adding them to `into`.
/// Returns which characters named a place (to be cut out of the text features).
pub fn recognise(g: &Gazetteer, chars: &[char], into: &mut Places) -> Vec<bool> {
    let mut masked = vec![false; chars.len()];
    // 1. The org tree's names, longest first at each position.
    let mut i = 0;
    while i < chars.len() {
        let hit = g
            .forms
            .get(&chars[i])
            .and_then(|list| list.iter().find(|(form, _)| chars[i..].starts_with(form)));
        match hit {
            Some((form, unit)) => {
                let u = &g.units[*unit];
                match u.level {
                    Level::District => {}
                    Level::Street => {
                        into.streets.insert(u.code.clone());
                    }
                    Level::Community => {
                        into.streets.extend(u.street.clone());
                    }
                }
                into.districts.extend(u.district.clone());
                for m in &mut masked[i..i + form.len()] {
                    *m = true;
                }
                i += form.len();
            }
            None => i += 1,
        }
    }
    // 2. Names by their endings, outside what the org tree matched.
    let Endings {
        boundaries,
        suffixes,
        not_endings,
        firsts,
    } = endings();
    let mut i = 0;
    while i < chars.len() {
        if masked[i] || !firsts.contains(&chars[i]) {
            i += 1;
            continue;
        }
        let ending = suffixes.iter().find(|s| {
            chars[i..].starts_with(s)
                && !masked[i..i + s.len()].iter().any(|m| *m)
                && !not_endings
                    .iter()
                    .any(|w| w.len() > s.len() && chars[i..].starts_with(w))
        });
        let Some(ending) = ending else {
            i += 1;
            continue;
        };
        // The name: the Han characters just before the ending, not across a boundary, a place
        // already recognised, or the end of an earlier name.
        let mut start = i;
        while start > 0
            && i - start < NAME_CHARS
            && is_han(chars[start - 1])
            && !masked[start - 1]
            && !boundaries.contains(&chars[start - 1])
        {
            start -= 1;
        }
        if i - start >= NAME_MIN_CHARS {
            let name: String = chars[start..i + ending.len()].iter().collect();
            into.names.insert(name);
            for m in &mut masked[start..i + ending.len()] {
                *m = true;
            }
        }
        i += ending.len();
    }
    masked
}

/// Two names are the same place when one ends with the other (万科魅力之城小区, 魅力之城小区).
fn same_name(a: &str, b: &str) -> bool {
    a.ends_with(b) || b.ends_with(a)
}

/// The key two names that are the same place share: the ending and the [`NAME_MIN_CHARS`]
/// characters before it.
fn name_key(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let ending = SUFFIXES
        .iter()
        .filter(|s| name.ends_with(*s))
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0);
    let keep = (ending + NAME_MIN_CHARS).min(chars.len());
    chars[chars.len() - keep..].iter().collect()
}

/// Great-circle distance in metres.
pub fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = 6_371_008.8;
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

/// How near two appeals are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Near {
    /// The same street or community, the same named place, or within 1 km.
    SamePlace,
    /// The same district, nothing more specific in common.
    SameDistrict,
}

impl Places {
    /// Names a street, community or named place (more than a district).
    pub fn is_specific(&self) -> bool {
        !self.streets.is_empty() || !self.names.is_empty()
    }
}

/// The rule in the module comment.
pub fn near(a: &Places, b: &Places) -> Option<Near> {
    if !a.districts.is_empty() && !b.districts.is_empty() && a.districts.is_disjoint(&b.districts) {
        return None;
    }
    if !a.streets.is_disjoint(&b.streets)
        || a.names
            .iter()
            .any(|x| b.names.iter().any(|y| same_name(x, y)))
    {
        return Some(Near::SamePlace);
    }
    if let (Some(p), Some(q)) = (a.point, b.point)
        && haversine_m(p, q) <= NEARBY_METRES
    {
        return Some(Near::SamePlace);
    }
    // Only the district in common, and not two specific places that differ.
    let both_specific = a.is_specific() && b.is_specific();
    if !a.districts.is_disjoint(&b.districts) && !both_specific {
        return Some(Near::SameDistrict);
    }
    None
}

fn cell(p: (f64, f64)) -> (i64, i64) {
    // Coordinates are validated to ±90/±180, so these fit.
    #[allow(clippy::cast_possible_truncation)]
    let c = (
        (p.0 / CELL_DEGREES).floor() as i64,
        (p.1 / CELL_DEGREES).floor() as i64,
    );
    c
}

/// The index keys stored for an appeal: each street (`s:`) and name (`n:`) key and its grid cell
/// (`g:`); its districts as `d:` when it names something more specific, else as `v:` (vague: only
/// the district is known).
pub fn index_keys(p: &Places) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    keys.extend(p.streets.iter().map(|s| format!("s:{s}")));
    keys.extend(p.names.iter().map(|n| format!("n:{}", name_key(n))));
    let district = if p.is_specific() { "d" } else { "v" };
    keys.extend(p.districts.iter().map(|d| format!("{district}:{d}")));
    if let Some(pt) = p.point {
        let (a, b) = cell(pt);
        keys.insert(format!("g:{a}:{b}"));
    }
    keys
}

/// The keys to look up for an appeal, so that every ticket [`near`] it shares one: its streets
/// and names; the vague tickets of its districts (and, when it is vague itself, all of them); the
/// grid cells within 1 km of its point.
pub fn lookup_keys(p: &Places) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    keys.extend(p.streets.iter().map(|s| format!("s:{s}")));
    keys.extend(p.names.iter().map(|n| format!("n:{}", name_key(n))));
    for d in &p.districts {
        keys.insert(format!("v:{d}"));
        if !p.is_specific() {
            keys.insert(format!("d:{d}"));
        }
    }
    if let Some(pt) = p.point {
        let (a, b) = cell(pt);
        let lat_cells = (NEARBY_METRES / (111_320.0 * CELL_DEGREES)).ceil();
        let lon_metres = 111_320.0 * CELL_DEGREES * pt.0.to_radians().cos().max(0.05);
        // Bounded: 20 cells either way near the poles.
        #[allow(clippy::cast_possible_truncation)]
        let (dy, dx) = (
            lat_cells as i64,
            (NEARBY_METRES / lon_metres).ceil().min(20.0) as i64,
        );
        for y in a - dy..=a + dy {
            for x in b - dx..=b + dx {
                keys.insert(format!("g:{y}:{x}"));
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Gazetteer {
        let rows: Vec<(String, String, String, String, Option<String>)> = vec![
            (
                "d5".into(),
                "990106".into(),
                "A5区".into(),
                "district".into(),
                None,
            ),
            (
                "s1".into(),
                "990106003".into(),
                "新城街道".into(),
                "street".into(),
                Some("d5".into()),
            ),
            (
                "c1".into(),
                "990106003001".into(),
                "劳动东路社区".into(),
                "community".into(),
                Some("s1".into()),
            ),
            (
                "c2".into(),
                "990106003002".into(),
                "楚天社区".into(),
                "community".into(),
                Some("s1".into()),
            ),
            (
                "d2".into(),
                "990103".into(),
                "A2区".into(),
                "district".into(),
                None,
            ),
            (
                "s2".into(),
                "990103001".into(),
                "桂花坪街道".into(),
                "street".into(),
                Some("d2".into()),
            ),
            (
                "s3".into(),
                "990103003".into(),
                "南托街道".into(),
                "street".into(),
                Some("d2".into()),
            ),
        ];
        Gazetteer::build(&rows)
    }

    fn places(g: &Gazetteer, s: &str) -> Places {
        let chars = crate::repeats::text::prepare(s, usize::MAX);
        let mut p = Places::default();
        recognise(g, &chars, &mut p);
        p
    }

    #[test]
    fn org_names_and_stems_are_recognised_with_their_parents() {
        let g = demo();
        let p = places(&g, "A5区劳动东路魅力之城小区一楼的夜宵摊");
        assert_eq!(p.districts, ["990106".to_owned()].into());
        assert_eq!(p.streets, ["990106003".to_owned()].into());
        assert_eq!(p.names, ["魅力之城小区".to_owned()].into());
        // The stem of 桂花坪街道 alone, and 南托街道 is a street, not a name ending in 街.
        let q = places(&g, "桂花坪一带和南托街道");
        assert_eq!(q.streets.len(), 2);
        assert!(q.names.is_empty(), "{q:?}");
    }

    #[test]
    fn names_stop_at_boundaries_and_keep_four_characters() {
        let g = Gazetteer::empty();
        assert_eq!(
            places(&g, "西地省A市经济学院体育学院").names,
            ["经济学院".to_owned(), "体育学院".to_owned()].into()
        );
        assert_eq!(
            places(&g, "我是万科魅力之城小区的业主").names,
            ["魅力之城小区".to_owned()].into()
        );
        // One character before the ending is no name (马路, 道路), nor is a word that begins
        // with an ending (路灯).
        assert!(places(&g, "马路上").names.is_empty());
        assert!(places(&g, "门口这一排路灯不亮").names.is_empty());
        assert_eq!(
            places(&g, "人民东路路面塌陷").names,
            ["人民东路".to_owned()].into()
        );
    }

    #[test]
    fn the_rule_of_near() {
        let g = demo();
        let p = |s| places(&g, s);
        // The same 小区 named two ways.
        assert_eq!(
            near(
                &p("A5区劳动东路魅力之城小区油烟"),
                &p("万科魅力之城小区噪音")
            ),
            Some(Near::SamePlace)
        );
        // Two communities of one street.
        assert_eq!(
            near(&p("劳动东路社区"), &p("楚天社区")),
            Some(Near::SamePlace)
        );
        // Same district, and one may be anywhere in it.
        assert_eq!(
            near(&p("A5区某处"), &p("新城街道")),
            Some(Near::SameDistrict)
        );
        assert_eq!(near(&p("A5区某处"), &p("A5区")), Some(Near::SameDistrict));
        // Two different places of one district.
        assert_eq!(near(&p("A5区丽景小区"), &p("新城街道")), None);
        assert_eq!(near(&p("A5区丽景小区"), &p("A5区金色家园")), None);
        // Different districts, even with one 小区 name.
        assert_eq!(near(&p("A5区魅力之城小区"), &p("A2区魅力之城小区")), None);
        // Nothing named.
        assert_eq!(near(&p("路灯不亮"), &p("路灯不亮")), None);
        // Coordinates.
        let mut a = p("路灯不亮");
        let mut b = a.clone();
        a.point = Some((28.1, 112.9));
        b.point = Some((28.105, 112.9));
        assert_eq!(near(&a, &b), Some(Near::SamePlace));
        b.point = Some((28.12, 112.9));
        assert_eq!(near(&a, &b), None);
    }

    #[test]
    fn the_index_finds_whatever_the_rule_calls_near() {
        let g = demo();
        let texts = [
            "万科魅力之城小区",
            "A5区劳动东路魅力之城小区",
            "楚天社区",
            "A5区某处",
            "A5区丽景小区",
            "新城街道",
            "A2区",
            "桂花坪街道",
            "路灯不亮",
        ];
        for x in texts {
            for y in texts {
                let (a, b) = (places(&g, x), places(&g, y));
                let found = !lookup_keys(&a).is_disjoint(&index_keys(&b));
                if near(&a, &b).is_some() {
                    assert!(found, "{x} does not find {y}");
                }
            }
        }
        let mut c = Places::default();
        let mut d = Places::default();
        c.point = Some((28.2, 112.93));
        d.point = Some((28.2089, 112.93)); // 990 m north
        assert!(haversine_m(c.point.unwrap_or_default(), d.point.unwrap_or_default()) < 1000.0);
        assert!(!lookup_keys(&c).is_disjoint(&index_keys(&d)));
        d.point = Some((28.2, 112.9401)); // 990 m east
        assert!(!lookup_keys(&c).is_disjoint(&index_keys(&d)));
    }

    #[test]
    fn haversine_of_a_known_distance() {
        // One degree of latitude is 111.2 km.
        let d = haversine_m((28.0, 112.0), (29.0, 112.0));
        assert!((d - 111_195.0).abs() < 100.0, "{d}");
        assert_eq!(haversine_m((28.0, 112.0), (28.0, 112.0)), 0.0);
    }
}
