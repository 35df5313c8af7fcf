//! The knowledge base in the database: articles with every version and their trail
//! ([`articles`] writes, [`read`] reads), and the change log the search indexes follow
//! ([`changes`]). Each write is one transaction that also appends to the change log when what
//! the search holds may change.

pub mod articles;
pub mod changes;
pub mod read;
pub mod robot;
pub mod stats;

use hotline_core::StoreError;
use hotline_core::domain::{Role, UnitRef};
use hotline_core::ids::UserId;
use hotline_core::scope::Scope;

use crate::workflow::Duty;

/// Who is changing the knowledge base.
#[derive(Debug, Clone)]
pub struct Editor {
    pub user_id: UserId,
    pub role: Role,
    pub unit: UnitRef,
    /// The units the user's role covers (the Foundation's scope rules).
    pub scope: Scope,
}

impl Editor {
    /// What this editor is to an article owned by `owner` whose latest version `author` wrote.
    pub fn duty(&self, owner: &UnitRef, author: Option<UserId>) -> Duty {
        let writer = match self.role {
            // A unit admin writes for their unit and the units below it.
            Role::UnitAdmin => owner.path.starts_with(&self.unit.path),
            // The centre writes its own general answers (and another reviewer approves them).
            Role::Reviewer => owner.id == self.unit.id,
            _ => false,
        };
        Duty {
            writer,
            reviewer: self.role == Role::Reviewer && self.scope.contains(owner.id),
            author_of_latest: author == Some(self.user_id),
        }
    }

    /// May this editor see drafts of articles owned by `owner`?
    pub fn sees_drafts_of(&self, owner: &UnitRef) -> bool {
        let d = self.duty(owner, None);
        d.writer || d.reviewer
    }
}

fn corrupt(column: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{column} holds {value:?}"))
}

fn parse<T: std::str::FromStr>(column: &str, v: &str) -> Result<T, StoreError> {
    v.parse().map_err(|_| corrupt(column, v))
}

fn parse_list(column: &str, v: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(v).map_err(|_| corrupt(column, v))
}

fn list_json(v: &[String]) -> String {
    serde_json::Value::from(v.to_vec()).to_string()
}
