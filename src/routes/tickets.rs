//! Tickets: register, list, read with history.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use hotline_core::ApiError;
use hotline_core::auth::Permission;
use hotline_core::domain::text::PhoneNumber;
use hotline_core::domain::{AppealType, Channel, Urgency};
use hotline_core::error::ErrorBody;
use hotline_core::http::{ApiJson, ApiQuery, Caller};
use hotline_core::ids::{CategoryId, TicketId, UnitId};
use hotline_core::store::board::Clock;
use hotline_core::store::categories;
use hotline_core::store::events::{self, EventView};
use hotline_core::store::tickets::{self, Cursor, TicketFilter, TicketOrder};
use hotline_core::ticket::personal::PersonalField;
use hotline_core::ticket::{
    ActionKind, ExtensionState, Status, Ticket, TicketView, available_actions,
};
use hotline_core::time_limit::{WarningLevel, warning_at};
use hotline_core::workflow::Hotline;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use hotline_dispatch::routing::marks;
use hotline_intake::appeal::{AppealInput, check_category, validate};
use hotline_intake::repeats::{self, CandidateRow};
use hotline_intake::routes::appeals::respond;
use hotline_intake::submit::{Answer, IdempotencyKey, Outcome, Submission, submit};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/tickets")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(web::resource("/tickets/{id}").route(web::get().to(get)))
    .service(web::resource("/tickets/{id}/reveal").route(web::post().to(reveal)));
}

/// An appeal an agent registers (a phone call, usually).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicket {
    /// Defaults to `phone`.
    pub channel: Option<Channel>,
    pub appeal_type: AppealType,
    /// Defaults to `normal`.
    pub urgency: Option<Urgency>,
    pub category_id: Option<CategoryId>,
    /// ≤ 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// ≤ 10,000 characters.
    #[schema(min_length = 1, max_length = 10000)]
    pub detail: String,
    #[schema(max_length = 200)]
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    #[schema(max_length = 200)]
    pub citizen_name: Option<String>,
    /// A mobile (11 digits) or landline number with area code.
    pub citizen_phone: Option<String>,
    /// A resident ID number (GB 11643), only when the matter needs it.
    pub citizen_id_number: Option<String>,
}

impl CreateTicket {
    fn input(self) -> AppealInput {
        AppealInput {
            appeal_type: Some(self.appeal_type),
            urgency: self.urgency,
            category_id: self.category_id,
            title: self.title,
            detail: self.detail,
            address: self.address,
            latitude: self.latitude,
            longitude: self.longitude,
            citizen_name: self.citizen_name,
            citizen_phone: self.citizen_phone,
            citizen_id_number: self.citizen_id_number,
        }
    }
}

/// The colour of the clock the ticket is on now.
pub fn warning_of(hotline: &Hotline, t: &Ticket, now: DateTime<Utc>) -> Option<WarningLevel> {
    clock_warning(hotline, &Clock::of(t), now)
}

/// The colour of a clock (see [`warning_of`]).
pub fn clock_warning(hotline: &Hotline, t: &Clock, now: DateTime<Utc>) -> Option<WarningLevel> {
    let keeper = hotline.time.snapshot();
    let (start, deadline) = match t.status {
        Status::Dispatched if t.signed_at.is_none() => (t.dispatched_at?, t.sign_deadline?),
        Status::Dispatched | Status::Handling => (t.dispatched_at?, t.handle_deadline?),
        _ => return None,
    };
    let working = keeper
        .limits
        .lookup(t.appeal_type, t.urgency)
        .handle
        .is_working();
    warning_at(&keeper.calendar, start, deadline, now, working).ok()
}

/// Centre staff see the query code (to read it to the caller again); nobody else does.
pub fn view(hotline: &Hotline, caller: &Caller, t: &Ticket) -> TicketView {
    let now = hotline_core::db::now();
    TicketView::new(
        t,
        caller.user.role.is_centre_staff(),
        warning_of(hotline, t, now),
        now,
    )
}

/// Registers an appeal for a caller of a 12345 centre (shared by the API and the pages), through
/// the intake's one path: the same validation as every channel, exactly once per Idempotency-Key.
pub async fn register(
    hotline: &Hotline,
    caller: &Caller,
    body: CreateTicket,
    idempotency_key: Option<&str>,
) -> Result<Outcome, ApiError> {
    caller.require(Permission::CreateTickets)?;
    if caller.unit.kind != hotline_core::domain::UnitKind::Centre {
        return Err(ApiError::forbidden(
            "appeals are registered by staff of a 12345 centre",
        ));
    }
    let channel = body.channel.unwrap_or(Channel::Phone);
    let raw = serde_json::to_string(&body).unwrap_or_default();
    let appeal = validate(&body.input(), channel)?;
    check_category(hotline, appeal.category_id).await?;
    let idempotency = idempotency_key
        .map(|k| {
            IdempotencyKey::new(
                format!("user:{}", caller.user.id),
                k,
                &[b"POST /api/v1/tickets", raw.as_bytes()],
            )
        })
        .transpose()?;
    let (h, c) = (hotline.clone(), caller.clone());
    Ok(submit(
        hotline,
        Submission {
            actor: caller.actor(),
            centre_id: caller.unit.id,
            appeal,
            client_id: None,
            nonce: None,
            raw_payload: raw,
            remote_addr: None,
            idempotency,
            attachments: Vec::new(),
        },
        move |t| {
            let mut v = view(&h, &c, t);
            v.query_code = Some(t.query_code.as_str().to_owned());
            Answer {
                status: 201,
                content_type: "application/json".into(),
                body: serde_json::to_string(&v).unwrap_or_default(),
            }
        },
    )
    .await?)
}

#[utoipa::path(
    post, path = "/api/v1/tickets", tag = "tickets",
    request_body = CreateTicket,
    responses(
        (status = 201, description = "Registered; the answer carries the query code", body = TicketView),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    req: actix_web::HttpRequest,
    hotline: web::Data<Hotline>,
    caller: Caller,
    body: ApiJson<CreateTicket>,
) -> Result<HttpResponse, ApiError> {
    let key = req
        .headers()
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::invalid("Idempotency-Key", "must be visible ASCII"))
        })
        .transpose()?;
    let outcome = register(&hotline, &caller, body.0, key).await?;
    let mut res = respond(&outcome);
    res.headers_mut().insert(
        actix_web::http::header::LOCATION,
        actix_web::http::header::HeaderValue::from_str(&format!(
            "/api/v1/tickets/{}",
            outcome.ticket_id
        ))
        .map_err(ApiError::internal)?,
    );
    Ok(res)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// One status or several, comma-separated.
    pub status: Option<String>,
    /// The main handling unit.
    pub unit_id: Option<UnitId>,
    /// A category and everything below it.
    pub category_id: Option<CategoryId>,
    pub appeal_type: Option<AppealType>,
    pub urgency: Option<Urgency>,
    pub channel: Option<Channel>,
    /// Received on or after this date (YYYY-MM-DD, China time) or instant (RFC 3339).
    pub from: Option<String>,
    /// Received before the end of this date or before this instant.
    pub to: Option<String>,
    /// Only tickets past a deadline while with a unit.
    pub overdue: Option<bool>,
    pub supervised: Option<bool>,
    /// An exact ticket number.
    pub number: Option<String>,
    /// The caller's number (full digits): their earlier tickets.
    pub citizen_phone: Option<String>,
    /// The extension's state: `requested` lists the requests waiting for a dispatcher.
    pub extension: Option<ExtensionState>,
    /// Returned twice or more: the tickets the shift lead rules on (ping-pong guard).
    pub needs_shift_lead: Option<bool>,
    /// Only tickets in the dispatcher's manual queue: awaiting dispatch, with a suggestion below
    /// the confidence threshold.
    pub manual_dispatch: Option<bool>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketPage {
    pub items: Vec<TicketView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// The tickets of this page in the dispatcher's manual queue (see `manual_dispatch`).
    pub manual_dispatch: Vec<TicketId>,
}

fn parse_bound(field: &str, s: &str, end_of_day: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        ApiError::invalid(field, "must be a date YYYY-MM-DD or an RFC 3339 instant")
    })?;
    let day = if end_of_day {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(chrono_tz::Asia::Shanghai).earliest())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ApiError::invalid(field, "not a valid date"))
}

fn encode_cursor(c: &Cursor) -> String {
    format!("{}_{}", c.received_at.timestamp_micros(), c.id)
}

fn decode_cursor(s: &str) -> Result<Cursor, ApiError> {
    let bad = || ApiError::invalid("cursor", "not a cursor this API gave out");
    let (micros, id) = s.split_once('_').ok_or_else(bad)?;
    Ok(Cursor {
        received_at: DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?)
            .ok_or_else(bad)?,
        id: id.parse().map_err(|_| bad())?,
    })
}

impl ListQuery {
    fn filter(&self, all_categories: &[categories::Category]) -> Result<TicketFilter, ApiError> {
        let mut statuses = Vec::new();
        for s in self
            .status
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            statuses.push(
                s.parse::<Status>()
                    .map_err(|_| ApiError::invalid("status", format!("unknown status {s:?}")))?,
            );
        }
        let category_ids = match self.category_id {
            None => Vec::new(),
            Some(root) => {
                if !all_categories.iter().any(|c| c.id == root) {
                    return Err(ApiError::invalid("category_id", "no such category"));
                }
                let mut ids = vec![root];
                let mut i = 0;
                while i < ids.len() {
                    let parent = ids[i];
                    ids.extend(
                        all_categories
                            .iter()
                            .filter(|c| c.parent_id == Some(parent))
                            .map(|c| c.id),
                    );
                    i += 1;
                }
                ids
            }
        };
        let citizen_phone = match self.citizen_phone.as_deref() {
            None => None,
            Some(p) => Some(
                PhoneNumber::parse(p)
                    .map_err(|r| ApiError::invalid("citizen_phone", r))?
                    .as_str()
                    .to_owned(),
            ),
        };
        Ok(TicketFilter {
            statuses,
            main_unit_id: self.unit_id,
            category_ids,
            appeal_type: self.appeal_type,
            urgency: self.urgency,
            channel: self.channel,
            received_from: self
                .from
                .as_deref()
                .map(|s| parse_bound("from", s, false))
                .transpose()?,
            received_to: self
                .to
                .as_deref()
                .map(|s| parse_bound("to", s, true))
                .transpose()?,
            overdue: self.overdue.unwrap_or(false),
            supervised: self.supervised,
            number: self.number.clone(),
            citizen_phone,
            extension: self.extension,
            needs_shift_lead: self.needs_shift_lead,
            order: TicketOrder::Newest,
            ids: None,
        })
    }
}

/// Runs a list query for a caller (shared by the API and the pages).
pub async fn query(
    hotline: &Hotline,
    caller: &Caller,
    q: &ListQuery,
) -> Result<(Vec<Ticket>, Option<String>), ApiError> {
    caller.require(Permission::ReadTickets)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 200"));
    }
    let after = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let all_categories = if q.category_id.is_some() {
        hotline.db.run(categories::list).await?
    } else {
        Vec::new()
    };
    let mut filter = q.filter(&all_categories)?;
    if q.manual_dispatch == Some(true) {
        let queue = hotline
            .db
            .run(hotline_dispatch::routing::marks::manual_queue)
            .await?;
        filter.ids = Some(queue);
    }
    let scope = caller.scope.clone();
    let (items, next) = hotline
        .db
        .run(move |c| {
            tickets::list(
                c,
                &filter,
                &scope,
                after.as_ref(),
                limit,
                hotline_core::db::now(),
            )
        })
        .await?;
    Ok((items, next.as_ref().map(encode_cursor)))
}

#[utoipa::path(
    get, path = "/api/v1/tickets", tag = "tickets",
    params(ListQuery),
    responses((status = 200, body = TicketPage), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    hotline: web::Data<Hotline>,
    caller: Caller,
    q: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (items, next_cursor) = query(&hotline, &caller, &q).await?;
    let manual_dispatch = in_manual_queue(&hotline, &items).await?;
    Ok(HttpResponse::Ok().json(TicketPage {
        items: items.iter().map(|t| view(&hotline, &caller, t)).collect(),
        next_cursor,
        manual_dispatch,
    }))
}

/// Those of `items` in the dispatcher's manual queue: awaiting dispatch, and marked manual at
/// their current version.
pub async fn in_manual_queue<'a>(
    hotline: &Hotline,
    items: impl IntoIterator<Item = &'a Ticket>,
) -> Result<Vec<TicketId>, ApiError> {
    let current: Vec<(TicketId, i32)> = items
        .into_iter()
        .filter(|t| marks::AWAITING.contains(&t.status))
        .map(|t| (t.id, t.version))
        .collect();
    if current.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<TicketId> = current.iter().map(|(id, _)| *id).collect();
    let found = hotline.db.run(move |c| marks::for_tickets(c, &ids)).await?;
    Ok(current
        .into_iter()
        .filter(|(id, v)| {
            found
                .get(id)
                .is_some_and(|m| m.manual && m.ticket_version == *v)
        })
        .map(|(id, _)| id)
        .collect())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDetail {
    pub ticket: TicketView,
    /// The history, oldest first.
    pub events: Vec<EventView>,
    /// What the caller may do now.
    pub actions: Vec<ActionKind>,
    /// Open tickets this one may repeat, and later tickets that may repeat it (重复诉求), best
    /// score first; only those the caller may see. Merge with `POST /tickets/{id}/merge`.
    pub repeat_candidates: Vec<CandidateRow>,
    /// In the dispatcher's manual queue (awaiting dispatch, suggestion below the threshold).
    pub manual_dispatch: bool,
    /// Who has claimed the ticket to work it (认领); others' actions wait for them.
    pub claim: Option<super::claims::ClaimHolder>,
}

/// Reads a ticket the caller may see, with its history.
pub async fn load(
    hotline: &Hotline,
    caller: &Caller,
    id: TicketId,
) -> Result<(Ticket, Vec<events::StoredEvent>), ApiError> {
    caller.require(Permission::ReadTickets)?;
    let scope = caller.scope.clone();
    Ok(hotline
        .db
        .run(move |c| {
            let t = tickets::get_visible(c, id, &scope)?;
            let history = events::for_ticket(c, id)?;
            Ok::<_, hotline_core::StoreError>((t, history))
        })
        .await?)
}

/// The actions a caller may take, minus those their role has no permission for.
pub fn actions_for(caller: &Caller, t: &Ticket) -> Vec<ActionKind> {
    if !hotline_core::auth::role_permits(caller.user.role, Permission::ActOnTickets) {
        return Vec::new();
    }
    let actor = caller.actor();
    available_actions(t, &actor)
        .into_iter()
        .filter(|k| hotline_core::ticket::claim::check(t, *k, &actor).is_ok())
        .collect()
}

/// Parses a ticket id from the path; a malformed id is simply not found.
pub fn ticket_id(raw: &str) -> Result<TicketId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("ticket"))
}

#[utoipa::path(
    get, path = "/api/v1/tickets/{id}", tag = "tickets",
    params(("id" = String, Path, description = "Ticket id (UUID)")),
    responses((status = 200, body = TicketDetail), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(
    hotline: web::Data<Hotline>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ticket_id(&path)?;
    let (t, history) = load(&hotline, &caller, id).await?;
    let repeat_candidates = repeat_candidates(&hotline, &caller, id).await?;
    let manual_dispatch = !in_manual_queue(&hotline, std::slice::from_ref(&t))
        .await?
        .is_empty();
    let claim = super::claims::holder_of(&hotline, &t).await?;
    Ok(HttpResponse::Ok().json(TicketDetail {
        ticket: view(&hotline, &caller, &t),
        events: history.iter().map(events::StoredEvent::view).collect(),
        actions: actions_for(&caller, &t),
        repeat_candidates,
        manual_dispatch,
        claim,
    }))
}

/// The repeat candidates of a ticket the caller has loaded, those the caller may see.
pub async fn repeat_candidates(
    hotline: &Hotline,
    caller: &Caller,
    id: TicketId,
) -> Result<Vec<CandidateRow>, ApiError> {
    let scope = caller.scope.clone();
    Ok(hotline
        .db
        .run(move |c| repeats::for_ticket_visible(c, id, &scope))
        .await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealBody {
    pub field: PersonalField,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Revealed {
    pub field: PersonalField,
    pub value: String,
}

#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/reveal", tag = "tickets",
    description = "Shows a masked value (phone, ID number) of one ticket in full, to the centre and the handling unit's staff. Each call is recorded in the ticket's history (personal_data_viewed).",
    request_body = RevealBody,
    params(("id" = String, Path)),
    responses((status = 200, body = Revealed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn reveal(
    hotline: web::Data<Hotline>,
    caller: Caller,
    path: web::Path<String>,
    body: ApiJson<RevealBody>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ActOnTickets)?;
    let id = ticket_id(&path)?;
    let field = body.0.field;
    let (_, value) = hotline
        .reveal(caller.actor(), caller.scope.clone(), id, field)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Revealed { field, value }))
}
