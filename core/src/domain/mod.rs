//! Domain vocabulary of DESIGN.md: the values a ticket, a unit and a user are made of.

pub mod appeal;
pub mod org;
pub mod role;
pub mod text;

pub use appeal::{AppealType, Channel, Urgency};
pub use org::{Level, UnitKind, UnitRef};
pub use role::{Actor, Role};
