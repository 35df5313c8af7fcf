//! Where is it? An appeal's place as a unit of the org tree: a district, street or community.
//!
//! - **Text.** The gazetteer (`hotline_core::places`, shared with the intake's repeat check)
//!   knows the org tree's districts, streets and communities by their names and short forms
//!   (桂花坪街道 → 桂花坪), and here also the roads, estates and landmarks of
//!   [`names`] (魅力之城 → 劳动东路社区, 杜鹃文苑 → A3区). It is matched in the address, the
//!   title and the description. Each mention counts for its district: 3 in the address, 2 in the
//!   title, 1 in the description. The district with the most wins (a tie: the first named), and
//!   the place is its most specific unit named (community before street before district; then
//!   the weightier, then the earlier mention).
//! - **Coordinates.** When the appeal has a position, the most specific imported area
//!   ([`areas`]) that contains it. It refines the text's place when it lies inside it (the text
//!   says A2区, the point is in 桂花坪街道), and stands alone when the text names nothing. When
//!   the two disagree the text wins: a citizen's words say where the matter is, a phone's
//!   position only where the citizen was; the point's unit is still reported.

pub mod areas;
pub mod names;

use std::collections::HashMap;

use geo::{BoundingRect, Contains};
use hotline_core::places::{Gazetteer, PlaceLevel, PlaceRow, PlaceUnit};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;

/// The characters of a description read for places.
pub const DETAIL_CHARS: usize = 2000;

/// How the place was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Via {
    /// Named in the address, title or description.
    Text,
    /// The appeal's coordinates lie in the unit's area.
    Point,
}

/// An appeal's place.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// The unit (an index into the gazetteer).
    pub unit: usize,
    pub via: Via,
    /// The words that named it, as written (lower-cased), when found in the text.
    pub words: Option<String>,
    /// The unit whose area holds the coordinates, when there are any and one does.
    pub point_unit: Option<usize>,
    /// The text and the coordinates name places that do not lie in one another.
    pub disagree: bool,
}

struct Area {
    unit: usize,
    shape: geo::MultiPolygon<f64>,
    bbox: geo::Rect<f64>,
}

/// The gazetteer and the areas, ready to locate appeals.
pub struct Resolver {
    gazetteer: Gazetteer,
    areas: Vec<Area>,
}

/// NFKC and ASCII lower case, at most `max` characters: what the gazetteer matches.
pub fn prepare(s: &str, max: usize) -> Vec<char> {
    s.nfkc().take(max).map(|c| c.to_ascii_lowercase()).collect()
}

fn depth(level: PlaceLevel) -> u8 {
    match level {
        PlaceLevel::District => 0,
        PlaceLevel::Street => 1,
        PlaceLevel::Community => 2,
    }
}

/// One mention of a unit in the text.
struct Mention {
    unit: usize,
    weight: u32,
    order: usize,
    words: String,
}

impl Resolver {
    /// `rows`: the org tree's local governments; `names`: extra names `(name, unit id)`;
    /// `areas`: `(unit id, shape)`. Names and areas of units the tree does not hold are left out.
    pub fn new(
        rows: &[PlaceRow],
        names: &[(String, String)],
        areas: Vec<(String, geo::MultiPolygon<f64>)>,
    ) -> Self {
        let gazetteer = Gazetteer::build_with(rows, names);
        let index: HashMap<&str, usize> = gazetteer
            .units()
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.as_str(), i))
            .collect();
        let areas = areas
            .into_iter()
            .filter_map(|(id, shape)| {
                let unit = *index.get(id.as_str())?;
                let bbox = shape.bounding_rect()?;
                Some(Area { unit, shape, bbox })
            })
            .collect();
        Self { gazetteer, areas }
    }

    pub fn unit(&self, index: usize) -> &PlaceUnit {
        self.gazetteer.unit(index)
    }

    /// The index of the unit with this code.
    pub fn index_of(&self, code: &str) -> Option<usize> {
        self.gazetteer.units().iter().position(|u| u.code == code)
    }

    /// True when unit `inner` is unit `outer` or lies in it.
    pub fn within(&self, inner: usize, outer: usize) -> bool {
        let (i, o) = (self.unit(inner), self.unit(outer));
        inner == outer
            || i.street.as_deref() == Some(o.code.as_str())
            || i.district.as_deref() == Some(o.code.as_str())
    }

    /// The index of the district unit a unit is in (itself for a district).
    pub fn district_of(&self, unit: usize) -> Option<usize> {
        let code = self.unit(unit).district.as_deref()?;
        self.gazetteer.units().iter().position(|u| u.code == code)
    }

    /// The most specific area that holds the point (WGS 84 latitude, longitude).
    pub fn by_point(&self, (lat, lon): (f64, f64)) -> Option<usize> {
        let p = geo::Point::new(lon, lat);
        self.areas
            .iter()
            .filter(|a| {
                let (min, max) = (a.bbox.min(), a.bbox.max());
                lon >= min.x && lon <= max.x && lat >= min.y && lat <= max.y
            })
            .filter(|a| a.shape.contains(&p))
            .max_by_key(|a| depth(self.unit(a.unit).level))
            .map(|a| a.unit)
    }

    fn mentions(&self, texts: [(Option<&str>, u32); 3]) -> Vec<Mention> {
        let mut out = Vec::new();
        for (text, weight) in texts {
            let Some(text) = text else { continue };
            let chars = prepare(text, DETAIL_CHARS);
            for hit in self.gazetteer.scan(&chars) {
                out.push(Mention {
                    unit: hit.unit,
                    weight,
                    order: out.len(),
                    words: chars[hit.start..hit.start + hit.len].iter().collect(),
                });
            }
        }
        out
    }

    /// The place the text names (see the module comment), with the words that named it.
    pub fn by_text(
        &self,
        address: Option<&str>,
        title: &str,
        detail: &str,
    ) -> Option<(usize, String)> {
        let mentions = self.mentions([(address, 3), (Some(title), 2), (Some(detail), 1)]);
        // The district each mention is in: (score, first mention).
        let mut districts: HashMap<&str, (u32, usize)> = HashMap::new();
        for m in &mentions {
            if let Some(d) = self.unit(m.unit).district.as_deref() {
                let e = districts.entry(d).or_insert((0, m.order));
                e.0 += m.weight;
            }
        }
        let (district, _) = districts
            .into_iter()
            .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))?;
        mentions
            .iter()
            .filter(|m| self.unit(m.unit).district.as_deref() == Some(district))
            .max_by(|a, b| {
                depth(self.unit(a.unit).level)
                    .cmp(&depth(self.unit(b.unit).level))
                    .then(a.weight.cmp(&b.weight))
                    .then(b.order.cmp(&a.order))
            })
            .map(|m| (m.unit, m.words.clone()))
    }

    /// Where the appeal is (see the module comment).
    pub fn locate(
        &self,
        address: Option<&str>,
        title: &str,
        detail: &str,
        point: Option<(f64, f64)>,
    ) -> Option<Located> {
        let text = self.by_text(address, title, detail);
        let point_unit = point.and_then(|p| self.by_point(p));
        let located = |unit, via, words| Located {
            unit,
            via,
            words,
            point_unit,
            disagree: false,
        };
        match (text, point_unit) {
            (Some((t, words)), Some(p)) if p != t && self.within(p, t) => {
                Some(located(p, Via::Point, Some(words)))
            }
            (Some((t, words)), p) => Some(Located {
                disagree: p.is_some_and(|p| !self.within(p, t) && !self.within(t, p)),
                ..located(t, Via::Text, Some(words))
            }),
            (None, Some(p)) => Some(located(p, Via::Point, None)),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, name: &str, level: &str, parent: Option<&str>) -> PlaceRow {
        PlaceRow {
            id: id.into(),
            code: id.into(),
            name: name.into(),
            level: level.into(),
            parent_id: parent.map(str::to_owned),
        }
    }

    fn square(lon: f64, lat: f64, size: f64) -> geo::MultiPolygon<f64> {
        geo::MultiPolygon(vec![geo::Polygon::new(
            geo::LineString::from(vec![
                (lon, lat),
                (lon + size, lat),
                (lon + size, lat + size),
                (lon, lat + size),
                (lon, lat),
            ]),
            vec![],
        )])
    }

    fn resolver() -> Resolver {
        let rows = vec![
            row("990103", "A2区", "district", None),
            row("990103001", "桂花坪街道", "street", Some("990103")),
            row("990103001002", "黄谷社区", "community", Some("990103001")),
            row("990103003", "南托街道", "street", Some("990103")),
            row("990104", "A3区", "district", None),
            row("990104001", "观沙岭街道", "street", Some("990104")),
            row("990104001001", "莲塘社区", "community", Some("990104001")),
        ];
        let names = vec![
            ("黄谷路".to_owned(), "990103001002".to_owned()),
            ("莲塘路".to_owned(), "990104001001".to_owned()),
            ("杜鹃文苑".to_owned(), "990104".to_owned()),
        ];
        let areas = vec![
            ("990103".to_owned(), square(112.95, 28.00, 0.10)),
            ("990103001".to_owned(), square(112.97, 28.05, 0.02)),
            ("990104".to_owned(), square(112.80, 28.00, 0.15)),
            ("unknown".to_owned(), square(0.0, 0.0, 1.0)),
        ];
        Resolver::new(&rows, &names, areas)
    }

    fn code(r: &Resolver, l: &Option<Located>) -> Option<String> {
        l.as_ref().map(|l| r.unit(l.unit).code.clone())
    }

    #[test]
    fn the_most_specific_unit_of_the_district_named_most_wins() {
        let r = resolver();
        // The title names A2区 once (2), the description A3区, 莲塘路 and 观沙岭 (3): A3区 wins,
        // and its most specific place named is 莲塘社区.
        let l = r.locate(
            None,
            "A2区一所学校旁垃圾",
            "学校在A3区莲塘路1号，属观沙岭街道",
            None,
        );
        assert_eq!(code(&r, &l).as_deref(), Some("990104001001"));
        assert_eq!(l.as_ref().map(|l| l.via), Some(Via::Text));
        assert_eq!(l.and_then(|l| l.words).as_deref(), Some("莲塘路"));
        // The address outweighs a mention in the text.
        let l = r.locate(Some("A2区黄谷路"), "杜鹃文苑旁", "", None);
        assert_eq!(code(&r, &l).as_deref(), Some("990103001002"));
        // Nothing named, no point.
        assert_eq!(r.locate(None, "路灯不亮", "已经一周", None), None);
    }

    #[test]
    fn a_point_refines_the_text_and_stands_in_for_it() {
        let r = resolver();
        let in_street = Some((28.06, 112.98));
        // The text says A2区, the point lies in 桂花坪街道 inside it.
        let l = r.locate(None, "A2区路灯不亮", "", in_street);
        assert_eq!(code(&r, &l).as_deref(), Some("990103001"));
        assert_eq!(l.as_ref().map(|l| l.via), Some(Via::Point));
        // No text: the point alone; outside every area: nothing.
        let l = r.locate(None, "路灯不亮", "", in_street);
        assert_eq!(code(&r, &l).as_deref(), Some("990103001"));
        assert_eq!(r.locate(None, "路灯不亮", "", Some((30.0, 120.0))), None);
        // The text names A3区 and the point is in A2区: the text wins, the point is reported.
        let l = r
            .locate(None, "杜鹃文苑门口", "", in_street)
            .expect("located");
        assert_eq!(r.unit(l.unit).code, "990104");
        assert_eq!(
            l.point_unit.map(|p| r.unit(p).code.clone()).as_deref(),
            Some("990103001")
        );
        assert!(l.disagree);
        let l = r
            .locate(None, "A2区路灯不亮", "", Some((28.01, 112.96)))
            .expect("located");
        assert!(!l.disagree, "the point lies in the district the text names");
        // The most specific area holding a point; an area of an unknown unit is left out.
        assert_eq!(
            r.by_point((28.01, 112.96))
                .map(|u| r.unit(u).code.clone())
                .as_deref(),
            Some("990103")
        );
        assert_eq!(r.by_point((0.5, 0.5)), None);
    }

    #[test]
    fn units_lie_within_their_street_and_district() {
        let r = resolver();
        let i = |c: &str| r.index_of(c).expect("unit");
        assert!(r.within(i("990103001002"), i("990103001")));
        assert!(r.within(i("990103001002"), i("990103")));
        assert!(r.within(i("990103"), i("990103")));
        assert!(!r.within(i("990103"), i("990103001")));
        assert!(!r.within(i("990103003"), i("990103001")));
        assert_eq!(r.district_of(i("990104001001")), Some(i("990104")));
    }
}
