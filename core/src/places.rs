//! Where an appeal is, as its text says it: the gazetteer of the org tree's districts, streets
//! and communities (and, for dispatch, extra names such as roads and estates mapped to one of
//! them), matched longest first; and names recognised by the shape of Chinese place names (a name
//! ending in 小区, 学院, 路 …) where the gazetteer knows nothing. Shared by the intake (repeat
//! appeals) and dispatch (routing); each decides what the places mean for it.
//!
//! Text comes in as characters, already NFKC-normalised and lower-cased by the caller, so that
//! the positions of what is recognised are positions in the caller's own text.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use diesel::prelude::*;

use crate::db::schema::org_units;
use crate::db::{DbConn, StoreError};

/// Endings of place names a citizen writes that are not in the org tree. A one-character ending
/// is no ending where it begins a word (路灯, 路面, 街道: see [`NOT_AN_ENDING`]).
pub const SUFFIXES: &[&str] = &[
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
pub const NAME_CHARS: usize = 4;
/// How many characters before the ending a name needs at least.
pub const NAME_MIN_CHARS: usize = 2;

/// The levels of local government the gazetteer knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlaceLevel {
    District,
    Street,
    Community,
}

impl PlaceLevel {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "district" => Some(Self::District),
            "street" => Some(Self::Street),
            "community" => Some(Self::Community),
            _ => None,
        }
    }
}

/// A local-government unit of the org tree as the gazetteer knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceUnit {
    pub id: String,
    pub code: String,
    pub name: String,
    pub level: PlaceLevel,
    /// The code of the street a community is in.
    pub street: Option<String>,
    /// The code of the district (the unit's own for a district).
    pub district: Option<String>,
}

/// One org unit the gazetteer is built from.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct PlaceRow {
    pub id: String,
    pub code: String,
    pub name: String,
    /// `district`, `street` or `community`; other levels are ignored.
    pub level: String,
    pub parent_id: Option<String>,
}

/// Where the gazetteer found a unit in a text: `len` characters from `start`, by the surface
/// form `form` (the name itself, its short form, or an extra name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub unit: usize,
    pub start: usize,
    pub len: usize,
}

/// The org tree's places and the names they go by in text.
#[derive(Debug, Default)]
pub struct Gazetteer {
    /// Which build this is: analyses made with another gazetteer are not reused.
    pub generation: u64,
    units: Vec<PlaceUnit>,
    /// Surface forms by first character, longest first: (form, unit index).
    forms: HashMap<char, Vec<(Vec<char>, usize)>>,
}

/// The short form a citizen writes: 劳动东路社区 → 劳动东路. Only when at least three characters
/// remain, since two-character stems (东风, 建设, 文化) are everyday words.
pub fn stem(name: &str) -> Option<&str> {
    for ending in ["街道", "社区", "居委会", "村委会", "镇", "乡", "村"] {
        if let Some(s) = name.strip_suffix(ending)
            && s.chars().count() >= 3
        {
            return Some(s);
        }
    }
    None
}

fn lower_chars(s: &str) -> Vec<char> {
    s.chars().map(|c| c.to_ascii_lowercase()).collect()
}

impl Gazetteer {
    /// Builds from the local-government units at district, street and community level.
    pub fn build(rows: &[PlaceRow]) -> Self {
        Self::build_with(rows, &[])
    }

    /// Builds from the units and extra names, each `(name, unit id)`: a road, an estate or a
    /// landmark that lies in that unit. Extra names of unknown units are left out.
    pub fn build_with(rows: &[PlaceRow], extra: &[(String, String)]) -> Self {
        let by_id: HashMap<&str, &PlaceRow> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
        static BUILT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let mut g = Self {
            generation: BUILT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            ..Self::default()
        };
        let mut index_of: HashMap<&str, usize> = HashMap::new();
        for r in rows {
            let Some(level) = PlaceLevel::parse(&r.level) else {
                continue;
            };
            let parent = r.parent_id.as_deref().and_then(|p| by_id.get(p));
            let grandparent = parent
                .and_then(|p| p.parent_id.as_deref())
                .and_then(|p| by_id.get(p));
            let (street, district) = match level {
                PlaceLevel::District => (None, Some(r.code.clone())),
                PlaceLevel::Street => (None, parent.map(|p| p.code.clone())),
                PlaceLevel::Community => (
                    parent.map(|p| p.code.clone()),
                    grandparent.map(|p| p.code.clone()),
                ),
            };
            let index = g.units.len();
            index_of.insert(r.id.as_str(), index);
            g.units.push(PlaceUnit {
                id: r.id.clone(),
                code: r.code.clone(),
                name: r.name.clone(),
                level,
                street,
                district,
            });
            g.add_form(&r.name, index);
            if level != PlaceLevel::District
                && let Some(s) = stem(&r.name)
            {
                g.add_form(s, index);
            }
        }
        for (name, unit_id) in extra {
            if let Some(index) = index_of.get(unit_id.as_str()) {
                g.add_form(name, *index);
            }
        }
        for list in g.forms.values_mut() {
            list.sort_by_key(|f| std::cmp::Reverse(f.0.len()));
        }
        g
    }

    fn add_form(&mut self, form: &str, unit: usize) {
        let chars = lower_chars(form.trim());
        if let Some(first) = chars.first() {
            let list = self.forms.entry(*first).or_default();
            if !list.iter().any(|(f, _)| *f == chars) {
                list.push((chars, unit));
            }
        }
    }

    /// A gazetteer that knows no unit (names are still found by their endings).
    pub fn empty() -> Self {
        Self::default()
    }

    pub fn unit(&self, index: usize) -> &PlaceUnit {
        &self.units[index]
    }

    pub fn units(&self) -> &[PlaceUnit] {
        &self.units
    }

    /// The units named in `chars`, in order, the longest form at each position, none overlapping.
    pub fn scan(&self, chars: &[char]) -> Vec<Hit> {
        let mut hits = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let hit = self
                .forms
                .get(&chars[i])
                .and_then(|list| list.iter().find(|(form, _)| chars[i..].starts_with(form)));
            match hit {
                Some((form, unit)) => {
                    hits.push(Hit {
                        unit: *unit,
                        start: i,
                        len: form.len(),
                    });
                    i += form.len();
                }
                None => i += 1,
            }
        }
        hits
    }
}

type Fingerprint = (i64, Option<chrono::NaiveDateTime>);

/// What the org tree looks like now: its unit count and latest update (a cache key).
pub fn org_fingerprint(conn: &mut DbConn) -> Result<Fingerprint, StoreError> {
    Ok(org_units::table
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(org_units::updated_at),
        ))
        .first(conn)?)
}

/// The active local-government units at district, street and community level.
pub fn place_rows(conn: &mut DbConn) -> Result<Vec<PlaceRow>, StoreError> {
    Ok(org_units::table
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
        .load(conn)?)
}

/// The gazetteer of the org tree of the database `conn` is on, rebuilt when the tree changed (its
/// unit count or latest update). One per process: nodes and tests that share an org tree share it.
pub fn gazetteer(conn: &mut DbConn) -> Result<Arc<Gazetteer>, StoreError> {
    static CACHE: Mutex<Option<(Fingerprint, Arc<Gazetteer>)>> = Mutex::new(None);
    let fingerprint = org_fingerprint(conn)?;
    if let Some((f, g)) = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
        && *f == fingerprint
    {
        return Ok(g.clone());
    }
    let g = Arc::new(Gazetteer::build(&place_rows(conn)?));
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

impl Places {
    /// Names a street, community or named place (more than a district).
    pub fn is_specific(&self) -> bool {
        !self.streets.is_empty() || !self.names.is_empty()
    }
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

/// Names recognised by their endings in `chars`, outside what `masked` already covers, as
/// `(start, end)` ranges; each is masked as it is found.
pub fn names_by_ending(chars: &[char], masked: &mut [bool]) -> Vec<(usize, usize)> {
    let Endings {
        boundaries,
        suffixes,
        not_endings,
        firsts,
    } = endings();
    let mut found = Vec::new();
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
            let end = i + ending.len();
            found.push((start, end));
            for m in &mut masked[start..end] {
                *m = true;
            }
        }
        i += ending.len();
    }
    found
}

/// Recognises the places in `chars` (already NFKC and lower case), adding them to `into`.
/// Returns which characters named a place (to be cut out of text features).
pub fn recognise(g: &Gazetteer, chars: &[char], into: &mut Places) -> Vec<bool> {
    let mut masked = vec![false; chars.len()];
    // 1. The org tree's names, longest first at each position.
    for hit in g.scan(chars) {
        let u = g.unit(hit.unit);
        match u.level {
            PlaceLevel::District => {}
            PlaceLevel::Street => {
                into.streets.insert(u.code.clone());
            }
            PlaceLevel::Community => {
                into.streets.extend(u.street.clone());
            }
        }
        into.districts.extend(u.district.clone());
        for m in &mut masked[hit.start..hit.start + hit.len] {
            *m = true;
        }
    }
    // 2. Names by their endings, outside what the org tree matched.
    for (start, end) in names_by_ending(chars, &mut masked) {
        into.names.insert(chars[start..end].iter().collect());
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, code: &str, name: &str, level: &str, parent: Option<&str>) -> PlaceRow {
        PlaceRow {
            id: id.into(),
            code: code.into(),
            name: name.into(),
            level: level.into(),
            parent_id: parent.map(str::to_owned),
        }
    }

    fn demo() -> Vec<PlaceRow> {
        vec![
            row("d5", "990106", "A5区", "district", None),
            row("s1", "990106003", "新城街道", "street", Some("d5")),
            row(
                "c1",
                "990106003001",
                "劳动东路社区",
                "community",
                Some("s1"),
            ),
            row("c2", "990106003002", "楚天社区", "community", Some("s1")),
            row("d2", "990103", "A2区", "district", None),
            row("s2", "990103001", "桂花坪街道", "street", Some("d2")),
            row("s3", "990103003", "南托街道", "street", Some("d2")),
        ]
    }

    fn chars(s: &str) -> Vec<char> {
        s.chars().map(|c| c.to_ascii_lowercase()).collect()
    }

    fn places(g: &Gazetteer, s: &str) -> Places {
        let mut p = Places::default();
        recognise(g, &chars(s), &mut p);
        p
    }

    #[test]
    fn org_names_and_stems_are_recognised_with_their_parents() {
        let g = Gazetteer::build(&demo());
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
    fn extra_names_point_at_their_unit_and_the_longest_form_wins() {
        let extra = vec![
            ("魅力之城".to_owned(), "c1".to_owned()),
            ("景蓉华苑".to_owned(), "s2".to_owned()),
            ("无名之地".to_owned(), "nowhere".to_owned()),
        ];
        let g = Gazetteer::build_with(&demo(), &extra);
        let text = chars("住在景蓉华苑，常去魅力之城小区和无名之地");
        let hits = g.scan(&text);
        let codes: Vec<&str> = hits.iter().map(|h| g.unit(h.unit).code.as_str()).collect();
        assert_eq!(codes, ["990103001", "990106003001"]);
        assert_eq!((hits[0].start, hits[0].len), (2, 4));
        let c = g.unit(hits[1].unit);
        assert_eq!(c.level, PlaceLevel::Community);
        assert_eq!(c.street.as_deref(), Some("990106003"));
        assert_eq!(c.district.as_deref(), Some("990106"));
        // 劳动东路社区 is matched whole, not as its stem 劳动东路 followed by 社区.
        let hits = g.scan(&chars("劳动东路社区居委会"));
        assert_eq!((hits.len(), hits[0].len), (1, 6));
    }
}
