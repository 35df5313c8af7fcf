//! The areas org units serve, as GeoJSON polygons: `hotline import areas FILE.geojson` reads a
//! FeatureCollection whose features each carry the unit's code as the property `code` (or
//! `unit_code`) and a Polygon or MultiPolygon in WGS 84 (longitude, latitude, as GeoJSON has
//! it). Every feature is checked first; nothing is stored unless all are valid. Each unit has at
//! most one area: a re-import replaces it.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use geojson::{GeoJson, GeometryValue};
use hotline_core::StoreError;
use hotline_core::db::{DbConn, to_db};
use hotline_core::domain::{Level, UnitKind};
use hotline_core::store::units;

use crate::schema::dispatch_areas;

/// One refused feature: its position in the file (from 1; 0 for the file itself), the field and
/// why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureError {
    pub feature: usize,
    pub field: String,
    pub message: String,
}

/// A valid feature: the unit and its shape.
#[derive(Debug, Clone)]
pub struct AreaFeature {
    pub code: String,
    pub shape: geo::MultiPolygon<f64>,
    /// The geometry as GeoJSON, as stored.
    pub geometry: String,
}

fn shape_of(value: &GeometryValue) -> Result<geo::MultiPolygon<f64>, String> {
    let positions_ok = |rings: &[Vec<geojson::Position>]| {
        rings.iter().all(|ring| {
            ring.len() >= 4
                && ring.first().map(geojson::Position::as_slice)
                    == ring.last().map(geojson::Position::as_slice)
                && ring.iter().all(|p| {
                    p.len() >= 2
                        && p[0].is_finite()
                        && p[1].is_finite()
                        && (-180.0..=180.0).contains(&p[0])
                        && (-90.0..=90.0).contains(&p[1])
                })
        })
    };
    let polygons: Vec<&Vec<Vec<geojson::Position>>> = match value {
        GeometryValue::Polygon { coordinates } => vec![coordinates],
        GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        _ => return Err("must be a Polygon or MultiPolygon".into()),
    };
    if polygons.is_empty() || polygons.iter().any(|p| p.is_empty()) {
        return Err("has no ring".into());
    }
    if !polygons.iter().all(|p| positions_ok(p)) {
        return Err(
            "each ring needs at least 4 positions [longitude, latitude] within ±180/±90, the last equal to the first"
                .into(),
        );
    }
    match value {
        GeometryValue::Polygon { .. } => geo::Polygon::try_from(value)
            .map(|p| geo::MultiPolygon(vec![p]))
            .map_err(|e| e.to_string()),
        _ => geo::MultiPolygon::try_from(value).map_err(|e| e.to_string()),
    }
}

/// Reads a GeoJSON text into its features, or every error found.
pub fn parse(text: &str) -> Result<Vec<AreaFeature>, Vec<FeatureError>> {
    let file_error = |message: String| {
        vec![FeatureError {
            feature: 0,
            field: "file".into(),
            message,
        }]
    };
    let features = match text.parse::<GeoJson>() {
        Ok(GeoJson::FeatureCollection(fc)) => fc.features,
        Ok(GeoJson::Feature(f)) => vec![f],
        Ok(GeoJson::Geometry(_)) => {
            return Err(file_error(
                "a bare geometry names no unit: give a FeatureCollection".into(),
            ));
        }
        Err(e) => return Err(file_error(format!("not GeoJSON: {e}"))),
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let mut error = |field: &str, message: String| {
            errors.push(FeatureError {
                feature: i + 1,
                field: field.into(),
                message,
            });
        };
        let code = ["code", "unit_code"]
            .iter()
            .find_map(|k| f.property(k))
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let Some(code) = code else {
            error("properties.code", "the unit's code is missing".into());
            continue;
        };
        if out.iter().any(|a: &AreaFeature| a.code == code) {
            error(
                "properties.code",
                format!("{code} has an area earlier in the file"),
            );
            continue;
        }
        let Some(geometry) = &f.geometry else {
            error("geometry", "missing".into());
            continue;
        };
        match shape_of(&geometry.value) {
            Ok(shape) => out.push(AreaFeature {
                code: code.to_owned(),
                shape,
                geometry: serde_json::to_string(geometry).unwrap_or_default(),
            }),
            Err(e) => error("geometry", e),
        }
    }
    if out.is_empty() && errors.is_empty() {
        return Err(file_error("has no feature".into()));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Checks that each feature names a local government at district, street or community level,
/// then stores every area (replacing a unit's earlier one). Returns (created, replaced).
pub fn import(
    conn: &mut DbConn,
    features: &[AreaFeature],
    now: DateTime<Utc>,
) -> Result<Result<(usize, usize), Vec<FeatureError>>, StoreError> {
    let mut errors = Vec::new();
    let mut ids = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let refuse = |message: &str| FeatureError {
            feature: i + 1,
            field: "properties.code".into(),
            message: format!("{}: {message}", f.code),
        };
        match units::by_code(conn, &f.code)? {
            None => errors.push(refuse("no such unit")),
            Some(u)
                if u.kind != UnitKind::Government
                    || !matches!(u.level, Level::District | Level::Street | Level::Community) =>
            {
                errors.push(refuse(
                    "areas belong to local governments at district, street or community level",
                ));
            }
            Some(u) => ids.push(u.id.to_string()),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let (mut created, mut replaced) = (0, 0);
    for (id, f) in ids.iter().zip(features) {
        let n = diesel::update(dispatch_areas::table.find(id))
            .set((
                dispatch_areas::geometry.eq(&f.geometry),
                dispatch_areas::imported_at.eq(to_db(now)),
            ))
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(dispatch_areas::table)
                .values((
                    dispatch_areas::unit_id.eq(id),
                    dispatch_areas::geometry.eq(&f.geometry),
                    dispatch_areas::imported_at.eq(to_db(now)),
                ))
                .execute(conn)?;
            created += 1;
        } else {
            replaced += 1;
        }
    }
    Ok(Ok((created, replaced)))
}

/// Every stored area as (unit id, shape). A row this code cannot read is logged and left out.
pub fn load(conn: &mut DbConn) -> Result<Vec<(String, geo::MultiPolygon<f64>)>, StoreError> {
    let rows: Vec<(String, String)> = dispatch_areas::table
        .select((dispatch_areas::unit_id, dispatch_areas::geometry))
        .order(dispatch_areas::unit_id.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, text)| {
            let shape = text
                .parse::<geojson::Geometry>()
                .map_err(|e| e.to_string())
                .and_then(|g| shape_of(&g.value));
            match shape {
                Ok(s) => Some((id, s)),
                Err(e) => {
                    tracing::warn!(unit_id = %id, error = %e, "stored area cannot be read; left out");
                    None
                }
            }
        })
        .collect())
}

/// The areas' count and latest import (a cache key).
pub fn fingerprint(conn: &mut DbConn) -> Result<(i64, Option<NaiveDateTime>), StoreError> {
    Ok(dispatch_areas::table
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(dispatch_areas::imported_at),
        ))
        .first(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_read_and_every_fault_is_named() {
        let ok = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"code":"990103","name":"A2区"},
           "geometry":{"type":"Polygon","coordinates":[[[112.95,28.0],[113.0,28.0],[113.0,28.17],[112.95,28.17],[112.95,28.0]]]}},
          {"type":"Feature","properties":{"unit_code":"990104"},
           "geometry":{"type":"MultiPolygon","coordinates":[[[[112.8,28.05],[112.95,28.05],[112.95,28.3],[112.8,28.05]]]]}}]}"#;
        let f = parse(ok).expect("valid");
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].code.as_str(), f[1].code.as_str()),
            ("990103", "990104")
        );
        assert!(f[0].geometry.contains("Polygon"));
        let bad = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}},
          {"type":"Feature","properties":{"code":"x"},"geometry":{"type":"Point","coordinates":[1,2]}},
          {"type":"Feature","properties":{"code":"y"},"geometry":{"type":"Polygon","coordinates":[[[1,2],[3,4],[1,2]]]}},
          {"type":"Feature","properties":{"code":"z"},"geometry":{"type":"Polygon","coordinates":[[[190,2],[3,4],[5,6],[190,2]]]}},
          {"type":"Feature","properties":{"code":"z"},"geometry":null}]}"#;
        let e = parse(bad).expect_err("invalid");
        let got: Vec<(usize, &str)> = e.iter().map(|e| (e.feature, e.field.as_str())).collect();
        assert_eq!(
            got,
            [
                (1, "properties.code"),
                (2, "geometry"),
                (3, "geometry"),
                (4, "geometry"),
                (5, "geometry")
            ]
        );
        assert!(e[1].message.contains("Polygon"), "{:?}", e[1]);
        for text in [
            "",
            "{}",
            r#"{"type":"Point","coordinates":[1,2]}"#,
            r#"{"type":"FeatureCollection","features":[]}"#,
        ] {
            let e = parse(text).expect_err(text);
            assert_eq!((e[0].feature, e[0].field.as_str()), (0, "file"), "{text}");
        }
    }
}
