//! The analytics pictures: the heat map as SVG or PNG, and the dashboard's charts as SVG.

use super::*;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PictureParams {
    /// `areas` (default: a choropleth of the areas at `level`) or `hex` (cells at `resolution`).
    pub kind: Option<String>,
    /// For `areas`: `district` (default) or `street`.
    pub level: Option<String>,
    /// For `hex`: H3 resolution 5–9 (default 7).
    pub resolution: Option<u8>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PictureFormat {
    /// `svg` or `png`.
    pub format: String,
}

/// The heat map's outlines and coloured regions for the filter.
pub async fn map_layers(
    hotline: &Hotline,
    rollups: &Rollups,
    f: read::Filter,
    pp: &PictureParams,
) -> Result<(Vec<Outline>, Vec<Region>), ApiError> {
    let areas = rollups.areas();
    let mut outlines: Vec<(String, Outline)> = areas
        .units()
        .filter(|u| u.level == Level::District)
        .filter_map(|u| {
            Some((
                u.code.clone(),
                Outline {
                    name: u.name.clone(),
                    shape: areas.shape(u.id)?.clone(),
                },
            ))
        })
        .collect();
    outlines.sort_by(|a, b| a.0.cmp(&b.0));
    let outlines = outlines.into_iter().map(|(_, o)| o).collect();
    let regions = match pp.kind.as_deref().map(str::trim).unwrap_or("") {
        "" | "areas" => {
            let level = area_level(pp.level.as_deref())?;
            area_counts(hotline, rollups, f, level)
                .await?
                .into_iter()
                .filter_map(|(unit, n)| {
                    let unit = unit?;
                    #[allow(clippy::cast_precision_loss)]
                    Some(Region {
                        shape: areas.shape(unit)?.clone(),
                        value: n as f64,
                        label: areas.unit(unit).map(|u| u.name.clone()),
                    })
                })
                .collect()
        }
        "hex" => {
            let res = resolution(pp.resolution)?;
            hex_cells(hotline, f, res)
                .await?
                .into_iter()
                .map(|(cell, n)| {
                    #[allow(clippy::cast_precision_loss)]
                    Region {
                        shape: geo::MultiPolygon(vec![heatmap::hexagon(cell)]),
                        value: n as f64,
                        label: None,
                    }
                })
                .collect()
        }
        _ => return Err(ApiError::invalid("kind", "must be areas or hex")),
    };
    Ok((outlines, regions))
}

/// The heat map as a picture with a legend and the district outlines, for reports and for
/// places with no map tiles: SVG (Chinese names) or PNG (ASCII text only; districts numbered in
/// code order).
#[utoipa::path(get, path = "/api/v1/analytics/heatmap.{format}", tag = "analytics",
    params(PictureFormat, Params, PictureParams),
    responses((status = 200, description = "image/svg+xml or image/png", content_type = "image/svg+xml"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn heatmap_picture(
    hotline: web::Data<Hotline>,
    rollups: web::Data<Rollups>,
    caller: Caller,
    format: web::Path<PictureFormat>,
    p: ApiQuery<Params>,
    pp: ApiQuery<PictureParams>,
) -> Result<HttpResponse, ApiError> {
    let format = format.format.as_str();
    if !matches!(format, "svg" | "png") {
        return Err(ApiError::not_found("picture"));
    }
    let (f, period) = service::filter(&hotline, &caller, &p).await?;
    let (outlines, regions) = map_layers(&hotline, &rollups, f, &pp).await?;
    let title = format!("诉求热力图 {} 至 {}", period.from, period.to);
    let picture = MapPicture {
        title: &title,
        outlines: &outlines,
        regions: &regions,
        legend_title: "诉求件数",
    };
    Ok(if format == "svg" {
        HttpResponse::Ok()
            .content_type("image/svg+xml")
            .body(render::map_svg(&picture).map_err(ApiError::internal)?)
    } else {
        HttpResponse::Ok()
            .content_type("image/png")
            .body(render::map_png(&picture).map_err(ApiError::internal)?)
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChartParams {
    /// For `rates.svg`: how the ranking groups (see `/analytics/rates`).
    pub group: Option<String>,
    /// For `rates.svg`: `score` (default), `response`, `resolution`, `satisfaction`, `on_time`.
    pub rate: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ChartName {
    /// `trend.svg` (appeals and negative appeals per day) or `rates.svg` (a ranking, in %).
    pub chart: String,
}

/// The most lines a ranking chart shows.
const CHART_LINES: usize = 15;

/// The dashboard's charts as SVG.
#[utoipa::path(get, path = "/api/v1/analytics/charts/{chart}", tag = "analytics",
    params(ChartName, Params, ChartParams),
    responses((status = 200, description = "image/svg+xml", content_type = "image/svg+xml"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn chart(
    hotline: web::Data<Hotline>,
    rollups: web::Data<Rollups>,
    caller: Caller,
    name: web::Path<ChartName>,
    p: ApiQuery<Params>,
    c: ApiQuery<ChartParams>,
) -> Result<HttpResponse, ApiError> {
    let (f, _) = service::filter(&hotline, &caller, &p).await?;
    let rollups: Arc<Rollups> = rollups.into_inner();
    let svg = match name.chart.as_str() {
        "trend.svg" => trend_chart(&service::trend(&hotline, f).await?)?,
        "rates.svg" => {
            let group = grouping(c.group.as_deref())?;
            let rate = chart_rate(c.rate.as_deref())?;
            let lines = service::rankings(&hotline, &rollups, f, group).await?;
            rates_chart(&lines, rate)?
        }
        _ => return Err(ApiError::not_found("chart")),
    };
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// Which rate a ranking chart shows: its name, its label, and how to read it.
pub type ChartRate = (
    &'static str,
    fn(&hotline_analytics::rates::Rates) -> Option<f64>,
);

pub fn chart_rate(v: Option<&str>) -> Result<ChartRate, ApiError> {
    use hotline_analytics::rates::Rates;
    Ok(match v.map(str::trim).unwrap_or("") {
        "" | "score" => ("综合得分", |r: &Rates| r.score),
        "response" => ("响应率", |r: &Rates| r.response),
        "resolution" => ("解决率", |r: &Rates| r.resolution),
        "satisfaction" => ("满意率", |r: &Rates| r.satisfaction),
        "on_time" => ("按时办结率", |r: &Rates| r.on_time),
        _ => {
            return Err(ApiError::invalid(
                "rate",
                "must be score, response, resolution, satisfaction or on_time",
            ));
        }
    })
}

pub fn trend_chart(days: &[Day]) -> Result<String, ApiError> {
    let day = |d: &Day| chrono::NaiveDate::parse_from_str(&d.day, "%Y-%m-%d").ok();
    #[allow(clippy::cast_precision_loss)]
    let series = vec![
        Series {
            name: "诉求件数".into(),
            points: days
                .iter()
                .filter_map(|d| Some((day(d)?, d.tickets as f64)))
                .collect(),
        },
        Series {
            name: "负面诉求".into(),
            points: days
                .iter()
                .filter_map(|d| Some((day(d)?, d.negative as f64)))
                .collect(),
        },
    ];
    render::trend_svg("每日诉求趋势", &series).map_err(ApiError::internal)
}

pub fn rates_chart(lines: &[Ranked], (label, rate): ChartRate) -> Result<String, ApiError> {
    let items: Vec<(String, f64)> = lines
        .iter()
        .filter(|l| l.rank > 0)
        .take(CHART_LINES)
        .map(|l| {
            (
                l.name.clone(),
                rate(&l.rates).map_or(f64::NAN, |r| r * 100.0),
            )
        })
        .collect();
    render::bars_svg(&format!("{label}排名"), &items, "%").map_err(ApiError::internal)
}
