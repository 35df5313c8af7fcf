//! The ticket and its closed loop.

pub mod action;
pub mod change;
pub mod claim;
pub mod machine;
pub mod personal;
pub mod state;
#[cfg(test)]
mod tests;
pub mod view;

pub use action::{Action, ActionKind, NewAppeal, Ruling};
pub use change::{Assignment, Change, Event, Received};
pub use machine::{
    Clock, Ctx, Placement, ReplayError, TransitionError, apply, available_actions, decide,
    decide_merge, escalation_target, precheck, receive, replay,
};
pub use state::{ExtensionState, Rating, Status, Ticket};
pub use view::TicketView;
