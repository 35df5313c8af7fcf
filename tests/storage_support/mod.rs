#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! What the ticket storage tests share: the seeded staff as actors with their scopes, China-time
//! moments, appeals, and a desk that drives tickets through `Hotline` and checks after every step
//! that the stored row is what the events replay to.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use hotline_core::Db;
use hotline_core::domain::text::{Detail, PhoneNumber, Reason, ShortText, Title};
use hotline_core::domain::{Actor, AppealType, Channel, UnitRef, Urgency};
use hotline_core::ids::{TicketId, UnitId};
use hotline_core::scope::{self, Scope};
use hotline_core::store::{tickets, units, users};
use hotline_core::ticket::{Action, NewAppeal, Ticket};
use hotline_core::workflow::{self, Hotline, WorkflowError};

/// A moment given in China time (Asia/Shanghai), as UTC.
pub fn china(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, m, d, h, min, 0)
        .single()
        .expect("valid China time")
        .to_utc()
}

/// Monday 2026-11-23 10:00 in China: a working morning.
pub fn monday_10() -> DateTime<Utc> {
    china(11, 23, 10, 0)
}

pub fn reason(s: &str) -> Reason {
    Reason::parse(s).expect("reason")
}

pub fn appeal(appeal_type: AppealType, urgency: Urgency) -> NewAppeal {
    NewAppeal {
        channel: Channel::Phone,
        appeal_type,
        urgency,
        category_id: None,
        title: Title::parse("小区门口路灯不亮").expect("title"),
        detail: Detail::parse("A2区桂花坪街道某小区门口路灯连续一周不亮，晚上出行不便。")
            .expect("detail"),
        address: Some(ShortText::parse("A2区桂花坪街道").expect("address")),
        latitude: Some(28.136_512_3),
        longitude: Some(112.987_654_321),
        citizen_name: Some(ShortText::parse("李女士").expect("name")),
        citizen_phone: Some(PhoneNumber::parse("138-0013-8000").expect("phone")),
        citizen_id_number: Some(
            hotline_core::domain::text::ResidentId::parse("11010519491231002X").expect("id"),
        ),
    }
}

/// A seeded user as the commands see them.
#[derive(Clone)]
pub struct Staff {
    pub actor: Actor,
    pub scope: Scope,
    pub unit: UnitRef,
}

/// The actor and scope of a seeded user, as a signed-in request would have them.
pub fn staff(db: &Db, username: &str) -> Staff {
    let mut c = db.get().expect("conn");
    let (user, _) = users::by_username(&mut c, username)
        .expect("query")
        .expect("seeded user");
    let unit = units::get(&mut c, user.unit_id).expect("unit").as_ref();
    let root = scope::root_path(user.role, &unit).to_owned();
    let scope = if scope::is_tree_root(&root) {
        Scope::All
    } else {
        Scope::Units(units::subtree_ids(&mut c, &root).expect("subtree"))
    };
    Staff {
        actor: Actor::Staff {
            user_id: user.id,
            role: user.role,
            unit: unit.clone(),
        },
        scope,
        unit,
    }
}

pub fn unit_ref(db: &Db, code: &str) -> UnitRef {
    let mut c = db.get().expect("conn");
    units::by_code(&mut c, code)
        .expect("query")
        .expect("unit")
        .as_ref()
}

/// The seeded staff and the units tickets go to.
pub struct Team {
    pub centre: UnitId,
    pub agent: Staff,
    pub dispatcher: Staff,
    pub leader: Staff,
    pub a2: Staff,
    pub street: Staff,
    pub a1: Staff,
    pub zjj: Staff,
}

impl Team {
    pub fn of(db: &Db) -> Self {
        Self {
            centre: unit_ref(db, "990100-12345").id,
            agent: staff(db, "agent"),
            dispatcher: staff(db, "dispatcher"),
            leader: staff(db, "leader"),
            a2: staff(db, "a2"),
            street: staff(db, "a2street"),
            a1: staff(db, "a1"),
            zjj: staff(db, "zjj"),
        }
    }
}

/// Asserts that the stored row of `id` is exactly what its events replay to.
pub fn assert_replays(db: &Db, id: TicketId) {
    let mut c = db.get().expect("conn");
    let differs = workflow::rebuild_ticket(&mut c, id, false).expect("rebuild");
    assert!(
        !differs,
        "ticket {id}: the stored row differs from its replayed events"
    );
}

pub fn stored(db: &Db, id: TicketId) -> Ticket {
    tickets::get(&mut db.get().expect("conn"), id).expect("stored ticket")
}

/// A seeded database and a desk whose clock stands at Monday 2026-11-23 10:00 China time.
pub fn desk(backend: crate::common::Backend) -> (crate::common::TestDb, Desk) {
    let t = crate::common::TestDb::new(backend);
    crate::common::seed(t.db());
    let d = Desk::new(crate::common::hotline(t.db(), monday_10()));
    (t, d)
}

/// Drives tickets through the commands on a manual clock, checking every step.
pub struct Desk {
    pub h: Hotline,
    pub team: Team,
}

impl Desk {
    pub fn new(h: Hotline) -> Self {
        let team = Team::of(&h.db);
        Self { h, team }
    }

    pub fn db(&self) -> &Db {
        &self.h.db
    }

    pub fn at(&self, t: DateTime<Utc>) {
        self.h.now.set(t);
    }

    fn check(&self, t: &Ticket) {
        assert_eq!(
            &stored(self.db(), t.id),
            t,
            "the command's answer is the stored row"
        );
        assert_replays(self.db(), t.id);
    }

    pub async fn receive(&self, appeal_type: AppealType, urgency: Urgency) -> Ticket {
        let t = self
            .h
            .receive(
                self.team.agent.actor.clone(),
                self.team.centre,
                appeal(appeal_type, urgency),
            )
            .await
            .expect("receive");
        self.check(&t);
        t
    }

    pub async fn try_act(
        &self,
        who: &Staff,
        id: TicketId,
        action: Action,
    ) -> Result<Ticket, WorkflowError> {
        self.h
            .act(who.actor.clone(), who.scope.clone(), id, action, None)
            .await
    }

    /// Takes an action that must succeed, and checks the stored row against the events.
    pub async fn act(&self, who: &Staff, id: TicketId, action: Action) -> Ticket {
        let kind = action.kind();
        let before = stored(self.db(), id).version;
        let t = self
            .try_act(who, id, action)
            .await
            .unwrap_or_else(|e| panic!("{kind} on {id}: {e}"));
        assert_eq!(t.version, before + 1, "{kind} adds one event");
        self.check(&t);
        t
    }

    /// Like [`Desk::act`] for an actor that is not staff (the citizen, the system).
    pub async fn act_as(&self, actor: Actor, id: TicketId, action: Action) -> Ticket {
        let t = self
            .h
            .act(actor, Scope::All, id, action, None)
            .await
            .expect("action");
        self.check(&t);
        t
    }

    pub async fn merge(&self, who: &Staff, source: TicketId, target: TicketId) -> (Ticket, Ticket) {
        let (s, t) = self
            .h
            .merge(
                who.actor.clone(),
                who.scope.clone(),
                source,
                target,
                reason("同一路灯的重复来电"),
                None,
            )
            .await
            .expect("merge");
        self.check(&s);
        self.check(&t);
        (s, t)
    }
}

/// Dispatch to a staff member's unit, as the centre does.
pub fn dispatch(to: &Staff) -> Action {
    Action::Dispatch {
        main: to.unit.clone(),
        co: vec![],
        note: Some(reason("请核实处理")),
    }
}
