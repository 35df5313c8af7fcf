//! Who may see which tickets. Every user has a scope root in the org tree: a centre's staff work
//! the area of the government the centre belongs to; everyone else works their own unit's subtree.
//! A ticket is visible when any unit it has been with (its centre, main and co-handling units, the
//! units it passed through) lies in the caller's scope. Outside it a ticket answers 404, so its
//! existence does not leak.

use crate::domain::{Role, UnitKind, UnitRef};
use crate::ids::UnitId;
use crate::ticket::machine::jurisdiction;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole tree (the scope root is a root of the tree).
    All,
    /// These units (the scope root and everything below it).
    Units(Vec<UnitId>),
}

impl Scope {
    pub fn contains(&self, unit: UnitId) -> bool {
        match self {
            Self::All => true,
            Self::Units(ids) => ids.contains(&unit),
        }
    }
}

/// The path whose subtree the user's scope covers.
pub fn root_path(role: Role, unit: &UnitRef) -> &str {
    if unit.kind == UnitKind::Centre && !role.is_unit_staff() {
        jurisdiction(unit)
    } else {
        &unit.path
    }
}

/// True when the path is the root of the tree (`/id/`).
pub fn is_tree_root(path: &str) -> bool {
    path.trim_matches('/').split('/').count() == 1
}
