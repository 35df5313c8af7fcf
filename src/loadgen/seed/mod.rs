//! `hotline loadgen seed`: fills the database with realistic tickets and their full histories for
//! the analytics scale test, straight into the tables (no server, no HTTP).
//!
//! Every history is made by the ticket state machine (`decide` then `apply`, as the workflow
//! does) on the live time rules, so each stored row is exactly the fold of its events and
//! `hotline rebuild` finds nothing to repair. Tickets spread over the period with a daily, weekly
//! and hourly rhythm and a few bursts; their words are the demo's real appeals; their loop runs
//! as it does in practice (the shares are in `appeal.rs` and `flow.rs`). Recent tickets are still
//! open: no step is taken after the moment of seeding.
//!
//! Run it with the server stopped. The seeder numbers its events itself (`seq`, continuing after
//! the highest, batches committing in order) and reserves ticket numbers in the daily counters;
//! it takes the sequencer's lock as each batch commits, but a running node would not see the new
//! events (no NOTIFY) and, on SQLite, would wait on the long write transactions. After seeding,
//! run `hotline analytics rebuild`. Seeded tickets have no scheduled jobs (deadline warnings,
//! automatic supervision): their scheduler supervisions are already in their histories.
//!
//! Speed: PostgreSQL takes binary COPY from `--writers` transactions at once; as a superuser the
//! seeder also switches the foreign-key triggers off in its own transactions (every reference is
//! to a row it read or writes in the same transaction). For millions of tickets use
//! `--ordered-ids`: random UUIDs make every insert into the id indexes a random page write.

mod appeal;
mod clock;
mod flow;
mod generate;
mod geo;
mod reference;
mod rhythm;
mod rows;
mod staff;
mod story;
mod texts;
mod world;
mod write;

use std::time::Instant;

use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDate};
use clap::Args;
use hotline_core::calendar::WorkCalendar;
use hotline_core::numbers::business_day;
use hotline_core::workflow::Hotline;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::cli::DataArgs;
use crate::config::Settings;

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// How many tickets to add.
    #[arg(long)]
    pub tickets: u64,
    /// The seed of the random choices (the same seed gives the same kind of data; ids, numbers
    /// and query codes are always new).
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
    /// First day of the period (China date); default 364 days before --to, but not before the
    /// first loaded calendar year in that span (deadlines need the working-day calendar).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last day of the period; default today. Not after today.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Tickets per transaction.
    #[arg(long, default_value_t = 5_000)]
    pub batch: usize,
    /// Write transactions at once on PostgreSQL (they commit in order); SQLite has one writer.
    #[arg(long, default_value_t = 2)]
    pub writers: usize,
    /// Time-ordered ticket ids (UUIDv7-style, from the receipt time) instead of random ones, so
    /// the id indexes grow at their end: for loads of millions of tickets. Live tickets' ids
    /// are random.
    #[arg(long)]
    pub ordered_ids: bool,
}

/// The period: as given, or the year up to today within the loaded calendar years.
fn period(
    args: &SeedArgs,
    cal: &WorkCalendar,
    today: NaiveDate,
) -> anyhow::Result<(NaiveDate, NaiveDate)> {
    let to = args.to.unwrap_or(today);
    anyhow::ensure!(
        to <= today,
        "--to {to} is after today ({today}): the seeder writes history, not the future"
    );
    let from = args.from.unwrap_or_else(|| {
        let year_ago = to - Duration::days(364);
        let first_loaded = cal
            .loaded_years()
            .into_iter()
            .find(|y| (year_ago.year()..=to.year()).contains(y));
        match first_loaded {
            Some(y) if y > year_ago.year() => NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(year_ago),
            _ => year_ago,
        }
    });
    anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
    Ok((from, to))
}

/// Seeds `args.tickets` tickets and prints what it wrote.
pub fn run(hotline: &Hotline, settings: &Settings, args: &SeedArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.tickets > 0, "give --tickets N (at least 1)");
    if let Some(note) = reference::prepare(hotline)? {
        eprintln!("{note}");
    }
    crate::server::reload_rules(hotline)?;
    let keeper = hotline.time.snapshot();
    let now = story_now();
    let (from, to) = period(args, &keeper.calendar, business_day(now))?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let world = world::World::load(hotline, settings, &mut rng)?;
    if !world.has_areas() {
        eprintln!(
            "no areas are stored (hotline import areas demo/areas.geojson): tickets get no positions"
        );
    }
    let vocab = texts::Vocab::load()?;
    let days = rhythm::plan(args.tickets, from, to, now, &keeper.calendar, &mut rng);
    let counts: Vec<(NaiveDate, u32)> = days.iter().map(|d| (d.date, d.count)).collect();
    let firsts = write::reserve(&hotline.db, &counts).context("cannot reserve ticket numbers")?;
    let generator = generate::Generator {
        world,
        vocab,
        clock: clock::SeedClock::new(keeper),
        rng,
        now,
        batch_size: args.batch.max(1),
        ordered_ids: args.ordered_ids,
    };
    let bar = indicatif::ProgressBar::new(args.tickets);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "seeding [{bar:40}] {pos}/{len} tickets ({per_sec}, {eta} left)",
        )
        .context("progress template")?
        .progress_chars("=> "),
    );
    let started = Instant::now();
    // Generating and writing overlap: the generator runs a batch or two ahead of the writer.
    let (tx, rx) = std::sync::mpsc::sync_channel::<rows::Batch>(2);
    let planned: Vec<_> = days.into_iter().zip(firsts).collect();
    let worker = std::thread::spawn(move || generator.run(planned, |b| tx.send(b).is_ok()));
    // The receiver goes with `write_all`: when a write fails, the generator's next send fails
    // and it stops.
    let (written, outcome) = write::write_all(&hotline.db, rx, args.writers, &|n| bar.inc(n));
    let totals = worker
        .join()
        .map_err(|_| anyhow::anyhow!("the generator thread panicked"))?;
    bar.finish_and_clear();
    outcome.with_context(|| format!("seeding stopped after {} tickets", written.tickets))?;
    let totals =
        totals.with_context(|| format!("seeding stopped after {} tickets", written.tickets))?;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    println!(
        "seeded {} tickets with {} events in {secs:.1} s ({:.0} tickets/s)",
        written.tickets,
        written.events,
        written.tickets as f64 / secs
    );
    if totals.missing_deadlines > 0 {
        eprintln!(
            "{} deadlines were left unset: the working-day calendar does not cover their period",
            totals.missing_deadlines
        );
    }
    if totals.refused > 0 {
        tracing::warn!(
            refused = totals.refused,
            "planned steps the state machine refused (others were taken)"
        );
    }
    Ok(())
}

/// Now, to the second (the stories' timestamps are whole seconds, which both backends keep).
fn story_now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    let t = hotline_core::db::now();
    t.duration_trunc(TimeDelta::seconds(1)).unwrap_or(t)
}
