//! `POST requests.{xml,json}`: a GeoReport client files a request. Form-encoded as the spec
//! says, authorised by an `api_key`, rate-limited per address and per key, then the intake's one
//! path: validated like every channel and stored exactly once per `Idempotency-Key`, with the
//! token row (and the media_url and address_id GET returns) in the ticket's transaction.

use actix_web::{HttpRequest, HttpResponse, web};
use hotline_core::auth::token::random_token;
use hotline_core::domain::{Actor, Channel};
use hotline_core::http::json::{body_limits, read_body};
use hotline_core::workflow::Hotline;

use super::{Failure, catalogue, finish, format_of, no_such_format};
use crate::appeal::{check_category, validate};
use crate::error::IntakeError;
use crate::open311::doc::{self, Format, Node};
use crate::open311::form::{RequestForm, open311_field};
use crate::open311::keys;
use crate::open311::requests::number;
use crate::open311::tokens;
use crate::routes::appeals::respond;
use crate::routes::{Intake, client_ip, header};
use crate::submit::{Answer, IdempotencyKey, Submission, submit_with};

/// A refusal of the appeal's validation, with the field named as the client sent it.
fn in_open311_terms(e: IntakeError) -> IntakeError {
    match e {
        IntakeError::Invalid { field, reason } => IntakeError::Invalid {
            field: open311_field(&field).to_owned(),
            reason,
        },
        other => other,
    }
}

/// The form as received, without the api_key (only its hash is ever stored).
fn redacted(body: &[u8]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(body) {
        if k == "api_key" {
            out.append_pair(&k, "[redacted]");
        } else {
            out.append_pair(&k, &v);
        }
    }
    out.finish()
}

pub(super) async fn create(
    req: HttpRequest,
    payload: web::Payload,
    hotline: web::Data<Hotline>,
    intake: web::Data<Intake>,
) -> HttpResponse {
    let Some(format) = format_of(&req) else {
        return no_such_format(&req);
    };
    finish(
        format,
        file_request(&req, payload, &hotline, &intake, format).await,
    )
}

async fn file_request(
    req: &HttpRequest,
    payload: web::Payload,
    hotline: &Hotline,
    intake: &Intake,
    format: Format,
) -> Result<HttpResponse, Failure> {
    let ip = client_ip(req);
    intake.limits.check_ip(&ip)?;
    let essence = header(req, "content-type")
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence != "application/x-www-form-urlencoded" {
        return Err(Failure::new(
            415,
            "Content-Type must be application/x-www-form-urlencoded (GeoReport v2 POST)",
        ));
    }
    let (limit, declared) = body_limits(req);
    let body = read_body(payload.into_inner(), limit, declared).await?;
    let form = RequestForm::parse(&body, req.query_string());
    let api_key = form
        .api_key
        .clone()
        .ok_or_else(|| Failure::new(403, "api_key: missing"))?;
    let secret = hotline.token_key.clone();
    let holder = hotline
        .db
        .run(move |c| keys::verify(c, &secret, &api_key))
        .await?
        .ok_or_else(|| Failure::new(403, "api_key: unknown or revoked"))?;
    intake
        .limits
        .check_client(&format!("open311:{}", holder.key_hash))?;
    let code = form
        .service_code
        .clone()
        .ok_or_else(|| Failure::new(400, "service_code: missing"))?;
    let service = catalogue(hotline)
        .await?
        .offered(&code)
        .ok_or_else(|| Failure::new(404, format!("service_code: no service {code:?}")))?;
    let (input, extras) = form.to_input(&service)?;
    let appeal = validate(&input, Channel::Open311).map_err(in_open311_terms)?;
    check_category(hotline, appeal.category_id)
        .await
        .map_err(in_open311_terms)?;
    let idempotency = header(req, "idempotency-key")
        .map(|k| {
            IdempotencyKey::new(
                format!("open311:{}", holder.key_hash),
                k,
                &[b"POST", req.path().as_bytes(), &body],
            )
        })
        .transpose()?;
    let centre_id = intake.centre(hotline).await?;
    let now = hotline.now.get();
    let outcome = submit_with(
        hotline,
        Submission {
            actor: Actor::System,
            centre_id,
            appeal,
            client_id: Some(format!("open311:{}", holder.name)),
            nonce: None,
            raw_payload: redacted(&body),
            remote_addr: Some(ip),
            idempotency,
            // GeoReport v2 has no uploads: a photo is a media_url.
            attachments: Vec::new(),
        },
        move |c, t| {
            let token = random_token();
            tokens::insert(
                c,
                &token,
                t.id,
                now,
                extras.media_url.as_deref(),
                extras.address_id.as_deref(),
            )?;
            let notice = format!(
                "诉求已受理，工单号 {}。请记住工单号，凭它查询办理进度。",
                t.number.as_str()
            );
            let node = Node::List(
                "request",
                vec![Node::Map(vec![
                    ("service_request_id", number(t.number.as_str())),
                    ("token", Node::Text(token)),
                    ("service_notice", Node::Text(notice)),
                    ("account_id", Node::opt_text(extras.account_id)),
                ])],
            );
            Ok(Answer {
                status: 200,
                content_type: format.content_type().to_owned(),
                body: doc::render(format, "service_requests", &node),
            })
        },
    )
    .await?;
    Ok(respond(&outcome))
}
