//! Early warnings over the top-level category × area series of the rollups.

use super::*;
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
                category: names
                    .get(&category)
                    .cloned()
                    .unwrap_or_else(|| "未分类".into()),
                area: if area.is_empty() {
                    "未定位".into()
                } else {
                    name_of(&areas, &area)
                },
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
