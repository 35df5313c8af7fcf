//! The trend line chart over days and the horizontal ranking bar chart, both as SVG.

use chrono::{Datelike, NaiveDate};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    GREY, Glyphs, RenderError, Series, TEXT, clean, draw_err, draw_no_data, fmt_num, shorten,
    style, svg_picture, text_width,
};

const WIDTH: u32 = 960;
const TREND_LEGEND_W: u32 = 220;
const LEGEND_ROW: i32 = 26;
const BAR_ROW: u32 = 30;
const BAR: RGBColor = RGBColor(0x4e, 0x79, 0xa7);
const MESH: RGBColor = RGBColor(232, 232, 232);

/// Tableau 10: distinct hues that stay apart for colour-blind readers; repeats past ten series.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xba, 0xb0, 0xac),
];

/// A series' finite points as (day number, value), sorted by day and split where a value is
/// missing, so a gap shows as a break in the line rather than a made-up segment.
fn runs_of(points: &[(NaiveDate, f64)]) -> Vec<Vec<(i32, f64)>> {
    let mut pts: Vec<(i32, f64)> = points
        .iter()
        .map(|(d, v)| (d.num_days_from_ce(), *v))
        .collect();
    pts.sort_by_key(|p| p.0);
    let mut runs = Vec::new();
    let mut cur = Vec::new();
    for (d, v) in pts {
        if v.is_finite() {
            cur.push((d, v));
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

/// A value axis from zero (or below, for negatives) with a little headroom above the top.
fn value_range(values: impl Iterator<Item = f64>, headroom: f64) -> Option<(f64, f64)> {
    let (lo, hi) = values.fold(None, |acc: Option<(f64, f64)>, v| {
        Some(acc.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
    })?;
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let hi = if hi - lo <= 0.0 { lo + 1.0 } else { hi };
    let pad = (hi - lo) * headroom;
    Some((
        if lo < 0.0 { lo - pad } else { lo },
        if hi > 0.0 { hi + pad } else { hi },
    ))
}

/// Line chart of daily values, one line per series, dates on the x axis, legend on the right.
pub fn trend_svg(title: &str, series: &[Series]) -> Result<String, RenderError> {
    let runs: Vec<Vec<Vec<(i32, f64)>>> = series.iter().map(|s| runs_of(&s.points)).collect();
    let all = || runs.iter().flatten().flatten();
    let days = all().map(|p| p.0).fold(None, |acc: Option<(i32, i32)>, d| {
        Some(acc.map_or((d, d), |(lo, hi)| (lo.min(d), hi.max(d))))
    });
    let (Some((d0, d1)), Some((y0, y1))) = (days, value_range(all().map(|p| p.1), 0.08)) else {
        return svg_picture((WIDTH, 480), |root| draw_no_data(root, title, Glyphs::Any));
    };
    // A single day still needs a width to draw on.
    let (d0, d1) = if d0 == d1 { (d0 - 1, d1 + 1) } else { (d0, d1) };
    let rows = u32::try_from(series.len()).unwrap_or(u32::MAX / 32);
    let height = (100 + 26 * rows).max(480);
    let same_year = day(d0).map(|d| d.year()) == day(d1).map(|d| d.year());
    let fmt_day = move |d: &i32| {
        let f = if same_year { "%m-%d" } else { "%Y-%m-%d" };
        day(*d).map(|d| d.format(f).to_string()).unwrap_or_default()
    };
    let fmt_value = |v: &f64| fmt_num(*v);
    let title = shorten(&clean(title), 60);
    svg_picture((WIDTH, height), |root| {
        let (plot, legend) = root.split_horizontally(WIDTH - TREND_LEGEND_W);
        let mut chart = ChartBuilder::on(&plot)
            .caption(&title, (super::FONT, 28))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(d0..d1, y0..y1)
            .map_err(draw_err)?;
        let x_labels = usize::try_from(d1 - d0 + 1).unwrap_or(1).min(8);
        chart
            .configure_mesh()
            .x_labels(x_labels)
            .x_label_formatter(&fmt_day)
            .y_label_formatter(&fmt_value)
            .light_line_style(MESH)
            .label_style((super::FONT, 15))
            .max_light_lines(1)
            .draw()
            .map_err(draw_err)?;
        for (i, runs) in runs.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            for run in runs {
                let line = LineSeries::new(run.iter().copied(), colour.stroke_width(2));
                chart.draw_series(line).map_err(draw_err)?;
                // Markers, so a lone day between gaps is still visible.
                let dots = run.iter().map(|&p| Circle::new(p, 3, colour.filled()));
                chart.draw_series(dots).map_err(draw_err)?;
            }
        }
        for (i, s) in series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let y = 64 + LEGEND_ROW * i32::try_from(i).unwrap_or(i32::MAX / LEGEND_ROW - 64);
            let swatch = PathElement::new(vec![(8, y), (38, y)], colour.stroke_width(3));
            legend.draw(&swatch).map_err(draw_err)?;
            let name = shorten(&clean(&s.name), 14);
            let s = style(16.0, &TEXT, HPos::Left, VPos::Center);
            legend
                .draw(&Text::new(name, (46, y), s))
                .map_err(draw_err)?;
        }
        Ok(())
    })
}

fn day(n: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(n)
}

/// Horizontal bars in the given order (the first item on top), each labelled with its value and
/// unit; an item whose value is not finite keeps its row and says "无数据" instead of a bar.
pub fn bars_svg(title: &str, items: &[(String, f64)], unit: &str) -> Result<String, RenderError> {
    let finite = items.iter().map(|i| i.1).filter(|v| v.is_finite());
    let Some((x0, x1)) = value_range(finite, 0.18) else {
        return svg_picture((WIDTH, 360), |root| draw_no_data(root, title, Glyphs::Any));
    };
    let labels: Vec<String> = items.iter().map(|(l, _)| shorten(&clean(l), 24)).collect();
    let label_w = labels
        .iter()
        .map(|l| text_width(l, 16.0 / 1.24))
        .fold(0.0, f64::max);
    // Bounded, so one very long name cannot squeeze the bars away.
    let label_w = (label_w + 24.0).clamp(64.0, 360.0) as u32;
    let rows = u32::try_from(items.len()).unwrap_or(u32::MAX / BAR_ROW);
    let height = (110 + BAR_ROW * rows).max(240);
    let n = f64::from(rows);
    let unit = clean(unit);
    let fmt_value = |v: &f64| format!("{}{unit}", fmt_num(*v));
    let title = shorten(&clean(title), 60);
    svg_picture((WIDTH, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (super::FONT, 28))
            .margin(16)
            .x_label_area_size(36)
            .y_label_area_size(label_w)
            .build_cartesian_2d(x0..x1, 0.0..n)
            .map_err(draw_err)?;
        // Row labels are drawn below by hand: plotters would tick the y axis at round numbers.
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_label_formatter(&fmt_value)
            .light_line_style(MESH)
            .label_style((super::FONT, 15))
            .max_light_lines(1)
            .draw()
            .map_err(draw_err)?;
        for (j, ((_, v), label)) in items.iter().zip(&labels).enumerate() {
            // Row j from the top: plotters' y grows upwards.
            let top = n - j as f64;
            let mid = top - 0.5;
            let (lx, ly) = chart.backend_coord(&(x0, mid));
            let s = style(16.0, &TEXT, HPos::Right, VPos::Center);
            root.draw(&Text::new(label.clone(), (lx - 8, ly), s))
                .map_err(draw_err)?;
            if !v.is_finite() {
                let (zx, zy) = chart.backend_coord(&(0.0, mid));
                let s = style(15.0, &GREY, HPos::Left, VPos::Center);
                root.draw(&Text::new("无数据", (zx + 6, zy), s))
                    .map_err(draw_err)?;
                continue;
            }
            let mut bar = Rectangle::new([(0.0, top), (*v, top - 1.0)], BAR.filled());
            bar.set_margin(5, 5, 0, 0);
            chart.draw_series(std::iter::once(bar)).map_err(draw_err)?;
            let (vx, vy) = chart.backend_coord(&(*v, mid));
            let (dx, h) = if *v < 0.0 {
                (-6, HPos::Right)
            } else {
                (6, HPos::Left)
            };
            let s = style(15.0, &TEXT, h, VPos::Center);
            root.draw(&Text::new(fmt_value(v), (vx + dx, vy), s))
                .map_err(draw_err)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, day).unwrap_or_default()
    }

    #[test]
    fn runs_split_at_gaps_and_sort_by_day() {
        let pts = vec![
            (d(3), 3.0),
            (d(1), 1.0),
            (d(2), f64::NAN),
            (d(4), 4.0),
            (d(5), f64::INFINITY),
        ];
        let runs = runs_of(&pts);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0], vec![(d(1).num_days_from_ce(), 1.0)]);
        assert_eq!(runs[1].len(), 2);
    }

    #[test]
    fn value_range_starts_at_zero_and_survives_flat_data() {
        assert_eq!(value_range([5.0, 5.0].into_iter(), 0.0), Some((0.0, 5.0)));
        assert_eq!(value_range([0.0].into_iter(), 0.0), Some((0.0, 1.0)));
        assert_eq!(value_range(std::iter::empty(), 0.1), None);
        let Some((lo, hi)) = value_range([-2.0, 4.0].into_iter(), 0.5) else {
            panic!()
        };
        assert!(lo < -2.0 && hi > 4.0);
    }

    #[test]
    fn series_use_their_palette_colour() {
        let series = [
            Series {
                name: "a".into(),
                points: vec![(d(1), 1.0), (d(2), 2.0)],
            },
            Series {
                name: "b".into(),
                points: vec![(d(1), 3.0)],
            },
        ];
        let svg = trend_svg("t", &series).unwrap_or_default();
        for c in &PALETTE[..2] {
            let hex = format!("stroke=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
            assert!(svg.matches(&hex).count() >= 2, "{hex} line and legend");
        }
    }

    #[test]
    fn a_single_day_and_a_single_bar_draw() {
        let s = [Series {
            name: "x".into(),
            points: vec![(d(1), 0.0)],
        }];
        assert!(trend_svg("t", &s).is_ok_and(|svg| svg.contains("<polyline")));
        let bars = bars_svg("t", &[("only".into(), 0.0)], "%");
        assert!(bars.is_ok_and(|svg| svg.contains("only") && svg.contains("0%")));
    }
}
