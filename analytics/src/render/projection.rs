//! Lon/lat to picture pixels without tiles: an equirectangular projection with longitude scaled
//! by cos(mean latitude), so shapes keep their proportions at the city's latitude, fitted into a
//! box; and the rings plotters can fill.

use geo::{Centroid, Coord, LineString, MultiPolygon, Polygon};

/// Lon/lat to pixels, fitted into a box.
pub(super) struct Projection {
    min_lon: f64,
    max_lat: f64,
    kx: f64,
    scale: f64,
    off: (f64, f64),
}

impl Projection {
    /// Fits the bounding box of all finite coordinates into `(x0, y0, x1, y1)`; `None` when there
    /// is no finite coordinate at all.
    pub(super) fn fit<'a>(
        shapes: impl Iterator<Item = &'a MultiPolygon<f64>>,
        area: (i32, i32, i32, i32),
    ) -> Option<Self> {
        let mut bb: Option<(f64, f64, f64, f64)> = None;
        for c in shapes
            .flat_map(all_coords)
            .filter(|c| c.x.is_finite() && c.y.is_finite())
        {
            let b = bb.get_or_insert((c.x, c.y, c.x, c.y));
            *b = (b.0.min(c.x), b.1.min(c.y), b.2.max(c.x), b.3.max(c.y));
        }
        let (min_lon, min_lat, max_lon, max_lat) = bb?;
        // Clamped so a polar or nonsense latitude cannot collapse the x axis.
        let kx = ((min_lat + max_lat) / 2.0)
            .to_radians()
            .cos()
            .clamp(0.05, 1.0);
        let (w, h) = ((max_lon - min_lon) * kx, max_lat - min_lat);
        let (aw, ah) = (f64::from(area.2 - area.0), f64::from(area.3 - area.1));
        let scale = match (w > 0.0, h > 0.0) {
            (true, true) => (aw / w).min(ah / h),
            (true, false) => aw / w,
            (false, true) => ah / h,
            (false, false) => 1.0,
        };
        let off = (
            f64::from(area.0) + (aw - w * scale) / 2.0,
            f64::from(area.1) + (ah - h * scale) / 2.0,
        );
        Some(Self {
            min_lon,
            max_lat,
            kx,
            scale,
            off,
        })
    }

    pub(super) fn px(&self, x: f64, y: f64) -> (i32, i32) {
        let px = self.off.0 + (x - self.min_lon) * self.kx * self.scale;
        let py = self.off.1 + (self.max_lat - y) * self.scale;
        // In range by construction; the cast saturates should a coordinate be extreme.
        (px.round() as i32, py.round() as i32)
    }

    /// A closed ring in pixels, without non-finite points and repeated pixels.
    pub(super) fn ring(&self, ls: &LineString<f64>) -> Vec<(i32, i32)> {
        let mut out: Vec<(i32, i32)> = Vec::with_capacity(ls.0.len());
        for c in ls.coords().filter(|c| c.x.is_finite() && c.y.is_finite()) {
            let p = self.px(c.x, c.y);
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
        if let (Some(&first), Some(&last)) = (out.first(), out.last())
            && first != last
        {
            out.push(first);
        }
        out
    }

    /// One fillable outline per polygon. plotters fills simple rings only, so holes are joined
    /// to the exterior through a zero-width cut from its first point, wound the other way, which
    /// leaves them empty under both even-odd and non-zero fill rules.
    pub(super) fn filled(&self, poly: &Polygon<f64>) -> Vec<(i32, i32)> {
        let mut pts = self.ring(poly.exterior());
        if pts.len() < 4 {
            return Vec::new();
        }
        let anchor = pts[0];
        let outer = signed_area(&pts) > 0;
        for hole in poly.interiors() {
            let mut h = self.ring(hole);
            if h.len() < 4 {
                continue;
            }
            if (signed_area(&h) > 0) == outer {
                h.reverse();
            }
            pts.extend(h);
            pts.push(anchor);
        }
        pts
    }

    pub(super) fn centroid(&self, shape: &MultiPolygon<f64>) -> Option<(i32, i32)> {
        // One bad coordinate would make the centroid NaN and lose the label; drop such points.
        let finite = |c: &Coord<f64>| c.x.is_finite() && c.y.is_finite();
        let c = if all_coords(shape).all(finite) {
            shape.centroid()?
        } else {
            let ring =
                |ls: &LineString<f64>| LineString(ls.coords().copied().filter(finite).collect());
            let polys = shape.iter().map(|p| {
                Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect())
            });
            MultiPolygon(polys.collect()).centroid()?
        };
        (c.x().is_finite() && c.y().is_finite()).then(|| self.px(c.x(), c.y()))
    }
}

pub(super) fn all_coords(mp: &MultiPolygon<f64>) -> impl Iterator<Item = &Coord<f64>> {
    mp.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|ls| ls.coords())
}

fn signed_area(pts: &[(i32, i32)]) -> i64 {
    pts.windows(2)
        .map(|w| i64::from(w[0].0) * i64::from(w[1].1) - i64::from(w[1].0) * i64::from(w[0].1))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn projection_keeps_proportions_and_fits_the_box() {
        // A square of 1°×1° at 60°N is half as wide as it is tall once projected.
        let sq = MultiPolygon(vec![polygon![
            (x: 10.0, y: 60.0), (x: 11.0, y: 60.0), (x: 11.0, y: 61.0), (x: 10.0, y: 61.0)
        ]]);
        let proj = Projection::fit(std::iter::once(&sq), (0, 0, 400, 400));
        let Some(proj) = proj else {
            panic!("no projection")
        };
        let (x0, y0) = proj.px(10.0, 61.0);
        let (x1, y1) = proj.px(11.0, 60.0);
        assert_eq!((y0, y1), (0, 400));
        let width = x1 - x0;
        assert!((195..=210).contains(&width), "width {width}");
        assert!(x0 >= 0 && x1 <= 400);
    }

    #[test]
    fn holes_are_wound_against_the_exterior() {
        let sq = MultiPolygon(vec![polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)],
            interiors: [[(x: 1.0, y: 1.0), (x: 3.0, y: 1.0), (x: 3.0, y: 3.0), (x: 1.0, y: 3.0)]],
        )]);
        let Some(proj) = Projection::fit(std::iter::once(&sq), (0, 0, 100, 100)) else {
            panic!("no projection")
        };
        let pts = proj.filled(&sq.0[0]);
        let outer = proj.ring(sq.0[0].exterior());
        // The joined ring's area is the exterior's minus the hole's: 16 - 4 of 16 units.
        let ratio = signed_area(&pts) as f64 / signed_area(&outer) as f64;
        assert!((ratio - 0.75).abs() < 0.02, "ratio {ratio}");
    }

    #[test]
    fn nothing_finite_gives_no_projection() {
        let bad = MultiPolygon(vec![
            polygon![(x: f64::NAN, y: 1.0), (x: 2.0, y: f64::INFINITY)],
        ]);
        assert!(Projection::fit(std::iter::once(&bad), (0, 0, 10, 10)).is_none());
    }
}
