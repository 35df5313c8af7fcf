//! The ticket commands: each reads the ticket, lets the state machine decide, and writes the new
//! row and its events in one transaction, then wakes the sequencer. Feature crates and handlers
//! move tickets only through these.

use std::sync::Arc;

use crate::bus::EventBus;
use crate::clock::TimeRules;
use crate::db::{Db, DbConn, StoreError};
use crate::domain::text::Reason;
use crate::domain::{Actor, UnitRef};
use crate::error::{ErrorCode, HasErrorCode};
use crate::hooks::Hooks;
use crate::ids::{QueryCode, TicketId, UnitId};
use crate::numbers::NumberAllocator;
use crate::scope::Scope;
use crate::store::{events, tickets, units};
use crate::ticket::personal::{self, PersonalField};
use crate::ticket::{self, Action, Change, Ctx, Event, NewAppeal, Ticket, TransitionError};

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

impl From<diesel::result::Error> for WorkflowError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(e.into())
    }
}

impl HasErrorCode for WorkflowError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Store(e) => e.code(),
            Self::Transition(e) => e.code(),
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            Self::Store(e) => e.field(),
            Self::Transition(e) => e.field(),
        }
    }
    fn details(&self) -> Option<serde_json::Value> {
        match self {
            Self::Store(e) => e.details(),
            Self::Transition(e) => e.details(),
        }
    }
}

/// How often a command re-reads and re-decides when another writer got in first and the caller
/// did not pin a version.
const RETRIES: usize = 3;

/// Where the commands get the time: the system clock, or a clock someone sets (demo seeding of
/// a realistic past, tests of deadlines).
#[derive(Clone, Default)]
pub struct Now(Option<Arc<std::sync::Mutex<chrono::DateTime<chrono::Utc>>>>);

impl Now {
    pub fn system() -> Self {
        Self(None)
    }

    pub fn manual(at: chrono::DateTime<chrono::Utc>) -> Self {
        Self(Some(Arc::new(std::sync::Mutex::new(at))))
    }

    pub fn get(&self) -> chrono::DateTime<chrono::Utc> {
        match &self.0 {
            None => crate::db::now(),
            Some(m) => *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
        }
    }

    /// Moves a manual clock; a system clock ignores it.
    pub fn set(&self, at: chrono::DateTime<chrono::Utc>) {
        if let Some(m) = &self.0 {
            *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = at;
        }
    }
}

/// What the commands need: storage, the clock rules, the number allocator and the bus.
#[derive(Clone)]
pub struct Hotline {
    pub now: Now,
    pub db: Db,
    pub time: TimeRules,
    pub numbers: Arc<NumberAllocator>,
    pub bus: Arc<EventBus>,
    pub token_key: crate::auth::token::TokenKey,
    /// Called inside every ticket command's transaction (see [`crate::hooks`]).
    pub hooks: Hooks,
}

fn event_for(
    t_id: TicketId,
    version: i32,
    actor: &Actor,
    at: chrono::DateTime<chrono::Utc>,
    change: Change,
) -> Event {
    Event {
        ticket_id: t_id,
        version,
        occurred_at: at,
        actor_id: actor.user_id(),
        actor_role: actor.kind_name().to_owned(),
        actor_unit_id: actor.unit().map(|u| u.id),
        change,
    }
}

/// A new ticket for `appeal`, received by `centre` now, and its first event: to be stored
/// together (see [`Hotline::receive_with`], and intake's batches).
pub fn received(
    actor: &Actor,
    centre: &UnitRef,
    appeal: &NewAppeal,
    number: crate::ids::TicketNumber,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Ticket, Event), WorkflowError> {
    let change = ticket::receive(appeal, number, QueryCode::random(), centre, actor)?;
    let e = event_for(TicketId::new(), 1, actor, now, change);
    let t = ticket::apply(None, &e).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((t, e))
}

/// The ticket's centre and main unit with their places in the tree.
fn placement_of(c: &mut DbConn, t: &Ticket) -> Result<ticket::Placement, StoreError> {
    Ok(ticket::Placement {
        centre: units::resolve(c, t.centre_id, "centre_id")?,
        main: t
            .main_unit_id
            .map(|u| units::resolve(c, u, "main_unit_id"))
            .transpose()?,
    })
}

/// Applies `changes` to `t` and writes the row (checked against the version read) and the events,
/// then runs the hooks in the same transaction.
fn commit(
    conn: &mut DbConn,
    hooks: &Hooks,
    t: &Ticket,
    changes: Vec<Change>,
    actor: &Actor,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Ticket, WorkflowError> {
    let mut next = t.clone();
    let mut new_events = Vec::with_capacity(changes.len());
    for change in changes {
        let e = event_for(t.id, next.version + 1, actor, at, change);
        next = ticket::apply(Some(next), &e).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        new_events.push(e);
    }
    tickets::update(conn, &next, t.version)?;
    for e in &new_events {
        events::append(conn, e)?;
    }
    hooks.run(conn, Some(t), &next, &new_events)?;
    Ok(next)
}

impl Hotline {
    /// Resolves a unit named by a request (`field` names it in errors).
    pub async fn unit_ref(
        &self,
        id: UnitId,
        field: &'static str,
    ) -> Result<UnitRef, WorkflowError> {
        Ok(self.db.run(move |c| units::resolve(c, id, field)).await?)
    }

    /// Registers an appeal as a new ticket received by the centre `centre_id`.
    pub async fn receive(
        &self,
        actor: Actor,
        centre_id: UnitId,
        appeal: NewAppeal,
    ) -> Result<Ticket, WorkflowError> {
        self.receive_with(actor, centre_id, appeal, |_, t| Ok(t.clone()))
            .await
    }

    /// Registers an appeal and runs `also` in the same transaction (a channel's own records: the
    /// raw payload, the idempotency key and the answer to replay), so the appeal and they commit
    /// together or not at all.
    pub async fn receive_with<T, F>(
        &self,
        actor: Actor,
        centre_id: UnitId,
        appeal: NewAppeal,
        also: F,
    ) -> Result<T, WorkflowError>
    where
        F: FnOnce(&mut DbConn, &Ticket) -> Result<T, WorkflowError> + Send + 'static,
        T: Send + 'static,
    {
        let now = self.now.get();
        let number = self.numbers.next(&self.db, now).await?;
        let hooks = self.hooks.clone();
        let out = self
            .db
            .write(move |c| {
                let centre = units::resolve(c, centre_id, "centre_id")?;
                let (t, e) = received(&actor, &centre, &appeal, number, now)?;
                tickets::insert(c, &t)?;
                events::append(c, &e)?;
                hooks.run(c, None, &t, std::slice::from_ref(&e))?;
                also(c, &t)
            })
            .await?;
        self.bus.wake();
        Ok(out)
    }

    /// Takes `action` on a ticket the caller can see. With `expected_version`, refuses if the
    /// ticket moved on since the caller read it; without, re-decides on the fresh state.
    pub async fn act(
        &self,
        actor: Actor,
        scope: Scope,
        id: TicketId,
        action: Action,
        expected_version: Option<i32>,
    ) -> Result<Ticket, WorkflowError> {
        let keeper = self.time.snapshot();
        // Supervision escalates up the tree: resolve where the ticket's units sit first. If the
        // ticket moves to another unit meanwhile, the decision sees the mismatch and escalates to
        // the centre only.
        let placement = match action.kind() {
            ticket::ActionKind::Supervise => Some(self.placement(id, scope.clone()).await?),
            _ => None,
        };
        self.command(actor, scope, id, expected_version, move |t, actor, now| {
            let ctx = Ctx {
                actor,
                now,
                clock: keeper.as_ref(),
                placement: placement.as_ref(),
            };
            ticket::claim::check(t, action.kind(), actor)?;
            ticket::decide(t, &action, &ctx)
        })
        .await
    }

    /// The ticket's centre and main unit with their places in the tree.
    pub async fn placement(
        &self,
        id: TicketId,
        scope: Scope,
    ) -> Result<ticket::Placement, WorkflowError> {
        Ok(self
            .db
            .run(move |c| {
                let t = tickets::get_visible(c, id, &scope)?;
                placement_of(c, &t)
            })
            .await?)
    }

    /// Runs one command on a ticket the caller can see: lock, read, decide, write the row and its
    /// events. `decide` is pure and may run more than once (a writer got in first).
    pub async fn command<D>(
        &self,
        actor: Actor,
        scope: Scope,
        id: TicketId,
        expected_version: Option<i32>,
        decide: D,
    ) -> Result<Ticket, WorkflowError>
    where
        D: Fn(
                &Ticket,
                &Actor,
                chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<Change>, TransitionError>
            + Clone
            + Send
            + 'static,
    {
        let mut attempt = 0;
        let ticket = loop {
            attempt += 1;
            let (actor, scope, decide, clock, hooks) = (
                actor.clone(),
                scope.clone(),
                decide.clone(),
                self.now.clone(),
                self.hooks.clone(),
            );
            let result = self
                .db
                .write(move |c| {
                    tickets::lock(c, id)?;
                    let now = clock.get();
                    let t = tickets::get_visible(c, id, &scope)?;
                    expect_version(expected_version, &t)?;
                    let changes = decide(&t, &actor, now)?;
                    commit(c, &hooks, &t, changes, &actor, now)
                })
                .await;
            match result {
                Err(WorkflowError::Store(StoreError::VersionConflict { .. }))
                    if expected_version.is_none() && attempt < RETRIES => {}
                other => break other?,
            }
        };
        self.bus.wake();
        Ok(ticket)
    }

    /// Takes `action` inside a transaction the caller holds, on any ticket (no scope): for
    /// automatic work such as the scheduler, whose own bookkeeping must commit with the action.
    /// The caller wakes the bus after its transaction commits.
    pub fn act_within(
        &self,
        conn: &mut DbConn,
        actor: &Actor,
        id: TicketId,
        action: &Action,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Ticket, WorkflowError> {
        tickets::lock(conn, id)?;
        let t = tickets::get(conn, id)?;
        let keeper = self.time.snapshot();
        // The row is locked: the ticket's units cannot move while they are resolved.
        let placement = match action.kind() {
            ticket::ActionKind::Supervise => Some(placement_of(conn, &t)?),
            _ => None,
        };
        let ctx = Ctx {
            actor,
            now,
            clock: keeper.as_ref(),
            placement: placement.as_ref(),
        };
        let changes = ticket::decide(&t, action, &ctx)?;
        commit(conn, &self.hooks, &t, changes, actor, now)
    }

    /// Shows a masked value in full, recording who saw it.
    pub async fn reveal(
        &self,
        actor: Actor,
        scope: Scope,
        id: TicketId,
        field: PersonalField,
    ) -> Result<(Ticket, String), WorkflowError> {
        let t = self
            .command(actor, scope, id, None, move |t, actor, _| {
                personal::decide_view(t, field, actor).map(|c| vec![c])
            })
            .await?;
        let value = match field {
            PersonalField::CitizenPhone => t.citizen_phone.clone(),
            PersonalField::CitizenIdNumber => t.citizen_id_number.clone(),
        };
        Ok((t, value.unwrap_or_default()))
    }

    /// Corrects the citizen's contact details (the citizen, or the centre on their behalf).
    pub async fn correct_contact(
        &self,
        actor: Actor,
        scope: Scope,
        id: TicketId,
        name: Option<crate::domain::text::ShortText>,
        phone: Option<crate::domain::text::PhoneNumber>,
    ) -> Result<Ticket, WorkflowError> {
        self.command(actor, scope, id, None, move |t, actor, _| {
            personal::decide_correct_contact(t, name.as_ref(), phone.as_ref(), actor)
                .map(|c| vec![c])
        })
        .await
    }

    /// The citizen asks for their personal data to be deleted (at once if the ticket has ended).
    pub async fn request_erasure(
        &self,
        actor: Actor,
        scope: Scope,
        id: TicketId,
    ) -> Result<Ticket, WorkflowError> {
        self.command(actor, scope, id, None, |t, actor, _| {
            personal::decide_erasure(t, actor)
        })
        .await
    }

    /// Claims a ticket for the actor (`take_over`: a supervisor takes another's claim). Of many
    /// concurrent claims exactly one wins: the row is locked, and the others find it claimed
    /// (409 `claimed`, naming the holder and the current version). A claim that names a stale
    /// `expected_version` is refused with `version_conflict` even when the caller holds it.
    pub async fn claim(
        &self,
        actor: Actor,
        scope: Scope,
        id: TicketId,
        expected_version: Option<i32>,
        take_over: bool,
    ) -> Result<Ticket, WorkflowError> {
        self.claim_command(actor, scope, id, expected_version, move |t, actor| {
            ticket::claim::decide_claim(t, actor, take_over)
        })
        .await
    }

    /// Ends the claim on a ticket: its holder, or a dispatcher / the unit's administrator.
    pub async fn release(
        &self,
        actor: Actor,
        scope: Scope,
        id: TicketId,
        expected_version: Option<i32>,
    ) -> Result<Ticket, WorkflowError> {
        self.claim_command(
            actor,
            scope,
            id,
            expected_version,
            ticket::claim::decide_release,
        )
        .await
    }

    /// Like [`Hotline::command`], but decides before comparing versions, so that a loser of a
    /// race learns who holds the ticket rather than only that it changed.
    async fn claim_command<D>(
        &self,
        actor: Actor,
        scope: Scope,
        id: TicketId,
        expected_version: Option<i32>,
        decide: D,
    ) -> Result<Ticket, WorkflowError>
    where
        D: FnOnce(&Ticket, &Actor) -> Result<Vec<Change>, TransitionError> + Send + 'static,
    {
        let clock = self.now.clone();
        let hooks = self.hooks.clone();
        let t = self
            .db
            .write(move |c| {
                tickets::lock(c, id)?;
                let now = clock.get();
                let t = tickets::get_visible(c, id, &scope)?;
                let changes = decide(&t, &actor)?;
                expect_version(expected_version, &t)?;
                if changes.is_empty() {
                    return Ok(t);
                }
                commit(c, &hooks, &t, changes, &actor, now)
            })
            .await?;
        self.bus.wake();
        Ok(t)
    }

    /// Merges duplicate `source` into `target`; both must be visible to the caller.
    pub async fn merge(
        &self,
        actor: Actor,
        scope: Scope,
        source: TicketId,
        target: TicketId,
        reason: Reason,
        expected_version: Option<i32>,
    ) -> Result<(Ticket, Ticket), WorkflowError> {
        let clock = self.now.clone();
        let hooks = self.hooks.clone();
        let pair = self
            .db
            .write(move |c| {
                // Both rows, always in the same order: two merges of one pair cannot deadlock.
                tickets::lock(c, source.min(target))?;
                tickets::lock(c, source.max(target))?;
                let now = clock.get();
                let s = tickets::get_visible(c, source, &scope)?;
                expect_version(expected_version, &s)?;
                let t = tickets::get_visible(c, target, &scope).map_err(|e| match e {
                    StoreError::NotFound(_) => StoreError::invalid("target_id", "no such ticket"),
                    other => other,
                })?;
                ticket::claim::check(&s, ticket::ActionKind::Merge, &actor)?;
                let (on_source, on_target) = ticket::decide_merge(&s, &t, &reason, &actor)?;
                let s = commit(c, &hooks, &s, vec![on_source], &actor, now)?;
                let t = commit(c, &hooks, &t, vec![on_target], &actor, now)?;
                Ok::<_, WorkflowError>((s, t))
            })
            .await?;
        self.bus.wake();
        Ok(pair)
    }
}

/// The caller's `expected_version`, when given, must be the ticket's: 409 with the current one
/// otherwise.
fn expect_version(expected: Option<i32>, t: &Ticket) -> Result<(), StoreError> {
    match expected {
        Some(v) if v != t.version => Err(StoreError::VersionConflict { current: t.version }),
        _ => Ok(()),
    }
}

/// Replays a ticket's events and compares the result with its stored row. Returns whether they
/// differed; with `repair`, writes the replayed row.
pub fn rebuild_ticket(conn: &mut DbConn, id: TicketId, repair: bool) -> Result<bool, StoreError> {
    let history = events::all_for_rebuild(conn, id)?;
    let replayed = ticket::replay(&history)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .ok_or_else(|| StoreError::Corrupt(format!("ticket {id} has no events")))?;
    let stored = tickets::raw_row(conn, id)?;
    let differs = stored != tickets::TicketRow::from(&replayed);
    if differs && repair {
        tickets::overwrite(conn, &replayed)?;
    }
    Ok(differs)
}
