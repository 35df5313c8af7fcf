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

/// Checks the caller may read analytics and turns the parameters into a filter.
pub async fn filter(
    hotline: &Hotline,
    caller: &Caller,
    p: &Params,
) -> Result<(Filter, Period), ApiError> {
    caller.require(Permission::ReadAnalytics)?;
    let to = date("to", p.to.as_deref())?.unwrap_or_else(|| today(hotline));
    let from = date("from", p.from.as_deref())?
        .unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(ApiError::invalid("from", "must not be after `to`"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid(
            "from",
            format!("the period may cover at most {MAX_DAYS} days"),
        ));
    }
    let appeal_type = match p.appeal_type.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(t) => Some(
            t.parse::<AppealType>()
                .map_err(|_| ApiError::invalid("type", "is not an appeal type"))?
                .as_ref()
                .to_owned(),
        ),
    };
    let channel = match p.channel.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
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
        out.extend(all.iter().filter(|c| c.parent_id == Some(parent)).map(|c| c.id));
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
                    let name = if k.is_empty() { "未定位".to_owned() } else { name_of(&areas, &k) };
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

fn merge(rows: impl Iterator<Item = (String, String, Measures)>) -> Vec<(String, String, Measures)> {
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

/// The most recent appeals hot-issue mining reads.
const HOT_LIMIT: i64 = 3_000;

/// A hot issue as the API shows it: the miner's cluster with the members' numbers and titles.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HotIssueView {
    pub label: String,
    pub keywords: Vec<String>,
    pub volume: usize,
    pub growth: f64,
    pub reaction: i64,
    pub score: f64,
    pub area: Option<String>,
    pub place_name: Option<String>,
    pub first_at: chrono::DateTime<chrono::Utc>,
    pub last_at: chrono::DateTime<chrono::Utc>,
    pub members: Vec<HotMember>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HotMember {
    pub ticket_id: String,
    pub number: String,
    pub title: String,
}

/// Clusters of the period's appeals (the newest [`HOT_LIMIT`] in the caller's scope) about one
/// matter, ranked.
pub async fn hot_issues(
    hotline: &Hotline,
    rollups: &Arc<Rollups>,
    caller: &Caller,
    period: &Period,
    f: &Filter,
) -> Result<Vec<HotIssueView>, ApiError> {
    use hotline_core::store::tickets::{self, TicketFilter};
    let cal = hotline.time.snapshot().calendar.clone();
    let tz = cal.tz();
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    let filter = TicketFilter {
        received_from: start(period.from),
        received_to: start(period.to + Duration::days(1)),
        category_ids: f
            .categories
            .iter()
            .flatten()
            .filter_map(|c| c.parse().ok())
            .collect(),
        appeal_type: period.appeal_type.as_deref().and_then(|t| t.parse().ok()),
        channel: period.channel.as_deref().and_then(|c| c.parse().ok()),
        ..TicketFilter::default()
    };
    let scope = caller.scope.clone();
    let now = hotline.now.get();
    let (found, _) = hotline
        .db
        .run(move |c| tickets::list(c, &filter, &scope, None, HOT_LIMIT, now))
        .await?;
    let areas = rollups.areas();
    let appeals: Vec<hotline_analytics::hot::Appeal> = found
        .iter()
        .filter(|t| t.merged_into.is_none())
        .map(|t| hotline_analytics::hot::Appeal {
            id: t.id.to_string(),
            title: t.title.clone(),
            detail: t.detail.clone(),
            place: areas.area_of(t).map(|a| a.to_string()),
            at: t.received_at,
            likes: 0,
            dislikes: 0,
        })
        .collect();
    let end = start(period.to + Duration::days(1)).unwrap_or(now).min(now);
    let params = hotline_analytics::hot::Params {
        window: end - start(period.from).unwrap_or(end - Duration::days(30)),
        ..hotline_analytics::hot::Params::default()
    };
    let issues = tokio::task::spawn_blocking(move || {
        hotline_analytics::hot::mine(&appeals, end, &params)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let by_id: HashMap<String, &hotline_core::ticket::Ticket> =
        found.iter().map(|t| (t.id.to_string(), t)).collect();
    Ok(issues
        .into_iter()
        .map(|i| HotIssueView {
            members: i
                .members
                .iter()
                .filter_map(|m| by_id.get(m))
                .map(|t| HotMember {
                    ticket_id: t.id.to_string(),
                    number: t.number.to_string(),
                    title: t.title.clone(),
                })
                .collect(),
            area: i.place.as_deref().map(|a| name_of(&areas, a)),
            label: i.label,
            keywords: i.keywords,
            volume: i.volume,
            growth: i.growth,
            reaction: i.reaction,
            score: i.score,
            place_name: i.place_name,
            first_at: i.first_at,
            last_at: i.last_at,
        })
        .collect())
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

/// The most tickets one export holds (a larger period is exported in parts).
pub const EXPORT_LIMIT: usize = 50_000;

/// The period's tickets in the caller's scope, newest first, personal data masked.
pub async fn tickets_table(
    hotline: &Hotline,
    rollups: &Arc<Rollups>,
    caller: &Caller,
    period: &Period,
    f: &Filter,
) -> Result<hotline_analytics::export::Table, ApiError> {
    use hotline_analytics::export::{Table, Value};
    use hotline_core::domain::text::mask_phone;
    use hotline_core::store::tickets::{self, TicketFilter};
    let cal = hotline.time.snapshot().calendar.clone();
    let tz = cal.tz();
    let start = move |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    let filter = TicketFilter {
        received_from: start(period.from),
        received_to: start(period.to + Duration::days(1)),
        category_ids: f
            .categories
            .iter()
            .flatten()
            .filter_map(|c| c.parse().ok())
            .collect(),
        appeal_type: period.appeal_type.as_deref().and_then(|t| t.parse().ok()),
        channel: period.channel.as_deref().and_then(|c| c.parse().ok()),
        ..TicketFilter::default()
    };
    let scope = caller.scope.clone();
    let now = hotline.now.get();
    let (found, all_categories) = hotline
        .db
        .run(move |c| {
            let mut out = Vec::new();
            let mut after = None;
            loop {
                let (page, next) = tickets::list(c, &filter, &scope, after.as_ref(), 200, now)?;
                out.extend(page);
                match next {
                    Some(n) if out.len() < EXPORT_LIMIT => after = Some(n),
                    _ => break,
                }
            }
            out.truncate(EXPORT_LIMIT);
            Ok::<_, ApiError>((out, categories::list(c)?))
        })
        .await?;
    let areas = rollups.areas();
    let category_names: HashMap<_, _> = all_categories
        .iter()
        .map(|c| (c.id, c.full_name.clone()))
        .collect();
    let china = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
    };
    let headers = [
        "工单编号", "受理时间", "渠道", "类型", "紧急程度", "分类", "标题", "状态", "承办单位",
        "所属区域", "联系电话", "派单时间", "签收时间", "答复时间", "办结时间", "满意度",
        "退单次数", "重办次数",
    ];
    let rows = found
        .iter()
        .map(|t| {
            vec![
                Value::from(t.number.to_string()),
                china(t.received_at).into(),
                t.channel.label_zh().into(),
                t.appeal_type.label_zh().into(),
                t.urgency.label_zh().into(),
                t.category_id.and_then(|c| category_names.get(&c).cloned()).into(),
                t.title.clone().into(),
                t.status.label_zh().into(),
                t.main_unit_id.map(|u| name_of(&areas, &u.to_string())).into(),
                areas.area_of(t).map(|a| name_of(&areas, &a.to_string())).into(),
                t.citizen_phone.as_deref().map(mask_phone).into(),
                t.dispatched_at.map(china).into(),
                t.signed_at.map(china).into(),
                t.replied_at.map(china).into(),
                t.closed_at.map(china).into(),
                t.rating.map(|r| r.label_zh().to_owned()).into(),
                i64::from(t.return_count).into(),
                i64::from(t.redo_count).into(),
            ]
        })
        .collect();
    Ok(Table {
        headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        rows,
    })
}

/// A ranking as a table: one line per unit (level, category, area or month) with every rate.
pub fn rates_table(lines: &[Ranked]) -> hotline_analytics::export::Table {
    use hotline_analytics::export::{Table, Value};
    let headers = [
        "排名", "名称", "工单数", "派单数", "响应率", "解决率", "满意率", "按时办结率", "退单率",
        "重办率", "延期率", "平均办理时长（工作小时）", "负面占比", "综合得分",
    ];
    let rows = lines
        .iter()
        .map(|l| {
            let r = &l.rates;
            vec![
                i64::try_from(l.rank).map_or(Value::Empty, Value::Int),
                l.name.clone().into(),
                r.tickets.into(),
                r.dispatched.into(),
                r.response.into(),
                r.resolution.into(),
                r.satisfaction.into(),
                r.on_time.into(),
                r.return_rate.into(),
                r.redo.into(),
                r.extension.into(),
                r.average_handling_hours.into(),
                r.negative.into(),
                r.score.into(),
            ]
        })
        .collect();
    Table {
        headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        rows,
    }
}

/// A warning as the API and the dashboard show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarningView {
    pub category_id: String,
    pub category: String,
    pub area_id: String,
    pub area: String,
    /// The window's first and last day.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The daily counts of the history and the window, oldest first.
    pub series: Vec<u32>,
    #[serde(flatten)]
    pub warning: hotline_analytics::warning::Warning,
    pub level_label: String,
}

/// Every top-level category × area series whose latest window (ending on `to`, default today)
/// flags under `rule`, the strongest first. The period's `from` is ignored: the rule reads its
/// own history.
pub async fn warnings(
    hotline: &Hotline,
    rollups: &Arc<Rollups>,
    mut f: Filter,
    rule: &hotline_analytics::warning::Rule,
) -> Result<Vec<WarningView>, ApiError> {
    let to = f.to.unwrap_or_else(|| today(hotline));
    let span = i64::from(rule.window_days + rule.history_days);
    let first = to - Duration::days(span - 1);
    f.from = Some(first);
    f.to = Some(to);
    let (rows, all) = hotline
        .db
        .run(move |c| Ok::<_, ApiError>((read::series(c, &f)?, categories::list(c)?)))
        .await?;
    let tops = top_levels(&all);
    let days = usize::try_from(span).unwrap_or(0);
    let mut series: HashMap<(String, String), Vec<u32>> = HashMap::new();
    for (category, area, day, n) in rows {
        let Ok(d) = NaiveDate::parse_from_str(&day, "%Y-%m-%d") else {
            continue;
        };
        let Ok(i) = usize::try_from((d - first).num_days()) else {
            continue;
        };
        let top = tops.get(&category).map(|t| t.0.clone()).unwrap_or_default();
        let counts = series.entry((top, area)).or_insert_with(|| vec![0; days]);
        if let Some(slot) = counts.get_mut(i) {
            *slot = slot.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        }
    }
    let areas = rollups.areas();
    let names: HashMap<String, String> = tops.values().cloned().collect();
    let window = i64::from(rule.window_days);
    let mut out: Vec<WarningView> = series
        .into_iter()
        .filter_map(|((category, area), counts)| {
            let w = hotline_analytics::warning::check(&counts, first, rule)?;
            Some(WarningView {
                category: names.get(&category).cloned().unwrap_or_else(|| "未分类".into()),
                area: if area.is_empty() { "未定位".into() } else { name_of(&areas, &area) },
                category_id: category,
                area_id: area,
                from: to - Duration::days(window - 1),
                to,
                series: counts,
                level_label: w.level.label_zh().to_owned(),
                warning: w,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.warning
            .z
            .total_cmp(&a.warning.z)
            .then(a.category_id.cmp(&b.category_id))
            .then(a.area_id.cmp(&b.area_id))
    });
    Ok(out)
}

/// The addresses of the leaders who oversee `area` (their unit's subtree holds it; a leader of
/// the whole tree oversees every area), sorted.
fn leaders_of(
    conn: &mut hotline_core::DbConn,
    area: &str,
) -> Result<Vec<String>, hotline_core::StoreError> {
    use hotline_core::domain::Role;
    use hotline_core::store::{units, users};
    let area: Option<hotline_core::ids::UnitId> = area.parse().ok();
    let mut out = Vec::new();
    for u in users::list(conn, None)? {
        let Some(email) = u.email.clone() else { continue };
        if !u.active || u.role != Role::Leader {
            continue;
        }
        let unit = units::get(conn, u.unit_id)?;
        let covers = hotline_core::scope::is_tree_root(&unit.path)
            || area.is_some_and(|a| {
                units::get(conn, a).is_ok_and(|au| au.path.starts_with(&unit.path))
            });
        if covers {
            out.push(email);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Queues one e-mail per new warning (a category × area × window end is told once, whatever
/// the nodes) to the leaders who oversee its area; returns how many were queued.
pub async fn notify_warnings(
    hotline: &Hotline,
    rollups: &Arc<Rollups>,
    notices: &hotline_dispatch::mail::notices::Notices,
) -> Result<usize, ApiError> {
    use hotline_dispatch::mail::outbox::{self, NewMessage};
    let to = today(hotline);
    let f = Filter {
        to: Some(to),
        ..Filter::default()
    };
    let rule = hotline_analytics::warning::Rule::default();
    let found = warnings(hotline, rollups, f, &rule).await?;
    if found.is_empty() {
        return Ok(0);
    }
    let domain = notices.domain().to_owned();
    let link = notices.link("/dashboard");
    let now = hotline.now.get();
    Ok(hotline
        .db
        .write(move |c| {
            let mut messages = Vec::new();
            for w in &found {
                let recipients = leaders_of(c, &w.area_id)?;
                if recipients.is_empty() {
                    continue;
                }
                let mut body = format!(
                    "未诉先办预警（{}）\n\n{} · {}：{} 至 {} 共 {} 件诉求，按前 {} 天的规律预计约 {:.1} 件（{:.1} 倍，z = {:.1}）。\n\n近 {} 天每日件数：{}\n",
                    w.level_label,
                    w.area,
                    w.category,
                    w.from,
                    w.to,
                    w.warning.observed,
                    rule.history_days,
                    w.warning.expected,
                    w.warning.ratio,
                    w.warning.z,
                    w.series.len(),
                    w.series.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
                );
                if let Some(l) = &link {
                    body.push_str(&format!("\n领导驾驶舱：{l}\n"));
                }
                messages.push(NewMessage {
                    dedupe_key: format!("warning:{}:{}:{}", w.category_id, w.area_id, w.to),
                    kind: "early_warning",
                    ticket_id: None,
                    unit_id: w.area_id.parse().ok(),
                    recipients,
                    subject: format!("【未诉先办预警·{}】{} {}", w.level_label, w.area, w.category),
                    body,
                });
            }
            outbox::enqueue(c, messages, &domain, now)
        })
        .await
        .map_err(ApiError::from)?)
}

/// How often each node looks for new warnings to tell (the outbox's keys make it once).
const WARNING_POLL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Tells leaders of new warnings, and sends last month's report once a month, until the task is
/// dropped.
pub async fn run_warning_notices(
    hotline: Hotline,
    rollups: Arc<Rollups>,
    notices: Arc<hotline_dispatch::mail::notices::Notices>,
) {
    let mut tick = tokio::time::interval(WARNING_POLL);
    loop {
        tick.tick().await;
        match notify_warnings(&hotline, &rollups, &notices).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(messages = n, "early warnings sent to leaders"),
            Err(e) => tracing::warn!(error = %e, "early-warning notices failed"),
        }
        match monthly_reports(&hotline, &rollups, &notices).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(messages = n, "monthly reports queued for leaders"),
            Err(e) => tracing::warn!(error = %e, "monthly reports failed"),
        }
    }
}

/// The month before `today`'s: its first and last day.
pub fn last_month(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    use chrono::Datelike;
    let first_this = today.with_day(1).unwrap_or(today);
    let last = first_this - Duration::days(1);
    (last.with_day(1).unwrap_or(last), last)
}

/// Queues last month's report to every leader with an address, once per leader and month
/// (whichever node, however often it runs): the rates of their scope's units in the body, the
/// ranking as an XLSX workbook and the heat map as a PNG attached. Returns how many were queued.
pub async fn monthly_reports(
    hotline: &Hotline,
    rollups: &Arc<Rollups>,
    notices: &hotline_dispatch::mail::notices::Notices,
) -> Result<usize, ApiError> {
    use hotline_analytics::render::{self, MapPicture};
    use hotline_core::domain::Role;
    use hotline_core::store::{units, users};
    use hotline_dispatch::mail::outbox::{self, NewAttachment, NewMessage};
    let (from, to) = last_month(today(hotline));
    let month = from.format("%Y-%m").to_string();
    let leaders = hotline
        .db
        .run(|c| {
            let mut out = Vec::new();
            for u in users::list(c, None)? {
                if !(u.active && u.role == Role::Leader) || u.email.is_none() {
                    continue;
                }
                let unit = units::get(c, u.unit_id)?;
                let scope = if hotline_core::scope::is_tree_root(&unit.path) {
                    None
                } else {
                    Some(
                        units::subtree_ids(c, &unit.path)?
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>(),
                    )
                };
                out.push((u, unit.name, scope));
            }
            Ok::<_, ApiError>(out)
        })
        .await?;
    let mut queued = 0;
    for (leader, unit_name, scope) in leaders {
        let key = format!("monthly-report:{month}:{}", leader.id);
        let f = Filter {
            from: Some(from),
            to: Some(to),
            scope,
            ..Filter::default()
        };
        let totals = summary(
            hotline,
            f.clone(),
            Period {
                from,
                to,
                category: None,
                appeal_type: None,
                channel: None,
            },
        )
        .await?;
        let lines = rankings(hotline, rollups, f.clone(), Grouping::Unit).await?;
        let workbook = hotline_analytics::export::to_xlsx(&rates_table(&lines), "三率排名")
            .map_err(ApiError::internal)?;
        let pictures = crate::routes::analytics::PictureParams {
            kind: None,
            level: None,
            resolution: None,
        };
        let (outlines, regions) =
            crate::routes::analytics::map_layers(hotline, rollups, f, &pictures).await?;
        let map = render::map_png(&MapPicture {
            title: &month,
            outlines: &outlines,
            regions: &regions,
            legend_title: "appeals",
        })
        .map_err(ApiError::internal)?;
        let r = &totals.rates;
        let pct = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |x| format!("{:.1}%", x * 100.0));
        let mut body = format!(
            "{name}：\n\n{unit} {month} 月度诉求报告（{from} 至 {to}）\n\n受理诉求 {tickets} 件，派单 {dispatched} 件。\n响应率 {response}，解决率 {resolution}，满意率 {satisfaction}，按时办结率 {on_time}，退单率 {returned}，重办率 {redo}，延期率 {extension}。\n\n承办单位综合排名（前十）：\n",
            name = leader.display_name,
            unit = unit_name,
            tickets = r.tickets,
            dispatched = r.dispatched,
            response = pct(r.response),
            resolution = pct(r.resolution),
            satisfaction = pct(r.satisfaction),
            on_time = pct(r.on_time),
            returned = pct(r.return_rate),
            redo = pct(r.redo),
            extension = pct(r.extension),
        );
        for l in lines.iter().filter(|l| l.rank > 0).take(10) {
            body.push_str(&format!(
                "{}. {}：{} 件，响应率 {}，解决率 {}，满意率 {}\n",
                l.rank,
                l.name,
                l.rates.tickets,
                pct(l.rates.response),
                pct(l.rates.resolution),
                pct(l.rates.satisfaction)
            ));
        }
        body.push_str("\n附件：各单位考核指标（XLSX）、诉求热力图（PNG，区县按编码顺序编号：1 = 编码最小的区县）。\n");
        if let Some(l) = notices.link("/dashboard") {
            body.push_str(&format!("领导驾驶舱：{l}\n"));
        }
        let files = vec![
            NewAttachment {
                name: format!("rates-{month}.xlsx"),
                content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                    .into(),
                bytes: workbook,
            },
            NewAttachment {
                name: format!("heatmap-{month}.png"),
                content_type: "image/png".into(),
                bytes: map,
            },
        ];
        let message = NewMessage {
            dedupe_key: key,
            kind: "monthly_report",
            ticket_id: None,
            unit_id: Some(leader.unit_id),
            recipients: leader.email.iter().cloned().collect(),
            subject: format!("【月度报告】{unit_name} {month} 诉求办理情况"),
            body,
        };
        let domain = notices.domain().to_owned();
        let now = hotline.now.get();
        let went = hotline
            .db
            .write(move |c| {
                // Owned here: the message borrows nothing from the loop.
                outbox::enqueue_with(c, message, &files, &domain, now)
            })
            .await
            .map_err(ApiError::from)?;
        queued += usize::from(went);
    }
    Ok(queued)
}
