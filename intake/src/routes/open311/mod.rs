//! `/open311/v2/…`: the GeoReport v2 doors. Public (no staff session): reading needs nothing,
//! filing a request needs an `api_key`. Every resource answers in the format its extension names
//! (`.xml` or `.json`), errors included, in the spec's `errors` shape with a matching status:
//! 404 for what does not exist, 403 for a missing or wrong api_key, 400 for any other refusal;
//! 413, 415, 429 and 5xx keep their HTTP meaning.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use hotline_core::ApiError;
use hotline_core::error::ErrorCode;
use hotline_core::workflow::Hotline;

use crate::error::IntakeError;
use crate::open311::catalogue::Catalogue;
use crate::open311::doc::{self, Format, Node};
use crate::open311::requests::{self, Query, number, w3c};

mod file;

pub const BASE: &str = "/open311/v2";
const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";

/// A resource that only answers GET (other methods: 405 in the spec's format).
fn get<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler))
        .default_service(web::to(not_allowed))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(BASE)
            .service(get("/discovery.{format}", discovery))
            .service(get("/services.{format}", services))
            .service(get("/services/{code}.{format}", definition))
            .service(get("/requests/{id}.{format}", one_request))
            .service(get("/tokens/{token}.{format}", token))
            .service(
                web::resource("/requests.{format}")
                    .route(web::get().to(list_requests))
                    .route(web::post().to(file::create))
                    .default_service(web::to(not_allowed)),
            )
            .default_service(web::to(unknown)),
    );
}

/// A refusal, said the GeoReport way.
#[derive(Debug)]
struct Failure {
    status: u16,
    description: String,
    retry_after: Option<u64>,
}

impl Failure {
    fn new(status: u16, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
            retry_after: None,
        }
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        let status = match e.code {
            ErrorCode::NotFound => 404,
            ErrorCode::Forbidden | ErrorCode::Unauthenticated | ErrorCode::CsrfRejected => 403,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
            _ => 400,
        };
        if let Some(cause) = &e.cause {
            tracing::error!(code = e.code.as_str(), cause = %cause, "open311 request failed");
        }
        let description = match &e.field {
            Some(f) if !e.message.starts_with(&format!("{f}:")) => format!("{f}: {}", e.message),
            _ => e.message.clone(),
        };
        let retry_after = e
            .details
            .as_ref()
            .and_then(|d| d.get("retry_after"))
            .and_then(serde_json::Value::as_u64);
        Self {
            status,
            description,
            retry_after,
        }
    }
}

impl From<IntakeError> for Failure {
    fn from(e: IntakeError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<hotline_core::StoreError> for Failure {
    fn from(e: hotline_core::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

fn answer(format: Format, status: StatusCode, root: &str, node: &Node) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(format.content_type())
        // Public read-only data: browser apps on other origins may read it.
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .body(doc::render(format, root, node))
}

fn ok(format: Format, root: &str, node: &Node) -> HttpResponse {
    answer(format, StatusCode::OK, root, node)
}

fn fail(format: Format, f: &Failure) -> HttpResponse {
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = answer(
        format,
        status,
        "errors",
        &doc::errors(f.status, &f.description),
    );
    if let Some(secs) = f.retry_after
        && let Ok(v) = actix_web::http::header::HeaderValue::from_str(&secs.to_string())
    {
        res.headers_mut()
            .insert(actix_web::http::header::RETRY_AFTER, v);
    }
    res
}

/// The format the path's extension names.
fn format_of(req: &HttpRequest) -> Option<Format> {
    Format::parse(req.match_info().get("format").unwrap_or_default())
}

/// Any other extension names a resource that does not exist.
fn no_such_format(req: &HttpRequest) -> HttpResponse {
    let ext = req.match_info().get("format").unwrap_or_default();
    fail(
        Format::Json,
        &Failure::new(404, format!("no format {ext:?}: use .xml or .json")),
    )
}

fn finish(format: Format, result: Result<HttpResponse, Failure>) -> HttpResponse {
    result.unwrap_or_else(|f| fail(format, &f))
}

async fn unknown(req: HttpRequest) -> HttpResponse {
    let format = if req.path().ends_with(".xml") {
        Format::Xml
    } else {
        Format::Json
    };
    fail(format, &Failure::new(404, "no such GeoReport v2 resource"))
}

async fn not_allowed(req: HttpRequest) -> HttpResponse {
    let format = format_of(&req).unwrap_or(Format::Json);
    fail(
        format,
        &Failure::new(405, format!("{} is not allowed here", req.method())),
    )
}

async fn catalogue(hotline: &Hotline) -> Result<Catalogue, Failure> {
    Ok(hotline.db.run(Catalogue::load).await?)
}

async fn discovery(req: HttpRequest, hotline: web::Data<Hotline>) -> HttpResponse {
    let Some(format) = format_of(&req) else {
        return no_such_format(&req);
    };
    finish(format, async {
        let changeset = catalogue(&hotline)
            .await?
            .changeset()
            .map_or_else(|| w3c(chrono::DateTime::UNIX_EPOCH), w3c);
        let info = req.connection_info();
        let url = format!("{}://{}{BASE}", info.scheme(), info.host());
        let node = Node::Map(vec![
            ("changeset", Node::text(&changeset)),
            (
                "contact",
                Node::text("12345政务服务便民热线：拨打 12345，或联系本热线中心的系统管理员。"),
            ),
            (
                "key_service",
                Node::text("api_key 由热线中心系统管理员发放（hotline admin open311-key create NAME）；查询无需 api_key。"),
            ),
            (
                "endpoints",
                Node::List(
                    "endpoint",
                    vec![Node::Map(vec![
                        ("specification", Node::text(SPECIFICATION)),
                        ("url", Node::Text(url)),
                        ("changeset", Node::Text(changeset)),
                        ("type", Node::text("production")),
                        (
                            "formats",
                            Node::List(
                                "format",
                                vec![Node::text("text/xml"), Node::text("application/json")],
                            ),
                        ),
                    ])],
                ),
            ),
        ]);
        Ok(ok(format, "discovery", &node))
    }
    .await)
}

async fn services(req: HttpRequest, hotline: web::Data<Hotline>) -> HttpResponse {
    let Some(format) = format_of(&req) else {
        return no_such_format(&req);
    };
    finish(
        format,
        async {
            let list = catalogue(&hotline).await?.services();
            let node = Node::List("service", list.iter().map(|s| s.node()).collect());
            Ok(ok(format, "services", &node))
        }
        .await,
    )
}

async fn definition(req: HttpRequest, hotline: web::Data<Hotline>) -> HttpResponse {
    let Some(format) = format_of(&req) else {
        return no_such_format(&req);
    };
    finish(
        format,
        async {
            let code = req.match_info().get("code").unwrap_or_default();
            let service = catalogue(&hotline)
                .await?
                .offered(code)
                .ok_or_else(|| Failure::new(404, format!("service_code: no service {code:?}")))?;
            Ok(ok(format, "service_definition", &service.definition()))
        }
        .await,
    )
}

async fn list_requests(req: HttpRequest, hotline: web::Data<Hotline>) -> HttpResponse {
    let Some(format) = format_of(&req) else {
        return no_such_format(&req);
    };
    finish(
        format,
        async {
            let pairs: Vec<(String, String)> =
                form_urlencoded::parse(req.query_string().as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
            let now = hotline.now.get();
            let query = Query::parse(&pairs, now)?;
            let node = hotline
                .db
                .run(move |c| {
                    let catalogue = Catalogue::load(c)?;
                    let found = requests::find(c, &catalogue, &query, now)?;
                    requests::nodes(c, &catalogue, &found)
                })
                .await?;
            Ok(ok(format, "service_requests", &node))
        }
        .await,
    )
}

async fn one_request(req: HttpRequest, hotline: web::Data<Hotline>) -> HttpResponse {
    let Some(format) = format_of(&req) else {
        return no_such_format(&req);
    };
    finish(
        format,
        async {
            let id = req.match_info().get("id").unwrap_or_default().to_owned();
            let query = Query::Ids(vec![id.clone()]);
            let now = hotline.now.get();
            let node = hotline
                .db
                .run(move |c| {
                    let catalogue = Catalogue::load(c)?;
                    let found = requests::find(c, &catalogue, &query, now)?;
                    if found.is_empty() {
                        return Ok(None);
                    }
                    requests::nodes(c, &catalogue, &found).map(Some)
                })
                .await?
                .ok_or_else(|| {
                    Failure::new(404, format!("service_request_id: no request {id:?}"))
                })?;
            Ok(ok(format, "service_requests", &node))
        }
        .await,
    )
}

async fn token(req: HttpRequest, hotline: web::Data<Hotline>) -> HttpResponse {
    let Some(format) = format_of(&req) else {
        return no_such_format(&req);
    };
    finish(
        format,
        async {
            let token = req.match_info().get("token").unwrap_or_default().to_owned();
            let t = token.clone();
            let ticket = hotline
                .db
                .run(move |c| crate::open311::tokens::ticket_of_token(c, &t))
                .await?
                .ok_or_else(|| Failure::new(404, "token: no such token"))?;
            let node = Node::List(
                "request",
                vec![Node::Map(vec![
                    ("service_request_id", number(ticket.number.as_str())),
                    ("token", Node::Text(token)),
                ])],
            );
            Ok(ok(format, "service_requests", &node))
        }
        .await,
    )
}
