//! Assembles the actix-web application and runs the HTTP server.

use std::net::SocketAddr;

use actix_web::{
    App, Error, HttpServer,
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    http::StatusCode,
    middleware::{ErrorHandlers, from_fn},
    web,
};
use anyhow::Context;
use concord_storage::Store;
use tokio_util::sync::CancellationToken;
use tracing_actix_web::TracingLogger;

use crate::{
    config::{Mode, Settings},
    error::{self, ApiError},
    metrics, routes,
    state::AppState,
    telemetry::ConcordRootSpan,
    worker,
};

/// The application with every route and middleware; used by `serve` and by tests.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let limit = state.settings.api_body_limit;
    let webhook_limit = state.settings.webhook_body_limit;
    App::new()
        .app_data(web::Data::new(state))
        .app_data(error::json_config(limit))
        .app_data(web::PayloadConfig::new(limit))
        .configure(|cfg| routes::configure(cfg, webhook_limit))
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such route",
            ))
        }))
        .wrap(ErrorHandlers::new().default_handler(error::envelope_fallback))
        .wrap(from_fn(metrics::observe))
        .wrap(TracingLogger::<ConcordRootSpan>::new())
}

/// Opens the database named in `settings`. Pending migrations are applied in development
/// and refused in production, where `concord migrate` is a separate, deliberate step.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    if settings.is_embedded_database() {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("cannot create data_dir {}", settings.data_dir.display()))?;
    }
    let store = Store::connect(&settings.database_url, settings.db_max_connections)
        .await
        .context("cannot open the database at database_url")?;
    let pending = store.pending_migrations().await?;
    if pending > 0 {
        anyhow::ensure!(
            settings.mode == Mode::Development,
            "{pending} database migration(s) pending; run `concord migrate` first"
        );
        store.migrate().await?;
        tracing::info!(
            applied = pending,
            "applied pending migrations (development mode)"
        );
    }
    Ok(store)
}

/// Runs the HTTP server until SIGINT/SIGTERM, then drains in-flight requests.
/// With the embedded queue (no Redis) the housekeeping worker runs in this process too.
pub async fn serve(settings: Settings, bind: Option<SocketAddr>) -> anyhow::Result<()> {
    let addr = bind.unwrap_or(settings.bind);
    let store = open_store(&settings).await?;
    let state = AppState::build(settings, store).await?;
    let embedded = state.redis.is_none();
    let server_state = state.clone();
    let server = HttpServer::new(move || app(server_state.clone()))
        .bind(addr)
        .with_context(|| format!("cannot listen on {addr}"))?
        .shutdown_timeout(30)
        .run();
    tracing::info!(%addr, "serving the API at http://{addr}/api/v1 (docs at /api/docs/)");
    let stop = CancellationToken::new();
    let housekeeping = embedded.then(|| tokio::spawn(worker::run(state.clone(), stop.clone())));
    server.await.context("HTTP server failed")?;
    stop.cancel();
    if let Some(task) = housekeeping {
        task.await.context("housekeeping task panicked")??;
    }
    tracing::info!("stopped");
    Ok(())
}
