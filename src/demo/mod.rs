//! `hotline demo`: the fictional province 西地省 with its city A市, the official category tree, the
//! 2026 working-day calendar, staff logins, and a few hundred tickets built from the shared real
//! appeals in every state of the loop. Everything is idempotent: a second start adds nothing.

mod plan;
pub(crate) use plan::real_appeals;
mod tickets;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use hotline_core::domain::{Role, UnitRef};
use hotline_core::ids::UserId;
use hotline_core::store::{units, users};
use hotline_core::workflow::Hotline;

use crate::config::Settings;
use crate::import;

pub const ORG_CSV: &str = include_str!("../../demo/org.csv");
pub const TAXONOMY_CSV: &str = include_str!("../../demo/appeals/taxonomy.csv");
pub const CALENDAR_CSV: &str = include_str!("../../demo/calendar/cn-2026.csv");
pub const MESSAGES_CSV: &str = include_str!("../../demo/appeals/messages.csv");
pub const REPLIES_CSV: &str = include_str!("../../demo/appeals/replies.csv");
pub const HOT_CSV: &str = include_str!("../../demo/appeals/hot_messages.csv");
pub const PLACES_CSV: &str = include_str!("../../demo/places.csv");
pub const AREAS_GEOJSON: &str = include_str!("../../demo/areas.geojson");

/// The logins the demo prints: (username, role, unit code, display name).
pub const STAFF: &[(&str, Role, &str, &str)] = &[
    ("admin", Role::Admin, "990000", "系统管理员"),
    ("leader", Role::Leader, "990100", "市领导"),
    ("agent1", Role::Agent, "990100-12345", "话务员小王"),
    ("agent2", Role::Agent, "990100-12345", "话务员小李"),
    (
        "dispatcher",
        Role::Dispatcher,
        "990100-12345",
        "派单班长老张",
    ),
    ("a2", Role::UnitHandler, "990103", "A2区承办人"),
    ("a2admin", Role::UnitAdmin, "990103", "A2区单位管理员"),
    ("street", Role::UnitHandler, "990103001", "桂花坪街道承办人"),
    ("zjj", Role::UnitHandler, "990100-ZJJ", "市住建局承办人"),
    ("a1", Role::UnitHandler, "990102", "A1区承办人"),
    ("reviewer", Role::Reviewer, "990100-12345", "知识审核员小周"),
    (
        "reviewer2",
        Role::Reviewer,
        "990100-12345",
        "知识审核员小陈",
    ),
];

#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub unit: String,
    /// One of [`STAFF`] (printed); the others are the handlers of the remaining units.
    pub listed: bool,
}

/// A staff member the seeding acts as.
#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: UserId,
    pub role: Role,
    pub unit: UnitRef,
}

fn logins_path(data_dir: &Path) -> PathBuf {
    data_dir.join("demo-logins.txt")
}

fn read_logins(path: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(u, p)| (u.trim().to_owned(), p.trim().to_owned()))
        .collect()
}

/// The handler account of a unit that has no listed staff: `h` + its code.
pub fn handler_name(code: &str) -> String {
    format!("h{}", code.to_lowercase().replace('-', "_"))
}

/// Creates (or, when the saved password is unknown, resets) the demo accounts.
fn ensure_accounts(
    hotline: &Hotline,
    data_dir: &Path,
    handler_units: &[String],
) -> anyhow::Result<(Vec<DemoLogin>, HashMap<String, Member>)> {
    let path = logins_path(data_dir);
    let mut saved = read_logins(&path);
    let mut wanted: Vec<(String, Role, String, String, bool)> = STAFF
        .iter()
        .map(|(u, r, c, d)| ((*u).to_owned(), *r, (*c).to_owned(), (*d).to_owned(), true))
        .collect();
    for code in handler_units {
        if !STAFF
            .iter()
            .any(|(_, r, c, _)| c == code && r.is_unit_staff())
        {
            wanted.push((
                handler_name(code),
                Role::UnitHandler,
                code.clone(),
                format!("{code}承办人"),
                false,
            ));
        }
    }
    let mut logins = Vec::new();
    let mut members = HashMap::new();
    let mut conn = hotline.db.get()?;
    for (username, role, code, display, listed) in wanted {
        let unit = units::by_code(&mut conn, &code)?
            .with_context(|| format!("demo unit {code} is missing"))?;
        let existing = users::by_username(&mut conn, &username)?;
        let password = match (saved.get(&username), &existing) {
            (Some(p), Some(_)) => p.clone(),
            _ => {
                let p = hotline_core::auth::token::random_token()[..16].to_owned();
                let hash = crate::accounts::hash_password("password", &p)
                    .map_err(|e| anyhow::anyhow!("{}", e.message))?;
                match &existing {
                    Some((u, _)) => {
                        let changes = users::UserChanges {
                            password_hash: Some(hash),
                            ..Default::default()
                        };
                        users::update(&mut conn, u.id, changes, hotline_core::db::now())?;
                    }
                    None => {
                        let spec = crate::accounts::AccountSpec {
                            username: username.clone(),
                            display_name: if listed {
                                display.clone()
                            } else {
                                format!("{}承办人", unit.name)
                            },
                            role,
                            unit_id: unit.id,
                            password_hash: hash,
                            email: None,
                        };
                        hotline
                            .db
                            .write_blocking(|c| crate::accounts::insert(c, &spec))?;
                    }
                }
                saved.insert(username.clone(), p.clone());
                p
            }
        };
        let user = users::by_username(&mut conn, &username)?
            .with_context(|| format!("demo user {username} is missing"))?
            .0;
        members.insert(
            username.clone(),
            Member {
                user_id: user.id,
                role: user.role,
                unit: unit.as_ref(),
            },
        );
        logins.push(DemoLogin {
            username,
            password,
            role,
            unit: unit.name,
            listed,
        });
    }
    let text: String = logins
        .iter()
        .map(|l| format!("{}\t{}\n", l.username, l.password))
        .collect();
    crate::secret::write_private(&path, &text)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok((logins, members))
}

fn check(what: &str, report: &import::Report) -> anyhow::Result<()> {
    anyhow::ensure!(report.is_ok(), "demo {what} data is invalid: {report}");
    Ok(())
}

/// Loads everything the demo needs; returns the logins to print.
pub async fn seed(hotline: &Hotline, data_dir: &Path) -> anyhow::Result<Vec<DemoLogin>> {
    let h = hotline.clone();
    let dir = data_dir.to_path_buf();
    let (logins, members, plan) = tokio::task::spawn_blocking(move || {
        check("org", &import::org::import(&h.db, ORG_CSV)?)?;
        check(
            "category",
            &import::categories::import(&h.db, TAXONOMY_CSV)?,
        )?;
        check("calendar", &import::calendar::import(&h.db, CALENDAR_CSV)?)?;
        check("places", &import::places::import(&h.db, PLACES_CSV)?)?;
        check("areas", &import::areas::import(&h.db, AREAS_GEOJSON)?)?;
        let rules = h.db.write_blocking(|c| {
            hotline_dispatch::routing::defaults::install(c, hotline_core::db::now())
        })?;
        if rules > 0 {
            tracing::info!(rules, "default dispatch rules installed");
        }
        crate::server::reload_rules(&h)?;
        let articles = crate::knowledge_base::seed_demo(&h.db)?;
        if articles > 0 {
            tracing::info!(articles, "demo knowledge articles published");
        }
        let plan = plan::build(&h)?;
        let (logins, members) = ensure_accounts(&h, &dir, &plan.handler_units())?;
        Ok::<_, anyhow::Error>((logins, members, plan))
    })
    .await??;
    let seeded = tickets::seed(hotline, &members, &plan).await?;
    if seeded > 0 {
        tracing::info!(tickets = seeded, "demo tickets created");
    }
    hotline.bus.sequence_now(&hotline.db).await?;
    Ok(logins)
}

pub fn print_welcome(s: &Settings, logins: &[DemoLogin]) {
    println!("12345 热线演示系统 / hotline demo");
    println!(
        "  data: {}  database: {}",
        s.data_dir.display(),
        s.database().redacted()
    );
    println!(
        "  demo logins (all of them, with the unit handlers, are in {}):",
        logins_path(&s.data_dir).display()
    );
    for l in logins.iter().filter(|l| l.listed) {
        println!(
            "    {:<11} {:<17} {:<12} {}",
            l.username,
            l.password,
            l.role.label_zh(),
            l.unit
        );
    }
}
