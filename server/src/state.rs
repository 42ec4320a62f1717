//! What every request handler and worker shares.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use concord_storage::Store;
use redis::aio::ConnectionManager;

use crate::{
    auth::rate_limit::LoginLimiter, config::Settings, live::LiveHub, metrics::Metrics,
    secret_box::SecretBox,
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
}

impl AppState {
    /// Connects to Redis if configured and assembles the state.
    pub async fn build(settings: Settings, store: Store) -> anyhow::Result<Self> {
        let window = Duration::from_secs(settings.login_window_secs);
        let (redis, live) = match &settings.redis_url {
            Some(url) => {
                let client = redis::Client::open(url.as_str())
                    .with_context(|| "redis_url is not a valid Redis URL".to_owned())?;
                let conn = ConnectionManager::new(client.clone())
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
        let secrets = SecretBox::new(settings.token_encryption_key.expose())?;
        Ok(Self {
            live,
            secrets,
            store,
            settings: Arc::new(settings),
            limiter,
            redis,
            metrics: Metrics::new()?,
            http: reqwest::Client::builder()
                .user_agent(concat!("Concord/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(10))
                .build()
                .context("cannot build the HTTP client")?,
        })
    }
}
