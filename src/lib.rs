//! The `hotline` binary's library: the CLI commands, the HTTP app that composes the crates, the
//! importers and the demo. `main.rs` only parses arguments and calls in here.

pub mod accounts;
pub mod analytics;
pub mod cli;
pub mod config;
pub mod demo;
pub mod dispatching;
pub mod import;
pub mod knowledge;
pub mod knowledge_base;
pub mod loadgen;
pub mod login;
pub mod mail_admin;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod request_id;
pub mod robot;
pub mod routes;
pub mod secret;
pub mod server;
pub mod telemetry;
pub mod train;

pub use server::bearer;
