//! `GET /ws`: the upgrade. Everything that can refuse is decided before the handshake, as plain
//! HTTP answers in the API's error format: 401 without a live session, 403 for a role that may
//! not read events or an Origin that is not this site (cross-site websocket hijacking).

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use hotline_core::ApiError;
use hotline_core::auth::Permission;
use hotline_core::http::Caller;
use hotline_core::http::caller::request_token;
use hotline_core::workflow::Hotline;

use crate::Console;
use crate::protocol::MAX_CLIENT_MESSAGE;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ws").route(web::get().to(upgrade)));
}

/// The `host[:port]` of an origin (`scheme://host[:port]`), lower case.
fn authority(origin: &str) -> Option<String> {
    let (_, rest) = origin.split_once("://")?;
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Browsers always send Origin on a websocket upgrade, and a page of another site cannot forge
/// it; so a request from this site's pages or a configured origin passes, and a request without
/// Origin passes only when it carries a bearer token (a non-browser client: a browser never adds
/// Authorization to a websocket upgrade, while it does send the cookie).
fn check_origin(req: &HttpRequest, console: &Console, bearer: bool) -> Result<(), ApiError> {
    let Some(origin) = req.headers().get(actix_web::http::header::ORIGIN) else {
        return if bearer {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "a websocket upgrade without Origin must authenticate with a bearer token",
            ))
        };
    };
    let origin = origin
        .to_str()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_ascii_lowercase();
    let own_host = req.connection_info().host().to_ascii_lowercase();
    let same_site = authority(&origin).is_some_and(|a| a == own_host);
    if same_site || console.origins.contains(&origin) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "the origin {origin} may not open this server's websocket"
        )))
    }
}

pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    hotline: web::Data<Hotline>,
    console: web::Data<Console>,
) -> Result<HttpResponse, ApiError> {
    let caller = Caller::extract(&req).await?;
    caller.require(Permission::ReadEvents)?;
    let bearer = request_token(&req).is_some_and(|(_, via_cookie)| !via_cookie);
    check_origin(&req, &console, bearer)?;
    let (response, session, stream) = actix_ws::handle(&req, body).map_err(|e| {
        ApiError::new(
            hotline_core::ErrorCode::MalformedBody,
            format!("not a websocket upgrade: {e}"),
        )
    })?;
    let stream = stream
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_CLIENT_MESSAGE);
    let console = console.into_inner();
    let hotline = hotline.get_ref().clone();
    actix_web::rt::spawn(crate::connection::run(
        console, hotline, caller, session, stream,
    ));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::authority;

    #[test]
    fn authority_of_an_origin() {
        assert_eq!(
            authority("http://127.0.0.1:8080"),
            Some("127.0.0.1:8080".into())
        );
        assert_eq!(
            authority("https://12345.Example.gov.cn"),
            Some("12345.example.gov.cn".into())
        );
        assert_eq!(authority("null"), None);
        assert_eq!(authority("https://"), None);
    }
}
