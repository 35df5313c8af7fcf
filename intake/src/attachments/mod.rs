//! Photos and audio recordings that come with an appeal (立拍秒办: photograph a problem and report
//! it). A file is recognised by its bytes, never its name; at most 10 MiB each and 9 per appeal.
//! A photo's EXIF and XMP are removed before it is stored, but its GPS position becomes the
//! appeal's location when the appeal gave none. The bytes go to an object store (local files or
//! S3-compatible storage, see [`storage`]) under `YYYY/MM/DD/<id>`, with a row per file in
//! `attachments` written in the ticket's own transaction.
//!
//! A channel [`stage`]s each upload (validate, strip, store), puts them in
//! [`Submission::attachments`](crate::submit::Submission), calls [`locate`] before submitting, and
//! [`discard`]s them when the appeal is not stored (refused, or a replay of an earlier request).

pub mod content;
pub mod multipart;
pub mod storage;

use actix_web::web::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::{DbConn, from_db, to_db};
use hotline_core::ids::TicketId;
use hotline_core::ticket::NewAppeal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub use content::{Kind, MAX_FILE_BYTES};
pub use multipart::{MAX_FILES, MultipartForm, Upload, parse_multipart, read_multipart};
pub use storage::Storage;

use crate::error::IntakeError;
use crate::schema::attachments;

/// A file validated, stripped and stored, not yet linked to a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Staged {
    pub id: String,
    pub kind: Kind,
    pub content_type: String,
    pub byte_size: i64,
    /// Of the stored bytes, lower-case hex.
    pub sha256: String,
    pub storage_key: String,
    /// Where a photo was taken (latitude, longitude; WGS 84), from its EXIF.
    pub gps: Option<(f64, f64)>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Validates one upload (`field` names it in refusals), removes a photo's metadata and writes
/// it to the storage.
pub async fn stage(storage: &Storage, bytes: Bytes, field: &str) -> Result<Staged, IntakeError> {
    let name = field.to_owned();
    // Parsing is CPU work on up to 10 MiB, and a parser bug must not take the worker down.
    let inspected = tokio::task::spawn_blocking(move || {
        content::inspect(bytes, &name).map(|i| {
            let sha = hex(&Sha256::digest(&i.bytes));
            (i, sha)
        })
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "inspecting an upload failed");
        IntakeError::invalid(field, "the file could not be read")
    })?;
    let (file, sha256) = inspected?;
    let id = uuid::Uuid::new_v4().to_string();
    let storage_key = Storage::key_for(&id, Utc::now());
    let byte_size = i64::try_from(file.bytes.len()).unwrap_or(i64::MAX);
    storage.put(&storage_key, file.bytes).await?;
    Ok(Staged {
        id,
        kind: file.kind,
        content_type: file.content_type.to_owned(),
        byte_size,
        sha256,
        storage_key,
        gps: file.gps,
    })
}

/// Stages every upload in order; on a refusal, removes those already stored.
pub async fn stage_all(
    storage: &Storage,
    uploads: Vec<Upload>,
) -> Result<Vec<Staged>, IntakeError> {
    if uploads.len() > MAX_FILES {
        return Err(IntakeError::invalid(
            uploads
                .get(MAX_FILES)
                .map_or("attachments", |u| u.field.as_str()),
            format!("at most {MAX_FILES} files in one appeal"),
        ));
    }
    let mut staged = Vec::with_capacity(uploads.len());
    for u in uploads {
        match stage(storage, u.bytes, &u.field).await {
            Ok(s) => staged.push(s),
            Err(e) => {
                discard(storage, &staged).await;
                return Err(e);
            }
        }
    }
    Ok(staged)
}

/// Removes staged files that no ticket took (best effort: a failure is logged).
pub async fn discard(storage: &Storage, staged: &[Staged]) {
    for s in staged {
        if let Err(e) = storage.delete(&s.storage_key).await {
            tracing::warn!(key = %s.storage_key, error = %e, "an unused attachment was not deleted");
        }
    }
}

/// Gives an appeal without a location the position of its first photo that has one.
pub fn locate(appeal: &mut NewAppeal, staged: &[Staged]) {
    if appeal.latitude.is_some() || appeal.longitude.is_some() {
        return;
    }
    if let Some((lat, lon)) = staged
        .iter()
        .filter(|s| s.kind == Kind::Photo)
        .find_map(|s| s.gps)
    {
        appeal.latitude = Some(lat);
        appeal.longitude = Some(lon);
    }
}

/// Records staged files as the ticket's (inside the transaction that creates it).
pub fn link(
    conn: &mut DbConn,
    ticket_id: TicketId,
    staged: &[Staged],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for s in staged {
        diesel::insert_into(attachments::table)
            .values((
                attachments::id.eq(&s.id),
                attachments::ticket_id.eq(Some(ticket_id.to_string())),
                attachments::kind.eq(s.kind.to_string()),
                attachments::content_type.eq(&s.content_type),
                attachments::byte_size.eq(s.byte_size),
                attachments::sha256.eq(&s.sha256),
                attachments::storage_key.eq(&s.storage_key),
                attachments::gps_latitude.eq(s.gps.map(|g| g.0)),
                attachments::gps_longitude.eq(s.gps.map(|g| g.1)),
                attachments::created_at.eq(to_db(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A stored attachment.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: String,
    pub ticket_id: Option<String>,
    pub kind: String,
    pub content_type: String,
    pub byte_size: i64,
    pub sha256: String,
    pub storage_key: String,
    pub gps_latitude: Option<f64>,
    pub gps_longitude: Option<f64>,
    pub created_at: NaiveDateTime,
}

/// A ticket's attachments, in the order they came.
pub fn for_ticket(
    conn: &mut DbConn,
    ticket_id: TicketId,
) -> Result<Vec<AttachmentRow>, StoreError> {
    Ok(attachments::table
        .filter(attachments::ticket_id.eq(ticket_id.to_string()))
        .order((attachments::created_at.asc(), attachments::id.asc()))
        .select(AttachmentRow::as_select())
        .load(conn)?)
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<Option<AttachmentRow>, StoreError> {
    Ok(attachments::table
        .find(id)
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// The stored bytes of an attachment.
pub async fn read(storage: &Storage, key: &str) -> Result<Bytes, IntakeError> {
    storage.get(key).await
}

/// An attachment as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: String,
    pub kind: Kind,
    pub content_type: String,
    pub byte_size: i64,
    /// SHA-256 of the stored bytes (after metadata removal), lower-case hex.
    pub sha256: String,
    /// Where the photo was taken, from its EXIF (WGS 84); absent when it carried no position.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub created_at: DateTime<Utc>,
    /// Where to fetch the bytes.
    pub url: String,
}

impl AttachmentView {
    pub fn of(row: &AttachmentRow) -> Self {
        Self {
            id: row.id.clone(),
            kind: row.kind.parse().unwrap_or(Kind::Photo),
            content_type: row.content_type.clone(),
            byte_size: row.byte_size,
            sha256: row.sha256.clone(),
            latitude: row.gps_latitude,
            longitude: row.gps_longitude,
            created_at: from_db(row.created_at),
            url: format!("/api/v1/attachments/{}", row.id),
        }
    }
}

/// The file extension for a stored content type (for the download's file name).
pub fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "audio/mpeg" => "mp3",
        "audio/wav" => "wav",
        "audio/ogg" => "ogg",
        "audio/amr" => "amr",
        "audio/mp4" => "m4a",
        "audio/aac" => "aac",
        "audio/flac" => "flac",
        _ => "bin",
    }
}

/// Every content type an attachment can have (for the API document).
pub const CONTENT_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/webp",
    "audio/mpeg",
    "audio/wav",
    "audio/ogg",
    "audio/amr",
    "audio/mp4",
    "audio/aac",
    "audio/flac",
];
