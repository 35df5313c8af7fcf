//! `POST /api/v1/appeals`: appeals from registered apps and WeChat mini-programs, signed (see
//! `clients`) and exactly once per `Idempotency-Key` (required here).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use hotline_core::ApiError;
use hotline_core::domain::Actor;
use hotline_core::error::ErrorBody;
use hotline_core::http::json::{body_limits, parse_json, read_body};
use hotline_core::ids::{TicketId, TicketNumber};
use hotline_core::ticket::{Status, Ticket};
use hotline_core::workflow::Hotline;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Intake, client_ip, header};
use crate::appeal::{AppealInput, check_category, validate};
use crate::attachments::multipart::{MAX_BODY_BYTES, is_multipart};
use crate::attachments::{self, MultipartForm, Storage, Upload, parse_multipart};
use crate::clients::{self, Signed};
use crate::error::IntakeError;
use crate::submit::{Answer, IdempotencyKey, Submission};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/appeals").route(web::post().to(create)));
}

/// The receipt a citizen's app shows: the number to quote and the code to follow the appeal.
#[derive(Debug, Serialize, ToSchema)]
pub struct Receipt {
    pub ticket_id: TicketId,
    pub number: TicketNumber,
    pub query_code: String,
    pub status: Status,
    pub received_at: DateTime<Utc>,
}

impl Receipt {
    pub fn of(t: &Ticket) -> Self {
        Self {
            ticket_id: t.id,
            number: t.number.clone(),
            query_code: t.query_code.as_str().to_owned(),
            status: t.status,
            received_at: t.received_at,
        }
    }
}

fn required<'a>(req: &'a HttpRequest, name: &'static str) -> Result<&'a str, IntakeError> {
    header(req, name).ok_or(IntakeError::Unsigned(match name {
        "x-client-id" => "X-Client-Id is missing",
        "x-timestamp" => "X-Timestamp is missing",
        "x-nonce" => "X-Nonce is missing",
        _ => "X-Signature is missing",
    }))
}

/// Answers an outcome: the stored or new answer, marked when it is a replay.
pub fn respond(outcome: &crate::submit::Outcome) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(outcome.answer.status)
        .unwrap_or(actix_web::http::StatusCode::OK);
    let mut res = HttpResponse::build(status);
    res.content_type(outcome.answer.content_type.as_str());
    if outcome.replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    res.body(outcome.answer.body.clone())
}

/// An appeal with photos and recordings (`multipart/form-data`).
#[derive(Debug, ToSchema)]
pub struct AppealUpload {
    /// The appeal: the JSON of `AppealInput`.
    #[schema(content_media_type = "application/json")]
    pub appeal: String,
    /// Photos (JPEG, PNG, WebP), each at most 10 MiB; with `audio`, at most 9 files.
    #[schema(content_media_type = "application/octet-stream")]
    pub photo: Option<Vec<Vec<u8>>>,
    /// Recordings (MP3, WAV, OGG, AMR, M4A/AAC, FLAC), each at most 10 MiB.
    #[schema(content_media_type = "application/octet-stream")]
    pub audio: Option<Vec<Vec<u8>>>,
}

/// The parts of a multipart appeal that are files.
const FILE_PARTS: &[&str] = &["photo", "audio"];

/// The appeal's JSON and the files of a multipart appeal; any other part is refused.
fn appeal_parts(form: MultipartForm) -> Result<(String, Vec<Upload>), IntakeError> {
    let unknown =
        |name: &str| IntakeError::invalid(name, "unknown part: send appeal, photo and audio");
    if let Some((name, _)) = form.fields.pairs().find(|(k, _)| *k != "appeal") {
        return Err(unknown(name));
    }
    let mut json = form.fields.one("appeal").map(str::to_owned);
    let mut files = Vec::with_capacity(form.files.len());
    for f in form.files {
        match f.field.as_str() {
            "photo" | "audio" => files.push(f),
            // The appeal sent as a file (`curl -F appeal=@appeal.json`).
            "appeal" if json.is_none() => {
                json = Some(
                    String::from_utf8(f.bytes.to_vec())
                        .map_err(|_| IntakeError::invalid("appeal", "must be UTF-8 JSON"))?,
                );
            }
            other => return Err(unknown(other)),
        }
    }
    let json = json.ok_or_else(|| {
        IntakeError::invalid("appeal", "the part with the appeal's JSON is missing")
    })?;
    Ok((json, files))
}

#[utoipa::path(post, path = "/api/v1/appeals", tag = "intake",
    request_body(content(
        (AppealInput = "application/json"),
        (AppealUpload = "multipart/form-data"),
    )),
    description = "An appeal from a registered app or mini-program. Signed with X-Client-Id, X-Timestamp, X-Nonce and X-Signature (HMAC-SHA256 over the raw body, see the README); the Idempotency-Key header is required: a retry with the same key answers the same receipt (header Idempotent-Replayed: true) and creates nothing. With photos or recordings, send multipart/form-data: a part `appeal` with the JSON and parts `photo` and `audio` with the files (at most 9, each at most 10 MiB, recognised by their bytes). A photo's EXIF is removed; its GPS position becomes the appeal's location when the appeal gives none.",
    params(
        ("X-Client-Id" = String, Header), ("X-Timestamp" = String, Header),
        ("X-Nonce" = String, Header), ("X-Signature" = String, Header),
        ("Idempotency-Key" = String, Header),
    ),
    responses((status = 201, body = Receipt), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    hotline: web::Data<Hotline>,
    intake: web::Data<Intake>,
    storage: web::Data<Storage>,
) -> Result<HttpResponse, ApiError> {
    let ip = client_ip(&req);
    intake.limits.check_ip(&ip)?;
    let (limit, declared) = body_limits(&req);
    // Files make a multipart body large: it has a cap of its own; JSON keeps the app's limit.
    let multipart = is_multipart(&req);
    let limit = if multipart { MAX_BODY_BYTES } else { limit };
    let body = read_body(payload.into_inner(), limit, declared).await?;
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned());
    let signed = Signed {
        client_id: required(&req, "x-client-id")?,
        timestamp: required(&req, "x-timestamp")?,
        nonce: required(&req, "x-nonce")?,
        signature: required(&req, "x-signature")?,
    };
    let now = hotline.now.get();
    let found = intake.clients.find(&hotline.db, signed.client_id).await?;
    let client = clients::verify(
        found,
        &hotline.token_key,
        &signed,
        "POST",
        &path,
        &body,
        now,
    )?;
    intake.limits.check_client(&client.id)?;
    let key_text = header(&req, "idempotency-key")
        .ok_or_else(|| IntakeError::invalid("Idempotency-Key", "required on every appeal"))?;
    let scope = format!("client:{}", client.id);
    let (input, raw_payload, uploads, idempotency) = if multipart {
        let form = parse_multipart(req.headers(), body.freeze(), FILE_PARTS).await?;
        let (json, files) = appeal_parts(form)?;
        // What the request carries, not how it was framed: a client that retries with a new
        // multipart boundary is still making the same request.
        let mut parts: Vec<&[u8]> = vec![b"POST /api/v1/appeals multipart", json.as_bytes()];
        for f in &files {
            parts.extend([f.field.as_bytes(), &f.bytes[..]]);
        }
        let idempotency = IdempotencyKey::new(scope, key_text, &parts)?;
        let input: AppealInput = parse_json(json.as_bytes())?;
        (input, json, files, idempotency)
    } else {
        let idempotency = IdempotencyKey::new(scope, key_text, &[b"POST /api/v1/appeals", &body])?;
        let input: AppealInput = parse_json(&body)?;
        (
            input,
            String::from_utf8_lossy(&body).into_owned(),
            Vec::new(),
            idempotency,
        )
    };
    let mut appeal = validate(&input, client.channel)?;
    check_category(&hotline, appeal.category_id).await?;
    let centre_id = intake.centre(&hotline).await?;
    let staged = attachments::stage_all(&storage, uploads).await?;
    attachments::locate(&mut appeal, &staged);
    let outcome = intake
        .submit(
            &hotline,
            Submission {
                actor: Actor::System,
                centre_id,
                appeal,
                client_id: Some(client.id),
                nonce: Some(signed.nonce.to_owned()),
                raw_payload,
                remote_addr: Some(ip),
                idempotency: Some(idempotency),
                attachments: staged.clone(),
            },
            |t| Answer {
                status: 201,
                content_type: "application/json".into(),
                body: serde_json::to_string(&Receipt::of(t)).unwrap_or_default(),
            },
        )
        .await;
    // Files no ticket took (a refusal, or a retry answered from the first request) are removed.
    match outcome {
        Ok(o) if !o.replayed => Ok(respond(&o)),
        Ok(o) => {
            attachments::discard(&storage, &staged).await;
            Ok(respond(&o))
        }
        Err(e) => {
            attachments::discard(&storage, &staged).await;
            Err(e.into())
        }
    }
}
