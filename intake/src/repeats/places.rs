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

use std::collections::BTreeSet;

pub use hotline_core::places::{Gazetteer, PlaceRow, Places, gazetteer, recognise};
use hotline_core::places::{NAME_MIN_CHARS, SUFFIXES};

/// Distance under which two appeals' coordinates are the same place.
pub const NEARBY_METRES: f64 = 1000.0;

/// Grid of the coordinate index: 0.01° (1.1 km of latitude).
const CELL_DEGREES: f64 = 0.01;

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
        crate::repeats::tests::demo_gazetteer()
    }

    fn places(g: &Gazetteer, s: &str) -> Places {
        let chars = crate::repeats::text::prepare(s, usize::MAX);
        let mut p = Places::default();
        recognise(g, &chars, &mut p);
        p
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
