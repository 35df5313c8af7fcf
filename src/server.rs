//! Opens the system (database, migrations, rules, sequencer) and serves HTTP until SIGTERM.

use std::sync::Arc;

use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context;
use hotline_core::auth::token::TokenKey;
use hotline_core::bus::EventBus;
use hotline_core::calendar::WorkCalendar;
use hotline_core::clock::{TimeKeeper, TimeRules};
use hotline_core::hooks::Hooks;
use hotline_core::http::BodyLimit;
use hotline_core::numbers::NumberAllocator;
use hotline_core::store;
use hotline_core::workflow::{Hotline, Now};
use hotline_core::{ApiError, Db};
use hotline_dispatch::Notices;
use hotline_dispatch::mail::Sender;
use hotline_dispatch::scheduler::Scheduler;
use hotline_intake::attachments::Storage;
use hotline_intake::ratelimit::RateLimits;
use hotline_intake::routes::Intake;
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::login::LoginPolicy;
use crate::metrics::Metrics;
use crate::routes::ops::MetricsToken;

/// Connects, migrates and loads the rules; does not serve.
pub fn open(settings: &Settings) -> anyhow::Result<Hotline> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("cannot create data dir {}", settings.data_dir.display()))?;
    let url = settings.database();
    let key = crate::secret::load_or_create(settings)?;
    let db = Db::connect(&url, settings.pool_size)
        .with_context(|| format!("cannot open database {}", url.redacted()))?;
    let applied = db.migrate().context("cannot migrate the database")?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "database migrated");
    }
    let time = TimeRules::new(TimeKeeper::empty());
    let hooks = Hooks::new(vec![hotline_dispatch::ticket_hook(
        time.clone(),
        notices(settings)?,
    )]);
    let hotline = Hotline {
        now: Now::system(),
        db,
        time,
        numbers: Arc::new(NumberAllocator::new(settings.number_block)),
        bus: EventBus::new(4096),
        token_key: TokenKey::new(&key),
        hooks,
    };
    reload_rules(&hotline)?;
    Ok(hotline)
}

/// The notices' renderer when mail is configured (`mail.smtp_host`); None: no notice is queued.
pub fn notices(settings: &Settings) -> anyhow::Result<Option<Arc<Notices>>> {
    if settings.mail.sender().is_none() {
        return Ok(None);
    }
    let site = Some(settings.mail.site_url.clone()).filter(|u| !u.trim().is_empty());
    let notices = Notices::new(&settings.mail.from, site).context("mail templates")?;
    Ok(Some(Arc::new(notices)))
}

/// Starts this node's scheduler and, when mail is configured, its mail sender.
pub fn start_background(
    settings: &Settings,
    hotline: &Hotline,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    if !settings.scheduler.enabled {
        return Ok(Vec::new());
    }
    let cfg = settings.scheduler.config()?;
    let poll = cfg.poll;
    let scheduler = Scheduler::new(hotline.clone(), notices(settings)?, cfg);
    let mut tasks = vec![tokio::spawn(scheduler.run())];
    if let Some(mail) = settings.mail.sender() {
        let sender = Sender::new(hotline.db.clone(), hotline.now.clone(), mail)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tasks.push(tokio::spawn(sender.run(poll)));
    }
    Ok(tasks)
}

/// Loads the working-day calendar and the time rules (limits, windows, working hours) from the
/// database into the live rules.
pub fn reload_rules(hotline: &Hotline) -> anyhow::Result<()> {
    let mut conn = hotline.db.get()?;
    let doc = store::time_rules::load(&mut conn)?
        .map(|s| s.doc)
        .unwrap_or_default();
    let table = doc
        .table()
        .map_err(|e| anyhow::anyhow!("stored time rules are invalid: {e}"))?;
    let mut calendar = WorkCalendar::new(doc.working_hours, chrono_tz::Asia::Shanghai);
    store::calendar::load_into(&mut conn, &mut calendar)?;
    hotline.time.replace(TimeKeeper::new(calendar, table));
    Ok(())
}

/// How often each node checks whether the time rules or the calendar changed (an edit on another
/// node, or `hotline import calendar` while serving).
const RULES_POLL: std::time::Duration = std::time::Duration::from_secs(10);

/// Reloads the live rules whenever their stored fingerprint moves.
async fn follow_rules(hotline: Hotline) {
    let mut seen = None;
    let mut tick = tokio::time::interval(RULES_POLL);
    loop {
        tick.tick().await;
        let now = hotline.db.run(store::time_rules::fingerprint).await;
        match now {
            Ok(f) if seen.as_ref() == Some(&f) => {}
            Ok(f) => {
                let h = hotline.clone();
                let reloaded = tokio::task::spawn_blocking(move || reload_rules(&h)).await;
                match reloaded {
                    Ok(Ok(())) => {
                        if seen.is_some() {
                            tracing::info!(
                                version = f.0,
                                "time rules or calendar changed: reloaded"
                            );
                        }
                        seen = Some(f);
                    }
                    Ok(Err(e)) => tracing::warn!(error = %e, "reloading the time rules failed"),
                    Err(e) => tracing::warn!(error = %e, "reloading the time rules panicked"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading the time rules' version failed"),
        }
    }
}

/// The bearer token of a request, if any.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let v = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    v.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    if req.path().starts_with("/api/") {
        actix_web::ResponseError::error_response(&ApiError::not_found("route"))
    } else {
        crate::pages::not_found_page(&req)
    }
}

/// Hourly on every node (the deletes are idempotent): sessions that ended a day ago, answers
/// kept for retries past their retention, nonces past the replay window, idle rate-limit buckets.
async fn purge(db: Db, intake: web::Data<Intake>) {
    use hotline_knowledge::store::robot as robot_talk;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let now = hotline_core::db::now();
        let purged = db
            .write(move |c| {
                Ok::<_, hotline_core::StoreError>(
                    store::sessions::purge_expired(c, now)?
                        + hotline_intake::submit::purge(c, now)?
                        + robot_talk::purge(
                            c,
                            now - chrono::Duration::days(robot_talk::RETENTION_DAYS),
                        )?,
                )
            })
            .await;
        match purged {
            Ok(n) if n > 0 => tracing::info!(
                rows = n,
                "expired sessions, keys, nonces and robot conversations purged"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging expired rows failed"),
        }
        intake.limits.shrink();
    }
}

/// Serves until SIGTERM or Ctrl-C, then finishes the requests under way and sequences what
/// they committed.
pub async fn serve(settings: &Settings, hotline: Hotline) -> anyhow::Result<()> {
    let metrics = web::Data::new(Metrics::new()?);
    let policy = LoginPolicy {
        max_failures: settings.login_max_failures.max(1),
        lock_for: chrono::Duration::minutes(settings.login_lock_minutes.max(1)),
        session_for: chrono::Duration::hours(settings.session_hours.max(1)),
    };
    if hotline.time.snapshot().calendar.loaded_years().is_empty() {
        tracing::warn!(
            "no working-day calendar loaded: tickets get no deadlines until `hotline import calendar FILE`"
        );
    }
    let sequencer = tokio::spawn(hotline.bus.clone().run_sequencer(hotline.db.clone()));
    let console = hotline_console::Console::new(
        settings
            .console
            .config(&settings.mail.site_url)
            .context("console settings")?,
    );
    let live = console
        .start(&hotline, &settings.database().url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the console hub: {e}"))?;
    let console = web::Data::from(console);
    let console_at_stop = console.clone();
    let data = web::Data::new(hotline.clone());
    let pages = web::Data::new(crate::pages::Pages::new(settings.cookie_secure)?);
    let limit = BodyLimit(settings.max_body_bytes);
    let token = web::Data::new(MetricsToken(settings.metrics_token.clone()));
    let intake = web::Data::new(Intake::new(
        RateLimits::new(settings.rate_limit_per_ip, settings.rate_limit_per_client),
        Some(settings.intake_centre.clone()).filter(|c| !c.trim().is_empty()),
    ));
    let storage = web::Data::new(
        Storage::open(&settings.attachments_url, &settings.data_dir)
            .map_err(|e| anyhow::anyhow!("attachment storage: {e}"))?,
    );
    tracing::info!(attachments = ?storage.location(), "attachment storage");
    let janitor = tokio::spawn(purge(hotline.db.clone(), intake.clone()));
    let rules = tokio::spawn(follow_rules(hotline.clone()));
    let background = start_background(settings, &hotline)?;
    let dispatching = web::Data::new(crate::dispatching::Dispatching::new(
        settings.dispatch_threshold,
    )?);
    let kb = crate::knowledge_base::open(settings, &hotline.db).await?;
    kb.bring_current().await;
    let keeper = tokio::spawn(kb.keeper.clone().run());
    let kb = web::Data::new(kb);
    let rollups = hotline_analytics::keeper::Rollups::new(hotline.db.clone(), hotline.time.clone())
        .context("cannot load the org tree for analytics")?;
    let analytics = tokio::spawn(rollups.clone().follow(hotline.bus.clone()));
    let warning_notices = notices(settings)?.map(|n| {
        tokio::spawn(crate::analytics::run_warning_notices(
            hotline.clone(),
            rollups.clone(),
            n,
        ))
    });
    let rollups = web::Data::from(rollups);
    let sweeper = tokio::spawn(crate::dispatching::run_sweeper(
        hotline.clone(),
        dispatching.clone(),
    ));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(metrics.clone())
            .app_data(pages.clone())
            .app_data(token.clone())
            .app_data(intake.clone())
            .app_data(storage.clone())
            .app_data(dispatching.clone())
            .app_data(console.clone())
            .app_data(kb.clone())
            .app_data(rollups.clone())
            .app_data(web::Data::new(policy))
            .app_data(limit)
            .app_data(web::PayloadConfig::new(limit.0))
            .app_data(web::FormConfig::default().limit(limit.0))
            .app_data(web::JsonConfig::default().limit(limit.0))
            .wrap(from_fn(crate::metrics::record))
            .wrap(from_fn(crate::request_id::propagate))
            .wrap(TracingLogger::default())
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "same-origin")),
            )
            // Before the API's `/api/v1` scope, which would otherwise claim the intake's paths.
            .configure(hotline_intake::routes::configure)
            .configure(crate::routes::configure)
            .configure(hotline_console::configure)
            .configure(crate::pages::configure)
            .default_service(web::to(not_found))
    })
    .bind(settings.listen)
    .with_context(|| format!("cannot listen on {}", settings.listen))?
    .shutdown_timeout(30)
    // Signals are handled below: the consoles are told to go away before the server waits
    // for its connections to finish.
    .disable_signals();
    let mut stop_signals = StopSignals::listen().context("cannot listen for signals")?;
    for addr in server.addrs() {
        // On stdout, for people and for scripts that started us on port 0.
        println!("hotline listening on http://{addr}");
    }
    tracing::info!(listen = ?server.addrs(), backend = %hotline.db.backend(), "hotline serving");
    let server = server.run();
    let handle = server.handle();
    let hub = console_at_stop.hub.clone();
    let signals = tokio::spawn(async move {
        let graceful = stop_signals.next().await;
        hub.go_away();
        handle.stop(graceful).await;
    });
    server.await?;
    signals.abort();
    sequencer.abort();
    janitor.abort();
    rules.abort();
    for task in background {
        task.abort();
    }
    sweeper.abort();
    keeper.abort();
    analytics.abort();
    if let Some(t) = warning_notices {
        t.abort();
    }
    console_at_stop.stop(live, &hotline).await;
    // Requests that finished during shutdown may have committed events: number them now.
    if let Err(e) = hotline.bus.sequence_now(&hotline.db).await {
        tracing::warn!(error = %e, "final sequencing failed; the next start will do it");
    }
    tracing::info!("hotline stopped");
    Ok(())
}

/// SIGTERM and SIGINT (a graceful stop) and SIGQUIT (an immediate one), as actix-web's own signal
/// handling has them. Listened for from before the server says it is listening, so that a signal
/// sent right after that line is never taken by the default action (which kills the process).
struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn listen() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
        })
    }

    /// Waits for one; true for a graceful stop.
    async fn next(&mut self) -> bool {
        tokio::select! {
            _ = self.term.recv() => true,
            _ = self.int.recv() => true,
            _ = self.quit.recv() => false,
        }
    }
}
