//! `GET/POST /portal/appeal`: the appeal form and its receipt. The form works without JavaScript
//! (a category `<select>` with one group per second level; the portal's script adds a search box
//! and "use my position"). Each rendered form carries its own idempotency key, so sending it twice
//! (a double tap, a refresh of the receipt) stores one ticket and shows the same receipt.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use hotline_core::ApiError;
use hotline_core::domain::{Actor, AppealType, Channel};
use hotline_core::http::{FormFields, page_text};
use hotline_core::ids::CategoryId;
use hotline_core::store::categories;
use hotline_core::workflow::Hotline;
use minijinja::context;
use serde::Serialize;
use strum::IntoEnumIterator;

use super::page::{self, Refusal, answer};
use crate::appeal::{AppealInput, check_category, validate};
use crate::attachments::{self, Storage, Upload, read_multipart};
use crate::error::IntakeError;
use crate::routes::{Intake, client_ip};
use crate::submit::{Answer, IdempotencyKey, Submission};

/// The version of the consent text below; kept with every appeal's raw payload.
pub const CONSENT_VERSION: &str = "portal-2026-11";

/// What the portal collects and why, one line per purpose. The consent checkbox agrees to exactly
/// these; the same lines are kept with the appeal.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Purpose {
    pub what: &'static str,
    pub why: &'static str,
}

pub const PURPOSES: &[Purpose] = &[
    Purpose {
        what: "诉求内容（类型、分类、标题、描述、地址）",
        why: "用于受理、派给承办单位办理并答复您；办结后去除个人信息，用于统计分析和改进公共服务。",
    },
    Purpose {
        what: "姓名和联系电话",
        why: "仅用于承办单位与您联系核实、12345热线回访和满意度调查，不用于其他用途，不提供给与办理无关的单位。",
    },
    Purpose {
        what: "照片和位置（可选）",
        why: "仅用于核实和处置您反映的问题。照片中的拍摄设备、时间等信息会被删除，只保留拍摄位置。",
    },
    Purpose {
        what: "保存与删除",
        why: "诉求办结后，您可以凭工单编号和查询码申请删除姓名、电话等个人信息；不含个人信息的统计数据会保留。",
    },
];

/// The text fields of the form, in a fixed order (for the idempotency digest and the raw payload).
const FIELDS: &[&str] = &[
    "appeal_type",
    "category_id",
    "title",
    "detail",
    "address",
    "latitude",
    "longitude",
    "citizen_name",
    "citizen_phone",
    "consent",
];

/// The form's name for each field (next to the field and in the summary).
fn label(field: &str) -> &str {
    match field {
        "appeal_type" => "诉求类型",
        "category_id" => "诉求分类",
        "title" => "标题",
        "detail" => "诉求描述",
        "address" => "事发地址",
        "latitude" | "longitude" => "位置",
        "photo" => "照片",
        "citizen_name" => "姓名",
        "citizen_phone" => "联系电话",
        "consent" => "个人信息收集说明",
        other => page_text::field_label(other),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldError {
    pub field: String,
    pub label: String,
    pub message: String,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            label: label(field).to_owned(),
            message: message.into(),
        }
    }

    fn from_intake(e: IntakeError) -> Result<Self, Refusal> {
        match e {
            IntakeError::Invalid { field, reason } => {
                let message = match field.as_str() {
                    "latitude" | "longitude" => "位置信息无效，请重新获取或清除位置。".to_owned(),
                    "category_id" => "请从列表中选择分类。".to_owned(),
                    _ => page_text::reason(&reason),
                };
                Ok(Self::new(&field, message))
            }
            other => Err(other.into()),
        }
    }
}

#[derive(Debug, Serialize)]
struct Choice {
    id: String,
    name: String,
    path: String,
}

#[derive(Debug, Serialize)]
struct Group {
    label: String,
    choices: Vec<Choice>,
}

/// The category tree as option groups: one group per second level holding its third levels (a
/// second level without children is a choice in its first level's group).
async fn category_groups(hotline: &Hotline) -> Result<Vec<Group>, ApiError> {
    let all = hotline.db.run(categories::list).await?;
    let active: Vec<_> = all.into_iter().filter(|c| c.active).collect();
    let children = |id| {
        active
            .iter()
            .filter(move |c| c.parent_id == Some(id))
            .collect::<Vec<_>>()
    };
    let choice = |c: &categories::Category| Choice {
        id: c.id.to_string(),
        name: c.name.clone(),
        path: c.full_name.clone(),
    };
    let mut groups = Vec::new();
    for top in active.iter().filter(|c| c.level == 1) {
        let mut loose = Vec::new();
        for second in children(top.id) {
            let leaves = children(second.id);
            if leaves.is_empty() {
                loose.push(choice(second));
            } else {
                groups.push(Group {
                    label: format!("{} · {}", top.name, second.name),
                    choices: leaves.into_iter().map(choice).collect(),
                });
            }
        }
        if !loose.is_empty() || children(top.id).is_empty() {
            if loose.is_empty() {
                loose.push(choice(top));
            }
            groups.push(Group {
                label: top.name.clone(),
                choices: loose,
            });
        }
    }
    Ok(groups)
}

#[derive(Debug, Serialize)]
struct TypeChoice {
    id: &'static str,
    name: &'static str,
}

fn appeal_types() -> Vec<TypeChoice> {
    AppealType::iter()
        .map(|t| TypeChoice {
            id: t.into(),
            name: t.label_zh(),
        })
        .collect()
}

/// Renders the form with `values` and field errors.
async fn render_form(
    req: &HttpRequest,
    hotline: &Hotline,
    status: StatusCode,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> Result<HttpResponse, Refusal> {
    let categories = category_groups(hotline).await?;
    let error_of: BTreeMap<String, String> = errors
        .iter()
        .map(|e| (e.field.clone(), e.message.clone()))
        .collect();
    Ok(page::render(
        req,
        status,
        "portal/appeal.html",
        context! {
            v => values,
            errors,
            error_of,
            notice,
            appeal_types => appeal_types(),
            categories,
            purposes => PURPOSES,
            max_photos => MAX_PHOTOS,
        },
    ))
}

/// At most this many photos with one appeal.
pub const MAX_PHOTOS: usize = attachments::MAX_FILES;

fn new_key() -> String {
    hotline_core::auth::token::random_token()
}

pub async fn form(req: HttpRequest, hotline: web::Data<Hotline>) -> HttpResponse {
    let values = HashMap::from([("form_key".to_owned(), new_key())]);
    let r = render_form(&req, &hotline, StatusCode::OK, values, vec![], None).await;
    answer(&req, r)
}

/// What the form sent: its text fields and photos.
struct Sent {
    fields: FormFields,
    photos: Vec<Upload>,
}

fn content_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Reads the form: `multipart/form-data` (with photos) as the page sends it (at most
/// [`APPEAL_BODY_LIMIT`](super::APPEAL_BODY_LIMIT)), or a plain urlencoded form without photos
/// (256 KiB).
async fn read_form(req: &HttpRequest, payload: web::Payload) -> Result<Sent, IntakeError> {
    let ct = content_type(req);
    if ct.starts_with("application/x-www-form-urlencoded") {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let body =
            hotline_core::http::json::read_body(payload.into_inner(), 256 * 1024, declared).await?;
        return Ok(Sent {
            fields: FormFields::parse(&body),
            photos: vec![],
        });
    }
    let form = read_multipart(req, payload.into_inner(), &["photo"]).await?;
    Ok(Sent {
        fields: form.fields,
        photos: form
            .files
            .into_iter()
            .filter(|f| f.field == "photo")
            .collect(),
    })
}

/// The checks of the portal's own (consent, what the callback needs) before the common validation.
fn precheck(f: &FormFields, photos: usize) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if f.one("appeal_type").is_none() {
        errors.push(FieldError::new("appeal_type", "请选择诉求类型。"));
    } else if f
        .one("appeal_type")
        .is_some_and(|t| t.parse::<AppealType>().is_err())
    {
        errors.push(FieldError::new("appeal_type", "请从列表中选择诉求类型。"));
    }
    if f.one("title").is_none() {
        errors.push(FieldError::new("title", "请用一句话概括您的诉求。"));
    }
    if f.one("detail").is_none() {
        errors.push(FieldError::new(
            "detail",
            "请描述事情的经过和您的诉求（时间、地点、具体情况）。",
        ));
    }
    if f.one("citizen_phone").is_none() {
        errors.push(FieldError::new(
            "citizen_phone",
            "请填写联系电话：承办单位需要与您联系，12345热线办结后会回访。",
        ));
    }
    if f.one("category_id")
        .is_some_and(|c| c.parse::<CategoryId>().is_err())
    {
        errors.push(FieldError::new("category_id", "请从列表中选择分类。"));
    }
    for field in ["latitude", "longitude"] {
        if f.one(field)
            .is_some_and(|v| v.trim().parse::<f64>().is_err())
        {
            errors.push(FieldError::new(
                field,
                "位置信息无效，请重新获取或清除位置。",
            ));
            break;
        }
    }
    if photos > MAX_PHOTOS {
        errors.push(FieldError::new(
            "photo",
            format!("最多上传{MAX_PHOTOS}张照片。"),
        ));
    }
    if f.one("consent") != Some("yes") {
        errors.push(FieldError::new(
            "consent",
            "请阅读个人信息收集说明，勾选同意后再提交。",
        ));
    }
    errors
}

fn input_of(f: &FormFields) -> AppealInput {
    let text = |name: &str| f.one(name).map(str::to_owned);
    let number = |name: &str| f.one(name).and_then(|v| v.trim().parse::<f64>().ok());
    AppealInput {
        appeal_type: f.one("appeal_type").and_then(|t| t.parse().ok()),
        urgency: None,
        category_id: f.one("category_id").and_then(|c| c.parse().ok()),
        title: text("title").unwrap_or_default(),
        detail: text("detail").unwrap_or_default(),
        address: text("address"),
        latitude: number("latitude"),
        longitude: number("longitude"),
        citizen_name: text("citizen_name"),
        citizen_phone: text("citizen_phone"),
        citizen_id_number: None,
    }
}

/// The values to show again in a re-rendered form (never the photos: a browser cannot be given
/// files back).
fn kept(f: &FormFields) -> HashMap<String, String> {
    let mut v: HashMap<String, String> = HashMap::new();
    for (k, val) in f.pairs() {
        if FIELDS.contains(&k) || k == "form_key" {
            v.entry(k.to_owned()).or_insert_with(|| val.to_owned());
        }
    }
    v
}

/// What is kept of the request for audit: the text fields, the photos' names and sizes, and the
/// consent given.
fn raw_payload(f: &FormFields, photos: &[Upload]) -> String {
    let fields: BTreeMap<&str, &str> = FIELDS
        .iter()
        .filter_map(|k| f.one(k).map(|v| (*k, v)))
        .collect();
    let photos: Vec<_> = photos
        .iter()
        .map(|p| serde_json::json!({"field": p.field, "bytes": p.bytes.len()}))
        .collect();
    serde_json::json!({
        "form": "portal/appeal",
        "fields": fields,
        "photos": photos,
        "consent": {
            "version": CONSENT_VERSION,
            "purposes": PURPOSES.iter().map(|p| p.what).collect::<Vec<_>>(),
        },
    })
    .to_string()
}

/// The receipt the submission stored (and a resubmission gets back).
#[derive(Debug, Serialize, serde::Deserialize)]
struct Stored {
    number: String,
    query_code: String,
    received_at: chrono::DateTime<chrono::Utc>,
}

pub async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    hotline: web::Data<Hotline>,
    intake: web::Data<Intake>,
) -> HttpResponse {
    let r = lodge(&req, payload, &hotline, &intake).await;
    answer(&req, r)
}

/// A photo refused, in words (the form lists it beside the photo field).
fn photo_error(reason: &str) -> String {
    if reason.contains("10 MiB") {
        "每张照片不能超过10MB，请换一张或压缩后再上传。".to_owned()
    } else if reason.contains("at most") {
        format!("最多上传{MAX_PHOTOS}张照片。")
    } else if reason.contains("empty") {
        "照片文件是空的，请重新选择。".to_owned()
    } else if reason.contains("not a JPEG") {
        "只能上传JPEG、PNG或WebP格式的照片。".to_owned()
    } else {
        "照片无法读取，请换一张。".to_owned()
    }
}

async fn lodge(
    req: &HttpRequest,
    payload: web::Payload,
    hotline: &Hotline,
    intake: &Intake,
) -> Result<HttpResponse, Refusal> {
    page::guard(req, intake)?;
    let sent = match read_form(req, payload).await {
        Ok(s) => s,
        // A photo too large, or too many: the parser stopped there, so the typed text is lost.
        Err(IntakeError::Invalid { field, reason }) if field == "photo" => {
            let values = HashMap::from([("form_key".to_owned(), new_key())]);
            let errors = vec![FieldError::new("photo", photo_error(&reason))];
            let note = Some("照片不符合要求，页面未能保留您填写的内容，请重新填写。".to_owned());
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return Err(Refusal::Shown(Box::new(
                render_form(req, hotline, status, values, errors, note).await?,
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let f = &sent.fields;
    let photo_note = (!sent.photos.is_empty())
        .then(|| "为保护您的隐私，页面不会保留已选的照片，请重新选择照片。".to_owned());
    let refuse = |errors: Vec<FieldError>, values: HashMap<String, String>| {
        let note = photo_note.clone();
        async move {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            match render_form(req, hotline, status, values, errors, note).await {
                Ok(res) => Refusal::Shown(Box::new(res)),
                Err(r) => r,
            }
        }
    };
    let mut values = kept(f);
    if values.get("form_key").is_none_or(String::is_empty) {
        values.insert("form_key".into(), new_key());
    }
    let errors = precheck(f, sent.photos.len());
    if !errors.is_empty() {
        return Err(refuse(errors, values).await);
    }
    let mut appeal = match validate(&input_of(f), Channel::Web) {
        Ok(a) => a,
        Err(e) => {
            let error = FieldError::from_intake(e)?;
            return Err(refuse(vec![error], values).await);
        }
    };
    if let Err(e) = check_category(hotline, appeal.category_id).await {
        let error = FieldError::from_intake(e)?;
        return Err(refuse(vec![error], values).await);
    }
    let key_text = values.get("form_key").cloned().unwrap_or_else(new_key);
    let field_values: Vec<String> = FIELDS
        .iter()
        .map(|k| format!("{k}={}", f.one(k).unwrap_or_default()))
        .collect();
    let mut parts: Vec<&[u8]> = vec![b"POST /portal/appeal"];
    parts.extend(field_values.iter().map(String::as_bytes));
    parts.extend(sent.photos.iter().map(|p| p.bytes.as_ref()));
    let idempotency = IdempotencyKey::new("portal", &key_text, &parts)?;
    let centre_id = intake.centre(hotline).await?;
    let raw = raw_payload(f, &sent.photos);
    // Photos are checked by their bytes, stripped of their metadata and stored before the appeal;
    // a photo's GPS position becomes the appeal's location when the citizen gave none.
    let storage = req.app_data::<web::Data<Storage>>().cloned();
    let staged = match (&storage, sent.photos.is_empty()) {
        (_, true) => Vec::new(),
        (Some(storage), false) => match attachments::stage_all(storage, sent.photos).await {
            Ok(staged) => staged,
            Err(IntakeError::Invalid { reason, .. }) => {
                let errors = vec![FieldError::new("photo", photo_error(&reason))];
                return Err(refuse(errors, values).await);
            }
            Err(e) => return Err(e.into()),
        },
        (None, false) => {
            return Err(ApiError::internal("no attachment storage is configured").into());
        }
    };
    attachments::locate(&mut appeal, &staged);
    let outcome = intake
        .submit(
            hotline,
            Submission {
                actor: Actor::System,
                centre_id,
                appeal,
                client_id: None,
                nonce: None,
                raw_payload: raw,
                remote_addr: Some(client_ip(req)),
                idempotency: Some(idempotency),
                attachments: staged.clone(),
            },
            |t| Answer {
                status: 201,
                content_type: "application/json".into(),
                body: serde_json::to_string(&Stored {
                    number: t.number.as_str().to_owned(),
                    query_code: t.query_code.as_str().to_owned(),
                    received_at: t.received_at,
                })
                .unwrap_or_default(),
            },
        )
        .await;
    // Photos no ticket took (a refusal, or a resubmission answered from the first) are removed.
    if !matches!(&outcome, Ok(o) if !o.replayed)
        && let Some(storage) = &storage
    {
        attachments::discard(storage, &staged).await;
    }
    let outcome = match outcome {
        Ok(o) => o,
        Err(IntakeError::KeyReused) => {
            // The same form, sent again with other contents (back, edit, send): that is a new
            // appeal, and needs a new form.
            values.insert("form_key".into(), new_key());
            let notice = Some(
                "这张表单已经提交过。如果您要反映另一件事，请检查以下内容后再次提交。".to_owned(),
            );
            return Err(Refusal::Shown(Box::new(
                render_form(req, hotline, StatusCode::CONFLICT, values, vec![], notice).await?,
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let stored: Stored = serde_json::from_str(&outcome.answer.body)
        .map_err(|e| ApiError::internal(format!("stored portal receipt: {e}")))?;
    Ok(page::render(
        req,
        StatusCode::OK,
        "portal/receipt.html",
        context! {
            number => stored.number,
            code => stored.query_code,
            received_at => stored.received_at,
            replayed => outcome.replayed,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_and_contact_are_asked_for_by_name() {
        let f = FormFields::parse(
            "appeal_type=complaint&title=%E8%B7%AF%E7%81%AF&detail=x&latitude=abc".as_bytes(),
        );
        let fields: Vec<String> = precheck(&f, 10).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["citizen_phone", "latitude", "photo", "consent"]);
        let f = FormFields::parse(
            b"appeal_type=help&title=t&detail=d&citizen_phone=13800138000&consent=yes",
        );
        assert!(precheck(&f, 0).is_empty());
    }

    #[test]
    fn every_purpose_says_what_and_why() {
        assert!(PURPOSES.len() >= 3);
        assert!(PURPOSES.iter().any(|p| p.what.contains("联系电话")));
        assert!(PURPOSES.iter().any(|p| p.what.contains("照片")));
    }
}
