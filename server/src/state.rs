//! What every request handler and worker shares.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use concord_storage::{Backend, Store};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::{
    auth::rate_limit::LoginLimiter, config::Settings, intake::IntakeQueue,
    intake_targets::IntakeTargets, live::LiveHub, metrics::Metrics, secret_box::SecretBox,
    sync::RateGate,
};

/// Shared application state, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Validated configuration.
    pub settings: Arc<Settings>,
    /// Sign-in rate limits.
    pub limiter: LoginLimiter,
    /// Redis, when configured (production); `None` in the embedded default.
    pub redis: Option<ConnectionManager>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Encrypts platform secrets at rest.
    pub secrets: SecretBox,
    /// Live updates to browsers.
    pub live: LiveHub,
    /// The HTTP client platforms are called with.
    pub http: reqwest::Client,
    /// Every connection's request budget, shared by everything that calls platforms.
    pub gate: RateGate,
    /// Webhook deliveries stored in group commits.
    pub intake: IntakeQueue,
    /// The connections deliveries name, kept in memory for a few seconds.
    pub intake_targets: IntakeTargets,
}

impl AppState {
    /// Connects to Redis if configured and assembles the state; the intake's writers start
    /// on the current runtime.
    pub async fn build(settings: Settings, store: Store) -> anyhow::Result<Self> {
        let window = Duration::from_secs(settings.login_window_secs);
        let (redis, live) = match &settings.redis_url {
            Some(url) => {
                let client = redis::Client::open(url.as_str())
                    .with_context(|| "redis_url is not a valid Redis URL".to_owned())?;
                // Fail fast when Redis is gone: nothing on the intake or ledger path waits
                // for it, and a live update or rate check should not hold a worker up.
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_millis(500)))
                    .set_response_timeout(Some(Duration::from_millis(500)))
                    .set_number_of_retries(1);
                let conn = ConnectionManager::new_with_config(client.clone(), config)
                    .await
                    .context("cannot reach Redis at redis_url; start it or unset REDIS_URL")?;
                let live = LiveHub::redis(client, conn.clone(), &settings.redis_prefix)
                    .await
                    .context("cannot subscribe to live updates on Redis")?;
                (Some(conn), live)
            }
            None => (None, LiveHub::local()),
        };
        let limiter = match &redis {
            Some(conn) => LoginLimiter::redis(
                conn.clone(),
                &settings.redis_prefix,
                settings.login_max_failures,
                window,
            ),
            None => LoginLimiter::in_memory(settings.login_max_failures, window),
        };
        let previous: Vec<&[u8]> = settings
            .previous_token_encryption_keys
            .iter()
            .map(|k| k.expose())
            .collect();
        let secrets = SecretBox::rotating(settings.token_encryption_key.expose(), &previous)?;
        let gate = match &redis {
            Some(conn) => RateGate::redis(conn.clone(), &settings.redis_prefix),
            None => RateGate::in_memory(),
        };
        let writers = match (settings.intake_writers, store.backend()) {
            (0, Backend::Sqlite) => 1,
            (0, Backend::Postgres) => 2,
            (n, _) => n,
        };
        Ok(Self {
            intake: IntakeQueue::start(store.clone(), writers),
            intake_targets: IntakeTargets::default(),
            live,
            secrets,
            store,
            settings: Arc::new(settings),
            limiter,
            redis,
            gate,
            metrics: Metrics::new()?,
            http: reqwest::Client::builder()
                .user_agent(concat!("Concord/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(10))
                .build()
                .context("cannot build the HTTP client")?,
        })
    }

    /// How many scheduled reconciles run at once: as configured, else 4 on PostgreSQL and
    /// 1 on SQLite (one writer).
    pub fn reconciles_at_once(&self) -> usize {
        match (self.settings.reconcile_concurrency, self.store.backend()) {
            (0, Backend::Sqlite) => 1,
            (0, Backend::Postgres) => 4,
            (n, _) => n,
        }
    }
}
