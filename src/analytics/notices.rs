//! What analytics tells leaders by e-mail: new early warnings, and the monthly report.

use super::*;
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
        let Some(email) = u.email.clone() else {
            continue;
        };
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
    hotline
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
        .map_err(ApiError::from)
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
        let pct =
            |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |x| format!("{:.1}%", x * 100.0));
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
