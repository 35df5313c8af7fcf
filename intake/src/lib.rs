//! hotline-intake: every door an appeal comes through (the citizen portal, apps and WeChat
//! mini-programs, Open311 clients, agents on the phone) leads to one path: normalise and validate,
//! then store the appeal as a ticket exactly once, with what the channel delivered kept beside it.

pub mod appeal;
pub mod attachments;
pub mod batch;
pub mod clients;
pub mod error;
pub mod normalize;
pub mod open311;
pub mod portal;
pub mod ratelimit;
pub mod repeats;
pub mod routes;
pub mod schema;
pub mod submit;

pub use error::IntakeError;
pub use submit::{Answer, IdempotencyKey, Submission, submit, submit_with};
