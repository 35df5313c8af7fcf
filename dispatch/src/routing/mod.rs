//! Routing: where a ticket goes. Administrators (and dispatchers, for the units they route to)
//! edit **rules**; a suggestion applies them together with the classifier and the place of the
//! appeal.
//!
//! **Rules.** Each rule has a kind, a target, a priority and a position, and may be inactive:
//! - `category`: the appeal's category is `category_id` or lies below it (optionally only when
//!   the place lies in `area_unit_id`);
//! - `area`: the appeal's place lies in `area_unit_id`'s subtree;
//! - `keyword`: the title, description or address contains one of `keywords` (after NFKC,
//!   case-insensitive; optionally only in `area_unit_id`).
//!
//! The target is a unit (`unit_id`), or `district`: the district government of the recognised
//! place (a rule with that target does not apply when no place is recognised). Rules are tried
//! by priority, higher first, then by position, lower first.
//!
//! **A suggestion** ([`engine::Router::suggest`]):
//! 1. The place is resolved ([`crate::places`]).
//! 2. The rules are tried in order on what is known before classifying: the text, the place and
//!    the category the agent chose (if any). The first rule that matches and sends to a unit
//!    that may get the ticket decides: that unit comes first, with confidence 1.
//! 3. The classifier gives each first-level category a probability. Each category is routed by
//!    the first category rule that matches it (with the place); a unit's confidence is the sum of
//!    the probabilities of the categories routed to it. These units follow, best first.
//! 4. A unit may get the ticket when it is active, is not a 12345 centre, lies in the
//!    dispatching centre's jurisdiction, and has **not returned this ticket before** (the
//!    ping-pong guard, read from the ticket's `returned` events).
//! 5. When the place is a street or community below the first unit, it is suggested for
//!    pass-down.
//! 6. Below the confidence threshold, or with no unit at all, the ticket is marked for the
//!    dispatcher's manual queue ([`marks`]).

pub mod defaults;
pub mod engine;
pub mod explain;
pub mod marks;
pub mod offline;
pub mod rule;
pub mod snapshot;
pub mod store;
pub mod suggestion;

pub use engine::{Appeal, Bounds, Router, RouterData};
pub use rule::{Rule, RuleInput, RuleKind, RulePatch, Target};
pub use snapshot::Suggester;
pub use suggestion::UnitSuggestion;

#[cfg(test)]
mod tests;
