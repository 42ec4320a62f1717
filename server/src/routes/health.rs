//! Liveness, readiness and metrics.

use actix_web::{HttpResponse, http::StatusCode, web};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::{error::ApiError, state::AppState};

/// Readiness of each dependency.
#[derive(Serialize, ToSchema)]
pub struct ReadyOut {
    /// `ready`.
    pub status: &'static str,
    /// Per dependency: `ok`, or `embedded` for the in-process queue.
    #[schema(value_type = Object)]
    pub checks: serde_json::Value,
}

/// Liveness: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is alive")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: the database answers, and Redis does when configured.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, body = ReadyOut),
    (status = 503, body = crate::error::ErrorBody, description = "A dependency is down")))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let database = match state.store.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => format!("failing: {e}"),
    };
    let queue = match &state.redis {
        Some(conn) => {
            let mut conn = conn.clone();
            match redis::cmd("PING").query_async::<String>(&mut conn).await {
                Ok(_) => "ok".to_owned(),
                Err(e) => format!("failing: {e}"),
            }
        }
        None => "embedded".to_owned(),
    };
    let checks = json!({ "database": database, "queue": queue });
    if database != "ok" || queue.starts_with("failing") {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "a dependency is not available",
        )
        .with_details(checks));
    }
    Ok(HttpResponse::Ok().json(ReadyOut {
        status: "ready",
        checks,
    }))
}

/// Prometheus metrics in text format.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
