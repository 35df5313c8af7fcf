//! The leaders' figures, composed from the analytics crate: the caller's filter and scope, the
//! category subtree, unit and area names. The API (`routes::analytics`) and the dashboard page
//! share these.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use hotline_analytics::areas::Areas;
use hotline_analytics::facts::Measures;
use hotline_analytics::keeper::Rollups;
use hotline_analytics::rates::{self, Ranked, Rates};
use hotline_analytics::store::read::{self, Filter};
use hotline_core::ApiError;
use hotline_core::auth::Permission;
use hotline_core::domain::{AppealType, Channel, Level};
use hotline_core::http::Caller;
use hotline_core::scope::Scope;
use hotline_core::store::categories;
use hotline_core::workflow::Hotline;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

mod exports;
mod hot;
mod notices;
mod warnings;

pub use exports::{EXPORT_LIMIT, rates_table, tickets_table};
pub use hot::{HotIssueView, HotMember, hot_issues};
pub use notices::{last_month, monthly_reports, notify_warnings, run_warning_notices};
pub use warnings::{WarningView, warnings};

/// The longest period one query may cover.
const MAX_DAYS: i64 = 3 * 366;
/// The period when none is asked for.
const DEFAULT_DAYS: i64 = 30;

/// The filters every analytics query takes.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// First day (`YYYY-MM-DD`, China date the appeal was received); default 29 days before `to`.
    pub from: Option<String>,
    /// Last day, inclusive; default today.
    pub to: Option<String>,
    /// A category id: it and everything below it.
    pub category: Option<String>,
    /// An appeal type (`consult`, `help`, `complaint`, `report`, `suggestion`, `praise`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub appeal_type: Option<String>,
    /// A channel (`phone`, `web`, `app`, `miniprogram`, `open311`, …).
    pub channel: Option<String>,
}

/// A period and filter as understood.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub category: Option<String>,
    #[serde(rename = "type")]
    pub appeal_type: Option<String>,
    pub channel: Option<String>,
}

fn date(field: &str, v: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::invalid(field, "must be a date YYYY-MM-DD")),
    }
}

/// Today in China.
pub fn today(hotline: &Hotline) -> NaiveDate {
    let cal = &hotline.time.snapshot().calendar;
    hotline_analytics::facts::day_of(cal, hotline.now.get())
}

/// Midnight of a China date, as UTC.
pub fn midnight(hotline: &Hotline, d: NaiveDate) -> Option<chrono::DateTime<chrono::Utc>> {
    let tz = hotline.time.snapshot().calendar.tz();
    d.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// The ticket list's filter for a period and its filters (the tickets received in it).
pub fn ticket_filter(
    hotline: &Hotline,
    period: &Period,
    f: &Filter,
) -> hotline_core::store::tickets::TicketFilter {
    hotline_core::store::tickets::TicketFilter {
        received_from: midnight(hotline, period.from),
        received_to: midnight(hotline, period.to + Duration::days(1)),
        category_ids: f
            .categories
            .iter()
            .flatten()
            .filter_map(|c| c.parse().ok())
            .collect(),
        appeal_type: period.appeal_type.as_deref().and_then(|t| t.parse().ok()),
        channel: period.channel.as_deref().and_then(|c| c.parse().ok()),
        ..hotline_core::store::tickets::TicketFilter::default()
    }
}

/// Checks the caller may read analytics and turns the parameters into a filter.
pub async fn filter(
    hotline: &Hotline,
    caller: &Caller,
    p: &Params,
) -> Result<(Filter, Period), ApiError> {
    caller.require(Permission::ReadAnalytics)?;
    let to = date("to", p.to.as_deref())?.unwrap_or_else(|| today(hotline));
    let from = date("from", p.from.as_deref())?.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(ApiError::invalid("from", "must not be after `to`"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid(
            "from",
            format!("the period may cover at most {MAX_DAYS} days"),
        ));
    }
    let appeal_type = match p
        .appeal_type
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(t) => Some(
            t.parse::<AppealType>()
                .map_err(|_| ApiError::invalid("type", "is not an appeal type"))?
                .as_ref()
                .to_owned(),
        ),
    };
    let channel = match p
        .channel
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(c) => Some(
            c.parse::<Channel>()
                .map_err(|_| ApiError::invalid("channel", "is not a channel"))?
                .as_ref()
                .to_owned(),
        ),
    };
    let category = p
        .category
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let categories = match &category {
        None => None,
        Some(c) => {
            let root: hotline_core::ids::CategoryId = c
                .parse()
                .map_err(|_| ApiError::invalid("category", "is not a category id"))?;
            let all = hotline.db.run(categories::list).await?;
            if !all.iter().any(|x| x.id == root) {
                return Err(ApiError::invalid("category", "no such category"));
            }
            Some(subtree(&all, root))
        }
    };
    let scope = match &caller.scope {
        Scope::All => None,
        Scope::Units(units) => Some(units.iter().map(ToString::to_string).collect()),
    };
    let f = Filter {
        from: Some(from),
        to: Some(to),
        categories,
        appeal_type: appeal_type.clone(),
        channel: channel.clone(),
        scope,
        ..Filter::default()
    };
    let period = Period {
        from,
        to,
        category,
        appeal_type,
        channel,
    };
    Ok((f, period))
}

/// A category and every category below it, as ids.
pub fn subtree(all: &[categories::Category], root: hotline_core::ids::CategoryId) -> Vec<String> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(
            all.iter()
                .filter(|c| c.parent_id == Some(parent))
                .map(|c| c.id),
        );
        i += 1;
    }
    out.iter().map(ToString::to_string).collect()
}

/// The top-level category of each category id (the dashboard's series and charts group by it).
pub fn top_levels(all: &[categories::Category]) -> HashMap<String, (String, String)> {
    let by_id: HashMap<_, _> = all.iter().map(|c| (c.id, c)).collect();
    all.iter()
        .map(|c| {
            let mut top = c;
            while let Some(p) = top.parent_id.and_then(|p| by_id.get(&p)) {
                top = p;
            }
            (c.id.to_string(), (top.id.to_string(), top.name.clone()))
        })
        .collect()
}

/// The sums and rates of the whole filter.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    pub period: Period,
    pub rates: Rates,
    /// Tickets per status (`received`, `dispatched`, …) and per channel.
    pub by_status: Vec<Count>,
    pub by_channel: Vec<Count>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Count {
    pub key: String,
    pub label: String,
    pub count: i64,
}

fn counts(rows: Vec<(String, Measures)>, label: impl Fn(&str) -> String) -> Vec<Count> {
    rows.into_iter()
        .map(|(key, m)| Count {
            label: label(&key),
            key,
            count: m.tickets,
        })
        .collect()
}

pub async fn summary(hotline: &Hotline, f: Filter, period: Period) -> Result<Summary, ApiError> {
    let (totals, by_status, by_channel) = hotline
        .db
        .run(move |c| {
            Ok::<_, ApiError>((
                read::totals(c, &f)?,
                read::by_status(c, &f)?,
                read::by_channel(c, &f)?,
            ))
        })
        .await?;
    Ok(Summary {
        period,
        rates: rates::rates(&totals),
        by_status: counts(by_status, |k| {
            k.parse::<hotline_core::ticket::Status>()
                .map_or_else(|_| k.to_owned(), |s| s.label_zh().to_owned())
        }),
        by_channel: counts(by_channel, |k| {
            k.parse::<Channel>()
                .map_or_else(|_| k.to_owned(), |c| c.label_zh().to_owned())
        }),
    })
}

/// One day of the trend.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Day {
    pub day: String,
    pub tickets: i64,
    pub negative: i64,
    /// Mean sentiment in [-1, 1].
    pub sentiment: Option<f64>,
    pub closed: i64,
}

/// Every day of the period, with zeros for days without appeals.
pub async fn trend(hotline: &Hotline, f: Filter) -> Result<Vec<Day>, ApiError> {
    let (from, to) = (f.from, f.to);
    let rows = hotline.db.run(move |c| read::by_day(c, &f)).await?;
    let by_day: HashMap<String, Measures> = rows.into_iter().collect();
    let (Some(from), Some(to)) = (from, to) else {
        return Ok(Vec::new());
    };
    Ok(from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|d| {
            let key = d.to_string();
            let m = by_day.get(&key).copied().unwrap_or_default();
            let r = rates::rates(&m);
            Day {
                day: key,
                tickets: m.tickets,
                negative: m.negative,
                sentiment: r.sentiment,
                closed: m.closed,
            }
        })
        .collect())
}

/// How a ranking groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// Per handling unit.
    #[default]
    Unit,
    /// Per level of the handling unit (district, street, …).
    Level,
    /// Per top-level category.
    Category,
    /// Per area (street or district).
    Area,
    /// Per calendar month.
    Month,
}

pub async fn rankings(
    hotline: &Hotline,
    rollups: &Arc<Rollups>,
    f: Filter,
    group: Grouping,
) -> Result<Vec<Ranked>, ApiError> {
    let areas = rollups.areas();
    let lines = match group {
        Grouping::Unit | Grouping::Level => {
            let rows = hotline.db.run(move |c| read::by_unit(c, &f)).await?;
            let rows = rows.into_iter().filter(|(k, _)| !k.is_empty());
            if group == Grouping::Unit {
                rows.map(|(k, m)| (name_of(&areas, &k), k, m))
                    .map(|(n, k, m)| (k, n, m))
                    .collect()
            } else {
                merge(rows.map(|(k, m)| {
                    let level = level_of(&areas, &k);
                    (
                        level.map_or_else(String::new, |l| l.as_ref().to_owned()),
                        level.map_or_else(|| "未知".to_owned(), |l| l.label_zh().to_owned()),
                        m,
                    )
                }))
            }
        }
        Grouping::Area => {
            let rows = hotline.db.run(move |c| read::by_area(c, &f)).await?;
            rows.into_iter()
                .map(|(k, m)| {
                    let name = if k.is_empty() {
                        "未定位".to_owned()
                    } else {
                        name_of(&areas, &k)
                    };
                    (k, name, m)
                })
                .collect()
        }
        Grouping::Category => {
            let (rows, all) = hotline
                .db
                .run(move |c| Ok::<_, ApiError>((read::by_category(c, &f)?, categories::list(c)?)))
                .await?;
            let tops = top_levels(&all);
            merge(rows.into_iter().map(|(k, m)| {
                let (id, name) = tops
                    .get(&k)
                    .cloned()
                    .unwrap_or_else(|| (String::new(), "未分类".to_owned()));
                (id, name, m)
            }))
        }
        Grouping::Month => {
            let rows = hotline.db.run(move |c| read::by_day(c, &f)).await?;
            merge(rows.into_iter().map(|(k, m)| {
                let month = k.get(..7).unwrap_or(&k).to_owned();
                (month.clone(), month, m)
            }))
        }
    };
    let mut ranked = rates::rank(lines);
    if group == Grouping::Month {
        ranked.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Ok(ranked)
}

fn merge(
    rows: impl Iterator<Item = (String, String, Measures)>,
) -> Vec<(String, String, Measures)> {
    let mut out: Vec<(String, String, Measures)> = Vec::new();
    for (k, n, m) in rows {
        match out.iter_mut().find(|(key, _, _)| *key == k) {
            Some((_, _, sum)) => sum.add(&m, 1),
            None => out.push((k, n, m)),
        }
    }
    out
}

/// A unit's (or area's) name, or its id when the tree no longer has it.
pub fn name_of(areas: &Areas, id: &str) -> String {
    id.parse()
        .ok()
        .and_then(|u| areas.unit(u))
        .map_or_else(|| id.to_owned(), |u| u.name.clone())
}

fn level_of(areas: &Areas, id: &str) -> Option<Level> {
    id.parse().ok().and_then(|u| areas.unit(u)).map(|u| u.level)
}

/// `hotline analytics rebuild`: recomputes the rollups from the events, with a progress bar.
pub fn rebuild(hotline: &Hotline) -> anyhow::Result<()> {
    use anyhow::Context;
    let rollups = Rollups::new(hotline.db.clone(), hotline.time.clone())?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "replaying [{bar:40}] {pos}/{len} tickets ({elapsed}, {eta} left)",
        )
        .context("progress template")?
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let report = rollups.rebuild_blocking(&mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    println!(
        "analytics rebuilt from {} events of {} tickets: {} rollup rows, {} heat-map cells, in {:.1} s",
        report.events,
        report.tickets,
        report.rollup_rows,
        report.cell_rows,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
