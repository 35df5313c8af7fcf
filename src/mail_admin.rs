//! `hotline admin outbox …`: the mail outbox for operators, above all the dead letters (messages
//! whose every try failed, or that the SMTP server refused for good).

use std::process::ExitCode;

use clap::Subcommand;
use hotline_dispatch::mail::outbox;

use crate::cli::DataArgs;

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List messages, oldest first: one line each (id, state, tries, kind, recipients, subject,
    /// last error).
    List {
        /// pending, sent or dead (default: dead).
        #[arg(long, default_value = "dead", value_parser = ["pending", "sent", "dead"])]
        state: String,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Put a dead message back in the queue for a new round of tries.
    Requeue {
        id: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

impl OutboxCommand {
    pub fn data(&self) -> &DataArgs {
        match self {
            Self::List { data, .. } | Self::Requeue { data, .. } => data,
        }
    }
}

pub fn run(db: &hotline_core::Db, cmd: &OutboxCommand) -> anyhow::Result<ExitCode> {
    let mut conn = db.get()?;
    match cmd {
        OutboxCommand::List { state, limit, .. } => {
            let list = outbox::list(&mut conn, Some(state), None, (*limit).clamp(1, 10_000))?;
            for m in &list {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    m.id,
                    m.state,
                    m.attempts,
                    m.kind,
                    m.recipients.join(","),
                    m.subject,
                    m.last_error.as_deref().unwrap_or("-")
                );
            }
            println!("{} {state} message(s)", list.len());
            Ok(ExitCode::SUCCESS)
        }
        OutboxCommand::Requeue { id, .. } => {
            let now = hotline_core::db::now();
            let done = db.write_blocking(|c| outbox::requeue(c, id, now))?;
            if done {
                println!("message {id} queued again");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("no dead message {id}");
                Ok(ExitCode::FAILURE)
            }
        }
    }
}
