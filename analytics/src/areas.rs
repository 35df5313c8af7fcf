//! Where an appeal is, for the maps and the per-area series: the street (or, failing that, the
//! district) it is about. Found, in this order, from the appeal's position inside an org unit's
//! imported area (`hotline import areas`), from the places its text names (the org tree's
//! gazetteer), and from the local government above the unit handling it. Communities count with
//! their street: a street is the finest area leaders compare.

use std::collections::HashMap;

use diesel::prelude::*;
use geo::{BoundingRect, Contains};
use hotline_core::StoreError;
use hotline_core::db::DbConn;
use hotline_core::domain::{Level, UnitKind};
use hotline_core::ids::UnitId;
use hotline_core::places::{self, Gazetteer};
use hotline_core::store::units::{self, UnitFilter};
use hotline_core::ticket::Ticket;
use unicode_normalization::UnicodeNormalization;

use crate::schema::dispatch_areas;

#[derive(Debug, Clone)]
pub struct AreaUnit {
    pub id: UnitId,
    pub code: String,
    pub name: String,
    pub level: Level,
    pub kind: UnitKind,
    pub parent: Option<UnitId>,
}

#[derive(Debug, Clone)]
struct Shape {
    unit: UnitId,
    depth: u8,
    rect: geo::Rect<f64>,
    shape: geo::MultiPolygon<f64>,
}

/// The org tree and its areas, loaded once and shared by every fact computed from them.
#[derive(Debug, Default)]
pub struct Areas {
    units: HashMap<UnitId, AreaUnit>,
    by_code: HashMap<String, UnitId>,
    /// Deepest first, so the first containing shape is the finest.
    shapes: Vec<Shape>,
    gazetteer: Gazetteer,
}

/// A GeoJSON geometry as a multipolygon (polygons only; anything else is no area).
pub fn multipolygon(text: &str) -> Option<geo::MultiPolygon<f64>> {
    let g: geojson::Geometry = text.parse().ok()?;
    match geo::Geometry::<f64>::try_from(g).ok()? {
        geo::Geometry::Polygon(p) => Some(geo::MultiPolygon(vec![p])),
        geo::Geometry::MultiPolygon(m) => Some(m),
        _ => None,
    }
}

impl Areas {
    /// Builds from units and `(unit id, shape)` pairs (tests build them in memory).
    pub fn build(
        all: Vec<AreaUnit>,
        shapes: Vec<(UnitId, geo::MultiPolygon<f64>)>,
        gazetteer: Gazetteer,
    ) -> Self {
        let units: HashMap<UnitId, AreaUnit> = all.into_iter().map(|u| (u.id, u)).collect();
        let by_code = units.values().map(|u| (u.code.clone(), u.id)).collect();
        let mut shapes: Vec<Shape> = shapes
            .into_iter()
            .filter_map(|(unit, shape)| {
                let u = units.get(&unit)?;
                Some(Shape {
                    unit,
                    depth: u.level.depth(),
                    rect: shape.bounding_rect()?,
                    shape,
                })
            })
            .collect();
        shapes.sort_by(|a, b| b.depth.cmp(&a.depth).then(a.unit.cmp(&b.unit)));
        Self {
            units,
            by_code,
            shapes,
            gazetteer,
        }
    }

    /// Loads the org tree, the imported areas and the gazetteer.
    pub fn load(conn: &mut DbConn) -> Result<Self, StoreError> {
        let all = units::list(conn, &UnitFilter::default())?
            .into_iter()
            .map(|u| AreaUnit {
                id: u.id,
                code: u.code,
                name: u.name,
                level: u.level,
                kind: u.kind,
                parent: u.parent_id,
            })
            .collect();
        let rows: Vec<(String, String)> = dispatch_areas::table
            .select((dispatch_areas::unit_id, dispatch_areas::geometry))
            .load(conn)?;
        let shapes = rows
            .into_iter()
            .filter_map(|(id, text)| Some((id.parse().ok()?, multipolygon(&text)?)))
            .collect();
        let gazetteer = Gazetteer::build(&places::place_rows(conn)?);
        Ok(Self::build(all, shapes, gazetteer))
    }

    pub fn unit(&self, id: UnitId) -> Option<&AreaUnit> {
        self.units.get(&id)
    }

    pub fn units(&self) -> impl Iterator<Item = &AreaUnit> {
        self.units.values()
    }

    /// The imported shape of a unit's area.
    pub fn shape(&self, id: UnitId) -> Option<&geo::MultiPolygon<f64>> {
        self.shapes.iter().find(|s| s.unit == id).map(|s| &s.shape)
    }

    /// The area a unit stands for: a street or district government as itself, a community as its
    /// street, anything else (a department, a centre) as the nearest government above it at
    /// district level or below; None above the districts.
    pub fn area_for_unit(&self, id: UnitId) -> Option<UnitId> {
        let mut at = self.units.get(&id)?;
        loop {
            if at.kind == UnitKind::Government {
                match at.level {
                    Level::District | Level::Street => return Some(at.id),
                    Level::Community => return at.parent,
                    Level::Province | Level::City => return None,
                }
            }
            at = self.units.get(&at.parent?)?;
        }
    }

    /// The ancestor-or-self of `area` at `level` (a street's district), if it has one.
    pub fn at_level(&self, area: UnitId, level: Level) -> Option<UnitId> {
        let mut at = self.units.get(&area)?;
        loop {
            if at.level == level {
                return Some(at.id);
            }
            if at.level < level {
                return None;
            }
            at = self.units.get(&at.parent?)?;
        }
    }

    fn area_at_point(&self, latitude: f64, longitude: f64) -> Option<UnitId> {
        let p = geo::Point::new(longitude, latitude);
        self.shapes
            .iter()
            .filter(|s| s.rect.contains(&p) && s.shape.contains(&p))
            .find_map(|s| self.area_for_unit(s.unit))
    }

    fn area_in_text(&self, text: &str) -> Option<UnitId> {
        let chars: Vec<char> = text.nfkc().flat_map(char::to_lowercase).collect();
        let mut found = places::Places::default();
        places::recognise(&self.gazetteer, &chars, &mut found);
        let code = found
            .streets
            .iter()
            .next()
            .or_else(|| found.districts.iter().next())?;
        self.area_for_unit(*self.by_code.get(code)?)
    }

    /// The area of a ticket (see the module's note for the order).
    pub fn area_of(&self, t: &Ticket) -> Option<UnitId> {
        if let (Some(lat), Some(lon)) = (t.latitude, t.longitude)
            && let Some(a) = self.area_at_point(lat, lon)
        {
            return Some(a);
        }
        let text = format!(
            "{} {} {}",
            t.address.as_deref().unwrap_or(""),
            t.title,
            t.detail
        );
        self.area_in_text(&text).or_else(|| {
            t.main_unit_id
                .iter()
                .chain(t.chain.iter().rev())
                .find_map(|u| self.area_for_unit(*u))
        })
    }
}
