//! hotline-core: the domain, the ticket state machine, storage and the shared HTTP plumbing of the
//! 12345 hotline platform. Feature crates depend on this crate and on nothing else of the workspace.

pub mod auth;
pub mod bus;
pub mod calendar;
pub mod clock;
pub mod db;
pub mod domain;
pub mod error;
pub mod hooks;
pub mod http;
pub mod ids;
pub mod numbers;
pub mod places;
pub mod scope;
pub mod store;
pub mod ticket;
pub mod time_limit;
pub mod workflow;

pub use db::{Backend, Db, DbConn, DbUrl, StoreError};
pub use error::{ApiError, ErrorCode, HasErrorCode};
