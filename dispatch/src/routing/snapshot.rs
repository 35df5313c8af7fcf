//! The router of the database: built from the org tree, the catalogue, the rules, the place
//! names and the areas, and rebuilt when any of them changed (each has a cheap fingerprint: a
//! count and a latest change, or the rules' audit revision). One classifier model per process.

use std::collections::HashMap;
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
        let one = pending(conn, vec![t.clone()])?.pop().ok_or_else(|| {
            StoreError::Corrupt("a ticket's suggestion bounds went missing".into())
        })?;
        Ok(one.suggest(&router))
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
        marks::store(conn, &mark_of(&t, &s))?;
        Ok((t, s))
    }

    /// A sweep's reading of those of `ids` that await dispatch with no current suggestion: the
    /// router and what their suggestions need. Reads only, so it runs outside the writer;
    /// [`Work::marks`] classifies without the database and [`marks::store_all`] writes the
    /// result in one short transaction. A ticket that changes meanwhile gets a mark at its old
    /// version, which the next sweep (its event wakes one) replaces.
    pub fn gather_these(&self, conn: &mut DbConn, ids: &[TicketId]) -> Result<Work, StoreError> {
        let ids = marks::stale_among(conn, ids)?;
        self.work(conn, ids, None)
    }

    /// [`Suggester::gather_these`] for the next `limit` tickets that need a suggestion after
    /// `after` in received order; [`Work::cursor`] is where the next round starts.
    pub fn gather_after(
        &self,
        conn: &mut DbConn,
        after: Option<&marks::Cursor>,
        limit: usize,
    ) -> Result<Work, StoreError> {
        let found = marks::stale(conn, after, limit)?;
        let cursor = found.last().map(|(_, c)| c.clone());
        let ids = found.into_iter().map(|(id, _)| id).collect();
        self.work(conn, ids, cursor)
    }

    fn work(
        &self,
        conn: &mut DbConn,
        ids: Vec<TicketId>,
        cursor: Option<marks::Cursor>,
    ) -> Result<Work, StoreError> {
        if ids.is_empty() {
            return Ok(Work {
                router: None,
                pending: Vec::new(),
                cursor,
            });
        }
        let router = self.router(conn)?;
        let tickets = tickets::get_many(conn, &ids)?;
        Ok(Work {
            router: Some(router),
            pending: pending(conn, tickets)?,
            cursor,
        })
    }
}

/// Tickets to suggest for and the router to do it with (see [`Suggester::gather`]).
pub struct Work {
    router: Option<Arc<Router>>,
    pending: Vec<Pending>,
    cursor: Option<marks::Cursor>,
}

impl Work {
    /// How many tickets this work suggests for.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The last ticket a [`Suggester::gather_after`] read: where the next round starts.
    pub fn cursor(&self) -> Option<&marks::Cursor> {
        self.cursor.as_ref()
    }

    /// Classifies every ticket: the marks to store. CPU only, no database.
    pub fn marks(&self) -> Vec<Mark> {
        let Some(router) = &self.router else {
            return Vec::new();
        };
        self.pending
            .iter()
            .map(|p| mark_of(&p.ticket, &p.suggest(router)))
            .collect()
    }
}

/// One ticket with the bounds of its suggestion.
struct Pending {
    ticket: Ticket,
    bounds: Bounds,
}

impl Pending {
    fn suggest(&self, router: &Router) -> UnitSuggestion {
        router.suggest(&appeal(&self.ticket), &self.bounds)
    }
}

fn appeal(t: &Ticket) -> Appeal<'_> {
    Appeal {
        title: &t.title,
        detail: &t.detail,
        address: t.address.as_deref(),
        point: t.latitude.zip(t.longitude),
        category_id: t.category_id,
    }
}

fn mark_of(t: &Ticket, s: &UnitSuggestion) -> Mark {
    Mark {
        ticket_id: t.id,
        ticket_version: t.version,
        unit_id: s.units.first().map(|u| u.unit.id),
        confidence: f64::from(s.confidence),
        manual: s.manual,
        computed_at: hotline_core::db::now(),
    }
}

/// The bounds of each ticket's suggestion: never a unit that returned it (the ping-pong guard),
/// only units its centre may dispatch to. A few statements for all of them.
fn pending(conn: &mut DbConn, tickets: Vec<Ticket>) -> Result<Vec<Pending>, StoreError> {
    let ids: Vec<TicketId> = tickets.iter().map(|t| t.id).collect();
    let mut returned: HashMap<TicketId, Vec<UnitId>> = HashMap::new();
    for e in events::of_kind_for(conn, "returned", &ids)? {
        if let Change::Returned { .. } = e.event.change
            && let Some(u) = e.event.actor_unit_id
        {
            let seen = returned.entry(e.event.ticket_id).or_default();
            if !seen.contains(&u) {
                seen.push(u);
            }
        }
    }
    let mut within: HashMap<UnitId, Option<String>> = HashMap::new();
    let mut out = Vec::with_capacity(tickets.len());
    for ticket in tickets {
        let centre = match within.get(&ticket.centre_id) {
            Some(w) => w.clone(),
            None => {
                let w = units::get(conn, ticket.centre_id).ok().map(|c| {
                    let r: UnitRef = c.as_ref();
                    jurisdiction(&r).to_owned()
                });
                within.insert(ticket.centre_id, w.clone());
                w
            }
        };
        out.push(Pending {
            bounds: Bounds {
                excluded: returned.remove(&ticket.id).unwrap_or_default(),
                within: centre,
            },
            ticket,
        });
    }
    Ok(out)
}
