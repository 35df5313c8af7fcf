//! Which real appeal becomes which demo ticket, where it is routed and how far along the loop it
//! goes. Routing follows what the appeal says: a district named in the text gets it (and one of
//! its streets, for pass-down), otherwise the city department of its category.

use hotline_core::domain::{AppealType, Channel, Level, UnitKind};
use hotline_core::ids::CategoryId;
use hotline_core::store::{categories, units};
use hotline_core::workflow::Hotline;

/// How far along the loop a demo ticket goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Received,
    Dispatched,
    Signed,
    PassedDown,
    PassedDownSigned,
    Returned,
    Ruled,
    ExtensionRequested,
    ExtensionApproved,
    Suspended,
    Supervised,
    Overdue,
    Replied,
    Visited,
    Closed,
    ClosedViaStreet,
    Redo,
    Answered,
    Withdrawn,
    Merged,
}

#[derive(Debug, Clone)]
pub struct TicketPlan {
    pub title: String,
    pub detail: String,
    pub reply: Option<String>,
    pub appeal_type: AppealType,
    pub channel: Channel,
    pub phone: String,
    pub category_id: Option<CategoryId>,
    /// Unit codes: the main unit, a unit below it for pass-down, another unit for re-dispatch.
    pub main: String,
    pub below: Option<String>,
    pub other: String,
    pub script: Script,
    /// Where the appeal is (latitude, longitude), inside the area of the street or district its
    /// text names; None for a third of them (their area comes from the text) and for appeals
    /// that name no district.
    pub position: Option<(f64, f64)>,
}

pub struct Plan {
    pub tickets: Vec<TicketPlan>,
}

impl Plan {
    /// Every unit that will have to act on a demo ticket.
    pub fn handler_units(&self) -> Vec<String> {
        let mut codes: Vec<String> = self
            .tickets
            .iter()
            .flat_map(|t| [Some(t.main.clone()), t.below.clone(), Some(t.other.clone())])
            .flatten()
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }
}

pub(crate) struct Appeal {
    pub title: String,
    pub detail: String,
    category: Option<String>,
    reply: Option<String>,
}

fn read(csv_text: &str, reply_column: bool) -> anyhow::Result<Vec<Appeal>> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = r.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (title, detail, category, reply) =
        (col("title"), col("detail"), col("category"), col("reply"));
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        let get = |i: Option<usize>| {
            i.and_then(|i| rec.get(i))
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let (Some(t), Some(d)) = (get(title), get(detail)) else {
            continue;
        };
        out.push(Appeal {
            title: t,
            detail: d,
            category: get(category),
            reply: if reply_column { get(reply) } else { None },
        });
    }
    Ok(out)
}

/// The real appeals shipped with the demo (`demo/appeals/messages.csv`), title and detail cut to
/// what intake takes.
pub(crate) fn real_appeals() -> anyhow::Result<Vec<(String, String)>> {
    Ok(read(super::MESSAGES_CSV, false)?
        .into_iter()
        .map(|a| (truncate(&a.title, 200), truncate(&a.detail, 10_000)))
        .collect())
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The kind of appeal, from the words citizens use.
fn appeal_type(text: &str) -> AppealType {
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if has(&["举报"]) {
        AppealType::Report
    } else if has(&["建议", "希望能", "呼吁"]) {
        AppealType::Suggestion
    } else if has(&["感谢", "表扬", "点赞"]) {
        AppealType::Praise
    } else if has(&["请问", "咨询", "是否", "如何", "怎么办理", "能否"]) {
        AppealType::Consult
    } else if has(&["投诉", "扰民", "违规", "违法", "乱收费", "拖欠"]) {
        AppealType::Complaint
    } else {
        AppealType::Help
    }
}

/// The city department for a first-level category of the shared appeals.
fn department_for(category: Option<&str>) -> &'static str {
    match category {
        Some("城乡建设") => "990100-ZJJ",
        Some("劳动和社会保障") => "990100-RSJ",
        Some("教育文体") => "990100-JYJ",
        Some("交通运输") => "990100-JTJ",
        Some("卫生计生") => "990100-WJW",
        Some("商贸旅游") => "990100-SWJ",
        Some("环境保护") => "990100-STHJJ",
        _ => "990100-CGJ",
    }
}

const REPLY_SCRIPTS: [Script; 6] = [
    Script::Closed,
    Script::ClosedViaStreet,
    Script::Visited,
    Script::Replied,
    Script::Redo,
    Script::Closed,
];

const OPEN_SCRIPTS: [Script; 15] = [
    Script::Received,
    Script::Dispatched,
    Script::Signed,
    Script::PassedDown,
    Script::PassedDownSigned,
    Script::Returned,
    Script::Ruled,
    Script::ExtensionRequested,
    Script::ExtensionApproved,
    Script::Suspended,
    Script::Supervised,
    Script::Overdue,
    Script::Answered,
    Script::Withdrawn,
    Script::Signed,
];

pub fn build(h: &Hotline) -> anyhow::Result<Plan> {
    let mut conn = h.db.get()?;
    let all_units = units::list(&mut conn, &units::UnitFilter::default())?;
    let all_categories = categories::list(&mut conn)?;
    let districts: Vec<&units::Unit> = all_units
        .iter()
        .filter(|u| u.level == Level::District && u.kind == UnitKind::Government)
        .collect();
    let streets_of = |d: &units::Unit| -> Vec<&units::Unit> {
        all_units
            .iter()
            .filter(|u| u.parent_id == Some(d.id) && u.level == Level::Street)
            .collect()
    };

    let shapes: std::collections::HashMap<String, geo::MultiPolygon<f64>> =
        hotline_dispatch::places::areas::load(&mut conn)?
            .into_iter()
            .collect();
    let code_to_id: std::collections::HashMap<&str, String> = all_units
        .iter()
        .map(|u| (u.code.as_str(), u.id.to_string()))
        .collect();
    let position = |i: usize, code: &str| -> Option<(f64, f64)> {
        use geo::{BoundingRect, Contains};
        let shape = shapes.get(code_to_id.get(code)?)?;
        let rect = shape.bounding_rect()?;
        // A fixed spread (no randomness: the demo is the same every time), inside the shape.
        for k in 0..8 {
            #[allow(clippy::cast_precision_loss)]
            let (fx, fy) = (
                ((i * 37 + k * 11) % 97) as f64 / 97.0,
                ((i * 53 + k * 29) % 89) as f64 / 89.0,
            );
            let p = geo::Point::new(
                rect.min().x + fx * rect.width(),
                rect.min().y + fy * rect.height(),
            );
            if shape.contains(&p) {
                // Six decimals (about 0.1 m), as a device reports them: a value with more digits
                // than JSON's shortest form holds would not read back bit for bit from the
                // event's payload, and the ticket row must be exactly the fold of its events.
                let six = |x: f64| (x * 1e6).round() / 1e6;
                return Some((six(p.y()), six(p.x())));
            }
        }
        None
    };

    let replies = read(super::REPLIES_CSV, true)?;
    let messages = read(super::MESSAGES_CSV, false)?;
    let hot = read(super::HOT_CSV, false)?;
    let mut chosen: Vec<(Appeal, Script)> = Vec::new();
    chosen.extend(
        replies
            .into_iter()
            .enumerate()
            .map(|(i, a)| (a, REPLY_SCRIPTS[i % REPLY_SCRIPTS.len()])),
    );
    chosen.extend(
        messages
            .into_iter()
            .take(150)
            .enumerate()
            .map(|(i, a)| (a, OPEN_SCRIPTS[i % OPEN_SCRIPTS.len()])),
    );
    chosen.extend(hot.into_iter().enumerate().map(|(i, a)| {
        let s = match i % 3 {
            0 => Script::Received,
            1 => Script::Merged,
            _ => Script::Dispatched,
        };
        (a, s)
    }));

    let mut tickets = Vec::with_capacity(chosen.len());
    for (i, (a, mut script)) in chosen.into_iter().enumerate() {
        let text = format!("{}{}", a.title, a.detail);
        let district = districts.iter().find(|d| text.contains(&d.name)).copied();
        let named_street = district.and_then(|d| {
            streets_of(d)
                .into_iter()
                .find(|s| text.contains(&s.name))
                .map(|s| s.code.clone())
        });
        let place = named_street.or_else(|| district.map(|d| d.code.clone()));
        let at = place
            .as_deref()
            .filter(|_| i % 3 != 2)
            .and_then(|c| position(i, c));
        let (main, below) = match district {
            Some(d) => {
                let streets = streets_of(d);
                let street = streets
                    .iter()
                    .find(|s| text.contains(&s.name))
                    .or_else(|| streets.first())
                    .map(|s| s.code.clone());
                (d.code.clone(), street)
            }
            None => (department_for(a.category.as_deref()).to_owned(), None),
        };
        let appeal_type = appeal_type(&text);
        // Pass-down needs a unit below; answering directly is for consultations.
        script = match script {
            Script::PassedDown | Script::PassedDownSigned | Script::ClosedViaStreet
                if below.is_none() =>
            {
                Script::Signed
            }
            Script::Answered if appeal_type != AppealType::Consult => Script::Dispatched,
            Script::ExtensionRequested | Script::ExtensionApproved
                if !matches!(appeal_type, AppealType::Help | AppealType::Complaint) =>
            {
                Script::Suspended
            }
            s => s,
        };
        let other = if main == "990100-CGJ" {
            "990100-ZJJ"
        } else {
            "990100-CGJ"
        }
        .to_owned();
        tickets.push(TicketPlan {
            title: truncate(&a.title, 200),
            detail: truncate(&a.detail, 10_000),
            reply: a.reply.map(|r| truncate(&r, 5_000)),
            appeal_type,
            channel: if i % 3 == 0 {
                Channel::Phone
            } else {
                Channel::Web
            },
            phone: format!("139{:08}", (i * 7_919 + 1_234) % 100_000_000),
            category_id: a
                .category
                .as_deref()
                .and_then(|c| all_categories.iter().find(|x| x.level == 1 && x.name == c))
                .map(|c| c.id),
            main,
            below,
            other,
            script,
            position: at,
        });
    }
    Ok(Plan { tickets })
}
