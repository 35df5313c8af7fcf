//! The leaders' pictures, drawn with plotters: a choropleth map (hex cells or org-unit areas over
//! the district outlines) as SVG or PNG, a trend line chart and a ranking bar chart as SVG.
//! Pure code: every function returns the picture's text or bytes and does no I/O.
//!
//! Map colours: five classes of a light-yellow to dark-red ramp (ColorBrewer YlOrRd-5, [`RAMP`]).
//! Only finite values above zero are classed; zero, negative, NaN and infinite values mean "no
//! data" and are left unfilled. The breaks are quantiles (nearest rank) of those values, so each
//! class holds about a fifth of the coloured regions, which suits skewed ticket counts; tied values
//! never straddle two classes, so fewer than five classes come out when there are few distinct
//! values, and the ramp is then spread so the top class is always the darkest. See
//! [`colour_classes`].
//!
//! Text: the SVG pictures carry their text as `<text>` elements (escaped by plotters' SVG backend;
//! characters XML cannot carry are replaced here) and the browser renders them with its own fonts,
//! so Chinese names are fine there. The PNG must rasterise glyphs itself, the binary must not look
//! fonts up on the system, and a CJK font would weigh megabytes; so it embeds a 14 kB ASCII subset
//! of DejaVu Sans (`analytics/fonts/`) and draws only printable-ASCII text: the legend's numbers,
//! and the title, legend title, names and region labels when they are ASCII. A non-ASCII outline
//! name is replaced by its 1-based position in [`MapPicture::outlines`] (so a caller can print a
//! key beside the picture); a non-ASCII title, legend title or region label is left out; the
//! notices "暂无数据" and "无数据" become "No data" and "no data".

mod chart;
mod map;
mod projection;

use std::fmt::Display;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

pub use chart::{bars_svg, trend_svg};
pub use map::{ColourClass, RAMP, colour_classes, map_png, map_svg};

/// A district outline: the base layer of the map, in lon/lat (WGS84).
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    pub name: String,
    pub shape: geo::MultiPolygon<f64>,
}

/// A hex cell or an area, filled by the class of its value; the label is drawn at its centroid.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub shape: geo::MultiPolygon<f64>,
    pub value: f64,
    pub label: Option<String>,
}

/// Everything a map shows.
#[derive(Debug, Clone, Copy)]
pub struct MapPicture<'a> {
    pub title: &'a str,
    pub outlines: &'a [Outline],
    pub regions: &'a [Region],
    pub legend_title: &'a str,
}

/// One line of the trend chart; points need not be sorted, non-finite values are gaps.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(chrono::NaiveDate, f64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The embedded font was refused by the glyph rasteriser (a broken build, not bad data).
    #[error("the embedded font could not be loaded")]
    Font,
    /// plotters failed to draw (in practice only a font lookup can fail here).
    #[error("drawing failed: {0}")]
    Draw(String),
    #[error("PNG encoding failed: {0}")]
    Encode(String),
}

/// The family every picture uses. The SVG names it in `font-family`, so the browser picks its own
/// sans-serif (with CJK glyphs); plotters measures text with the embedded font under this name.
pub(crate) const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans-ascii.ttf");

pub(crate) const TEXT: RGBColor = RGBColor(34, 34, 34);
pub(crate) const GREY: RGBColor = RGBColor(68, 68, 68);
pub(crate) const NO_DATA: &str = "暂无数据";

/// plotters' `ab_glyph` feature looks every family up in a process-wide table (for layout even
/// in SVG), so the font must be registered once before anything is drawn.
fn ensure_font() -> Result<(), RenderError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok());
    if ok { Ok(()) } else { Err(RenderError::Font) }
}

pub(crate) fn draw_err<E: Display>(e: E) -> RenderError {
    RenderError::Draw(e.to_string())
}

/// Which text a backend can show: SVG anything (the browser has the fonts), PNG only ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Glyphs {
    Any,
    Ascii,
}

impl Glyphs {
    /// The text as drawn, or `None` when this backend cannot show it.
    pub(crate) fn show(self, s: &str) -> Option<String> {
        let s = clean(s);
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        match self {
            Glyphs::Any => Some(s.to_owned()),
            Glyphs::Ascii if s.chars().all(|c| c == ' ' || c.is_ascii_graphic()) => {
                Some(s.to_owned())
            }
            Glyphs::Ascii => None,
        }
    }

    /// The "no data" notice in a script this backend can show.
    pub(crate) fn no_data(self) -> &'static str {
        match self {
            Glyphs::Any => NO_DATA,
            Glyphs::Ascii => "No data",
        }
    }
}

/// XML 1.0 cannot carry most control characters even escaped (and plotters escapes only the five
/// markup characters), so data text with them would make the SVG unparseable: they become spaces.
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_control() => ' ',
            '\u{FFFE}' | '\u{FFFF}' => ' ',
            c => c,
        })
        .collect()
}

/// Cuts long labels so one odd name cannot push the layout apart.
pub(crate) fn shorten(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Rough rendered width in pixels. plotters' own measure uses the embedded ASCII font, which knows
/// no CJK glyphs, so layouts that must fit Chinese text count a wide character as a full em.
pub(crate) fn text_width(s: &str, size: f64) -> f64 {
    let ems: f64 = s
        .chars()
        .map(|c| if (c as u32) >= 0x2E80 { 1.0 } else { 0.6 })
        .sum();
    ems * size
}

/// Numbers for legends and axes: at most two decimals, no trailing zeros, never "-0".
pub(crate) fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "—".to_owned();
    }
    let r = (v * 100.0).round() / 100.0 + 0.0;
    let s = format!("{r:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

pub(crate) fn style(size: f64, colour: &RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle {
        font: (FONT, size).into_font(),
        color: colour.to_backend_color(),
        pos: Pos::new(h, v),
    }
}

pub(crate) fn bold(s: TextStyle<'static>) -> TextStyle<'static> {
    TextStyle {
        font: s.font.style(FontStyle::Bold),
        ..s
    }
}

/// Draws on an in-memory SVG document and returns it.
pub(crate) fn svg_picture<F>(size: (u32, u32), draw: F) -> Result<String, RenderError>
where
    F: FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), RenderError>,
{
    ensure_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        draw(&root)?;
        root.present().map_err(draw_err)?;
    }
    Ok(out)
}

/// Draws on an RGB buffer and returns it encoded as PNG.
pub(crate) fn png_picture<F>(size: (u32, u32), draw: F) -> Result<Vec<u8>, RenderError>
where
    F: FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), RenderError>,
{
    ensure_font()?;
    let (w, h) = size;
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        draw(&root)?;
        root.present().map_err(draw_err)?;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let enc_err = |e: png::EncodingError| RenderError::Encode(e.to_string());
    let mut writer = encoder.write_header().map_err(enc_err)?;
    writer.write_image_data(&rgb).map_err(enc_err)?;
    writer.finish().map_err(enc_err)?;
    Ok(out)
}

/// The whole picture when there is nothing to show: the title and a centred notice, so a
/// dashboard gets a valid image rather than an error.
pub(crate) fn draw_no_data<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    glyphs: Glyphs,
) -> Result<(), RenderError> {
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (
        i32::try_from(w).unwrap_or(i32::MAX),
        i32::try_from(h).unwrap_or(i32::MAX),
    );
    if let Some(title) = glyphs.show(title) {
        let title = shorten(&title, 60);
        let s = bold(style(28.0, &TEXT, HPos::Center, VPos::Top));
        root.draw(&Text::new(title, (w / 2, 14), s))
            .map_err(draw_err)?;
    }
    let s = style(24.0, &GREY, HPos::Center, VPos::Center);
    root.draw(&Text::new(glyphs.no_data(), (w / 2, h / 2), s))
        .map_err(draw_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(clean("a\u{1}b\u{FFFF}c\n"), "a b c ");
        assert_eq!(Glyphs::Any.show(" \u{0} "), None);
    }

    #[test]
    fn ascii_backend_refuses_chinese() {
        assert_eq!(Glyphs::Ascii.show("朝阳区"), None);
        assert_eq!(Glyphs::Ascii.show("Zone 3"), Some("Zone 3".to_owned()));
        assert_eq!(Glyphs::Any.show("朝阳区"), Some("朝阳区".to_owned()));
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(96.456), "96.46");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(-0.001), "0");
        assert_eq!(fmt_num(f64::NAN), "—");
    }

    #[test]
    fn long_names_are_cut() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
        assert!(text_width("朝阳", 10.0) > text_width("ab", 10.0));
    }

    #[test]
    fn the_embedded_font_registers() {
        assert!(ensure_font().is_ok());
    }
}
