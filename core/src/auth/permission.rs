//! What each role may do, endpoint by endpoint: the one table every handler consults. Ticket
//! transitions are further decided per ticket by the state machine (the handling unit's staff
//! sign, the dispatcher rules, …); reads are further limited by the caller's scope.

use crate::domain::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::Display)]
#[strum(serialize_all = "snake_case")]
pub enum Permission {
    /// List and read tickets and their history (within scope).
    ReadTickets,
    /// Register an appeal as a ticket.
    CreateTickets,
    /// Ask for a transition (the state machine decides which).
    ActOnTickets,
    /// Read the event stream (within scope).
    ReadEvents,
    /// Read the org tree and the category catalogue.
    ReadCatalogue,
    /// Create and change org units and categories.
    ManageCatalogue,
    /// List users (within scope).
    ReadUsers,
    /// Create and change users (unit admins: in their own unit's subtree, unit roles only).
    ManageUsers,
    /// Edit the time limits, windows and working hours.
    ManageTimeRules,
    /// Read the routing rules and their audit trail.
    ReadRoutingRules,
    /// Create, change and delete routing rules (dispatchers: rules that route within their scope).
    ManageRoutingRules,
    /// Ask where a ticket or an appeal should go (the dispatch suggestion).
    SuggestDispatch,
    /// Search and read the published knowledge articles.
    ReadKnowledge,
    /// Write knowledge articles and send them for review (unit admins: their unit's articles;
    /// reviewers: their centre's own articles, which another reviewer publishes).
    WriteKnowledge,
    /// Publish knowledge articles or send them back (the centre's reviewers, within scope).
    ReviewKnowledge,
    /// Read the analytics: rollups, heat maps, hot issues, warnings, rates, exports (within
    /// scope): leaders, dispatchers and unit administrators (their own subtree's figures).
    ReadAnalytics,
}

pub fn role_permits(role: Role, p: Permission) -> bool {
    use Permission as P;
    use Role as R;
    match p {
        // Administrators run the system and reviewers the knowledge base; neither reads
        // citizens' appeals.
        P::ReadTickets | P::ActOnTickets | P::ReadEvents => !matches!(role, R::Admin | R::Reviewer),
        P::CreateTickets => matches!(role, R::Agent | R::Dispatcher),
        P::ReadCatalogue => true,
        P::ManageCatalogue => role == R::Admin,
        P::ReadUsers => matches!(role, R::Admin | R::UnitAdmin | R::Dispatcher | R::Leader),
        P::ManageUsers => matches!(role, R::Admin | R::UnitAdmin),
        P::ManageTimeRules => role == R::Admin,
        P::ReadRoutingRules => matches!(role, R::Admin | R::Dispatcher | R::Agent | R::Leader),
        P::ManageRoutingRules => matches!(role, R::Admin | R::Dispatcher),
        P::SuggestDispatch => matches!(role, R::Agent | R::Dispatcher),
        P::ReadKnowledge => true,
        P::WriteKnowledge => matches!(role, R::UnitAdmin | R::Reviewer),
        P::ReviewKnowledge => role == R::Reviewer,
        P::ReadAnalytics => matches!(role, R::Leader | R::Dispatcher | R::UnitAdmin),
    }
}
