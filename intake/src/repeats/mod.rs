//! Repeat appeals (重复诉求): a new appeal that matches an open ticket is flagged with its
//! candidates and a similarity score, for an agent to merge (`POST /tickets/{id}/merge`).
//!
//! **The rule.** A candidate is an open (not closed, merged or withdrawn) ticket other than the new
//! one that
//! - has the **same caller number** and was received within [`CALLER_WINDOW_DAYS`] (30 days), or
//! - was received within [`NEARBY_WINDOW_DAYS`] (7 days), is **near** the new one
//!   ([`places::near`]: same street or community, same named place such as a 小区 or a school,
//!   or within 1 km; else same district) and its **text is similar**
//!   ([`text`]: character unigram and bigram TF-IDF cosine): at least [`SAME_PLACE_MIN`] at the
//!   same place, at least [`SAME_DISTRICT_MIN`] when only the district is common.
//!
//! The score is always the text similarity (also for the same caller, whose unrelated second
//! matter then shows a low score). Windows are measured back from `now` (the time of the check).
//!
//! **Thresholds**, from the similarity of random pairs of the background corpus (514 real appeals,
//! nearly all about different matters; `tests::background_noise` measures them: median 0.034,
//! 99th percentile 0.109, 99.99th 0.237), each rounded up to the hundredth. At the same street,
//! community, named place or within 1 km, a pair must be more alike than 99 % of random pairs:
//! [`SAME_PLACE_MIN`] = 0.11. With only the district in common the place says little, so the text
//! must be more alike than 99.99 % of random pairs: [`SAME_DISTRICT_MIN`] = 0.24. Rewordings of
//! one matter by different citizens share few exact bigrams (0.09–0.40 on the real case), while
//! copies score above 0.9: the place does most of the work, the text confirms the topic.
//!
//! **Cost.** The same-caller look-up uses the phone index. The similar-nearby look-up goes through
//! `repeat_places`, an index of each ticket's places (street, district, name and grid-cell keys)
//! written in the intake transaction: only tickets sharing a key in the window are read, the latest
//! [`MAX_COMPARED`] (300) of them, with at most [`text::MAX_DETAIL_CHARS`] of each detail. Tickets
//! that did not come through [`crate::submit`] (the demo's seeded tickets) have no such rows and
//! are found only by the caller's number.

pub mod places;
pub mod text;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::schema::{ticket_units, tickets};
use hotline_core::db::{DbConn, from_db, to_db};
use hotline_core::ids::TicketId;
use hotline_core::scope::Scope;
use hotline_core::store::tickets as ticket_store;
use hotline_core::ticket::{Status, Ticket};
use hotline_core::workflow::Hotline;
use serde::Serialize;
use strum::IntoEnumIterator;
use utoipa::ToSchema;

use crate::schema::repeat_candidates;
pub use places::Near;
use places::{Gazetteer, Places};
use text::TextVector;

diesel::table! {
    /// Each ticket's place keys (`s:` street, `d:` district, `n:` name, `g:` grid cell), for the
    /// similar-nearby look-up (migration `*_repeat_places`).
    repeat_places (place, received_at, ticket_id) {
        place -> Text,
        received_at -> Timestamp,
        ticket_id -> Text,
    }
}

pub const CALLER_WINDOW_DAYS: i64 = 30;
pub const NEARBY_WINDOW_DAYS: i64 = 7;
/// The most tickets compared by text for one new appeal (the latest in the window).
pub const MAX_COMPARED: i64 = 300;
/// The most candidates flagged per reason.
pub const MAX_PER_REASON: usize = 20;
/// Text similarity needed at the same street, community, named place or within 1 km: the 99th
/// percentile of random pairs of real appeals (0.109), rounded up.
pub const SAME_PLACE_MIN: f64 = 0.11;
/// Text similarity needed when only the district is common: the 99.99th percentile (0.237),
/// rounded up.
pub const SAME_DISTRICT_MIN: f64 = 0.24;
/// How many merges [`main_ticket`] follows (a chain longer than this is cut, never looped).
pub const MAX_HOPS: usize = 16;

/// Why a ticket is a candidate.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::Display, strum::EnumString, ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Reason {
    /// The same caller number within 30 days.
    SameCaller,
    /// Similar text near the same place within 7 days.
    SimilarNearby,
}

/// A ticket a new appeal may repeat.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub ticket_id: TicketId,
    pub number: String,
    /// The text similarity, 0–1.
    pub score: f64,
    pub reason: Reason,
    /// How near the two are, if they are.
    pub near: Option<Near>,
}

/// A ticket's places and text vector, ready to compare.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub places: Places,
    pub vector: TextVector,
}

/// What is compared of a ticket.
pub struct Appeal<'a> {
    pub title: &'a str,
    pub detail: &'a str,
    pub address: Option<&'a str>,
    pub point: Option<(f64, f64)>,
}

impl<'a> From<&'a Ticket> for Appeal<'a> {
    fn from(t: &'a Ticket) -> Self {
        Self {
            title: &t.title,
            detail: &t.detail,
            address: t.address.as_deref(),
            point: t.latitude.zip(t.longitude),
        }
    }
}

/// The places an appeal names (title, detail, address) and is at.
pub fn places_of(g: &Gazetteer, a: &Appeal<'_>) -> Places {
    let mut places = Places::default();
    for s in [Some(a.title), Some(a.detail), a.address]
        .into_iter()
        .flatten()
    {
        places::recognise(g, &text::prepare(s, text::MAX_DETAIL_CHARS), &mut places);
    }
    places.point = a.point;
    places
}

/// Places and text vector of an appeal. The address only says where; it is no text feature.
pub fn analyse(g: &Gazetteer, a: &Appeal<'_>) -> Analysis {
    let mut places = Places::default();
    let mut counts = text::Features::default();
    for (s, times) in [(a.title, 2), (a.detail, 1)] {
        let chars = text::prepare(s, text::MAX_DETAIL_CHARS);
        let masked = places::recognise(g, &chars, &mut places);
        text::count_features(&chars, &masked, times, &mut counts);
    }
    if let Some(addr) = a.address {
        places::recognise(g, &text::prepare(addr, text::MAX_DETAIL_CHARS), &mut places);
    }
    places.point = a.point;
    Analysis {
        places,
        vector: TextVector::from_counts(&counts),
    }
}

/// Whether `b` is a similar-nearby candidate for `a`, and how near.
pub fn similar_nearby(a: &Analysis, b: &Analysis) -> Option<(Near, f64)> {
    let near = places::near(&a.places, &b.places)?;
    let score = a.vector.cosine(&b.vector);
    let min = match near {
        Near::SamePlace => SAME_PLACE_MIN,
        Near::SameDistrict => SAME_DISTRICT_MIN,
    };
    (score >= min).then_some((near, score))
}

fn open_statuses() -> Vec<String> {
    Status::iter()
        .filter(|s| !s.is_terminal())
        .map(|s| s.to_string())
        .collect()
}

/// id, number, version, title, the start of the detail, address, latitude, longitude.
type ComparedRow = (
    String,
    String,
    i32,
    String,
    String,
    Option<String>,
    Option<f64>,
    Option<f64>,
);

fn compared_columns() -> (
    tickets::id,
    tickets::number,
    tickets::version,
    tickets::title,
    diesel::expression::SqlLiteral<diesel::sql_types::Text>,
    tickets::address,
    tickets::latitude,
    tickets::longitude,
) {
    (
        tickets::id,
        tickets::number,
        tickets::version,
        tickets::title,
        diesel::dsl::sql::<diesel::sql_types::Text>(&format!(
            "substr(tickets.detail, 1, {})",
            text::MAX_DETAIL_CHARS
        )),
        tickets::address,
        tickets::latitude,
        tickets::longitude,
    )
}

type Kept = HashMap<(String, i32, u64), Arc<Analysis>>;

/// Analyses of compared tickets. A check compares a new appeal with up to [`MAX_COMPARED`]
/// recent ones, mostly the same ones as the check before, so analyses are kept (at most
/// [`ANALYSES_KEPT`], then all are dropped), keyed by the ticket, its version (every change of a
/// ticket is a new version) and the gazetteer it was analysed with. A check reads the versions
/// of the tickets it compares first, and their text only for those not kept.
static KEPT: Mutex<Option<Kept>> = Mutex::new(None);

fn kept() -> std::sync::MutexGuard<'static, Option<Kept>> {
    KEPT.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The kept analysis of a ticket at a version, if any.
fn kept_analysis(g: &Gazetteer, id: &str, version: i32) -> Option<Arc<Analysis>> {
    kept()
        .as_ref()
        .and_then(|m| m.get(&(id.to_owned(), version, g.generation)).cloned())
}

/// Analyses a compared ticket (or takes the kept analysis).
fn analyse_row(g: &Gazetteer, r: &ComparedRow) -> Arc<Analysis> {
    if let Some(a) = kept_analysis(g, &r.0, r.2) {
        return a;
    }
    let a = Arc::new(analyse(
        g,
        &Appeal {
            title: &r.3,
            detail: &r.4,
            address: r.5.as_deref(),
            point: r.6.zip(r.7),
        },
    ));
    let mut kept = kept();
    let map = kept.get_or_insert_with(HashMap::new);
    if map.len() >= ANALYSES_KEPT {
        map.clear();
    }
    map.insert((r.0.clone(), r.2, g.generation), a.clone());
    a
}

/// The most analyses of compared tickets kept in memory (a few KiB each).
const ANALYSES_KEPT: usize = 20_000;

fn parse_id(s: &str) -> Result<TicketId, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("tickets.id {s:?}")))
}

/// The open tickets `t` may repeat, best first: at most [`MAX_PER_REASON`] per reason.
pub fn candidates(
    conn: &mut DbConn,
    t: &Ticket,
    now: DateTime<Utc>,
) -> Result<Vec<Candidate>, StoreError> {
    let g = places::gazetteer(conn)?;
    let me = analyse(&g, &Appeal::from(t));
    let open = open_statuses();
    let own_id = t.id.to_string();
    let mut out = Vec::new();
    let mut seen = HashSet::new();

    if let Some(phone) = &t.citizen_phone {
        let rows: Vec<ComparedRow> = tickets::table
            .filter(tickets::citizen_phone.eq(phone))
            .filter(
                tickets::received_at.ge(to_db(now - chrono::Duration::days(CALLER_WINDOW_DAYS))),
            )
            .filter(tickets::received_at.le(to_db(now)))
            .filter(tickets::id.ne(&own_id))
            .filter(tickets::status.eq_any(&open))
            .order((tickets::received_at.desc(), tickets::id.desc()))
            .limit(i64::try_from(MAX_PER_REASON).unwrap_or(20))
            .select(compared_columns())
            .load(conn)?;
        for r in &rows {
            let other = analyse_row(&g, r);
            seen.insert(r.0.clone());
            out.push(Candidate {
                ticket_id: parse_id(&r.0)?,
                number: r.1.clone(),
                score: me.vector.cosine(&other.vector),
                reason: Reason::SameCaller,
                near: places::near(&me.places, &other.places),
            });
        }
    }

    let keys: Vec<String> = places::lookup_keys(&me.places).into_iter().collect();
    if !keys.is_empty() {
        // One index range per key (place, then time), each cut at MAX_COMPARED: the cost is
        // bounded by the number of keys, never by how many tickets a busy place had this week
        // (one query over all keys would sort every one of them). Tickets sharing a specific key
        // (street, community, name, grid cell) come first, then those sharing only the district;
        // the latest first within each.
        let since = to_db(now - chrono::Duration::days(NEARBY_WINDOW_DAYS));
        let until = to_db(now);
        let mut hits: Vec<(bool, NaiveDateTime, String)> = Vec::new();
        for key in &keys {
            let broad = key.starts_with("d:");
            let rows: Vec<(String, NaiveDateTime)> = repeat_places::table
                .filter(repeat_places::place.eq(key))
                .filter(repeat_places::received_at.ge(since))
                .filter(repeat_places::received_at.le(until))
                .filter(repeat_places::ticket_id.ne(&own_id))
                .select((repeat_places::ticket_id, repeat_places::received_at))
                .order(repeat_places::received_at.desc())
                .limit(MAX_COMPARED)
                .load(conn)?;
            hits.extend(rows.into_iter().map(|(id, at)| (broad, at, id)));
        }
        hits.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(b.1.cmp(&a.1))
                .then_with(|| a.2.cmp(&b.2))
        });
        // `seen` holds the same-caller candidates already found: each ticket is compared once.
        let max = usize::try_from(MAX_COMPARED).unwrap_or(usize::MAX);
        let mut ids: Vec<String> = Vec::new();
        for (_, _, id) in hits {
            if ids.len() >= max {
                break;
            }
            if seen.insert(id.clone()) {
                ids.push(id);
            }
        }
        let mut similar = Vec::new();
        for chunk in ids.chunks(500) {
            // The open ones with their versions, then the text of those not analysed before.
            let open_now: Vec<(String, String, i32)> = tickets::table
                .filter(tickets::id.eq_any(chunk))
                .filter(tickets::status.eq_any(&open))
                .select((tickets::id, tickets::number, tickets::version))
                .load(conn)?;
            let mut compared: Vec<(String, String, Arc<Analysis>)> = Vec::new();
            let mut unread: Vec<&str> = Vec::new();
            for (id, number, version) in &open_now {
                match kept_analysis(&g, id, *version) {
                    Some(a) => compared.push((id.clone(), number.clone(), a)),
                    None => unread.push(id),
                }
            }
            if !unread.is_empty() {
                let rows: Vec<ComparedRow> = tickets::table
                    .filter(tickets::id.eq_any(&unread))
                    .select(compared_columns())
                    .load(conn)?;
                for r in &rows {
                    compared.push((r.0.clone(), r.1.clone(), analyse_row(&g, r)));
                }
            }
            for (id, number, other) in compared {
                if let Some((near, score)) = similar_nearby(&me, &other) {
                    similar.push(Candidate {
                        ticket_id: parse_id(&id)?,
                        number,
                        score,
                        reason: Reason::SimilarNearby,
                        near: Some(near),
                    });
                }
            }
        }
        similar.sort_by(|a, b| b.score.total_cmp(&a.score));
        similar.truncate(MAX_PER_REASON);
        out.extend(similar);
    }
    Ok(out)
}

/// Writes a new ticket's place keys (in the intake transaction, so a later appeal finds it).
pub fn index_places(conn: &mut DbConn, t: &Ticket) -> Result<(), StoreError> {
    let g = places::gazetteer(conn)?;
    let keys = places::index_keys(&places_of(&g, &Appeal::from(t)));
    hotline_core::insert_all!(conn, repeat_places::table, place_rows(t, &keys))?;
    Ok(())
}

/// One place key of a ticket (table `repeat_places`).
#[derive(Debug, Insertable)]
#[diesel(table_name = repeat_places)]
pub struct PlaceRow {
    place: String,
    received_at: NaiveDateTime,
    ticket_id: String,
}

/// The `repeat_places` rows of ticket `t` at the place keys `keys`.
pub fn place_rows(t: &Ticket, keys: &BTreeSet<String>) -> Vec<PlaceRow> {
    keys.iter()
        .map(|k| PlaceRow {
            place: k.clone(),
            received_at: to_db(t.received_at),
            ticket_id: t.id.to_string(),
        })
        .collect()
}

/// Stores `found` as the candidates of `id`, skipping pairs already linked either way.
pub fn store(
    conn: &mut DbConn,
    id: TicketId,
    found: &[Candidate],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let me = id.to_string();
    let others: Vec<String> = found.iter().map(|c| c.ticket_id.to_string()).collect();
    let linked: HashSet<String> = repeat_candidates::table
        .filter(
            repeat_candidates::ticket_id
                .eq(&me)
                .and(repeat_candidates::candidate_id.eq_any(&others)),
        )
        .select(repeat_candidates::candidate_id)
        .load::<String>(conn)?
        .into_iter()
        .chain(
            repeat_candidates::table
                .filter(
                    repeat_candidates::candidate_id
                        .eq(&me)
                        .and(repeat_candidates::ticket_id.eq_any(&others)),
                )
                .select(repeat_candidates::ticket_id)
                .load::<String>(conn)?,
        )
        .collect();
    let rows: Vec<_> = found
        .iter()
        .filter(|c| !linked.contains(&c.ticket_id.to_string()))
        .map(|c| {
            (
                repeat_candidates::ticket_id.eq(me.clone()),
                repeat_candidates::candidate_id.eq(c.ticket_id.to_string()),
                repeat_candidates::score.eq(c.score),
                repeat_candidates::reason.eq(c.reason.to_string()),
                repeat_candidates::created_at.eq(to_db(now)),
            )
        })
        .collect();
    Ok(hotline_core::insert_all!(
        conn,
        repeat_candidates::table,
        rows
    )?)
}

/// Finds and stores the candidates of ticket `id` (in the caller's transaction).
pub fn flag(
    conn: &mut DbConn,
    id: TicketId,
    now: DateTime<Utc>,
) -> Result<Vec<Candidate>, StoreError> {
    let t = ticket_store::get(conn, id)?;
    let found = candidates(conn, &t, now)?;
    store(conn, id, &found, now)?;
    Ok(found)
}

/// How many repeat checks run at once in this process.
const CHECKS_AT_ONCE: usize = 1;
/// Checks pending beyond this are skipped (and logged): a burst must not queue without bound.
const MAX_PENDING: usize = 20_000;

static CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CHECKS_AT_ONCE);
/// Checks scheduled and not yet finished (or dropped with a runtime that shut down).
static PENDING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static SETTLED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Counts a check as pending until it has run or was dropped.
struct Pending;

impl Drop for Pending {
    fn drop(&mut self) {
        if PENDING.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1 {
            SETTLED.notify_waiters();
        }
    }
}

/// Schedules the repeat check of a just-stored ticket, as of `now` (its receipt). It runs after
/// the appeal was acknowledged, at most [`CHECKS_AT_ONCE`] at a time: the check reads up to
/// [`MAX_COMPARED`] recent tickets at the same places and costs several times what storing the
/// appeal does, and it is advice for agents, so intake never waits for it. A failed or skipped
/// check is logged; the appeal is stored either way.
pub fn check_later(hotline: &Hotline, id: TicketId, now: DateTime<Utc>) {
    use std::sync::atomic::Ordering;
    if PENDING.fetch_add(1, Ordering::AcqRel) >= MAX_PENDING {
        drop(Pending);
        tracing::warn!(ticket = %id, "repeat-appeal check skipped: {MAX_PENDING} checks are pending");
        return;
    }
    let pending = Pending;
    let hotline = hotline.clone();
    tokio::spawn(async move {
        let permit = CHECKS.acquire().await;
        flag_now(&hotline, id, now).await;
        drop(permit);
        drop(pending);
    });
}

/// Waits until no check scheduled in this process is pending. For tests.
pub async fn settle() {
    loop {
        let settled = SETTLED.notified();
        if PENDING.load(std::sync::atomic::Ordering::Acquire) == 0 {
            return;
        }
        settled.await;
    }
}

/// Finds and stores the candidates of ticket `id` as of `now`, logging the outcome.
pub async fn flag_now(hotline: &Hotline, id: TicketId, now: DateTime<Utc>) {
    let found = hotline
        .db
        .run(move |c| {
            let t = ticket_store::get(c, id)?;
            candidates(c, &t, now)
        })
        .await;
    let result = match found {
        Ok(found) if found.is_empty() => Ok(0),
        Ok(found) => hotline.db.write(move |c| store(c, id, &found, now)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(0) => {}
        Ok(n) => tracing::info!(ticket = %id, candidates = n, "repeat appeal flagged"),
        Err(e) => tracing::warn!(ticket = %id, error = %e, "repeat-appeal check failed"),
    }
}

/// Whether the other ticket of a candidate row was received before or after this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// This ticket may repeat the other, earlier one.
    Earlier,
    /// The other, later ticket may repeat this one.
    Later,
}

/// A flagged candidate, read from either side of the pair.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CandidateRow {
    /// The other ticket.
    pub id: TicketId,
    pub number: String,
    pub title: String,
    pub status: Status,
    pub received_at: DateTime<Utc>,
    /// Text similarity, 0–1.
    pub score: f64,
    pub reason: Reason,
    pub direction: Direction,
    pub flagged_at: DateTime<Utc>,
}

/// The most rows [`for_ticket`] reads per side.
const MAX_ROWS: i64 = 200;

/// Every ticket flagged with `id`, both ways (tickets it resembles, and later tickets that
/// resemble it), best score first. A pair flagged both ways shows once.
pub fn for_ticket(conn: &mut DbConn, id: TicketId) -> Result<Vec<CandidateRow>, StoreError> {
    let me = id.to_string();
    let forward: Vec<(String, f64, String, NaiveDateTime)> = repeat_candidates::table
        .filter(repeat_candidates::ticket_id.eq(&me))
        .select((
            repeat_candidates::candidate_id,
            repeat_candidates::score,
            repeat_candidates::reason,
            repeat_candidates::created_at,
        ))
        .order(repeat_candidates::created_at.desc())
        .limit(MAX_ROWS)
        .load(conn)?;
    let backward: Vec<(String, f64, String, NaiveDateTime)> = repeat_candidates::table
        .filter(repeat_candidates::candidate_id.eq(&me))
        .select((
            repeat_candidates::ticket_id,
            repeat_candidates::score,
            repeat_candidates::reason,
            repeat_candidates::created_at,
        ))
        .order(repeat_candidates::created_at.desc())
        .limit(MAX_ROWS)
        .load(conn)?;
    let mut best: HashMap<String, (f64, Reason, NaiveDateTime)> = HashMap::new();
    for (other, score, reason, at) in forward.into_iter().chain(backward) {
        let reason: Reason = reason
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("repeat_candidates.reason {reason:?}")))?;
        let e = best.entry(other).or_insert((score, reason, at));
        e.0 = e.0.max(score);
        if reason == Reason::SameCaller {
            e.1 = reason;
        }
        e.2 = e.2.min(at);
    }
    if best.is_empty() {
        return Ok(Vec::new());
    }
    let own_received = from_db(
        tickets::table
            .find(&me)
            .select(tickets::received_at)
            .first::<NaiveDateTime>(conn)?,
    );
    let others: Vec<&String> = best.keys().collect();
    let rows: Vec<(String, String, String, String, NaiveDateTime)> = tickets::table
        .filter(tickets::id.eq_any(others))
        .select((
            tickets::id,
            tickets::number,
            tickets::title,
            tickets::status,
            tickets::received_at,
        ))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (other, number, title, status, received) in rows {
        let Some((score, reason, flagged)) = best.get(&other) else {
            continue;
        };
        let received_at = from_db(received);
        out.push(CandidateRow {
            id: parse_id(&other)?,
            number,
            title,
            status: status
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("tickets.status {status:?}")))?,
            received_at,
            score: *score,
            reason: *reason,
            direction: if received_at <= own_received {
                Direction::Earlier
            } else {
                Direction::Later
            },
            flagged_at: from_db(*flagged),
        });
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.received_at.cmp(&a.received_at))
    });
    Ok(out)
}

/// [`for_ticket`], keeping only the tickets `scope` may see.
pub fn for_ticket_visible(
    conn: &mut DbConn,
    id: TicketId,
    scope: &Scope,
) -> Result<Vec<CandidateRow>, StoreError> {
    let rows = for_ticket(conn, id)?;
    let Scope::Units(units) = scope else {
        return Ok(rows);
    };
    if rows.is_empty() {
        return Ok(rows);
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
    let units: Vec<String> = units.iter().map(ToString::to_string).collect();
    let visible: HashSet<String> = ticket_units::table
        .filter(ticket_units::ticket_id.eq_any(&ids))
        .filter(ticket_units::unit_id.eq_any(&units))
        .select(ticket_units::ticket_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .filter(|r| visible.contains(&r.id.to_string()))
        .collect())
}

/// The ticket a citizen's number leads to: the ticket with that number, or, when it was merged,
/// the ticket it was merged into (following at most [`MAX_HOPS`] merges). None for an unknown
/// number.
pub fn main_ticket(conn: &mut DbConn, number: &str) -> Result<Option<Ticket>, StoreError> {
    let Some(mut t) = ticket_store::by_number(conn, number)? else {
        return Ok(None);
    };
    let mut visited = vec![t.id];
    for _ in 0..MAX_HOPS {
        let Some(next) = t.merged_into else { break };
        if visited.contains(&next) {
            break;
        }
        t = ticket_store::get(conn, next)?;
        visited.push(t.id);
    }
    Ok(Some(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo org tree's places, as the database would give them (ids are the codes here).
    pub(crate) fn demo_gazetteer() -> Gazetteer {
        let csv_text = include_str!("../../../demo/org.csv");
        let mut rows = Vec::new();
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        for r in reader.records().flatten() {
            if r.get(3) == Some("government") {
                let parent = r.get(4).filter(|p| !p.is_empty()).map(str::to_owned);
                rows.push(places::PlaceRow {
                    id: r.get(0).unwrap_or_default().to_owned(),
                    code: r.get(0).unwrap_or_default().to_owned(),
                    name: r.get(1).unwrap_or_default().to_owned(),
                    level: r.get(2).unwrap_or_default().to_owned(),
                    parent_id: parent,
                });
            }
        }
        Gazetteer::build(&rows)
    }

    fn percentile(sorted: &[f64], p: f64) -> f64 {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((sorted.len() as f64) * p) as usize;
        sorted[i.min(sorted.len() - 1)]
    }

    /// Where the thresholds come from: the similarity of random pairs of the background's real
    /// appeals (nearly all about different matters).
    #[test]
    fn background_noise() {
        let g = demo_gazetteer();
        let docs: Vec<Analysis> = text::background_texts()
            .iter()
            .map(|(t, d)| {
                analyse(
                    &g,
                    &Appeal {
                        title: t,
                        detail: d,
                        address: None,
                        point: None,
                    },
                )
            })
            .collect();
        let mut sims = Vec::new();
        for i in 0..docs.len() {
            for j in i + 1..docs.len() {
                sims.push(docs[i].vector.cosine(&docs[j].vector));
            }
        }
        sims.sort_by(f64::total_cmp);
        let (p99, p9999) = (percentile(&sims, 0.99), percentile(&sims, 0.9999));
        // The thresholds are these percentiles rounded up to the hundredth.
        assert_eq!((p99 * 100.0).ceil() / 100.0, SAME_PLACE_MIN, "p99 {p99}");
        assert_eq!(
            (p9999 * 100.0).ceil() / 100.0,
            SAME_DISTRICT_MIN,
            "p99.99 {p9999}"
        );
    }
}
