//! E-mail notices: the Chinese templates, who gets what, the outbox written in the event's
//! transaction, and the sender that delivers it through lettre with retries and a dead letter.

pub mod notices;
pub mod outbox;
pub mod sender;
pub mod templates;

pub use notices::Notices;
pub use sender::{MailConfig, MailError, SendReport, Sender};
pub use templates::NoticeKind;
