//! What one ticket adds to the rollups now: its key (day, category, unit, area, channel, type,
//! status), its heat-map cell and its measures. A fact is a pure function of the ticket's current
//! state (the fold of its events), the places and the working-day calendar, so following the
//! event stream and replaying every history give the same rollups.

use chrono::{DateTime, NaiveDate, Utc};
use hotline_core::calendar::WorkCalendar;
use hotline_core::ids::TicketId;
use hotline_core::ticket::{ExtensionState, Rating, Status, Ticket};
use serde::{Deserialize, Serialize};

use crate::areas::Areas;
use crate::sentiment::{self, Polarity};

/// The resolution of the stored heat-map cells (H3 resolution 9: about 0.1 km², a few blocks);
/// coarser maps are drawn from their parents.
pub const CELL_RESOLUTION: h3o::Resolution = h3o::Resolution::Nine;

/// Where a ticket is counted. Unknown parts are empty strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    /// The China date the appeal was received, `YYYY-MM-DD`.
    pub day: String,
    pub category_id: String,
    /// The main handling unit (the one it is with now, or last was).
    pub unit_id: String,
    /// The street (or district) the appeal is about.
    pub area_id: String,
    pub channel: String,
    pub appeal_type: String,
    pub status: String,
}

/// The heat map's key: day, cell, category, type and area.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellKey {
    pub day: String,
    pub cell: i64,
    pub category_id: String,
    pub appeal_type: String,
    pub area_id: String,
}

/// Counts and durations. For one ticket each count is 0 or 1; in a rollup they are sums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measures {
    pub tickets: i64,
    /// Dispatched to a unit at least once.
    pub dispatched: i64,
    /// Signed for by the unit it is with.
    pub signed: i64,
    /// … by the sign-for deadline (a deadline the calendar could not give counts as kept).
    pub signed_in_time: i64,
    pub replied: i64,
    /// Replied by the handling deadline.
    pub replied_in_time: i64,
    /// Closed (办结), by a reply or answered directly.
    pub closed: i64,
    /// Closed and not rated 不满意.
    pub resolved: i64,
    pub rated: i64,
    /// Rated 满意 or 基本满意.
    pub satisfied: i64,
    /// Returned (退单) at least once.
    pub returned: i64,
    /// Ordered redone (重办) at least once.
    pub redone: i64,
    /// Given an extension (延期).
    pub extended: i64,
    /// Replied with a known handling time …
    pub handled: i64,
    /// … of this many working minutes from dispatch to reply.
    pub handling_minutes: i64,
    /// The appeal's text reads negative (舆情).
    pub negative: i64,
    /// The appeal's sentiment score × 1000 (integers, so sums and differences stay exact).
    pub sentiment_milli: i64,
}

impl Measures {
    /// Adds `other` times `sign` (±1).
    pub fn add(&mut self, other: &Self, sign: i64) {
        macro_rules! each {
            ($($f:ident),*) => { $( self.$f += sign * other.$f; )* };
        }
        each!(
            tickets,
            dispatched,
            signed,
            signed_in_time,
            replied,
            replied_in_time,
            closed,
            resolved,
            rated,
            satisfied,
            returned,
            redone,
            extended,
            handled,
            handling_minutes,
            negative,
            sentiment_milli
        );
    }

    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub ticket_id: TicketId,
    pub version: i32,
    pub key: Key,
    /// The H3 cell of the appeal's position, when it has one.
    pub cell: Option<i64>,
    pub measures: Measures,
}

impl Fact {
    pub fn cell_key(&self) -> Option<CellKey> {
        self.cell.map(|cell| CellKey {
            day: self.key.day.clone(),
            cell,
            category_id: self.key.category_id.clone(),
            appeal_type: self.key.appeal_type.clone(),
            area_id: self.key.area_id.clone(),
        })
    }
}

fn flag(b: bool) -> i64 {
    i64::from(b)
}

fn kept(at: Option<DateTime<Utc>>, deadline: Option<DateTime<Utc>>) -> bool {
    match (at, deadline) {
        (Some(at), Some(deadline)) => at <= deadline,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The China date of a moment (the calendar's zone).
pub fn day_of(calendar: &WorkCalendar, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&calendar.tz()).date_naive()
}

/// The H3 cell at [`CELL_RESOLUTION`] of a position, when it is a valid one.
pub fn cell_of(latitude: Option<f64>, longitude: Option<f64>) -> Option<i64> {
    let ll = h3o::LatLng::new(latitude?, longitude?).ok()?;
    i64::try_from(u64::from(ll.to_cell(CELL_RESOLUTION))).ok()
}

/// What an appeal's text adds: (reads negative, score × 1000). The text never changes after
/// receipt, so a fact already stored for the ticket carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mood {
    pub negative: i64,
    pub sentiment_milli: i64,
}

impl Mood {
    /// Analyses the appeal's title and detail (jieba: the costly part of a fact).
    pub fn of(t: &Ticket) -> Self {
        let mood = sentiment::analyze(&format!("{}。{}", t.title, t.detail));
        Self {
            negative: flag(mood.polarity == Polarity::Negative),
            // The score is in [-1, 1], so the product fits easily.
            #[allow(clippy::cast_possible_truncation)]
            sentiment_milli: (mood.score * 1000.0).round() as i64,
        }
    }

    /// The mood a stored fact holds.
    pub fn stored(f: &Fact) -> Self {
        Self {
            negative: f.measures.negative,
            sentiment_milli: f.measures.sentiment_milli,
        }
    }
}

/// The fact of `t` now.
pub fn fact_of(t: &Ticket, places: &Areas, calendar: &WorkCalendar) -> Fact {
    fact_with(t, places, calendar, Mood::of(t))
}

/// The fact of `t` now, with its text's mood already known.
pub fn fact_with(t: &Ticket, places: &Areas, calendar: &WorkCalendar, mood: Mood) -> Fact {
    let handling = match (t.dispatched_at, t.replied_at) {
        (Some(from), Some(to)) => calendar.working_minutes_between(from, to).ok(),
        _ => None,
    };
    let closed = t.status == Status::Closed;
    let measures = Measures {
        tickets: 1,
        dispatched: flag(t.dispatched_at.is_some() || !t.chain.is_empty()),
        signed: flag(t.signed_at.is_some()),
        signed_in_time: flag(kept(t.signed_at, t.sign_deadline)),
        replied: flag(t.replied_at.is_some()),
        replied_in_time: flag(kept(t.replied_at, t.handle_deadline)),
        closed: flag(closed),
        resolved: flag(closed && t.rating != Some(Rating::Dissatisfied)),
        rated: flag(t.rating.is_some()),
        satisfied: flag(matches!(
            t.rating,
            Some(Rating::Satisfied | Rating::BasicallySatisfied)
        )),
        returned: flag(t.return_count > 0),
        redone: flag(t.redo_count > 0),
        extended: flag(t.extension == ExtensionState::Approved),
        handled: flag(handling.is_some()),
        handling_minutes: handling.unwrap_or(0),
        negative: mood.negative,
        sentiment_milli: mood.sentiment_milli,
    };
    Fact {
        ticket_id: t.id,
        version: t.version,
        key: Key {
            day: day_of(calendar, t.received_at).to_string(),
            category_id: t.category_id.map(|c| c.to_string()).unwrap_or_default(),
            unit_id: t.main_unit_id.map(|u| u.to_string()).unwrap_or_default(),
            area_id: places.area_of(t).map(|u| u.to_string()).unwrap_or_default(),
            channel: t.channel.as_ref().to_owned(),
            appeal_type: t.appeal_type.as_ref().to_owned(),
            status: t.status.as_ref().to_owned(),
        },
        cell: cell_of(t.latitude, t.longitude),
        measures,
    }
}
