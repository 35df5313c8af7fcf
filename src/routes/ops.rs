//! Liveness, readiness, metrics and the OpenAPI document.

use actix_web::{HttpRequest, HttpResponse, web};
use hotline_core::auth::token::constant_time_eq;
use hotline_core::store::tickets;
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, ErrorCode};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::metrics::Metrics;

/// The bearer token `/metrics` asks for, when configured.
#[derive(Debug, Clone, Default)]
pub struct MetricsToken(pub Option<String>);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(web::get().to(healthz)))
        .service(web::resource("/readyz").route(web::get().to(readyz)))
        .service(web::resource("/metrics").route(web::get().to(metrics)))
        .service(web::resource("/api/openapi.json").route(web::get().to(openapi)));
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "ops", description = "The process is alive.",
    responses((status = 200, body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    pub database: &'static str,
    pub backend: String,
    /// The last event sequence number this node published.
    pub last_seq: i64,
}

#[utoipa::path(get, path = "/readyz", tag = "ops",
    description = "Ready when the database answers and every migration is applied; 503 otherwise.",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(hotline: web::Data<Hotline>) -> HttpResponse {
    let db = hotline.db.clone();
    let ready = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::task::spawn_blocking(move || db.is_ready()),
    )
    .await;
    let database = match ready {
        Ok(Ok(Ok(true))) => "ok",
        Ok(Ok(Ok(false))) => "migrations pending",
        _ => "unreachable",
    };
    let body = Readiness {
        status: if database == "ok" {
            "ready"
        } else {
            "not ready"
        },
        database,
        backend: hotline.db.backend().to_string(),
        last_seq: hotline.bus.last_seq(),
    };
    if database == "ok" {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

#[utoipa::path(get, path = "/metrics", tag = "ops",
    description = "Prometheus text format. When `metrics_token` is configured, send it as a bearer token.",
    responses((status = 200, content_type = "text/plain", body = String), (status = 401)))]
pub async fn metrics(
    req: HttpRequest,
    hotline: web::Data<Hotline>,
    metrics: web::Data<Metrics>,
    token: web::Data<MetricsToken>,
) -> Result<HttpResponse, ApiError> {
    if let Some(expected) = &token.0 {
        let sent = crate::bearer(&req).unwrap_or_default();
        if !constant_time_eq(&sent, expected) {
            return Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "metrics need the metrics token",
            ));
        }
    }
    let counts = hotline.db.run(tickets::count_by_status).await?;
    metrics.tickets.reset();
    for (status, n) in counts {
        metrics.tickets.with_label_values(&[&status]).set(n);
    }
    let (open, idle) = hotline.db.pool_state();
    metrics
        .pool
        .with_label_values(&["open"])
        .set(i64::from(open));
    metrics
        .pool
        .with_label_values(&["idle"])
        .set(i64::from(idle));
    metrics
        .pool
        .with_label_values(&["max"])
        .set(i64::from(hotline.db.max_size()));
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render()))
}

pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(crate::openapi::ApiDoc::openapi())
}
