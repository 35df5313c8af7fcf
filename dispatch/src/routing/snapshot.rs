//! The router of the database: built from the org tree, the catalogue, the rules, the place
//! names and the areas, and rebuilt when any of them changed (each has a cheap fingerprint: a
//! count and a latest change, or the rules' audit revision). One classifier model per process.

use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::DbConn;
use hotline_core::db::schema::categories as categories_table;
use hotline_core::domain::UnitRef;
use hotline_core::ids::{TicketId, UnitId};
use hotline_core::places;
use hotline_core::store::{categories, events, tickets, units};
use hotline_core::ticket::machine::jurisdiction;
use hotline_core::ticket::{Change, Ticket};

use super::engine::{Appeal, Bounds, CategoryInfo, Router, RouterData, UnitInfo};
use super::marks::{self, Mark};
use super::store;
use super::suggestion::UnitSuggestion;
use crate::model::Model;
use crate::places::{areas, names};

type Stamp = (i64, Option<NaiveDateTime>);
type Fingerprint = (Stamp, Stamp, i64, Stamp, Stamp);

fn fingerprint(conn: &mut DbConn) -> Result<Fingerprint, StoreError> {
    let cats: Stamp = categories_table::table
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(categories_table::updated_at),
        ))
        .first(conn)?;
    Ok((
        places::org_fingerprint(conn)?,
        cats,
        store::revision(conn)?,
        names::fingerprint(conn)?,
        areas::fingerprint(conn)?,
    ))
}

/// Everything a router is built from, read from the database.
pub fn load(conn: &mut DbConn) -> Result<RouterData, StoreError> {
    let units = units::list(conn, &units::UnitFilter::default())?
        .into_iter()
        .map(|u| UnitInfo {
            id: u.id,
            code: u.code,
            name: u.name,
            level: u.level,
            kind: u.kind,
            path: u.path,
            active: u.active,
        })
        .collect();
    let categories = categories::list(conn)?
        .into_iter()
        .map(|c| CategoryInfo {
            id: c.id,
            parent_id: c.parent_id,
            level: c.level,
            name: c.name,
        })
        .collect();
    Ok(RouterData {
        units,
        categories,
        rules: store::list(conn)?,
        places: places::place_rows(conn)?,
        place_names: names::load(conn)?,
        areas: areas::load(conn)?,
    })
}

/// The classifier, the threshold, and the router of the current data.
pub struct Suggester {
    model: Arc<Model>,
    threshold: f32,
    cache: Mutex<Option<(Fingerprint, Arc<Router>)>>,
}

impl Suggester {
    pub fn new(model: Arc<Model>, threshold: f32) -> Self {
        Self {
            model,
            threshold,
            cache: Mutex::new(None),
        }
    }

    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// The router of the data `conn` sees now.
    pub fn router(&self, conn: &mut DbConn) -> Result<Arc<Router>, StoreError> {
        let f = fingerprint(conn)?;
        if let Some((seen, r)) = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            && *seen == f
        {
            return Ok(r.clone());
        }
        let router = Arc::new(Router::new(self.model.clone(), load(conn)?, self.threshold));
        *self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((f, router.clone()));
        Ok(router)
    }

    /// The suggestion for a stored ticket: its text, place and category; never a unit that
    /// returned it; only units its centre may dispatch to.
    pub fn for_ticket(&self, conn: &mut DbConn, t: &Ticket) -> Result<UnitSuggestion, StoreError> {
        let router = self.router(conn)?;
        let excluded = returned_by(conn, t.id)?;
        let within = units::get(conn, t.centre_id).ok().map(|c| {
            let r: UnitRef = c.as_ref();
            jurisdiction(&r).to_owned()
        });
        Ok(router.suggest(
            &Appeal {
                title: &t.title,
                detail: &t.detail,
                address: t.address.as_deref(),
                point: t.latitude.zip(t.longitude),
                category_id: t.category_id,
            },
            &Bounds { excluded, within },
        ))
    }

    /// Suggests for the ticket and stores the mark (the manual queue), in the caller's
    /// transaction.
    pub fn mark(
        &self,
        conn: &mut DbConn,
        id: TicketId,
    ) -> Result<(Ticket, UnitSuggestion), StoreError> {
        let t = tickets::get(conn, id)?;
        let s = self.for_ticket(conn, &t)?;
        marks::store(
            conn,
            &Mark {
                ticket_id: t.id,
                ticket_version: t.version,
                unit_id: s.units.first().map(|u| u.unit.id),
                confidence: f64::from(s.confidence),
                manual: s.manual,
                computed_at: hotline_core::db::now(),
            },
        )?;
        Ok((t, s))
    }

    /// Suggests for up to `limit` tickets awaiting dispatch that have no current suggestion.
    /// Returns how many were done.
    pub fn sweep(&self, conn: &mut DbConn, limit: usize) -> Result<usize, StoreError> {
        marks::prune(conn)?;
        let ids = marks::stale(conn, limit)?;
        for id in &ids {
            self.mark(conn, *id)?;
        }
        Ok(ids.len())
    }

    /// Suggests for those of `ids` that await dispatch with no current suggestion (the tickets
    /// of a batch of events). Returns how many were done.
    pub fn sweep_these(&self, conn: &mut DbConn, ids: &[TicketId]) -> Result<usize, StoreError> {
        let stale = marks::stale_among(conn, ids)?;
        for id in &stale {
            self.mark(conn, *id)?;
        }
        Ok(stale.len())
    }
}

/// The units that returned the ticket (read from its events): the ping-pong guard never
/// suggests them again.
pub fn returned_by(conn: &mut DbConn, id: TicketId) -> Result<Vec<UnitId>, StoreError> {
    let mut out: Vec<UnitId> = Vec::new();
    for e in events::for_ticket(conn, id)? {
        if let Change::Returned { .. } = e.event.change
            && let Some(u) = e.event.actor_unit_id
            && !out.contains(&u)
        {
            out.push(u);
        }
    }
    Ok(out)
}
