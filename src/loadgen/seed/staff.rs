//! The staff who act in the seeded histories: a few agents and dispatchers of the centre and one
//! handler per handling unit. They are real rows (a ticket's `created_by` refers to its agent, and
//! pages name the people of a history), created once and reused by later runs; they are inactive
//! and their password hash is one no password matches, so nobody can log in as them.

use std::collections::HashMap;

use hotline_core::domain::{Actor, Role};
use hotline_core::ids::UnitId;
use hotline_core::store::units::Unit;
use hotline_core::store::users::{self, NewUser, UserChanges};
use hotline_core::{Db, StoreError};

/// Not a PHC string: `password::verify` never accepts it.
const NO_PASSWORD: &str = "!seeded-account-without-password";

const AGENTS: usize = 8;
const DISPATCHERS: usize = 3;

#[derive(Debug, Clone)]
pub struct Staff {
    pub agents: Vec<Actor>,
    pub dispatchers: Vec<Actor>,
    pub handlers: HashMap<UnitId, Actor>,
}

struct Wanted {
    username: String,
    display: String,
    role: Role,
    unit: Unit,
}

fn account(c: &mut hotline_core::DbConn, w: &Wanted) -> Result<Actor, StoreError> {
    let now = hotline_core::db::now();
    let user = match users::by_username(c, &w.username)? {
        Some((u, _)) if u.role == w.role && u.unit_id == w.unit.id => u,
        Some(_) => {
            return Err(StoreError::invalid(
                "username",
                format!(
                    "{} exists with another role or unit: the seeder's accounts are its own",
                    w.username
                ),
            ));
        }
        None => {
            let u = users::insert(
                c,
                &NewUser {
                    username: &w.username,
                    display_name: &w.display,
                    role: w.role,
                    unit_id: w.unit.id,
                    password_hash: NO_PASSWORD,
                    email: None,
                },
                now,
            )?;
            let inactive = UserChanges {
                active: Some(false),
                ..UserChanges::default()
            };
            users::update(c, u.id, inactive, now)?
        }
    };
    Ok(Actor::Staff {
        user_id: user.id,
        role: user.role,
        unit: w.unit.as_ref(),
    })
}

/// The seeder's accounts for `centre` and the handling units, created where missing.
pub fn ensure(db: &Db, centre: &Unit, handling: &[Unit]) -> Result<Staff, StoreError> {
    let centre_staff = |prefix: &str, label: &str, role: Role, n: usize| {
        (1..=n)
            .map(|i| Wanted {
                username: format!("seed-{prefix}{i:02}"),
                display: format!("{label}{i:02}（模拟）"),
                role,
                unit: centre.clone(),
            })
            .collect::<Vec<_>>()
    };
    let agents = centre_staff("agent", "话务员", Role::Agent, AGENTS);
    let dispatchers = centre_staff("dispatcher", "派单员", Role::Dispatcher, DISPATCHERS);
    let handlers: Vec<Wanted> = handling
        .iter()
        .map(|u| Wanted {
            username: format!("seed-{}", u.code.to_lowercase()),
            display: format!("{}承办人（模拟）", u.name),
            role: Role::UnitHandler,
            unit: u.clone(),
        })
        .collect();
    db.write_blocking(|c| {
        Ok(Staff {
            agents: agents
                .iter()
                .map(|w| account(c, w))
                .collect::<Result<_, StoreError>>()?,
            dispatchers: dispatchers
                .iter()
                .map(|w| account(c, w))
                .collect::<Result<_, StoreError>>()?,
            handlers: handlers
                .iter()
                .map(|w| Ok((w.unit.id, account(c, w)?)))
                .collect::<Result<_, StoreError>>()?,
        })
    })
}
