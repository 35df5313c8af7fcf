//! Hot issues of the period's appeals, as the API and the dashboard show them.

use super::*;
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
    use hotline_core::store::tickets;
    let filter = ticket_filter(hotline, period, f);
    let start = |d: NaiveDate| midnight(hotline, d);
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
    let issues =
        tokio::task::spawn_blocking(move || hotline_analytics::hot::mine(&appeals, end, &params))
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
