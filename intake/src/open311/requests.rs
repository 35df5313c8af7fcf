//! Service requests as GET requests shows them, and the query behind it.
//!
//! **Which tickets.** GET requests lists the jurisdiction's requests: every ticket whose category
//! belongs to a service (a level-2 category or one of its level-3 children), whatever channel it
//! came through, so that anyone can follow how the city handles each kind of matter. A ticket
//! without a category, or filed under a level-1 one only, is not a service request.
//!
//! **What of them.** Never the citizen's name, phone or ID number. Free text (description,
//! address, coordinates, the unit's reply) only for tickets that came in through Open311, where
//! the citizen posted to a public interface; a phone call or a portal appeal is a private
//! conversation, so for those only the service, the status, the handling unit and the times
//! are shown.

use std::collections::HashMap;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use hotline_core::db::DbConn;
use hotline_core::domain::Channel;
use hotline_core::ids::{CategoryId, TicketId, UnitId};
use hotline_core::scope::Scope;
use hotline_core::store::tickets::{self, TicketFilter};
use hotline_core::store::units;
use hotline_core::ticket::{Status, Ticket};
use strum::IntoEnumIterator;

use super::catalogue::Catalogue;
use super::doc::Node;
use super::tokens;
use crate::error::IntakeError;

/// The spec's response volume: at most this many requests, from at most this many days.
pub const MAX_RESULTS: i64 = 1000;
pub const MAX_DAYS: i64 = 90;

/// China Standard Time, in which times are written (the spec asks for an explicit offset).
fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| chrono::Offset::fix(&Utc))
}

/// A W3C date-time with its offset: `2026-11-23T10:05:00+08:00`.
pub fn w3c(t: DateTime<Utc>) -> String {
    t.with_timezone(&cst())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// Parses a W3C date-time (RFC 3339, seconds optional) or a bare date (midnight, China time).
pub fn parse_w3c(field: &str, s: &str) -> Result<DateTime<Utc>, IntakeError> {
    let s = s.trim();
    let refused = || {
        IntakeError::invalid(
            field,
            "must be a W3C date-time with an offset, e.g. 2026-11-01T00:00:00+08:00 or 2026-11-01T00:00:00Z",
        )
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    // W3C also allows minutes without seconds: 2026-11-01T08:00+08:00.
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M%:z") {
        return Ok(t.with_timezone(&Utc));
    }
    if let Some(hm) = s.strip_suffix('Z')
        && let Ok(t) = chrono::NaiveDateTime::parse_from_str(hm, "%Y-%m-%dT%H:%M")
    {
        return Ok(t.and_utc());
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| refused())?;
    cst()
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(refused)
}

/// A ticket number as the spec's examples show ids: a JSON number (14 digits fit).
pub fn number(n: &str) -> Node {
    n.parse::<u64>().map_or_else(|_| Node::text(n), Node::Int)
}

/// `open` or `closed`: closed once the matter has ended (closed, merged into another ticket,
/// withdrawn).
pub fn open311_status(s: Status) -> &'static str {
    if s.is_terminal() { "closed" } else { "open" }
}

// ---- the query ---------------------------------------------------------------------------------

/// GET requests' filters, checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// `service_request_id=…`: these tickets, whatever the other parameters say.
    Ids(Vec<String>),
    Filter {
        /// None: every service.
        service_codes: Option<Vec<CategoryId>>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        /// None: open and closed.
        closed: Option<bool>,
    },
}

fn list_param(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Query {
    /// From the query string's pairs; parameters the spec does not define are ignored.
    pub fn parse(pairs: &[(String, String)], now: DateTime<Utc>) -> Result<Self, IntakeError> {
        let get = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, v)| k == name && !v.trim().is_empty())
                .map(|(_, v)| v.as_str())
        };
        if let Some(ids) = get("service_request_id") {
            let ids = list_param(ids);
            if ids.len() > MAX_RESULTS as usize {
                return Err(IntakeError::invalid(
                    "service_request_id",
                    "at most 1000 ids at once",
                ));
            }
            return Ok(Self::Ids(ids));
        }
        let service_codes = get("service_code").map(|codes| {
            // A code that is no category id matches nothing (it is a filter, not a lookup).
            list_param(codes)
                .iter()
                .filter_map(|c| c.parse().ok())
                .collect()
        });
        let closed = match get("status").map(list_param) {
            None => None,
            Some(values) => {
                let mut open = false;
                let mut closed = false;
                for v in &values {
                    match v.as_str() {
                        "open" => open = true,
                        "closed" => closed = true,
                        _ => return Err(IntakeError::invalid("status", "open or closed")),
                    }
                }
                (open != closed).then_some(closed)
            }
        };
        let start = get("start_date")
            .map(|s| parse_w3c("start_date", s))
            .transpose()?;
        let end = get("end_date")
            .map(|s| parse_w3c("end_date", s))
            .transpose()?;
        let span = Duration::days(MAX_DAYS);
        let (from, to) = match (start, end) {
            (None, None) => (now - span, now),
            (Some(s), None) => (s, s + span),
            (None, Some(e)) => (e - span, e),
            (Some(s), Some(e)) => (s, e),
        };
        if from > to {
            return Err(IntakeError::invalid(
                "start_date",
                "must not be after end_date",
            ));
        }
        if to - from > span {
            return Err(IntakeError::invalid(
                "end_date",
                "the range from start_date to end_date may not span more than 90 days",
            ));
        }
        Ok(Self::Filter {
            service_codes,
            from,
            to,
            closed,
        })
    }
}

/// The tickets a query selects: service requests only, newest first, at most [`MAX_RESULTS`].
pub fn find(
    conn: &mut DbConn,
    catalogue: &Catalogue,
    query: &Query,
    now: DateTime<Utc>,
) -> Result<Vec<Ticket>, IntakeError> {
    let is_request = |t: &Ticket| catalogue.service_of(t.category_id).is_some();
    match query {
        Query::Ids(numbers) => {
            let mut found: Vec<Ticket> = Vec::new();
            for n in numbers {
                if let Some(t) = tickets::by_number(conn, n)?
                    && is_request(&t)
                    && !found.iter().any(|f| f.id == t.id)
                {
                    found.push(t);
                }
            }
            Ok(found)
        }
        Query::Filter {
            service_codes,
            from,
            to,
            closed,
        } => {
            let category_ids = catalogue.request_categories(service_codes.as_deref());
            // An empty list would mean "no filter": no matching category means no requests.
            if category_ids.is_empty() {
                return Ok(Vec::new());
            }
            let statuses = match closed {
                None => Vec::new(),
                Some(c) => Status::iter().filter(|s| s.is_terminal() == *c).collect(),
            };
            let filter = TicketFilter {
                statuses,
                category_ids,
                received_from: Some(*from),
                // end_date is inclusive; the list's upper bound is not.
                received_to: Some(*to + Duration::microseconds(1)),
                ..TicketFilter::default()
            };
            let (page, _) = tickets::list(conn, &filter, &Scope::All, None, MAX_RESULTS, now)?;
            Ok(page)
        }
    }
}

/// The `service_requests` list for `found`.
pub fn nodes(
    conn: &mut DbConn,
    catalogue: &Catalogue,
    found: &[Ticket],
) -> Result<Node, IntakeError> {
    let ids: Vec<TicketId> = found.iter().map(|t| t.id).collect();
    let extras = tokens::kept(conn, &ids)?;
    let mut unit_names: HashMap<UnitId, Option<String>> = HashMap::new();
    let mut items = Vec::with_capacity(found.len());
    for t in found {
        let agency = match t.main_unit_id {
            None => None,
            Some(u) => match unit_names.get(&u) {
                Some(name) => name.clone(),
                None => {
                    let name = units::get(conn, u).ok().map(|unit| unit.name);
                    unit_names.insert(u, name.clone());
                    name
                }
            },
        };
        let (media_url, address_id) = extras.get(&t.id.to_string()).cloned().unwrap_or_default();
        items.push(node(catalogue, t, agency, media_url, address_id));
    }
    Ok(Node::List("request", items))
}

fn node(
    catalogue: &Catalogue,
    t: &Ticket,
    agency: Option<String>,
    media_url: Option<String>,
    address_id: Option<String>,
) -> Node {
    let public = t.channel == Channel::Open311;
    let service = catalogue.service_of(t.category_id);
    let mut notes = t.status.label_zh().to_owned();
    if public && let Some(reply) = t.reply.as_deref().filter(|r| !r.is_empty()) {
        notes = format!("{notes}：{reply}");
    }
    let updated = match t.status {
        Status::Closed => t.closed_at.unwrap_or(t.updated_at),
        _ => t.updated_at,
    };
    // The address an address_id-only request got is that id, which has its own field.
    let address = t.address.clone().filter(|a| {
        address_id
            .as_ref()
            .is_none_or(|id| *a != format!("address_id:{id}"))
    });
    Node::Map(vec![
        ("service_request_id", number(t.number.as_str())),
        ("status", Node::text(open311_status(t.status))),
        ("status_notes", Node::Text(notes)),
        (
            "service_name",
            Node::opt_text(service.map(|s| s.name.clone())),
        ),
        (
            "service_code",
            Node::opt_text(service.map(|s| s.id.to_string())),
        ),
        (
            "description",
            Node::opt_text(public.then(|| t.detail.clone())),
        ),
        ("agency_responsible", Node::opt_text(agency)),
        ("service_notice", Node::Null),
        ("requested_datetime", Node::Text(w3c(t.received_at))),
        ("updated_datetime", Node::Text(w3c(updated))),
        (
            "expected_datetime",
            Node::opt_text(t.handle_deadline.map(w3c)),
        ),
        ("address", Node::opt_text(address.filter(|_| public))),
        ("address_id", Node::opt_text(address_id)),
        ("zipcode", Node::Null),
        ("lat", Node::opt_float(t.latitude.filter(|_| public))),
        ("long", Node::opt_float(t.longitude.filter(|_| public))),
        ("media_url", Node::opt_text(media_url)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn the_window_defaults_to_90_days_and_may_not_be_longer() {
        let now = Utc::now();
        match Query::parse(&pairs(""), now).unwrap() {
            Query::Filter {
                from, to, closed, ..
            } => {
                assert_eq!(to, now);
                assert_eq!(to - from, Duration::days(90));
                assert_eq!(closed, None);
            }
            other => panic!("{other:?}"),
        }
        let err = Query::parse(
            &pairs("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"),
            now,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("end_date:"), "{err}");
        let q = Query::parse(&pairs("service_request_id=1,2&status=bogus"), now).unwrap();
        assert_eq!(q, Query::Ids(vec!["1".into(), "2".into()]));
        assert!(Query::parse(&pairs("status=open,bogus"), now).is_err());
        assert!(matches!(
            Query::parse(&pairs("status=open,closed"), now).unwrap(),
            Query::Filter { closed: None, .. }
        ));
    }

    #[test]
    fn w3c_times_round_trip() {
        let t = parse_w3c("start_date", "2026-11-01T08:00:00+08:00").unwrap();
        assert_eq!(w3c(t), "2026-11-01T08:00:00+08:00");
        assert_eq!(
            parse_w3c("d", "2026-11-01T00:00Z").unwrap(),
            parse_w3c("d", "2026-11-01T08:00+08:00").unwrap()
        );
        assert_eq!(
            parse_w3c("d", "2026-11-01").unwrap(),
            t - Duration::hours(8)
        );
        assert!(parse_w3c("d", "yesterday").is_err());
    }
}
