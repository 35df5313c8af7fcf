//! The choropleth map: regions filled by value class, district outlines and names on top, a
//! legend panel on the right, all on the tile-free projection of `projection.rs`.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::projection::Projection;
use super::{
    GREY, Glyphs, MapPicture, RenderError, TEXT, bold, draw_err, draw_no_data, png_picture,
    shorten, style, svg_picture,
};

/// Picture size in pixels, for both SVG and PNG.
const SIZE: (u32, u32) = (960, 720);
const MARGIN: i32 = 16;
const TITLE_H: i32 = 52;
const LEGEND_W: i32 = 220;
const ROW_H: i32 = 24;

/// The sequential ramp, light yellow to dark red (ColorBrewer YlOrRd, 5 classes).
pub const RAMP: [(u8, u8, u8); 5] = [
    (0xff, 0xff, 0xb2),
    (0xfe, 0xcc, 0x5c),
    (0xfd, 0x8d, 0x3c),
    (0xf0, 0x3b, 0x20),
    (0xbd, 0x00, 0x26),
];

/// One class of the legend: the smallest and largest value it holds, and its fill colour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColourClass {
    pub min: f64,
    pub max: f64,
    pub rgb: (u8, u8, u8),
}

impl ColourClass {
    /// The colour as SVG writes it (`#RRGGBB`, upper case like plotters).
    pub fn hex(&self) -> String {
        let (r, g, b) = self.rgb;
        format!("#{r:02X}{g:02X}{b:02X}")
    }

    fn colour(&self) -> RGBColor {
        RGBColor(self.rgb.0, self.rgb.1, self.rgb.2)
    }
}

/// Whether a value gets a fill at all: zero, negative and non-finite values are "no data".
fn has_data(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

/// Classes of the values, lowest first (rule in the module docs of `render`): nearest-rank
/// quantile breaks over the values with data, ties kept in one class, top class darkest.
pub fn colour_classes(values: impl IntoIterator<Item = f64>) -> Vec<ColourClass> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| has_data(*x)).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let mut distinct = v.clone();
    distinct.dedup();
    let k = RAMP.len().min(distinct.len());
    let mut spans = Vec::with_capacity(k);
    let mut start = 0;
    for i in 1..=k {
        let mut end = (i * n).div_ceil(k);
        while end < n && v[end] == v[end - 1] {
            end += 1;
        }
        if end > start {
            spans.push((v[start], v[end - 1]));
            start = end;
        }
    }
    let m = spans.len();
    let top = RAMP.len() - 1;
    spans
        .into_iter()
        .enumerate()
        .map(|(j, (min, max))| {
            // Spread fewer classes over the whole ramp so the contrast stays and the top is darkest.
            let idx = if m <= 1 {
                top
            } else {
                (j * top + (m - 1) / 2) / (m - 1)
            };
            ColourClass {
                min,
                max,
                rgb: RAMP[idx.min(top)],
            }
        })
        .collect()
}

fn class_of(classes: &[ColourClass], v: f64) -> Option<&ColourClass> {
    if !has_data(v) {
        return None;
    }
    classes.iter().find(|c| v <= c.max)
}

/// The map as an SVG document (text for the browser's fonts, Chinese included).
pub fn map_svg(p: &MapPicture) -> Result<String, RenderError> {
    svg_picture(SIZE, |root| draw_map(root, p, Glyphs::Any))
}

/// The map as PNG bytes, 960×720; only ASCII text is drawn (see the `render` module docs).
pub fn map_png(p: &MapPicture) -> Result<Vec<u8>, RenderError> {
    png_picture(SIZE, |root| draw_map(root, p, Glyphs::Ascii))
}

fn draw_map<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: &MapPicture,
    glyphs: Glyphs,
) -> Result<(), RenderError> {
    let (w, h) = (SIZE.0 as i32, SIZE.1 as i32);
    let area = (MARGIN, TITLE_H, w - MARGIN - LEGEND_W - 12, h - MARGIN);
    let shapes = p
        .outlines
        .iter()
        .map(|o| &o.shape)
        .chain(p.regions.iter().map(|r| &r.shape));
    let Some(proj) = Projection::fit(shapes, area) else {
        return draw_no_data(root, p.title, glyphs);
    };
    let classes = colour_classes(p.regions.iter().map(|r| r.value));

    for r in p.regions {
        let Some(class) = class_of(&classes, r.value) else {
            continue;
        };
        for poly in r.shape.iter() {
            let pts = proj.filled(poly);
            if !pts.is_empty() {
                root.draw(&Polygon::new(pts, class.colour().filled()))
                    .map_err(draw_err)?;
            }
        }
    }
    // Outlines go over the fill so district borders stay visible through dark cells.
    for o in p.outlines {
        for poly in o.shape.iter() {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                let pts = proj.ring(ring);
                if pts.len() >= 2 {
                    root.draw(&PathElement::new(pts, GREY.stroke_width(1)))
                        .map_err(draw_err)?;
                }
            }
        }
    }
    for r in p.regions {
        let (Some(label), Some(at)) = (r.label.as_deref(), proj.centroid(&r.shape)) else {
            continue;
        };
        let Some(label) = glyphs.show(label) else {
            continue;
        };
        // Light text on the two darkest classes, dark text elsewhere.
        let dark =
            class_of(&classes, r.value).is_some_and(|c| c.rgb == RAMP[3] || c.rgb == RAMP[4]);
        let colour = if dark { WHITE } else { TEXT };
        let s = style(13.0, &colour, HPos::Center, VPos::Center);
        root.draw(&Text::new(shorten(&label, 12), at, s))
            .map_err(draw_err)?;
    }
    for (i, o) in p.outlines.iter().enumerate() {
        let Some(at) = proj.centroid(&o.shape) else {
            continue;
        };
        let name = glyphs.show(&o.name).unwrap_or_else(|| (i + 1).to_string());
        let s = bold(style(17.0, &TEXT, HPos::Center, VPos::Center));
        root.draw(&Text::new(shorten(&name, 16), at, s))
            .map_err(draw_err)?;
    }
    if let Some(title) = glyphs.show(p.title) {
        let s = bold(style(28.0, &TEXT, HPos::Center, VPos::Top));
        root.draw(&Text::new(shorten(&title, 50), (w / 2, 14), s))
            .map_err(draw_err)?;
    }
    let unfilled = p
        .regions
        .iter()
        .any(|r| class_of(&classes, r.value).is_none());
    draw_legend(
        root,
        (w - MARGIN - LEGEND_W, TITLE_H),
        p.legend_title,
        &classes,
        unfilled,
        glyphs,
    )
}

/// The legend panel: its title, one swatch and value range per class (lowest at the top), and an
/// empty swatch for unfilled regions; "暂无数据" alone when nothing has a value.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    title: &str,
    classes: &[ColourClass],
    unfilled: bool,
    glyphs: Glyphs,
) -> Result<(), RenderError> {
    let title = glyphs.show(title).map(|t| shorten(&t, 14));
    let rows = if classes.is_empty() {
        1
    } else {
        classes.len() + usize::from(unfilled)
    };
    let rows = i32::try_from(rows).unwrap_or(i32::MAX / ROW_H - 4);
    let height = 16 + if title.is_some() { 28 } else { 0 } + rows * ROW_H;
    let frame = [(x, y), (x + LEGEND_W, y + height)];
    root.draw(&Rectangle::new(frame, WHITE.filled()))
        .map_err(draw_err)?;
    root.draw(&Rectangle::new(frame, GREY.stroke_width(1)))
        .map_err(draw_err)?;
    let mut row_y = y + 10;
    if let Some(title) = title {
        let s = bold(style(18.0, &TEXT, HPos::Left, VPos::Top));
        root.draw(&Text::new(title, (x + 12, row_y), s))
            .map_err(draw_err)?;
        row_y += 28;
    }
    let label_style = style(16.0, &TEXT, HPos::Left, VPos::Center);
    if classes.is_empty() {
        let at = (x + 12, row_y + ROW_H / 2);
        root.draw(&Text::new(glyphs.no_data(), at, label_style))
            .map_err(draw_err)?;
        return Ok(());
    }
    let no_data = match glyphs {
        Glyphs::Any => "无数据",
        Glyphs::Ascii => "no data",
    };
    let entries = classes
        .iter()
        .map(|c| (Some(c.colour()), range_label(c)))
        .chain(unfilled.then(|| (None, no_data.to_owned())));
    for (colour, label) in entries {
        let swatch = [(x + 12, row_y + 4), (x + 40, row_y + ROW_H - 4)];
        if let Some(colour) = colour {
            root.draw(&Rectangle::new(swatch, colour.filled()))
                .map_err(draw_err)?;
        }
        root.draw(&Rectangle::new(swatch, GREY.stroke_width(1)))
            .map_err(draw_err)?;
        let at = (x + 50, row_y + ROW_H / 2);
        root.draw(&Text::new(label, at, label_style.clone()))
            .map_err(draw_err)?;
        row_y += ROW_H;
    }
    Ok(())
}

/// "min – max" of the values actually in the class (unambiguous at the breaks), or one number.
fn range_label(c: &ColourClass) -> String {
    let (lo, hi) = (super::fmt_num(c.min), super::fmt_num(c.max));
    if lo == hi {
        lo
    } else {
        format!("{lo} – {hi}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_classes_cover_all_values_and_top_is_darkest() {
        let classes = colour_classes((1..=10).map(f64::from));
        assert_eq!(classes.len(), 5);
        assert_eq!(classes[0].min, 1.0);
        assert_eq!(classes[0].max, 2.0);
        assert_eq!(classes[4].max, 10.0);
        assert_eq!(classes[4].rgb, RAMP[4]);
        assert_eq!(classes[0].rgb, RAMP[0]);
    }

    #[test]
    fn ties_stay_in_one_class_and_few_values_spread_the_ramp() {
        let classes = colour_classes([5.0, 5.0, 5.0, 5.0, 9.0]);
        assert_eq!(classes.len(), 2);
        assert_eq!((classes[0].min, classes[0].max), (5.0, 5.0));
        assert_eq!(classes[0].rgb, RAMP[0]);
        assert_eq!(classes[1].rgb, RAMP[4]);
        let one = colour_classes([3.0]);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].rgb, RAMP[4]);
    }

    #[test]
    fn no_data_values_are_not_classed() {
        let classes = colour_classes([0.0, -1.0, f64::NAN, f64::INFINITY]);
        assert!(classes.is_empty());
        let classes = colour_classes([0.0, 2.0, f64::NAN]);
        assert!(class_of(&classes, 0.0).is_none());
        assert!(class_of(&classes, f64::NAN).is_none());
        assert_eq!(class_of(&classes, 2.0).map(|c| c.rgb), Some(RAMP[4]));
    }
}
