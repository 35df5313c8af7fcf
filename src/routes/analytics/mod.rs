//! The analytics API: sums and rates, trends, rankings, heat maps (GeoJSON, SVG, PNG), hot
//! issues and early warnings, for leaders, dispatchers and unit administrators, each within their
//! scope. Every figure is read from the rollups.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use hotline_analytics::heatmap;
use hotline_analytics::keeper::Rollups;
use hotline_analytics::rates::Ranked;
use hotline_analytics::render::{self, MapPicture, Outline, Region, Series};
use hotline_analytics::store::read;
use hotline_core::ApiError;
use hotline_core::domain::Level;
use hotline_core::error::ErrorBody;
use hotline_core::http::{ApiQuery, Caller};
use hotline_core::workflow::Hotline;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::analytics::{self as service, Day, Grouping, HotIssueView, Params, Period, Summary};

mod pictures;
pub use pictures::{
    __path_chart, __path_heatmap_picture, ChartRate, PictureParams, chart, chart_rate,
    heatmap_picture, map_layers, rates_chart, trend_chart,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/analytics/summary").route(web::get().to(summary)))
        .service(web::resource("/analytics/trend").route(web::get().to(trend)))
        .service(web::resource("/analytics/rates").route(web::get().to(rates)))
        .service(web::resource("/analytics/heatmap/hex").route(web::get().to(heatmap_hex)))
        .service(web::resource("/analytics/heatmap/areas").route(web::get().to(heatmap_areas)))
        .service(web::resource("/analytics/hot-issues").route(web::get().to(hot_issues)))
        .service(web::resource("/analytics/warnings").route(web::get().to(warnings)))
        .service(web::resource("/analytics/heatmap.{format}").route(web::get().to(heatmap_picture)))
        .service(web::resource("/analytics/charts/{chart}").route(web::get().to(chart)))
        .service(web::resource("/analytics/export/{file}").route(web::get().to(export)));
}

#[utoipa::path(get, path = "/api/v1/analytics/summary", tag = "analytics", params(Params),
    responses((status = 200, body = Summary), (status = 422, body = ErrorBody),
        (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn summary(
    hotline: web::Data<Hotline>,
    caller: Caller,
    p: ApiQuery<Params>,
) -> Result<HttpResponse, ApiError> {
    let (f, period) = service::filter(&hotline, &caller, &p).await?;
    Ok(HttpResponse::Ok().json(service::summary(&hotline, f, period).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Trend {
    pub period: Period,
    pub days: Vec<Day>,
}

#[utoipa::path(get, path = "/api/v1/analytics/trend", tag = "analytics", params(Params),
    responses((status = 200, body = Trend), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn trend(
    hotline: web::Data<Hotline>,
    caller: Caller,
    p: ApiQuery<Params>,
) -> Result<HttpResponse, ApiError> {
    let (f, period) = service::filter(&hotline, &caller, &p).await?;
    let days = service::trend(&hotline, f).await?;
    Ok(HttpResponse::Ok().json(Trend { period, days }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RatesParams {
    /// `unit` (default), `level`, `category`, `area` or `month`.
    pub group: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatesAnswer {
    pub period: Period,
    pub group: String,
    /// Best first (by month: in time order); `rank` 0 when a line has no rate to rank by.
    pub lines: Vec<Ranked>,
}

pub fn grouping(v: Option<&str>) -> Result<Grouping, ApiError> {
    match v.map(str::trim).unwrap_or("") {
        "" | "unit" => Ok(Grouping::Unit),
        "level" => Ok(Grouping::Level),
        "category" => Ok(Grouping::Category),
        "area" => Ok(Grouping::Area),
        "month" => Ok(Grouping::Month),
        _ => Err(ApiError::invalid(
            "group",
            "must be unit, level, category, area or month",
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/analytics/rates", tag = "analytics",
    params(Params, RatesParams),
    responses((status = 200, body = RatesAnswer), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rates(
    hotline: web::Data<Hotline>,
    rollups: web::Data<Rollups>,
    caller: Caller,
    p: ApiQuery<Params>,
    g: ApiQuery<RatesParams>,
) -> Result<HttpResponse, ApiError> {
    let group = grouping(g.group.as_deref())?;
    let (f, period) = service::filter(&hotline, &caller, &p).await?;
    let rollups: Arc<Rollups> = rollups.into_inner();
    let lines = service::rankings(&hotline, &rollups, f, group).await?;
    Ok(HttpResponse::Ok().json(RatesAnswer {
        period,
        group: g.group.clone().unwrap_or_else(|| "unit".into()),
        lines,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HexParams {
    /// H3 resolution 5–9 (default 7, about 5 km² a cell).
    pub resolution: Option<u8>,
}

pub fn resolution(r: Option<u8>) -> Result<h3o::Resolution, ApiError> {
    let r = r.unwrap_or(7);
    if !heatmap::RESOLUTIONS.contains(&r) {
        return Err(ApiError::invalid("resolution", "must be 5 to 9"));
    }
    h3o::Resolution::try_from(r).map_err(|_| ApiError::invalid("resolution", "must be 5 to 9"))
}

fn geojson(fc: &geojson::FeatureCollection) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/geo+json")
        .body(fc.to_string())
}

/// The hexagonal cells of the period's appeals (those with a position).
pub async fn hex_cells(
    hotline: &Hotline,
    f: read::Filter,
    res: h3o::Resolution,
) -> Result<std::collections::BTreeMap<h3o::CellIndex, i64>, ApiError> {
    let stored = hotline.db.run(move |c| read::cells(c, &f)).await?;
    Ok(heatmap::cells_at(&stored, res))
}

#[utoipa::path(get, path = "/api/v1/analytics/heatmap/hex", tag = "analytics",
    params(Params, HexParams),
    responses((status = 200, description = "GeoJSON FeatureCollection: one Polygon per H3 cell, properties `cell`, `resolution`, `count`", content_type = "application/geo+json"),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn heatmap_hex(
    hotline: web::Data<Hotline>,
    caller: Caller,
    p: ApiQuery<Params>,
    h: ApiQuery<HexParams>,
) -> Result<HttpResponse, ApiError> {
    let res = resolution(h.resolution)?;
    let (f, _) = service::filter(&hotline, &caller, &p).await?;
    Ok(geojson(&heatmap::hex_collection(
        &hex_cells(&hotline, f, res).await?,
    )))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaParams {
    /// `district` (default) or `street`.
    pub level: Option<String>,
}

pub fn area_level(v: Option<&str>) -> Result<Level, ApiError> {
    match v.map(str::trim).unwrap_or("") {
        "" | "district" => Ok(Level::District),
        "street" => Ok(Level::Street),
        _ => Err(ApiError::invalid("level", "must be district or street")),
    }
}

/// The per-area counts of the period at `level`.
pub async fn area_counts(
    hotline: &Hotline,
    rollups: &Rollups,
    f: read::Filter,
    level: Level,
) -> Result<std::collections::BTreeMap<Option<hotline_core::ids::UnitId>, i64>, ApiError> {
    let rows = hotline.db.run(move |c| read::by_area(c, &f)).await?;
    let counts: Vec<(String, i64)> = rows.into_iter().map(|(a, m)| (a, m.tickets)).collect();
    Ok(heatmap::areas_at(&rollups.areas(), &counts, level))
}

#[utoipa::path(get, path = "/api/v1/analytics/heatmap/areas", tag = "analytics",
    params(Params, AreaParams),
    responses((status = 200, description = "GeoJSON FeatureCollection: one (Multi)Polygon per area with an imported boundary, properties `unit_id`, `code`, `name`, `level`, `count`", content_type = "application/geo+json"),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn heatmap_areas(
    hotline: web::Data<Hotline>,
    rollups: web::Data<Rollups>,
    caller: Caller,
    p: ApiQuery<Params>,
    a: ApiQuery<AreaParams>,
) -> Result<HttpResponse, ApiError> {
    let level = area_level(a.level.as_deref())?;
    let (f, _) = service::filter(&hotline, &caller, &p).await?;
    let counts = area_counts(&hotline, &rollups, f, level).await?;
    Ok(geojson(&heatmap::area_collection(
        &rollups.areas(),
        &counts,
        level,
    )))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HotIssues {
    pub period: Period,
    pub issues: Vec<HotIssueView>,
}

#[utoipa::path(get, path = "/api/v1/analytics/hot-issues", tag = "analytics", params(Params),
    responses((status = 200, body = HotIssues), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn hot_issues(
    hotline: web::Data<Hotline>,
    rollups: web::Data<Rollups>,
    caller: Caller,
    p: ApiQuery<Params>,
) -> Result<HttpResponse, ApiError> {
    let (f, period) = service::filter(&hotline, &caller, &p).await?;
    let rollups: Arc<Rollups> = rollups.into_inner();
    let issues = service::hot_issues(&hotline, &rollups, &caller, &period, &f).await?;
    Ok(HttpResponse::Ok().json(HotIssues { period, issues }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ExportPath {
    /// `tickets.csv`, `tickets.xlsx`, `rates.csv` or `rates.xlsx`.
    pub file: String,
}

/// The period's tickets (personal data masked, at most 50,000, newest first) or a ranking (with
/// `group`), as CSV (UTF-8 with BOM) or XLSX, with the page's filters.
#[utoipa::path(get, path = "/api/v1/analytics/export/{file}", tag = "analytics",
    params(ExportPath, Params, RatesParams),
    responses((status = 200, description = "text/csv or an XLSX workbook", content_type = "text/csv"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export(
    hotline: web::Data<Hotline>,
    rollups: web::Data<Rollups>,
    caller: Caller,
    path: web::Path<ExportPath>,
    p: ApiQuery<Params>,
    g: ApiQuery<RatesParams>,
) -> Result<HttpResponse, ApiError> {
    let (what, format) = path
        .file
        .rsplit_once('.')
        .ok_or_else(|| ApiError::not_found("export"))?;
    if !matches!(what, "tickets" | "rates") || !matches!(format, "csv" | "xlsx") {
        return Err(ApiError::not_found("export"));
    }
    let group = grouping(g.group.as_deref())?;
    let (f, period) = service::filter(&hotline, &caller, &p).await?;
    let rollups: Arc<Rollups> = rollups.into_inner();
    let table = if what == "tickets" {
        service::tickets_table(&hotline, &rollups, &caller, &period, &f).await?
    } else {
        service::rates_table(&service::rankings(&hotline, &rollups, f, group).await?)
    };
    let name = format!("{what}-{}-{}.{format}", period.from, period.to);
    let (bytes, content_type) = if format == "csv" {
        (
            hotline_analytics::export::to_csv(&table).map_err(ApiError::internal)?,
            "text/csv; charset=utf-8",
        )
    } else {
        let sheet = if what == "tickets" {
            "工单"
        } else {
            "三率排名"
        };
        (
            hotline_analytics::export::to_xlsx(&table, sheet).map_err(ApiError::internal)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .body(bytes))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Warnings {
    /// The rule applied (see the README's "Early warning").
    pub rule: hotline_analytics::warning::Rule,
    pub warnings: Vec<service::WarningView>,
}

/// Early warnings (未诉先办): the top-level category × area series whose latest window (the
/// three days ending on `to`, default today) runs well above what the 28 days before predict.
#[utoipa::path(get, path = "/api/v1/analytics/warnings", tag = "analytics", params(Params),
    responses((status = 200, body = Warnings), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn warnings(
    hotline: web::Data<Hotline>,
    rollups: web::Data<Rollups>,
    caller: Caller,
    p: ApiQuery<Params>,
) -> Result<HttpResponse, ApiError> {
    let (f, _) = service::filter(&hotline, &caller, &p).await?;
    let rollups: Arc<Rollups> = rollups.into_inner();
    let rule = hotline_analytics::warning::Rule::default();
    let warnings = service::warnings(&hotline, &rollups, f, &rule).await?;
    Ok(HttpResponse::Ok().json(Warnings { rule, warnings }))
}
