//! The exports' tables: the period's tickets and a ranking.

use super::*;
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
    use hotline_core::store::tickets;
    let tz = hotline.time.snapshot().calendar.tz();
    let filter = ticket_filter(hotline, period, f);
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
        "工单编号",
        "受理时间",
        "渠道",
        "类型",
        "紧急程度",
        "分类",
        "标题",
        "状态",
        "承办单位",
        "所属区域",
        "联系电话",
        "派单时间",
        "签收时间",
        "答复时间",
        "办结时间",
        "满意度",
        "退单次数",
        "重办次数",
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
                t.category_id
                    .and_then(|c| category_names.get(&c).cloned())
                    .into(),
                t.title.clone().into(),
                t.status.label_zh().into(),
                t.main_unit_id
                    .map(|u| name_of(&areas, &u.to_string()))
                    .into(),
                areas
                    .area_of(t)
                    .map(|a| name_of(&areas, &a.to_string()))
                    .into(),
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
        "排名",
        "名称",
        "工单数",
        "派单数",
        "响应率",
        "解决率",
        "满意率",
        "按时办结率",
        "退单率",
        "重办率",
        "延期率",
        "平均办理时长（工作小时）",
        "负面占比",
        "综合得分",
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
