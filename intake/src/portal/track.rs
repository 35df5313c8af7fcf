//! `GET/POST /portal/track` and `POST /portal/track/{rate,withdraw,contact,erase}`: following an
//! appeal by its number and query code, and what the citizen may do with it. Every form sends the
//! number and the code again and they are checked every time: there is no session to steal. A
//! wrong pair, whatever is wrong (no such number, wrong code, malformed), gets one answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use hotline_core::auth::token::constant_time_eq;
use hotline_core::domain::Actor;
use hotline_core::domain::text::{PhoneNumber, Reason, ShortText, mask_id_number, mask_phone};
use hotline_core::http::{FormFields, page_text};
use hotline_core::ids::{QueryCode, TicketId, TicketNumber};
use hotline_core::scope::Scope;
use hotline_core::store::{categories, events, tickets, units};
use hotline_core::ticket::{Action, Event, Rating, Status, Ticket};
use hotline_core::workflow::{Hotline, WorkflowError};
use hotline_core::{ApiError, ErrorCode, StoreError};
use minijinja::context;
use serde::Serialize;

use super::page::{self, Refusal, answer};
use super::timeline::{self, Names, Step};
use crate::normalize;
use crate::routes::Intake;

/// The one answer to a wrong number or code.
const WRONG_PAIR: &str =
    "工单编号或查询码不正确，请核对回执上的工单编号（14位数字）和查询码（6位字母或数字）后重试。";

pub async fn form(req: HttpRequest) -> HttpResponse {
    let q = FormFields::parse(req.query_string().as_bytes());
    let number = q
        .one("number")
        .filter(|n| TicketNumber::parse(n).is_ok())
        .map(str::to_owned);
    page::render(
        &req,
        StatusCode::OK,
        "portal/track.html",
        context! { number },
    )
}

/// The tracking form again, with the one answer to a wrong pair.
fn wrong_pair(req: &HttpRequest, number: Option<&str>) -> Refusal {
    Refusal::Shown(Box::new(page::render(
        req,
        StatusCode::UNPROCESSABLE_ENTITY,
        "portal/track.html",
        context! { number, error => WRONG_PAIR },
    )))
}

/// The ticket `number` names when `code` is its query code; None otherwise. The comparison takes
/// the same time for a wrong code as for a number that does not exist.
async fn verify(
    hotline: &Hotline,
    number: Option<&str>,
    code: Option<&str>,
) -> Result<Option<Ticket>, StoreError> {
    let (Some(number), Some(code)) = (
        number.and_then(|n| TicketNumber::parse(n).ok()),
        code.and_then(|c| QueryCode::parse(c).ok()),
    ) else {
        return Ok(None);
    };
    let found = hotline
        .db
        .run(move |c| tickets::by_number(c, number.as_str()))
        .await?;
    let expected = found
        .as_ref()
        .map_or("------", |t| t.query_code.as_str())
        .to_owned();
    let matches = constant_time_eq(&expected, code.as_str());
    Ok(found.filter(|_| matches))
}

/// Where the ticket stands, in the citizen's words (disputes between units are not theirs).
fn public_status(s: Status) -> &'static str {
    match s {
        Status::Received => "已受理，等待派单",
        Status::Dispatched => "已派单，等待承办单位签收",
        Status::Handling | Status::Returned | Status::Suspended => "办理中",
        Status::Replied => "已答复",
        Status::Visited => "已回访",
        Status::Closed => "已办结",
        Status::Merged => "已合并办理",
        Status::Withdrawn => "已撤回",
    }
}

/// A ticket as its citizen sees it.
#[derive(Debug, Serialize)]
struct Public {
    number: String,
    status: Status,
    status_label: &'static str,
    appeal_type: &'static str,
    category: Option<String>,
    title: String,
    detail: String,
    address: Option<String>,
    received_at: DateTime<Utc>,
    /// While a unit is on it.
    handle_deadline: Option<DateTime<Utc>>,
    reply: Option<String>,
    rating: Option<&'static str>,
    rating_comment: Option<String>,
    redo_count: i32,
    timeline: Vec<Step>,
}

/// The citizen's personal data on the ticket (the phone and ID number masked).
#[derive(Debug, Serialize)]
struct Mine {
    name: Option<String>,
    phone: Option<String>,
    id_number: Option<String>,
    erasure_requested: bool,
    erased_at: Option<DateTime<Utc>>,
}

/// What the citizen may do now.
#[derive(Debug, Serialize)]
struct Can {
    rate: bool,
    withdraw: bool,
    correct: bool,
    erase: bool,
}

fn public(t: &Ticket, category: Option<String>, timeline: Vec<Step>, own: bool) -> Public {
    let with_unit = matches!(
        t.status,
        Status::Dispatched | Status::Handling | Status::Returned | Status::Suspended
    );
    Public {
        number: t.number.as_str().to_owned(),
        status: t.status,
        status_label: public_status(t.status),
        appeal_type: t.appeal_type.label_zh(),
        category,
        // Another citizen's words are theirs: of the main ticket, only its progress is shown.
        title: if own { t.title.clone() } else { String::new() },
        detail: if own { t.detail.clone() } else { String::new() },
        address: if own { t.address.clone() } else { None },
        received_at: t.received_at,
        handle_deadline: t.handle_deadline.filter(|_| with_unit),
        reply: t.reply.clone(),
        rating: if own {
            t.rating.map(Rating::label_zh)
        } else {
            None
        },
        rating_comment: if own { t.rating_comment.clone() } else { None },
        redo_count: t.redo_count,
        timeline,
    }
}

/// Everything the tracking page shows, read in one go.
struct Loaded {
    own_events: Vec<Event>,
    category: Option<String>,
    main: Option<(Ticket, Vec<Event>)>,
    names: Names,
}

fn load(c: &mut hotline_core::db::DbConn, t: &Ticket) -> Result<Loaded, StoreError> {
    let history = |c: &mut hotline_core::db::DbConn, id: TicketId| {
        events::for_ticket(c, id).map(|es| es.into_iter().map(|s| s.event).collect::<Vec<_>>())
    };
    let own_events = history(c, t.id)?;
    // A merged appeal's number leads to the main ticket (following merges of merges).
    let main = crate::repeats::main_ticket(c, t.number.as_str())?.filter(|m| m.id != t.id);
    let main = match main {
        Some(m) => {
            let es = history(c, m.id)?;
            Some((m, es))
        }
        None => None,
    };
    let mut names = Names::default();
    let all: Vec<&Event> = own_events
        .iter()
        .chain(main.iter().flat_map(|(_, es)| es.iter()))
        .collect();
    let owned: Vec<Event> = all.into_iter().cloned().collect();
    let (unit_ids, ticket_ids) = timeline::mentions(&owned);
    for id in unit_ids {
        match units::get(c, id) {
            Ok(u) => {
                names.units.insert(id, u.name);
            }
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    for id in ticket_ids {
        match tickets::get(c, id) {
            Ok(t) => {
                names.tickets.insert(id, t.number.as_str().to_owned());
            }
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let category = match t.category_id {
        Some(id) => match categories::get(c, id) {
            Ok(cat) => Some(cat.full_name),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    Ok(Loaded {
        own_events,
        category,
        main,
        names,
    })
}

/// A message beside one of the page's actions.
#[derive(Debug, Serialize)]
struct ActionError {
    action: String,
    message: String,
}

/// The tracking page of `t` (which the caller proved with `code`).
async fn view(
    req: &HttpRequest,
    hotline: &Hotline,
    t: Ticket,
    code: &str,
    status: StatusCode,
    notice: Option<String>,
    error: Option<ActionError>,
) -> Result<HttpResponse, Refusal> {
    let ticket = t.clone();
    let loaded = hotline.db.run(move |c| load(c, &ticket)).await?;
    let own_steps = timeline::steps(&loaded.own_events, &loaded.names, true);
    let main = loaded.main.as_ref().map(|(m, es)| {
        let steps = timeline::steps(es, &loaded.names, false);
        public(m, None, steps, false)
    });
    let mine = Mine {
        name: t.citizen_name.clone(),
        phone: t.citizen_phone.as_deref().map(mask_phone),
        id_number: t.citizen_id_number.as_deref().map(mask_id_number),
        erasure_requested: t.erasure_requested,
        erased_at: t.erased_at,
    };
    let can = Can {
        rate: matches!(t.status, Status::Replied | Status::Visited) && t.rating.is_none(),
        withdraw: t.status == Status::Received,
        correct: t.erased_at.is_none(),
        erase: !t.erasure_requested && t.erased_at.is_none(),
    };
    let ticket = public(&t, loaded.category, own_steps, true);
    Ok(page::render(
        req,
        status,
        "portal/track.html",
        context! {
            number => t.number.as_str(),
            code,
            version => t.version,
            ticket,
            main,
            mine,
            can,
            notice,
            action_error => error,
        },
    ))
}

pub async fn show(
    req: HttpRequest,
    payload: web::Payload,
    hotline: web::Data<Hotline>,
    intake: web::Data<Intake>,
) -> HttpResponse {
    let r = async {
        page::guard(&req, &intake)?;
        let f = page::small_form(&req, payload).await?;
        let (number, code) = (f.one("number"), f.one("code"));
        let Some(t) = verify(&hotline, number, code).await? else {
            return Err(wrong_pair(&req, number.map(str::trim)));
        };
        let code = t.query_code.as_str().to_owned();
        view(&req, &hotline, t, &code, StatusCode::OK, None, None).await
    }
    .await;
    answer(&req, r)
}

/// One of the citizen's actions, as the form sent it.
enum Citizen {
    Rate {
        rating: Rating,
        comment: Option<Reason>,
    },
    Withdraw {
        reason: Reason,
    },
    Contact {
        name: Option<ShortText>,
        phone: Option<PhoneNumber>,
    },
    Erase,
}

/// A field refused before anything is done.
struct Invalid {
    message: String,
}

fn invalid(field: &str, reason: &str) -> Invalid {
    Invalid {
        message: format!(
            "{}：{}",
            page_text::field_label(field),
            page_text::reason(reason)
        ),
    }
}

fn parse_action(action: &str, f: &FormFields) -> Result<Option<Citizen>, Invalid> {
    let opt_reason = |name: &str| -> Result<Option<Reason>, Invalid> {
        f.one(name)
            .map(|v| Reason::parse(&normalize::text(v)).map_err(|r| invalid(name, &r)))
            .transpose()
    };
    Ok(Some(match action {
        "rate" => {
            let rating = match f.one("rating").map(str::parse::<Rating>) {
                Some(Ok(r)) => r,
                _ => {
                    return Err(Invalid {
                        message: "请选择满意、基本满意或不满意。".into(),
                    });
                }
            };
            Citizen::Rate {
                rating,
                comment: opt_reason("comment")?,
            }
        }
        "withdraw" => Citizen::Withdraw {
            reason: opt_reason("reason")?
                .map_or_else(|| Reason::parse("群众在网上撤回诉求"), Ok)
                .map_err(|r| invalid("reason", &r))?,
        },
        "contact" => {
            let name = f
                .one("citizen_name")
                .map(|v| {
                    ShortText::parse(&normalize::text(v)).map_err(|r| invalid("citizen_name", &r))
                })
                .transpose()?;
            let phone = f
                .one("citizen_phone")
                .map(|v| {
                    PhoneNumber::parse(&normalize::code(v))
                        .map_err(|r| invalid("citizen_phone", &r))
                })
                .transpose()?;
            if name.is_none() && phone.is_none() {
                return Err(Invalid {
                    message: "请填写要更正的姓名或联系电话。".into(),
                });
            }
            Citizen::Contact { name, phone }
        }
        "erase" => {
            if f.one("confirm") != Some("yes") {
                return Err(Invalid {
                    message: "请勾选确认后再申请删除。".into(),
                });
            }
            Citizen::Erase
        }
        _ => return Ok(None),
    }))
}

/// What the citizen reads when an action is refused.
fn refusal_words(action: &str, e: &ApiError) -> String {
    match (action, e.code) {
        (_, ErrorCode::VersionConflict) => {
            "工单的办理进度刚刚有了更新，请查看下面的最新进度后再操作。".into()
        }
        ("rate", ErrorCode::InvalidTransition) => {
            "现在不能评价：承办单位答复后才能评价，每件诉求只能评价一次。".into()
        }
        ("withdraw", ErrorCode::InvalidTransition) => {
            "诉求已派给承办单位办理，不能再撤回。如有需要，请拨打12345说明情况。".into()
        }
        ("erase", ErrorCode::InvalidTransition) => "您已经申请过删除个人信息。".into(),
        ("contact", ErrorCode::InvalidField) if e.message.contains("deleted") => {
            "这件诉求的个人信息已删除，不能再更正。".into()
        }
        _ => page_text::message(e),
    }
}

fn done_words(action: &str, t: &Ticket, rating: Option<Rating>) -> String {
    match action {
        "rate" if rating == Some(Rating::Dissatisfied) => {
            "感谢您的评价。您对办理结果不满意，诉求已交回承办单位重新办理，请留意办理进度。".into()
        }
        "rate" => "感谢您的评价！".into(),
        "withdraw" => "您的诉求已撤回。".into(),
        "contact" => "联系方式已更正。".into(),
        "erase" if t.erased_at.is_some() => {
            "您的姓名、电话等个人信息已删除；不含个人信息的统计数据会保留。".into()
        }
        "erase" => "已收到您的申请：这件诉求办结（或撤回、合并）后，您的姓名、电话等个人信息将被删除；不含个人信息的统计数据会保留。".into(),
        _ => String::new(),
    }
}

pub async fn act(
    req: HttpRequest,
    action: web::Path<String>,
    payload: web::Payload,
    hotline: web::Data<Hotline>,
    intake: web::Data<Intake>,
) -> HttpResponse {
    let action = action.into_inner();
    let r = async {
        if !matches!(action.as_str(), "rate" | "withdraw" | "contact" | "erase") {
            return Err(Refusal::Page(ApiError::not_found("page")));
        }
        page::guard(&req, &intake)?;
        let f = page::small_form(&req, payload).await?;
        let (number, code) = (f.one("number"), f.one("code"));
        let Some(t) = verify(&hotline, number, code).await? else {
            return Err(wrong_pair(&req, number.map(str::trim)));
        };
        let code = t.query_code.as_str().to_owned();
        let refused = |t: Ticket, status: StatusCode, message: String| {
            let code = code.clone();
            let (req, hotline, action) = (&req, &hotline, action.clone());
            async move {
                let error = Some(ActionError { action, message });
                match view(req, hotline, t, &code, status, None, error).await {
                    Ok(res) => Refusal::Shown(Box::new(res)),
                    Err(r) => r,
                }
            }
        };
        let parsed = match parse_action(&action, &f) {
            Ok(Some(p)) => p,
            Ok(None) => return Err(Refusal::Page(ApiError::not_found("page"))),
            Err(Invalid { message }) => {
                return Err(refused(t, StatusCode::UNPROCESSABLE_ENTITY, message).await);
            }
        };
        let version = f.one("version").and_then(|v| v.trim().parse::<i32>().ok());
        let id = t.id;
        let mut rating = None;
        let done: Result<Ticket, WorkflowError> = match parsed {
            Citizen::Rate { rating: r, comment } => {
                rating = Some(r);
                let action = Action::Rate { rating: r, comment };
                hotline
                    .act(Actor::Citizen, Scope::All, id, action, version)
                    .await
            }
            Citizen::Withdraw { reason } => {
                let action = Action::Withdraw { reason };
                hotline
                    .act(Actor::Citizen, Scope::All, id, action, version)
                    .await
            }
            Citizen::Contact { name, phone } => {
                hotline
                    .correct_contact(Actor::Citizen, Scope::All, id, name, phone)
                    .await
            }
            Citizen::Erase => {
                hotline
                    .request_erasure(Actor::Citizen, Scope::All, id)
                    .await
            }
        };
        match done {
            Ok(after) => {
                let notice = Some(done_words(&action, &after, rating));
                view(&req, &hotline, after, &code, StatusCode::OK, notice, None).await
            }
            Err(e) => {
                let e = ApiError::from(e);
                if matches!(e.code, ErrorCode::Internal | ErrorCode::Unavailable) {
                    return Err(Refusal::Page(e));
                }
                let message = refusal_words(&action, &e);
                let fresh = hotline.db.run(move |c| tickets::get(c, id)).await?;
                Err(refused(fresh, e.code.status(), message).await)
            }
        }
    }
    .await;
    answer(&req, r)
}
