//! `POST /tickets/{id}/reveal/{field}`: shows one masked value of one ticket (the caller's phone
//! number or ID number) in full, on the ticket's page, to the staff who may see it: the centre and
//! the handling units, as through the API. Each reveal is a `personal_data_viewed` event in the
//! ticket's history; the page that shows the value is not cached.

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use hotline_core::ApiError;
use hotline_core::auth::Permission;
use hotline_core::http::{CsrfForm, PageError};
use hotline_core::ticket::personal::PersonalField;
use hotline_core::workflow::Hotline;

use super::detail::{self, Notice, Revealed};
use super::{OrPage, Pages};
use crate::routes::tickets::ticket_id;

pub async fn submit(
    hotline: web::Data<Hotline>,
    pages: web::Data<Pages>,
    dispatching: web::Data<crate::dispatching::Dispatching>,
    form: CsrfForm,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let caller = &form.caller;
    let id = ticket_id(&path.0).or_page(caller)?;
    let field: PersonalField = path
        .1
        .parse()
        .map_err(|_| ApiError::not_found("field"))
        .or_page(caller)?;
    caller.require(Permission::ActOnTickets).or_page(caller)?;
    let (_, value) = hotline
        .reveal(caller.actor(), caller.scope.clone(), id, field)
        .await
        .or_page(caller)?;
    let notice = Notice {
        revealed: Some(Revealed { field, value }),
        ..Notice::default()
    };
    let mut res = detail::render_part(
        &hotline,
        &pages,
        &dispatching,
        caller,
        id,
        notice,
        None,
        None,
    )
    .await?;
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
