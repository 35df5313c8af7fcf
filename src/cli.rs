//! The command line: `hotline serve | demo | migrate | import … | admin … | rebuild`.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use hotline_core::domain::Role;

use crate::config::{LogFormat, Overrides, Settings};
use crate::import;

#[derive(Debug, Parser)]
#[command(
    name = "hotline",
    version,
    about = "12345 government-service hotline platform"
)]
pub struct Cli {
    /// TOML configuration file (environment variables HOTLINE_* and DATABASE_URL override it).
    #[arg(long, global = true, env = "HOTLINE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone, Default)]
pub struct DataArgs {
    /// Data directory (SQLite file, secret key). PostgreSQL is chosen with DATABASE_URL.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// The knowledge base's search engine (the `search` settings).
#[derive(Debug, Args, Clone, Default)]
pub struct SearchArgs {
    /// embedded (tantivy under the data dir) or meilisearch.
    #[arg(long, value_parser = ["embedded", "meilisearch"])]
    pub search: Option<String>,
    /// Meilisearch's address (with --search meilisearch).
    #[arg(long)]
    pub meili_url: Option<String>,
    /// Meilisearch's API key (HOTLINE_SEARCH__MEILI_KEY keeps it off the command line).
    #[arg(long)]
    pub meili_key: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub search: SearchArgs,
    /// Listen address (default 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the pages.
    Serve(ServeArgs),
    /// Load the demo (org tree, users, categories, calendar, tickets) once, print the logins, serve.
    Demo(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DataArgs),
    /// Import official data.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Load generators.
    #[command(subcommand)]
    Loadgen(LoadgenCommand),
    /// Train a model (the dispatch category classifier).
    #[command(subcommand)]
    Train(crate::train::TrainCommand),
    /// Evaluate a model.
    #[command(subcommand)]
    Eval(crate::train::EvalCommand),
    /// The knowledge base.
    #[command(subcommand)]
    Knowledge(KnowledgeCommand),
    /// The leaders' analytics.
    #[command(subcommand)]
    Analytics(AnalyticsCommand),
    /// Replay every ticket's events and compare with its stored row (--repair rewrites rows).
    Rebuild {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        repair: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum LoadgenCommand {
    /// Signed appeals through the app API (POST /api/v1/appeals): closed loop for the maximum
    /// rate, or open loop at --rate; prints p50/p99/p99.9 latency and errors.
    Intake(crate::loadgen::intake::IntakeArgs),
    /// A centre's consoles on the websocket hub: opens --connections authenticated websockets
    /// (units' queues and wallboards), changes tickets at --rate through the API and reports
    /// delivery latency p50/p99/max, deliveries per second, refused and dropped connections and
    /// the server's memory. The tokens come from `hotline loadgen ws-setup`.
    Ws(crate::loadgen::ws::WsArgs),
    /// Prepares a database for `loadgen ws`: handling units under a government, their handlers
    /// and the centre's dispatchers with live bearer sessions (one shared password hash, no
    /// logins), and per unit one ticket in handling; writes the tokens file.
    WsSetup(crate::loadgen::ws::setup::WsSetupArgs),
    /// Fills the database with --tickets realistic tickets and their full histories (made by the
    /// state machine, so `hotline rebuild` finds nothing to repair) for the analytics scale test:
    /// COPY on PostgreSQL, batched inserts on SQLite. Imports the demo org tree first if the
    /// database has none. Run it with the server stopped, then `hotline analytics rebuild`.
    Seed(crate::loadgen::seed::SeedArgs),
}

#[derive(Debug, Subcommand)]
pub enum AnalyticsCommand {
    /// Recompute the rollups (counts and durations per day, category, unit, area, channel, type
    /// and status, and the heat-map cells) from every ticket's events, with a progress bar.
    Rebuild {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum KnowledgeCommand {
    /// Rebuild the search index (embedded, or Meilisearch with --search meilisearch) from the
    /// published articles in the database.
    Reindex {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        search: SearchArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// The org tree: code,name,level,kind,parent_code,division_code,email.
    Org {
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// The category tree: level1,level2,level3 (e.g. the official taxonomy.csv).
    Categories {
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// The working-day calendar: date,kind,name (kind holiday or workday).
    Calendar {
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// The areas of org units, a GeoJSON FeatureCollection: each feature a Polygon or
    /// MultiPolygon with the unit's code as the property `code`.
    Areas {
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Roads, estates and landmarks in the org tree's units: name,unit_code,source.
    Places {
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register an app or WeChat mini-program; prints its client id and secret (shown once).
    Create {
        /// A name for people, e.g. 市民通App.
        name: String,
        #[arg(long, value_parser = parse_channel)]
        channel: hotline_core::domain::Channel,
        #[command(flatten)]
        data: DataArgs,
    },
}

fn parse_channel(s: &str) -> Result<hotline_core::domain::Channel, String> {
    match s {
        "app" => Ok(hotline_core::domain::Channel::App),
        "miniprogram" | "mini_program" | "mini-program" => {
            Ok(hotline_core::domain::Channel::MiniProgram)
        }
        _ => Err("app or miniprogram".to_owned()),
    }
}

#[derive(Debug, Subcommand)]
pub enum Open311KeyCommand {
    /// Issue an Open311 GeoReport v2 api_key; prints it (shown once, only its hash is stored).
    Create {
        /// Who the key is for, e.g. 市民随手拍.
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Revoke every live key issued under this name.
    Revoke {
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Registered client apps and mini-programs.
    #[command(subcommand)]
    Client(ClientCommand),
    /// The mail outbox: dead letters, requeueing.
    #[command(subcommand)]
    Outbox(crate::mail_admin::OutboxCommand),
    /// API keys of Open311 GeoReport v2 clients (POST /open311/v2/requests).
    #[command(subcommand, name = "open311-key")]
    Open311Key(Open311KeyCommand),
    /// Create a staff account; the password is read from standard input.
    CreateUser {
        /// The login name.
        #[arg(long)]
        name: String,
        /// The name shown on pages (defaults to the login name).
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The unit's code (e.g. 990100-12345) or id.
        #[arg(long)]
        unit: String,
        /// Where notices for this account go.
        #[arg(long)]
        email: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        data: DataArgs,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse().map_err(|_| {
        "one of agent, dispatcher, unit_handler, unit_admin, leader, admin, reviewer".to_owned()
    })
}

fn settings(cli: &Cli, data: &DataArgs, listen: Option<SocketAddr>) -> anyhow::Result<Settings> {
    search_settings(cli, data, listen, &SearchArgs::default())
}

fn search_settings(
    cli: &Cli,
    data: &DataArgs,
    listen: Option<SocketAddr>,
    search: &SearchArgs,
) -> anyhow::Result<Settings> {
    let overrides = Overrides {
        listen,
        data_dir: data.data_dir.clone(),
        log_format: cli.log_format,
        search: search.search.clone(),
        meili_url: search.meili_url.clone(),
        meili_key: search.meili_key.clone(),
    };
    Settings::load(cli.config.as_deref(), &overrides).context("invalid configuration")
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn print_report(what: &str, report: &import::Report) -> ExitCode {
    if report.is_ok() {
        println!("imported {what}: {report}");
        ExitCode::SUCCESS
    } else {
        eprint!("{what}: {report}");
        ExitCode::FAILURE
    }
}

fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Serve(args) | Command::Demo(args) => {
            let s = search_settings(cli, &args.data, args.listen, &args.search)?;
            crate::telemetry::init(s.log_format);
            let demo = matches!(cli.command, Command::Demo(_));
            actix_web::rt::System::new().block_on(async move {
                let hotline = crate::server::open(&s)?;
                if demo {
                    let logins = crate::demo::seed(&hotline, &s.data_dir).await?;
                    crate::demo::print_welcome(&s, &logins);
                }
                crate::server::serve(&s, hotline).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Analytics(AnalyticsCommand::Rebuild { data }) => {
            let s = settings(cli, data, None)?;
            crate::telemetry::init(s.log_format);
            let hotline = crate::server::open(&s)?;
            crate::analytics::rebuild(&hotline)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Knowledge(KnowledgeCommand::Reindex { data, search }) => {
            let s = search_settings(cli, data, None, search)?;
            crate::telemetry::init(s.log_format);
            actix_web::rt::System::new().block_on(async move {
                let hotline = crate::server::open(&s)?;
                crate::knowledge_base::reindex(&s, &hotline).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate(data) => {
            let s = settings(cli, data, None)?;
            crate::telemetry::init(s.log_format);
            crate::server::open(&s)?;
            println!("database {} is migrated", s.database().redacted());
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(cmd) => {
            let (file, data, what) = match cmd {
                ImportCommand::Org { file, data } => (file, data, "org"),
                ImportCommand::Categories { file, data } => (file, data, "categories"),
                ImportCommand::Calendar { file, data } => (file, data, "calendar"),
                ImportCommand::Areas { file, data } => (file, data, "areas"),
                ImportCommand::Places { file, data } => (file, data, "places"),
            };
            let s = settings(cli, data, None)?;
            crate::telemetry::init(s.log_format);
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let hotline = crate::server::open(&s)?;
            let report = match cmd {
                ImportCommand::Org { .. } => import::org::import(&hotline.db, &text)?,
                ImportCommand::Categories { .. } => import::categories::import(&hotline.db, &text)?,
                ImportCommand::Calendar { .. } => import::calendar::import(&hotline.db, &text)?,
                ImportCommand::Areas { .. } => import::areas::import(&hotline.db, &text)?,
                ImportCommand::Places { .. } => import::places::import(&hotline.db, &text)?,
            };
            Ok(print_report(what, &report))
        }
        Command::Admin(AdminCommand::CreateUser {
            name,
            display_name,
            role,
            unit,
            email,
            password_stdin,
            data,
        }) => {
            let s = settings(cli, data, None)?;
            crate::telemetry::init(s.log_format);
            if !password_stdin {
                bail!("give the password on standard input with --password-stdin");
            }
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let hotline = crate::server::open(&s)?;
            let mut conn = hotline.db.get()?;
            let unit_row = match unit.parse() {
                Ok(id) => hotline_core::store::units::get(&mut conn, id).ok(),
                Err(_) => hotline_core::store::units::by_code(&mut conn, unit)?,
            };
            let Some(unit_row) = unit_row else {
                bail!("no unit with code or id {unit}");
            };
            let spec = crate::accounts::AccountSpec::new(
                name,
                display_name.as_deref().unwrap_or(name),
                *role,
                unit_row.id,
                password,
            )
            .and_then(|spec| spec.with_email(email.as_deref()))
            .map_err(|e| anyhow::anyhow!("{}: {}", e.field.unwrap_or_default(), e.message))?;
            let user = hotline
                .db
                .write_blocking(|c| crate::accounts::insert(c, &spec))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created user {} ({}) in {} with id {}",
                user.username, user.role, unit_row.name, user.id
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(AdminCommand::Client(ClientCommand::Create {
            name,
            channel,
            data,
        })) => {
            let s = settings(cli, data, None)?;
            crate::telemetry::init(s.log_format);
            let hotline = crate::server::open(&s)?;
            let now = hotline_core::db::now();
            let (client, secret) = hotline
                .db
                .write_blocking(|c| {
                    hotline_intake::clients::create(c, &hotline.token_key, name, *channel, now)
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("client {} ({}) registered", client.name, client.channel);
            println!("client_id: {}", client.id);
            println!("secret: {secret}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Train(cmd) => {
            crate::train::train(cmd)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval(cmd) => {
            crate::train::eval(cmd)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Loadgen(LoadgenCommand::Intake(args)) => {
            crate::telemetry::init(cli.log_format.unwrap_or(LogFormat::Text));
            let what = match args.rate {
                Some(r) => format!("open loop at {r}/s"),
                None => format!("closed loop, {} workers", args.concurrency),
            };
            let report = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(crate::loadgen::intake::run(args.clone()))?;
            report.print(&what);
            Ok(ExitCode::SUCCESS)
        }
        Command::Loadgen(LoadgenCommand::Ws(args)) => {
            crate::telemetry::init(cli.log_format.unwrap_or(LogFormat::Text));
            let report = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(crate::loadgen::ws::run(args.clone()))?;
            report.print();
            Ok(ExitCode::SUCCESS)
        }
        Command::Loadgen(LoadgenCommand::WsSetup(args)) => {
            let s = settings(cli, &args.data, None)?;
            crate::telemetry::init(s.log_format);
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| s.data_dir.join("ws-tokens.txt"));
            let hotline = crate::server::open(&s)?;
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(crate::loadgen::ws::setup::run(hotline, args, out))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Loadgen(LoadgenCommand::Seed(args)) => {
            let s = settings(cli, &args.data, None)?;
            crate::telemetry::init(s.log_format);
            let hotline = crate::server::open(&s)?;
            crate::loadgen::seed::run(&hotline, &s, args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(AdminCommand::Open311Key(cmd)) => {
            let (Open311KeyCommand::Create { name, data }
            | Open311KeyCommand::Revoke { name, data }) = cmd;
            let s = settings(cli, data, None)?;
            crate::telemetry::init(s.log_format);
            let hotline = crate::server::open(&s)?;
            let now = hotline_core::db::now();
            if matches!(cmd, Open311KeyCommand::Revoke { .. }) {
                let n = hotline
                    .db
                    .write_blocking(|c| hotline_intake::open311::keys::revoke(c, name, now))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("revoked {n} open311 key(s) of {name}");
                return Ok(if n > 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                });
            }
            let key = hotline
                .db
                .write_blocking(|c| {
                    hotline_intake::open311::keys::create(c, &hotline.token_key, name, now)
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("open311 key for {name} created (shown once; only its hash is stored)");
            println!("api_key: {key}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(AdminCommand::Outbox(cmd)) => {
            let s = settings(cli, cmd.data(), None)?;
            crate::telemetry::init(s.log_format);
            let hotline = crate::server::open(&s)?;
            crate::mail_admin::run(&hotline.db, cmd)
        }
        Command::Rebuild { data, repair } => {
            let s = settings(cli, data, None)?;
            crate::telemetry::init(s.log_format);
            let hotline = crate::server::open(&s)?;
            let mut conn = hotline.db.get()?;
            let ids = hotline_core::store::tickets::all_ids(&mut conn)?;
            let mut differing = 0;
            for id in &ids {
                if hotline
                    .db
                    .write_blocking(|c| hotline_core::workflow::rebuild_ticket(c, *id, *repair))?
                {
                    differing += 1;
                    println!("ticket {id}: row differs from its events");
                }
            }
            println!(
                "{} tickets replayed, {differing} differed{}",
                ids.len(),
                if *repair && differing > 0 {
                    " and were rewritten"
                } else {
                    ""
                }
            );
            Ok(if differing > 0 && !repair {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
