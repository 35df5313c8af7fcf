//! The leaders' pictures: maps parse as SVG with the right fills, names and legend; the PNG decodes
//! with the darkest colour where the top region is; charts carry every series and item; empty and
//! non-finite inputs still give a valid "no data" picture.

use chrono::NaiveDate;
use geo::{LineString, MultiPolygon, Polygon};
use hotline_analytics::render::{
    MapPicture, Outline, RAMP, Region, Series, bars_svg, colour_classes, map_png, map_svg,
    trend_svg,
};

/// A square from (lon, lat) with side `s` degrees.
fn square(lon: f64, lat: f64, s: f64) -> MultiPolygon<f64> {
    let ring = vec![
        (lon, lat),
        (lon + s, lat),
        (lon + s, lat + s),
        (lon, lat + s),
        (lon, lat),
    ];
    MultiPolygon(vec![Polygon::new(LineString::from(ring), vec![])])
}

/// A flat-topped hexagon around (lon, lat) with radius `r` degrees.
fn hexagon(lon: f64, lat: f64, r: f64) -> MultiPolygon<f64> {
    let ring: Vec<(f64, f64)> = (0..=6)
        .map(|i| {
            let a = f64::from(i % 6) * std::f64::consts::PI / 3.0;
            (lon + r * a.cos(), lat + r * a.sin())
        })
        .collect();
    MultiPolygon(vec![Polygon::new(LineString::from(ring), vec![])])
}

fn outlines() -> Vec<Outline> {
    vec![
        Outline {
            name: "东城区".into(),
            shape: square(116.30, 39.80, 0.10),
        },
        Outline {
            name: "<script>".into(),
            shape: square(116.40, 39.80, 0.10),
        },
    ]
}

/// Values 10, 20, 30, 40 and 500 on hexagons, one empty (0) and one NaN cell. The 500 cell sits
/// in the lower half of the west district, away from both district names (at the centroids).
fn regions() -> Vec<Region> {
    let cell = |lon, lat, value: f64, label: Option<&str>| Region {
        shape: hexagon(lon, lat, 0.012),
        value,
        label: label.map(str::to_owned),
    };
    vec![
        cell(116.33, 39.82, 500.0, None),
        cell(116.37, 39.82, 40.0, Some("40")),
        cell(116.43, 39.82, 30.0, Some("30")),
        cell(116.47, 39.82, 20.0, None),
        cell(116.43, 39.88, 10.0, None),
        cell(116.33, 39.88, 0.0, None),
        cell(116.37, 39.88, f64::NAN, None),
    ]
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02X}{g:02X}{b:02X}")
}

fn texts(doc: &roxmltree::Document) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().trim().to_owned())
        .collect()
}

fn count(doc: &roxmltree::Document, tag: &str, attr: &str, value: &str) -> usize {
    doc.descendants()
        .filter(|n| {
            n.has_tag_name(tag)
                && n.attribute(attr)
                    .is_some_and(|v| v.eq_ignore_ascii_case(value))
        })
        .count()
}

#[test]
fn map_svg_fills_names_and_legend() {
    let (outlines, regions) = (outlines(), regions());
    let picture = MapPicture {
        title: "热点分布",
        outlines: &outlines,
        regions: &regions,
        legend_title: "工单数",
    };
    let svg = map_svg(&picture).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();

    let polygons: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polygon"))
        .collect();
    assert_eq!(polygons.len(), 5, "one polygon per region with data");
    let classes = colour_classes(regions.iter().map(|r| r.value));
    assert_eq!(classes.len(), 5);
    // Regions are drawn in order: the 500 cell first, with the darkest colour and no other has it.
    assert_eq!(polygons[0].attribute("fill"), Some(hex(RAMP[4]).as_str()));
    assert_eq!(count(&doc, "polygon", "fill", &hex(RAMP[4])), 1);
    assert_eq!(polygons[4].attribute("fill"), Some(hex(RAMP[0]).as_str()));
    for (p, c) in polygons.iter().zip([4, 3, 2, 1, 0]) {
        assert_eq!(p.attribute("fill"), Some(hex(RAMP[c]).as_str()));
    }

    let texts = texts(&doc);
    for want in [
        "热点分布",
        "工单数",
        "东城区",
        "<script>",
        "40",
        "30",
        "无数据",
    ] {
        assert!(
            texts.iter().any(|t| t == want),
            "missing text {want}: {texts:?}"
        );
    }
    for c in &classes {
        let label = if c.min == c.max {
            format!("{}", c.min)
        } else {
            format!("{} – {}", c.min, c.max)
        };
        assert!(texts.contains(&label), "legend entry {label}: {texts:?}");
        // Each legend swatch is a filled rect in its class colour.
        assert_eq!(count(&doc, "rect", "fill", &c.hex()), 1);
    }
    // The hostile name stays text: escaped in the source, no element made of it.
    assert!(
        svg.contains(">\n&lt;script&gt;\n</text>"),
        "escaped text node"
    );
    assert!(!doc.descendants().any(|n| n.has_tag_name("script")));
    // Outlines: one open path per district ring, dark grey.
    assert_eq!(count(&doc, "polyline", "stroke", "#444444"), 2);
}

#[test]
fn map_png_decodes_with_darkest_colour_at_the_top_region() {
    let (outlines, regions) = (outlines(), regions());
    let picture = MapPicture {
        title: "Hot spots",
        outlines: &outlines,
        regions: &regions,
        legend_title: "tickets",
    };
    let bytes = map_png(&picture).unwrap();
    assert!(bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]));

    let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    assert_eq!((frame.width, frame.height), (960, 720));
    assert_eq!(frame.color_type, png::ColorType::Rgb);
    let pixel = |x: u32, y: u32| {
        let i = (y * frame.width + x) as usize * 3;
        (buf[i], buf[i + 1], buf[i + 2])
    };

    // The same projection as the renderer: the picture is 960×720 with the map box at
    // x 16..712, y 52..704; the bounding box of everything is the two districts' 0.2°×0.1°.
    let kx = (39.85f64).to_radians().cos();
    let (w, h) = (0.2 * kx, 0.1);
    let scale = (696.0 / w).min(652.0 / h);
    let off = (
        16.0 + (696.0 - w * scale) / 2.0,
        52.0 + (652.0 - h * scale) / 2.0,
    );
    let px = |lon: f64, lat: f64| {
        (
            (off.0 + (lon - 116.30) * kx * scale).round() as u32,
            (off.1 + (39.90 - lat) * scale).round() as u32,
        )
    };
    let (x, y) = px(116.33, 39.82);
    assert_eq!(pixel(x, y), RAMP[4], "darkest class at the 500 cell");
    let (x, y) = px(116.47, 39.82);
    assert_eq!(pixel(x, y), RAMP[1]);
    // The zero cell is left unfilled.
    let (x, y) = px(116.33, 39.88);
    assert_eq!(pixel(x, y), (255, 255, 255));
    // Far from everything: the bottom-left corner is background.
    assert_eq!(pixel(3, 716), (255, 255, 255));
}

#[test]
fn map_without_anything_says_no_data() {
    let picture = MapPicture {
        title: "热点",
        outlines: &[],
        regions: &[],
        legend_title: "件",
    };
    let svg = map_svg(&picture).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert!(texts(&doc).iter().any(|t| t == "暂无数据"));
    let png = map_png(&picture).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
}

#[test]
fn map_with_only_empty_values_draws_outlines_and_says_no_data() {
    let outlines = outlines();
    let regions = vec![
        Region {
            shape: square(116.32, 39.82, 0.02),
            value: f64::INFINITY,
            label: Some("∞".into()),
        },
        Region {
            shape: square(116.36, 39.82, 0.02),
            value: f64::NAN,
            label: None,
        },
        Region {
            shape: square(116.42, 39.82, 0.02),
            value: 0.0,
            label: None,
        },
    ];
    let picture = MapPicture {
        title: "t",
        outlines: &outlines,
        regions: &regions,
        legend_title: "件",
    };
    let svg = map_svg(&picture).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("polygon"))
            .count(),
        0
    );
    let texts = texts(&doc);
    assert!(texts.iter().any(|t| t == "暂无数据"));
    assert!(texts.iter().any(|t| t == "东城区"));
    assert!(map_png(&picture).is_ok());
}

#[test]
fn non_finite_coordinates_and_control_characters_do_not_break_the_svg() {
    let mut bad = square(116.30, 39.80, 0.1);
    bad.0[0].exterior_mut(|ring| ring.0.push(geo::coord! { x: f64::NAN, y: 39.85 }));
    let outlines = vec![Outline {
        name: "a\u{1}b\u{FFFF}".into(),
        shape: bad,
    }];
    let regions = vec![Region {
        shape: square(116.32, 39.82, 0.02),
        value: 3.0,
        label: Some("x\u{0}".into()),
    }];
    let picture = MapPicture {
        title: "\u{7}",
        outlines: &outlines,
        regions: &regions,
        legend_title: "",
    };
    let svg = map_svg(&picture).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert!(texts(&doc).iter().any(|t| t == "a b"));
    assert!(map_png(&picture).is_ok());
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 4, d).unwrap_or_default()
}

#[test]
fn trend_has_a_line_and_a_legend_entry_per_series() {
    let series = vec![
        Series {
            name: "供水".into(),
            points: (1..=10).map(|d| (day(d), f64::from(d * 3))).collect(),
        },
        Series {
            name: "噪声 & <扰民>".into(),
            points: (1..=10).map(|d| (day(d), f64::from(30 - d))).collect(),
        },
        Series {
            name: "gaps".into(),
            points: vec![
                (day(2), 5.0),
                (day(3), f64::NAN),
                (day(4), 7.0),
                (day(5), f64::INFINITY),
            ],
        },
    ];
    let svg = trend_svg("诉求趋势", &series).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts = texts(&doc);
    for s in &series {
        assert!(texts.contains(&s.name), "series {}: {texts:?}", s.name);
    }
    assert!(texts.iter().any(|t| t == "诉求趋势"));
    assert!(
        texts.iter().any(|t| t.starts_with("04-")),
        "date ticks: {texts:?}"
    );
    // Per series: its data line(s) plus its legend swatch, each a polyline in its own colour.
    let strokes: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter_map(|n| n.attribute("stroke"))
        .collect();
    let mut distinct = strokes.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(strokes.len() > 2 * series.len(), "{strokes:?}");
    assert!(distinct.len() >= series.len(), "{distinct:?}");
}

#[test]
fn trend_without_data_says_no_data() {
    for series in [
        vec![],
        vec![Series {
            name: "x".into(),
            points: vec![(day(1), f64::NAN)],
        }],
    ] {
        let svg = trend_svg("趋势", &series).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert!(texts(&doc).iter().any(|t| t == "暂无数据"));
    }
}

#[test]
fn bars_have_a_rect_and_label_per_item() {
    let items = vec![
        ("朝阳区城管委".to_owned(), 98.5),
        ("海淀区水务局".to_owned(), 91.25),
        ("<b>丰台</b>".to_owned(), 80.0),
        ("缺数据单位".to_owned(), f64::NAN),
    ];
    let svg = bars_svg("按时办结率", &items, "%").unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts = texts(&doc);
    for (label, _) in &items {
        assert!(texts.contains(label), "label {label}: {texts:?}");
    }
    for want in ["98.5%", "91.25%", "80%", "无数据", "按时办结率"] {
        assert!(texts.iter().any(|t| t == want), "missing {want}: {texts:?}");
    }
    assert_eq!(
        count(&doc, "rect", "fill", "#4E79A7"),
        3,
        "a bar per finite item"
    );
    // The first item is the top bar.
    let ys: Vec<f64> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some("#4E79A7"))
        .filter_map(|n| n.attribute("y")?.parse().ok())
        .collect();
    assert!(ys.windows(2).all(|w| w[0] < w[1]), "{ys:?}");
}

#[test]
fn bars_without_data_say_no_data() {
    for items in [vec![], vec![("x".to_owned(), f64::INFINITY)]] {
        let svg = bars_svg("排名", &items, "%").unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert!(texts(&doc).iter().any(|t| t == "暂无数据"));
    }
}
