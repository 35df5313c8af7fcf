//! The heat maps as GeoJSON: hexagonal cells (H3) at a chosen resolution, and a choropleth over
//! the org units' areas. Counts come from the rollups' cells and areas; the shapes from H3 and
//! from the imported areas.

use std::collections::BTreeMap;

use geojson::{Feature, FeatureCollection, Geometry, JsonObject, JsonValue};
use hotline_core::domain::Level;
use hotline_core::ids::UnitId;

use crate::areas::Areas;
use crate::facts::CELL_RESOLUTION;

/// The resolutions a hex map may be drawn at: 5 (about 250 km² a cell, a county) to the
/// stored 9 (about 0.1 km², a few blocks).
pub const RESOLUTIONS: std::ops::RangeInclusive<u8> = 5..=9;

/// Sums stored cells into their parents at `resolution` (5–9); unknown cells are left out.
pub fn cells_at(
    stored: &[(i64, i64)],
    resolution: h3o::Resolution,
) -> BTreeMap<h3o::CellIndex, i64> {
    let mut out = BTreeMap::new();
    for (cell, n) in stored {
        let Some(cell) = u64::try_from(*cell)
            .ok()
            .and_then(|c| h3o::CellIndex::try_from(c).ok())
        else {
            continue;
        };
        let parent = if resolution < CELL_RESOLUTION {
            cell.parent(resolution)
        } else {
            Some(cell)
        };
        if let Some(p) = parent {
            *out.entry(p).or_default() += n;
        }
    }
    out
}

/// A hexagon's ring as a closed polygon (longitude, latitude).
pub fn hexagon(cell: h3o::CellIndex) -> geo::Polygon<f64> {
    let mut ring: Vec<geo::Coord<f64>> = cell
        .boundary()
        .iter()
        .map(|ll| geo::coord! { x: ll.lng(), y: ll.lat() })
        .collect();
    if let Some(first) = ring.first().copied() {
        ring.push(first);
    }
    geo::Polygon::new(geo::LineString(ring), vec![])
}

fn feature(geometry: Geometry, props: JsonObject) -> Feature {
    Feature {
        bbox: None,
        geometry: Some(geometry),
        id: None,
        properties: Some(props),
        foreign_members: None,
    }
}

/// The hex map: one feature per cell with tickets, `properties.cell` (the H3 index in hex) and
/// `properties.count`.
pub fn hex_collection(cells: &BTreeMap<h3o::CellIndex, i64>) -> FeatureCollection {
    let features = cells
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(cell, n)| {
            let mut props = JsonObject::new();
            props.insert("cell".into(), JsonValue::from(cell.to_string()));
            props.insert(
                "resolution".into(),
                JsonValue::from(u8::from(cell.resolution())),
            );
            props.insert("count".into(), JsonValue::from(*n));
            feature(Geometry::new((&hexagon(*cell)).into()), props)
        })
        .collect();
    FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    }
}

/// Sums per-area counts (streets and districts) into the areas at `level` (district or street).
/// Counts whose area lies above `level` (a district's own tickets on a street map) go under the
/// key `None`, as do counts with no area.
pub fn areas_at(
    areas: &Areas,
    counts: &[(String, i64)],
    level: Level,
) -> BTreeMap<Option<UnitId>, i64> {
    let mut out = BTreeMap::new();
    for (area, n) in counts {
        let at = area
            .parse::<UnitId>()
            .ok()
            .and_then(|a| areas.at_level(a, level));
        *out.entry(at).or_default() += n;
    }
    out
}

/// The choropleth: one feature per area at the level that has an imported shape, with
/// `properties.code`, `name`, `level` and `count` (0 for an area with no tickets, so the map
/// shows the whole territory).
pub fn area_collection(
    areas: &Areas,
    counts: &BTreeMap<Option<UnitId>, i64>,
    level: Level,
) -> FeatureCollection {
    let mut units: Vec<_> = areas
        .units()
        .filter(|u| u.level == level && areas.shape(u.id).is_some())
        .collect();
    units.sort_by(|a, b| a.code.cmp(&b.code));
    let features = units
        .into_iter()
        .filter_map(|u| {
            let shape = areas.shape(u.id)?;
            let mut props = JsonObject::new();
            props.insert("unit_id".into(), JsonValue::from(u.id.to_string()));
            props.insert("code".into(), JsonValue::from(u.code.clone()));
            props.insert("name".into(), JsonValue::from(u.name.clone()));
            props.insert("level".into(), JsonValue::from(u.level.as_ref()));
            props.insert(
                "count".into(),
                JsonValue::from(counts.get(&Some(u.id)).copied().unwrap_or(0)),
            );
            Some(feature(Geometry::new(shape.into()), props))
        })
        .collect();
    FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_sum_into_their_parents() {
        let ll = h3o::LatLng::new(28.19, 112.98).expect("valid");
        let a = ll.to_cell(CELL_RESOLUTION);
        let b = h3o::LatLng::new(28.1901, 112.9801)
            .expect("valid")
            .to_cell(CELL_RESOLUTION);
        let far = h3o::LatLng::new(30.0, 114.0)
            .expect("valid")
            .to_cell(CELL_RESOLUTION);
        let stored = [
            (i64::try_from(u64::from(a)).expect("fits"), 2),
            (i64::try_from(u64::from(b)).expect("fits"), 3),
            (i64::try_from(u64::from(far)).expect("fits"), 1),
            (-5, 100),
        ];
        let at6 = cells_at(&stored, h3o::Resolution::Six);
        let total: i64 = at6.values().sum();
        assert_eq!(total, 6, "the invalid cell is left out");
        assert_eq!(
            at6.get(&a.parent(h3o::Resolution::Six).expect("parent")),
            Some(&5)
        );
        let fc = hex_collection(&at6);
        assert_eq!(fc.features.len(), 2);
        let ring = hexagon(a);
        assert_eq!(ring.exterior().0.first(), ring.exterior().0.last());
    }
}
