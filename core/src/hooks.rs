//! Work that must commit together with a ticket's events: the scheduler's due work, the mail
//! outbox. Feature crates register an [`EventHook`] on [`crate::workflow::Hotline`]; every ticket
//! command calls each hook inside its transaction, after the ticket row and its events are
//! written, so what a hook writes commits with the events or not at all.

use std::sync::Arc;

use crate::db::{DbConn, StoreError};
use crate::ticket::{Event, Ticket};

/// Called inside a ticket command's transaction after its events are written. `before` is the
/// ticket as it was read (None for a new ticket), `after` the row just written, `events` what
/// happened in between, in order. An error rolls the whole command back.
pub trait EventHook: Send + Sync {
    fn on_events(
        &self,
        conn: &mut DbConn,
        before: Option<&Ticket>,
        after: &Ticket,
        events: &[Event],
    ) -> Result<(), StoreError>;
}

/// The hooks of one process, called in registration order.
#[derive(Clone, Default)]
pub struct Hooks(Arc<Vec<Arc<dyn EventHook>>>);

impl Hooks {
    pub fn new(hooks: Vec<Arc<dyn EventHook>>) -> Self {
        Self(Arc::new(hooks))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs every hook; the first error stops and is returned.
    pub fn run(
        &self,
        conn: &mut DbConn,
        before: Option<&Ticket>,
        after: &Ticket,
        events: &[Event],
    ) -> Result<(), StoreError> {
        for hook in self.0.iter() {
            hook.on_events(conn, before, after, events)?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hooks({})", self.0.len())
    }
}
