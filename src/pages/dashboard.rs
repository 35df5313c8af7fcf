//! 领导驾驶舱, the leaders' dashboard: the period's rates, the heat map, the trend, the unit
//! ranking, hot issues, early warnings and sentiment, every figure from the rollups, the maps and
//! charts inline SVG drawn by plotters; and today's counts, fetched again by `live.js` after each
//! event of the `wallboard` topic. `?wall=1` is the big-screen mode for the wall: dark, large,
//! the page reloaded every five minutes.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use hotline_analytics::keeper::Rollups;
use hotline_analytics::render::{self, MapPicture};
use hotline_core::ApiError;
use hotline_core::auth::{Permission, role_permits};
use hotline_core::http::{PageCaller, PageError, PageUser};
use hotline_core::store::board;
use hotline_core::workflow::Hotline;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::{OrPage, Pages};
use crate::analytics::{self as service, Grouping, Params};
use crate::routes::analytics::{PictureParams, chart_rate, map_layers, rates_chart, trend_chart};

/// How many lines the page's lists show.
const LISTED: usize = 8;

#[derive(Debug, Default, Deserialize)]
struct Query {
    from: Option<String>,
    to: Option<String>,
    category: Option<String>,
    #[serde(rename = "type")]
    appeal_type: Option<String>,
    channel: Option<String>,
    /// `areas` (default) or `hex`.
    map: Option<String>,
    /// `district` (default) or `street`.
    level: Option<String>,
    wall: Option<String>,
    part: Option<String>,
}

/// One line of the sentiment table.
#[derive(Debug, Serialize)]
struct Mood {
    name: String,
    tickets: i64,
    negative: Option<f64>,
    sentiment: Option<f64>,
}

fn moods(lines: Vec<hotline_analytics::rates::Ranked>) -> Vec<Mood> {
    let mut out: Vec<Mood> = lines
        .into_iter()
        .filter(|l| l.rates.tickets > 0)
        .map(|l| Mood {
            name: l.name,
            tickets: l.rates.tickets,
            negative: l.rates.negative,
            sentiment: l.rates.sentiment,
        })
        .collect();
    out.sort_by(|a, b| {
        b.negative
            .unwrap_or(0.0)
            .total_cmp(&a.negative.unwrap_or(0.0))
            .then(b.tickets.cmp(&a.tickets))
    });
    out.truncate(LISTED);
    out
}

pub async fn page(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    rollups: web::Data<Rollups>,
    pages: web::Data<Pages>,
    caller: PageCaller,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    let (_, seq) = super::live::open(
        &req,
        &hotline,
        &caller,
        role_permits(caller.user.role, Permission::ReadAnalytics),
        "the dashboard is for leaders, dispatchers and unit administrators",
    )
    .await?;
    let q: Query = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| ApiError::invalid("query", "is not a valid query string"))
        .or_page(&caller)?;
    let now = hotline.now.get();
    let scope = caller.scope.clone();
    let since = service::midnight(&hotline, service::today(&hotline)).unwrap_or(now);
    let today = hotline
        .db
        .run(move |c| board::counts_since(c, &scope, since))
        .await
        .or_page(&caller)?;
    let me = PageUser::of(&caller);
    let wall = q.wall.as_deref() == Some("1");
    if let Some(part) = q.part.as_deref().filter(|p| *p != "today") {
        return Err(ApiError::not_found(&format!("part {part}"))).or_page(&caller);
    }
    if q.part.as_deref() == Some("today") {
        return pages.render(
            StatusCode::OK,
            "dashboard_today.html",
            context! { today, at => now },
        );
    }
    let params = Params {
        from: q.from.clone(),
        to: q.to.clone(),
        category: q.category.clone(),
        appeal_type: q.appeal_type.clone(),
        channel: q.channel.clone(),
    };
    let (f, period) = service::filter(&hotline, &caller, &params)
        .await
        .or_page(&caller)?;
    let rollups: Arc<Rollups> = rollups.into_inner();
    let summary = service::summary(&hotline, f.clone(), period.clone())
        .await
        .or_page(&caller)?;
    let days = service::trend(&hotline, f.clone()).await.or_page(&caller)?;
    let picture = PictureParams {
        kind: q.map.clone(),
        level: q.level.clone(),
        resolution: Some(7),
    };
    let (outlines, regions) = map_layers(&hotline, &rollups, f.clone(), &picture)
        .await
        .or_page(&caller)?;
    let title = format!("诉求分布 {} 至 {}", period.from, period.to);
    let map_svg = render::map_svg(&MapPicture {
        title: &title,
        outlines: &outlines,
        regions: &regions,
        legend_title: "诉求件数",
    })
    .map_err(ApiError::internal)
    .or_page(&caller)?;
    let units = service::rankings(&hotline, &rollups, f.clone(), Grouping::Unit)
        .await
        .or_page(&caller)?;
    let ranking_svg = rates_chart(&units, chart_rate(None).or_page(&caller)?).or_page(&caller)?;
    let trend_svg = trend_chart(&days).or_page(&caller)?;
    let by_category = service::rankings(&hotline, &rollups, f.clone(), Grouping::Category)
        .await
        .or_page(&caller)?;
    let by_area = service::rankings(&hotline, &rollups, f.clone(), Grouping::Area)
        .await
        .or_page(&caller)?;
    let mut hot = service::hot_issues(&hotline, &rollups, &caller, &period, &f)
        .await
        .or_page(&caller)?;
    hot.truncate(LISTED);
    let rule = hotline_analytics::warning::Rule::default();
    let warnings = service::warnings(&hotline, &rollups, f, &rule)
        .await
        .or_page(&caller)?;
    let ranked: Vec<_> = units.into_iter().filter(|l| l.rank > 0).take(10).collect();
    pages.render(
        StatusCode::OK,
        "dashboard.html",
        context! {
            me,
            seq,
            wall,
            at => now,
            today,
            period,
            rates => summary.rates,
            by_status => summary.by_status,
            map => q.map.clone().unwrap_or_else(|| "areas".into()),
            level => q.level.clone().unwrap_or_else(|| "district".into()),
            map_svg,
            trend_svg,
            ranking_svg,
            ranked,
            hot,
            warnings,
            mood_categories => moods(by_category),
            mood_areas => moods(by_area),
        },
    )
}
