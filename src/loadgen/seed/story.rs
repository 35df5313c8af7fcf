//! One ticket's history, made by the state machine itself: every step is an [`Action`] that
//! `decide` turns into changes and `apply` folds into the ticket, exactly as the workflow does, at
//! a moment the story picks. The stored row is the fold of the stored events by construction.

use chrono::{DateTime, Duration, DurationRound, TimeDelta, Timelike, Utc};
use chrono_tz::Asia::Shanghai;
use hotline_core::domain::{Actor, Channel};
use hotline_core::ids::{QueryCode, TicketId, TicketNumber, UnitId};
use hotline_core::store::tickets::involved_units;
use hotline_core::ticket::{
    Action, Ctx, Event, Placement, ReplayError, Status, Ticket, apply, decide, receive,
};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::appeal::{Draft, Hints};
use super::clock::SeedClock;
use super::texts::Vocab;
use super::world::World;

/// Why a story stops taking steps.
#[derive(Debug)]
pub enum Stop {
    /// The next step would happen after now: the ticket stays where it is.
    Later,
    /// The state machine refused the step (the story tries another).
    Refused,
    /// A change did not fold: a bug, which ends the seeding.
    Broken(ReplayError),
}

pub type Flow = Result<(), Stop>;

/// What a unit considered during its current turn with the ticket (reset when the ticket moves
/// to another status or unit).
#[derive(Debug, Default, Clone, Copy)]
pub struct Turn {
    pub return_considered: bool,
    pub pass_considered: bool,
    pub rating_considered: bool,
}

/// What was considered once for the whole ticket.
#[derive(Debug, Default, Clone, Copy)]
pub struct Once {
    pub suspend: bool,
    pub extension: bool,
    pub supervise: bool,
    /// The last return visit reached the citizen.
    pub reached: bool,
}

pub struct Story<'a> {
    pub w: &'a World,
    pub v: &'a Vocab,
    pub clock: &'a SeedClock,
    pub rng: &'a mut StdRng,
    pub now: DateTime<Utc>,
    pub hints: Hints,
    /// The agent who took the appeal (phone) or works the online queue.
    pub agent: Actor,
    pub t: Ticket,
    pub events: Vec<Event>,
    pub units: Vec<UnitId>,
    pub refused: u32,
    pub turn: Turn,
    pub once: Once,
    supervised: Vec<DateTime<Utc>>,
}

fn seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::seconds(1)).unwrap_or(t)
}

impl<'a> Story<'a> {
    /// Receives the appeal as ticket `id` numbered `number`: the first event, by the agent on the
    /// phone or the system for online channels.
    pub fn receive(
        w: &'a World,
        v: &'a Vocab,
        clock: &'a SeedClock,
        rng: &'a mut StdRng,
        now: DateTime<Utc>,
        draft: Draft,
        (id, number): (TicketId, TicketNumber),
    ) -> anyhow::Result<Self> {
        let agent = w
            .staff
            .agents
            .choose(rng)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the centre has no agents"))?;
        let receiver = if draft.appeal.channel == Channel::Phone {
            agent.clone()
        } else {
            Actor::System
        };
        let change = receive(
            &draft.appeal,
            number,
            QueryCode::random(),
            &w.centre,
            &receiver,
        )
        .map_err(|e| anyhow::anyhow!("seeded appeal refused: {e}"))?;
        let e = Event {
            ticket_id: id,
            version: 1,
            occurred_at: seconds(draft.at),
            actor_id: receiver.user_id(),
            actor_role: receiver.kind_name().to_owned(),
            actor_unit_id: receiver.unit().map(|u| u.id),
            change,
        };
        let t = apply(None, &e)?;
        Ok(Self {
            units: involved_units(&t),
            events: vec![e],
            t,
            w,
            v,
            clock,
            rng,
            now,
            hints: draft.hints,
            agent,
            refused: 0,
            turn: Turn::default(),
            once: Once::default(),
            supervised: Vec::new(),
        })
    }

    /// The time of the last event.
    pub fn last(&self) -> DateTime<Utc> {
        self.t.updated_at
    }

    /// Takes `action` as `actor` at `when` (moved to after the last event).
    pub fn act(&mut self, actor: &Actor, when: DateTime<Utc>, action: Action) -> Flow {
        let when = seconds(when).max(self.last() + Duration::seconds(1));
        if when > self.now {
            return Err(Stop::Later);
        }
        let placement = matches!(action, Action::Supervise { .. }).then(|| Placement {
            centre: self.w.centre.clone(),
            main: self
                .t
                .main_unit_id
                .and_then(|u| self.w.refs.get(&u).cloned()),
        });
        let ctx = Ctx {
            actor,
            now: when,
            clock: self.clock,
            placement: placement.as_ref(),
        };
        let Ok(changes) = decide(&self.t, &action, &ctx) else {
            self.refused += 1;
            return Err(Stop::Refused);
        };
        let before = (self.t.status, self.t.main_unit_id);
        for change in changes {
            let e = Event {
                ticket_id: self.t.id,
                version: self.t.version + 1,
                occurred_at: when,
                actor_id: actor.user_id(),
                actor_role: actor.kind_name().to_owned(),
                actor_unit_id: actor.unit().map(|u| u.id),
                change,
            };
            self.t = apply(Some(self.t.clone()), &e).map_err(Stop::Broken)?;
            self.events.push(e);
            // Like `tickets::update`: every unit the ticket is or was with can see it.
            for u in involved_units(&self.t) {
                if !self.units.contains(&u) {
                    self.units.push(u);
                }
            }
        }
        if before != (self.t.status, self.t.main_unit_id) {
            self.turn = Turn::default();
        }
        Ok(())
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    pub fn minutes(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::seconds(self.rng.random_range(lo * 60..hi.max(lo + 1) * 60))
    }

    pub fn dispatcher(&mut self) -> Actor {
        self.w
            .staff
            .dispatchers
            .choose(self.rng)
            .cloned()
            .unwrap_or_else(|| self.agent.clone())
    }

    /// The handler of the unit the ticket is with.
    pub fn handler(&self) -> Result<Actor, Stop> {
        self.t
            .main_unit_id
            .and_then(|u| self.w.staff.handlers.get(&u))
            .cloned()
            .ok_or(Stop::Refused)
    }

    /// When the centre gets to it: minutes on the phone; online appeals wait in a queue, and
    /// the night shift leaves them for the morning.
    pub fn centre_time(&mut self, from: DateTime<Utc>) -> DateTime<Utc> {
        let t = if self.t.channel == Channel::Phone {
            from + self.minutes(1, 12)
        } else {
            from + self.minutes(10, 180)
        };
        let local = t.with_timezone(&Shanghai);
        if local.hour() < 7 {
            let morning = (7 - i64::from(local.hour())) * 60 - i64::from(local.minute());
            t + Duration::minutes(morning + 30) + self.minutes(0, 120)
        } else {
            t
        }
    }

    /// A moment for a unit's step due by `deadline` (or `nominal` after `start` without one):
    /// with probability `in_time` before it, early steps more likely, else late by up to
    /// `late_hours`. Units work in working hours.
    pub fn unit_time(
        &mut self,
        start: DateTime<Utc>,
        deadline: Option<DateTime<Utc>>,
        nominal: Duration,
        in_time: f64,
        late_hours: i64,
    ) -> DateTime<Utc> {
        let end = deadline.unwrap_or(start + nominal);
        if end - start > Duration::minutes(2) && self.chance(in_time) {
            let u: f64 = self.rng.random();
            let f = 0.03 + 0.9 * u.powf(1.6);
            let span = (end - start).num_seconds() as f64;
            let t = self
                .clock
                .working(start + Duration::seconds((span * f) as i64));
            return t.min(end);
        }
        let late = end.max(start) + self.minutes(10, late_hours * 60);
        self.clock.working(late)
    }

    /// The scheduler's supervision of a ticket left past its deadline, taken before the unit's
    /// late step at `when` (once per deadline, as the scheduler's job fires once).
    fn overdue_check(&mut self, when: DateTime<Utc>) -> Flow {
        let t = &self.t;
        let breach = match t.status {
            Status::Dispatched => match (t.sign_deadline, t.handle_deadline) {
                (Some(s), Some(h)) if s <= h => Some(("签收", s)),
                (_, Some(h)) => Some(("办理", h)),
                (Some(s), None) => Some(("签收", s)),
                (None, None) => None,
            },
            Status::Handling => t.handle_deadline.map(|h| ("办理", h)),
            _ => None,
        };
        let Some((which, deadline)) = breach else {
            return Ok(());
        };
        if deadline >= when || self.supervised.contains(&deadline) {
            return Ok(());
        }
        self.supervised.push(deadline);
        let at = deadline.max(self.last()) + self.minutes(1, 5);
        if at >= when {
            return Ok(());
        }
        let shown = deadline.with_timezone(&Shanghai).format("%Y-%m-%d %H:%M");
        let reason = super::flow::reason(&format!("超过{which}时限（{shown}），系统自动督办"))?;
        self.act(&Actor::System, at, Action::Supervise { reason })
    }

    /// A step of the unit the ticket is with, after the scheduler's supervision if it is late.
    pub fn unit_act(&mut self, when: DateTime<Utc>, action: Action) -> Flow {
        self.overdue_check(when)?;
        let actor = self.handler()?;
        self.act(&actor, when, action)
    }
}
