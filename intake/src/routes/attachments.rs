//! Staff read a ticket's attachments: the list, and each file's bytes. Both answer only for a
//! ticket in the caller's scope (404 outside it, as for the ticket itself).

use actix_web::{HttpResponse, web};
use hotline_core::ApiError;
use hotline_core::auth::Permission;
use hotline_core::error::ErrorBody;
use hotline_core::http::Caller;
use hotline_core::ids::TicketId;
use hotline_core::store::tickets;
use hotline_core::workflow::Hotline;

use crate::attachments::{self, AttachmentView, Storage};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/tickets/{id}/attachments").route(web::get().to(list)))
        .service(web::resource("/api/v1/attachments/{id}").route(web::get().to(download)));
}

#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/attachments", tag = "tickets",
    description = "The photos and audio files that came with the appeal, oldest first. A photo's position is the GPS position its EXIF carried (the EXIF itself is not kept).",
    params(("id" = String, Path, description = "Ticket id (UUID)")),
    responses((status = 200, body = [AttachmentView]), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    hotline: web::Data<Hotline>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ReadTickets)?;
    let id: TicketId = path.parse().map_err(|_| ApiError::not_found("ticket"))?;
    let scope = caller.scope.clone();
    let rows = hotline
        .db
        .run(move |c| {
            tickets::get_visible(c, id, &scope)?;
            attachments::for_ticket(c, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(AttachmentView::of).collect::<Vec<_>>()))
}

#[utoipa::path(
    get, path = "/api/v1/attachments/{id}", tag = "tickets",
    description = "An attachment's bytes, with its content type (shown inline, never sniffed). A photo's metadata was removed when it was stored.",
    params(("id" = String, Path, description = "Attachment id (UUID)")),
    responses(
        (status = 200, description = "The file", content(
            ("image/jpeg"), ("image/png"), ("image/webp"), ("audio/mpeg"), ("audio/wav"),
            ("audio/ogg"), ("audio/amr"), ("audio/mp4"), ("audio/aac"), ("audio/flac"),
        )),
        (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn download(
    hotline: web::Data<Hotline>,
    storage: web::Data<Storage>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::ReadTickets)?;
    let not_found = || ApiError::not_found("attachment");
    let id = uuid::Uuid::parse_str(&path)
        .map_err(|_| not_found())?
        .to_string();
    let scope = caller.scope.clone();
    let row = hotline
        .db
        .run(move |c| {
            let Some(row) = attachments::get(c, &id)? else {
                return Ok(None);
            };
            let Some(ticket) = row.ticket_id.as_deref().and_then(|t| t.parse().ok()) else {
                return Ok(None);
            };
            match tickets::get_visible(c, ticket, &scope) {
                Ok(_) => Ok(Some(row)),
                Err(hotline_core::StoreError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await?
        .ok_or_else(not_found)?;
    let bytes = attachments::read(&storage, &row.storage_key).await?;
    Ok(HttpResponse::Ok()
        .content_type(row.content_type.as_str())
        .insert_header((
            "Content-Disposition",
            format!(
                "inline; filename=\"{}.{}\"",
                row.id,
                attachments::extension(&row.content_type)
            ),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; img-src 'self'; media-src 'self'; sandbox",
        ))
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .insert_header(("ETag", format!("\"{}\"", row.sha256)))
        .body(bytes))
}
