//! `hotline loadgen ws-setup`: the staff of a large centre for `hotline loadgen ws`, written
//! straight into the database (the server need not run): handling units under a government of
//! the org tree, their handlers with live bearer sessions, the centre's dispatchers for the
//! wallboard, and per unit one ticket in handling (received, dispatched to it, signed), which the
//! load generator then suspends and resumes.
//!
//! Logging in 10,000 users through the API would hash 10,000 passwords with argon2, which is slow
//! by design; here every account shares one hash of a random password nobody knows, and each
//! gets a session whose token is written to the tokens file.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use hotline_core::auth::password;
use hotline_core::auth::token::random_token;
use hotline_core::domain::text::{Detail, Title};
use hotline_core::domain::{Actor, AppealType, Channel, Role, UnitKind, UnitRef, Urgency};
use hotline_core::ids::{TicketId, UserId};
use hotline_core::scope::Scope;
use hotline_core::store::sessions;
use hotline_core::store::units::{self, Unit, UnitFilter, UnitSpec};
use hotline_core::store::users::{self, NewUser};
use hotline_core::ticket::{Action, NewAppeal};
use hotline_core::workflow::Hotline;
use hotline_core::{DbConn, StoreError};

use crate::cli::DataArgs;

/// The username of the agent that registers and dispatches the setup's tickets; its presence
/// marks a database that is already set up.
const AGENT: &str = "lg-agent";

#[derive(Debug, Clone, Args)]
pub struct WsSetupArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Handling units to create (codes PARENT-LG0001, PARENT-LG0002, …).
    #[arg(long, default_value_t = 500)]
    pub units: u32,
    /// Handlers per unit, each with a session.
    #[arg(long, default_value_t = 20)]
    pub users_per_unit: u32,
    /// Dispatchers of the centre, each with a session, for the wallboard.
    #[arg(long, default_value_t = 100)]
    pub wallboards: u32,
    /// The government the units are departments of (it must exist: import the org tree first).
    #[arg(long, default_value = "990100")]
    pub parent: String,
    /// How long the sessions last.
    #[arg(long, default_value_t = 72)]
    pub session_hours: i64,
    /// Where to write the tokens (default DATA_DIR/ws-tokens.txt); readable by its owner only.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// One unit of the tokens file: its code, its ticket and its users' tokens (the first one acts).
pub struct UnitTokens {
    pub code: String,
    pub ticket: TicketId,
    pub tokens: Vec<String>,
}

/// What `ws-setup` writes and `ws` reads.
pub struct Tokens {
    pub units: Vec<UnitTokens>,
    pub wallboards: Vec<String>,
}

impl Tokens {
    /// Lines `unit CODE TICKET_ID TOKEN…` and `wallboard TOKEN`; `#` starts a comment.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut out = Self {
            units: Vec::new(),
            wallboards: Vec::new(),
        };
        for (i, line) in text.lines().enumerate() {
            let mut words = line.split_whitespace();
            match words.next() {
                None => {}
                Some(w) if w.starts_with('#') => {}
                Some("unit") => {
                    let (Some(code), Some(ticket)) = (words.next(), words.next()) else {
                        bail!("line {}: `unit CODE TICKET_ID TOKEN…`", i + 1);
                    };
                    let ticket = ticket
                        .parse()
                        .map_err(|_| anyhow::anyhow!("line {}: bad ticket id", i + 1))?;
                    let tokens: Vec<String> = words.map(str::to_owned).collect();
                    if tokens.is_empty() {
                        bail!("line {}: the unit {code} has no tokens", i + 1);
                    }
                    out.units.push(UnitTokens {
                        code: code.to_owned(),
                        ticket,
                        tokens,
                    });
                }
                Some("wallboard") => {
                    let token = words
                        .next()
                        .with_context(|| format!("line {}: `wallboard TOKEN`", i + 1))?;
                    out.wallboards.push(token.to_owned());
                }
                Some(w) => bail!("line {}: unknown record {w:?}", i + 1),
            }
        }
        Ok(out)
    }

    fn render(&self) -> String {
        let mut s = String::from(
            "# hotline loadgen ws-setup: bearer tokens of live sessions; keep this file private\n",
        );
        for u in &self.units {
            s.push_str(&format!(
                "unit {} {} {}\n",
                u.code,
                u.ticket,
                u.tokens.join(" ")
            ));
        }
        for t in &self.wallboards {
            s.push_str(&format!("wallboard {t}\n"));
        }
        s
    }
}

struct Setup {
    hotline: Hotline,
    password_hash: String,
    now: chrono::DateTime<chrono::Utc>,
    expires: chrono::DateTime<chrono::Utc>,
}

impl Setup {
    /// Creates an account with a live bearer session; returns its id and token.
    fn account(
        &self,
        c: &mut DbConn,
        username: &str,
        display_name: &str,
        role: Role,
        unit: &Unit,
    ) -> Result<(UserId, String), StoreError> {
        let user = users::insert(
            c,
            &NewUser {
                username,
                display_name,
                role,
                unit_id: unit.id,
                password_hash: &self.password_hash,
                email: None,
            },
            self.now,
        )?;
        let token = random_token();
        let hash = self.hotline.token_key.hash(&token);
        sessions::insert(
            c,
            &hash,
            user.id,
            "bearer",
            &random_token(),
            self.now,
            self.expires,
        )?;
        Ok((user.id, token))
    }

    /// A ticket received by the centre, dispatched to `unit` and signed by its handler: in
    /// handling, so the handler may suspend and resume it.
    async fn ticket(
        &self,
        agent: &Actor,
        centre: &UnitRef,
        unit: &UnitRef,
        handler: UserId,
        n: u32,
    ) -> anyhow::Result<TicketId> {
        let text = |s: String| Title::parse(&s).map_err(|e| anyhow::anyhow!("{e}"));
        let appeal = NewAppeal {
            channel: Channel::Phone,
            appeal_type: AppealType::Complaint,
            urgency: Urgency::Normal,
            category_id: None,
            title: text(format!("负载测试工单{n:04}"))?,
            detail: Detail::parse(
                "负载测试：该工单由 hotline loadgen ws-setup 创建，用于挂起与恢复办理。",
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?,
            address: None,
            latitude: None,
            longitude: None,
            citizen_name: None,
            citizen_phone: None,
            citizen_id_number: None,
        };
        let h = &self.hotline;
        let err = |e: hotline_core::workflow::WorkflowError| anyhow::anyhow!("setup ticket: {e}");
        let t = h
            .receive(agent.clone(), centre.id, appeal)
            .await
            .map_err(err)?;
        let dispatch = Action::Dispatch {
            main: unit.clone(),
            co: Vec::new(),
            note: None,
        };
        h.act(agent.clone(), Scope::All, t.id, dispatch, None)
            .await
            .map_err(err)?;
        let handler = Actor::Staff {
            user_id: handler,
            role: Role::UnitHandler,
            unit: unit.clone(),
        };
        h.act(handler, Scope::All, t.id, Action::Sign, None)
            .await
            .map_err(err)?;
        Ok(t.id)
    }
}

pub async fn run(hotline: Hotline, args: &WsSetupArgs, out: PathBuf) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.units >= 1 && args.users_per_unit >= 1,
        "give at least one unit and one user per unit"
    );
    anyhow::ensure!(args.units <= 9999, "at most 9999 units");
    let db = hotline.db.clone();
    let parent_code = args.parent.clone();
    let (parent, centre, taken) = db
        .run(move |c| {
            let parent = units::by_code(c, &parent_code)?;
            let centre = match &parent {
                Some(p) => units::list(
                    c,
                    &UnitFilter {
                        parent_id: Some(p.id),
                        kind: Some(UnitKind::Centre),
                        ..UnitFilter::default()
                    },
                )?
                .into_iter()
                .next(),
                None => None,
            };
            let taken = users::by_username(c, AGENT)?.is_some();
            Ok::<_, StoreError>((parent, centre, taken))
        })
        .await?;
    let Some(parent) = parent else {
        bail!(
            "no unit with the code {}: import the org tree first (hotline import org demo/org.csv)",
            args.parent
        );
    };
    let Some(centre) = centre else {
        bail!("the unit {} has no 12345 centre below it", args.parent);
    };
    if taken {
        bail!(
            "this database is already set up for the load generator (user {AGENT} exists): use a fresh database"
        );
    }
    let now = hotline_core::db::now();
    let setup = Setup {
        password_hash: password::hash(&random_token()).map_err(|e| anyhow::anyhow!("{e}"))?,
        now,
        expires: now + chrono::Duration::hours(args.session_hours.max(1)),
        hotline: hotline.clone(),
    };
    let (agent_id, _) =
        db.write_blocking(|c| setup.account(c, AGENT, "负载测试话务员", Role::Agent, &centre))?;
    let agent = Actor::Staff {
        user_id: agent_id,
        role: Role::Agent,
        unit: centre.as_ref(),
    };
    let mut tokens = Tokens {
        units: Vec::new(),
        wallboards: Vec::new(),
    };
    for i in 1..=args.units {
        let code = format!("{}-LG{i:04}", parent.code);
        let spec = UnitSpec {
            code: code.clone(),
            name: format!("负载测试单位{i:04}"),
            level: parent.level,
            kind: UnitKind::Department,
            parent_id: Some(parent.id),
            division_code: parent.division_code.clone(),
            email: None,
        };
        // One transaction per unit: the unit, its users and their sessions.
        let (unit, users) = db.write_blocking(|c| {
            let (unit, _) = units::upsert(c, &spec, now)?;
            let mut users = Vec::new();
            for j in 1..=args.users_per_unit {
                let name = format!("lg{i:04}-{j:02}");
                users.push(setup.account(c, &name, &name, Role::UnitHandler, &unit)?);
            }
            Ok::<_, StoreError>((unit, users))
        })?;
        let ticket = setup
            .ticket(&agent, &centre.as_ref(), &unit.as_ref(), users[0].0, i)
            .await?;
        tokens.units.push(UnitTokens {
            code,
            ticket,
            tokens: users.into_iter().map(|(_, t)| t).collect(),
        });
    }
    db.write_blocking(|c| {
        for k in 1..=args.wallboards {
            let name = format!("lg-wall-{k:03}");
            let (_, token) = setup.account(c, &name, &name, Role::Dispatcher, &centre)?;
            tokens.wallboards.push(token);
        }
        Ok::<_, StoreError>(())
    })?;
    // Number the setup's events now (the server's sequencer would at its start), so the consoles
    // of the first run do not receive them live as if they were new.
    hotline.bus.sequence_now(&db).await?;
    write_private(&out, &tokens.render())?;
    println!(
        "set up {} units under {} with {} handlers each, {} wallboard dispatchers in {}; tokens in {}",
        args.units,
        parent.name,
        args.users_per_unit,
        args.wallboards,
        centre.name,
        out.display()
    );
    Ok(())
}

/// Writes the tokens readable by their owner only (they are live sessions).
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
