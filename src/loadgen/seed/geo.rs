//! The stored areas of org units (`dispatch_areas`, read and parsed by dispatch), as plain rings
//! of (longitude, latitude) for drawing positions inside them.

use rand::Rng;
use rand::rngs::StdRng;

/// One unit's area: every ring of its polygons (outer rings and holes alike).
#[derive(Debug, Clone)]
pub struct Shape {
    rings: Vec<Vec<(f64, f64)>>,
    /// min longitude, min latitude, max longitude, max latitude.
    bbox: (f64, f64, f64, f64),
}

impl Shape {
    pub fn new(rings: Vec<Vec<(f64, f64)>>) -> Option<Self> {
        let points = rings.iter().flatten();
        let mut bbox = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for &(x, y) in points {
            bbox = (bbox.0.min(x), bbox.1.min(y), bbox.2.max(x), bbox.3.max(y));
        }
        (bbox.0 < bbox.2 && bbox.1 < bbox.3).then_some(Self { rings, bbox })
    }

    /// Even-odd ray casting over all rings: inside an outer ring and outside its holes. Areas of
    /// one unit do not overlap, so this is the polygon test.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        let (x0, y0, x1, y1) = self.bbox;
        if x < x0 || x > x1 || y < y0 || y > y1 {
            return false;
        }
        let mut inside = false;
        for ring in &self.rings {
            let mut j = ring.len().saturating_sub(1);
            for i in 0..ring.len() {
                let (xi, yi) = ring[i];
                let (xj, yj) = ring[j];
                if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                    inside = !inside;
                }
                j = i;
            }
        }
        inside
    }

    /// A position drawn uniformly inside the area (rejection sampling in its bounding box),
    /// rounded to 6 decimals (about 0.1 m), as (latitude, longitude).
    pub fn sample(&self, rng: &mut StdRng) -> Option<(f64, f64)> {
        let (x0, y0, x1, y1) = self.bbox;
        (0..64).find_map(|_| {
            let x = round6(rng.random_range(x0..x1));
            let y = round6(rng.random_range(y0..y1));
            self.contains(x, y).then_some((y, x))
        })
    }

    /// A position near (`lat`, `lon`), within about `spread` degrees, still inside the area.
    pub fn near(&self, rng: &mut StdRng, lat: f64, lon: f64, spread: f64) -> (f64, f64) {
        (0..16)
            .find_map(|_| {
                let x = round6(lon + rng.random_range(-spread..spread));
                let y = round6(lat + rng.random_range(-spread..spread));
                self.contains(x, y).then_some((y, x))
            })
            .unwrap_or((lat, lon))
    }
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// Every stored area as (unit id, shape).
pub fn load(conn: &mut hotline_core::DbConn) -> anyhow::Result<Vec<(String, Shape)>> {
    let stored = hotline_dispatch::places::areas::load(conn)?;
    Ok(stored
        .into_iter()
        .filter_map(|(unit, multi)| {
            let rings = multi
                .0
                .iter()
                .flat_map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|ring| ring.0.iter().map(|c| (c.x, c.y)).collect::<Vec<_>>())
                })
                .collect();
            Shape::new(rings).map(|s| (unit, s))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn samples_fall_inside_the_shape_and_holes_are_outside() {
        let square = vec![(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (0.0, 0.0)];
        let hole = vec![(0.5, 0.5), (1.5, 0.5), (1.5, 1.5), (0.5, 1.5), (0.5, 0.5)];
        let s = Shape::new(vec![square, hole]).expect("shape");
        assert!(s.contains(0.2, 0.2));
        assert!(!s.contains(1.0, 1.0));
        assert!(!s.contains(3.0, 1.0));
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let (lat, lon) = s.sample(&mut rng).expect("sample");
            assert!(s.contains(lon, lat));
        }
    }
}
