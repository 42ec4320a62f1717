//! Starting and stopping a simulator, the state its handlers share, and the guard every
//! platform API call passes through: counting, injected latency and errors, rate-limit
//! storms, authentication and the platform's rate limit, in that order.
//!
//! Each simulator runs its HTTP server on its own thread (an actix system), independent of
//! the caller's runtime: starting one from a test, the demo or a benchmark is a plain call,
//! and dropping or stopping it shuts that thread down.

use std::{
    collections::{HashSet, VecDeque},
    io,
    net::TcpListener,
    sync::{Arc, Mutex, MutexGuard, RwLock, mpsc as std_mpsc},
    thread,
    time::Duration,
};

use actix_web::{
    App, HttpResponse, HttpServer,
    body::BoxBody,
    dev::{ServerHandle, ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::{Next, from_fn},
    web,
};
use chrono::Utc;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::{
    Platform,
    config::{SIMULATED, SimConfig},
    control,
    core::{Change, Core, CoreError, Time},
    delivery::{self, DeliveryRecord, Queued},
    faults::{Counters, Faults, Stats},
    lightspeed_r::LightspeedR,
    oauth::OAuth,
    platform::{Failure, Outgoing, PlatformApi, Target},
    shopify::Shopify,
    square::Square,
    stripe::Stripe,
    woocommerce::WooCommerce,
};

/// Locks `mutex`, carrying on with the data if a panicking thread poisoned it (the state
/// is plain data; a half-finished update is better than a dead simulator).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A request as seen by the guard, for `GET /_sim/requests`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RequestRecord {
    pub at: Time,
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// A webhook subscription registered through a platform API (Shopify's
/// `webhookSubscriptionCreate`, Square's Webhook Subscriptions API, Stripe's webhook
/// endpoints): the topics it
/// receives, where they go and the key they are signed with.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    /// The platform's id of the subscription.
    pub id: String,
    /// The topics (event types) delivered, as the simulator names them in
    /// [`Outgoing::topic`]; `*` stands for every topic.
    pub topics: Vec<String>,
    pub url: String,
    /// `None`: the simulator's `webhook_secret`.
    pub secret: Option<String>,
}

/// How many requests and deliveries the logs keep.
const RECENT: usize = 1000;

/// The state every handler of one simulator shares.
pub(crate) struct Inner {
    pub platform: Arc<dyn PlatformApi>,
    pub core: Mutex<Core>,
    pub oauth: Mutex<OAuth>,
    pub stats: Counters,
    pub config: SimConfig,
    pub base_url: String,
    faults: Mutex<Faults>,
    webhook_url: RwLock<Option<String>>,
    subscriptions: RwLock<Vec<Subscription>>,
    outbox: mpsc::UnboundedSender<Queued>,
    pending_keys: Mutex<HashSet<String>>,
    deliveries: Mutex<VecDeque<DeliveryRecord>>,
    requests: Mutex<VecDeque<RequestRecord>>,
}

impl Inner {
    /// The shop, locked.
    pub fn core(&self) -> MutexGuard<'_, Core> {
        lock(&self.core)
    }

    /// The OAuth store, locked.
    pub fn oauth(&self) -> MutexGuard<'_, OAuth> {
        lock(&self.oauth)
    }

    /// Current faults.
    pub fn faults(&self) -> Faults {
        *lock(&self.faults)
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    /// Where webhooks go now.
    pub fn webhook_url(&self) -> Option<String> {
        self.webhook_url
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Points webhooks somewhere else (or nowhere).
    pub fn set_webhook_url(&self, url: Option<String>) {
        *self
            .webhook_url
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = url;
        self.platform.webhook_url_changed();
    }

    /// Runs `f` on the shop; the changes it reports are logged and turned into the
    /// platform's webhooks, rendered while the shop is still locked so they show exactly
    /// the state the change produced.
    pub fn mutate<T, E>(
        &self,
        f: impl FnOnce(&mut Core) -> Result<(T, Vec<Change>), E>,
    ) -> Result<T, E> {
        let mut outgoing = Vec::new();
        let value = {
            let mut core = self.core();
            let (value, changes) = f(&mut core)?;
            let now = Utc::now();
            for change in changes {
                outgoing.extend(self.platform.on_change(&core, &change));
                core.record(change, now);
            }
            value
        };
        for out in outgoing {
            self.enqueue(out);
        }
        Ok(value)
    }

    /// Adds a subscription registered through the platform API.
    pub fn add_subscription(&self, subscription: Subscription) {
        self.subscriptions
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(subscription);
    }

    /// Removes the subscription with this id; whether there was one.
    pub fn remove_subscription(&self, id: &str) -> bool {
        let mut subscriptions = self
            .subscriptions
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let before = subscriptions.len();
        subscriptions.retain(|s| s.id != id);
        subscriptions.len() != before
    }

    /// The subscriptions registered through the platform API.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.subscriptions
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Where `out` goes: its own target if the platform routed it, otherwise the
    /// catch-all URL (every topic) and every subscription to its topic.
    fn destinations(&self, out: &Outgoing) -> Vec<Target> {
        if let Some(target) = &out.target {
            return vec![target.clone()];
        }
        let mut targets: Vec<Target> = self
            .webhook_url()
            .map(|url| Target { url, secret: None })
            .into_iter()
            .collect();
        for subscription in self.subscriptions() {
            // `*` subscribes to every topic (Stripe's `enabled_events: ["*"]`).
            if subscription
                .topics
                .iter()
                .any(|t| t == "*" || *t == out.topic)
            {
                let target = Target {
                    url: subscription.url,
                    secret: subscription.secret,
                };
                if !targets.contains(&target) {
                    targets.push(target);
                }
            }
        }
        targets
    }

    /// Queues a webhook for each of its destinations, unless there is nowhere to send
    /// it, webhooks are being dropped, the subscription is disabled, or the same delivery
    /// already waits.
    pub fn enqueue(&self, out: Outgoing) {
        let targets = self.destinations(&out);
        if targets.is_empty() {
            return;
        }
        if self.faults().drop_webhooks || !self.platform.accepts(&out) {
            Counters::bump(&self.stats.webhooks_dropped);
            self.record_delivery(DeliveryRecord::dropped(&out));
            return;
        }
        let several = targets.len() > 1;
        for target in targets {
            let mut out = out.clone();
            if several {
                out.dedup_key = out.dedup_key.map(|key| format!("{key}@{}", target.url));
            }
            if let Some(key) = &out.dedup_key
                && !lock(&self.pending_keys).insert(key.clone())
            {
                continue;
            }
            Counters::bump(&self.stats.webhooks_pending);
            let queued = Queued {
                out,
                url: target.url,
                secret: target.secret,
            };
            if self.outbox.send(queued).is_err() {
                self.stats
                    .webhooks_pending
                    .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    /// Frees a dedup key once its delivery starts.
    pub fn release_key(&self, key: &str) {
        lock(&self.pending_keys).remove(key);
    }

    /// Appends to the delivery log.
    pub fn record_delivery(&self, record: DeliveryRecord) {
        let mut log = lock(&self.deliveries);
        if log.len() >= RECENT {
            log.pop_front();
        }
        log.push_back(record);
    }

    /// The delivery log.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        lock(&self.deliveries).iter().cloned().collect()
    }

    fn record_request(&self, record: RequestRecord) {
        let mut log = lock(&self.requests);
        if log.len() >= RECENT {
            log.pop_front();
        }
        log.push_back(record);
    }

    /// The request log.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.requests).iter().cloned().collect()
    }

    /// Counts a write that touched `items` items.
    pub fn count_write(&self, items: usize) {
        self.stats.write(items);
    }

    /// A platform delay scaled to this simulator's clock.
    pub fn scaled(&self, platform_time: Duration) -> Duration {
        let factor = self.config.time_scale;
        if !factor.is_finite() || factor <= 0.0 {
            return Duration::ZERO;
        }
        Duration::try_from_secs_f64(platform_time.as_secs_f64() * factor)
            .unwrap_or(Duration::from_secs(86_400))
    }

    /// The URL a connector uses as API base.
    pub fn api_base(&self) -> String {
        self.platform.api_base(&self.base_url)
    }
}

/// Starts simulators.
#[derive(Debug, Clone, Copy)]
pub struct Simulator;

impl Simulator {
    /// Starts a simulator on `127.0.0.1` (port `config.port`, 0 for any) in its own thread
    /// and returns once it accepts connections.
    pub fn start(config: SimConfig) -> io::Result<RunningSim> {
        if !SIMULATED.contains(&config.platform) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "no simulator for {}; simulated: {}",
                    config.platform,
                    SIMULATED.map(Platform::slug).join(", ")
                ),
            ));
        }
        let listener = TcpListener::bind(("127.0.0.1", config.port))?;
        let address = listener.local_addr()?;
        let base_url = format!("http://{address}");
        let platform: Arc<dyn PlatformApi> = match config.platform {
            Platform::Shopify => Arc::new(Shopify::new(&config)),
            Platform::Square => Arc::new(Square::new(&config)),
            Platform::WooCommerce => Arc::new(WooCommerce::new(&config, &base_url)),
            Platform::LightspeedR => Arc::new(LightspeedR::new(&config, &base_url)),
            _ => Arc::new(Stripe::new(&config)),
        };
        let now = Utc::now();
        let mut locations = config.locations.clone();
        if config.platform == Platform::WooCommerce {
            // WooCommerce core keeps one stock figure per product.
            locations.truncate(1);
        }
        let mut core = Core::new(
            &locations,
            config.allow_negative_stock,
            config.platform != Platform::Stripe,
            now,
        );
        core.start_ids_at(config.first_id);
        for seed in &config.seed {
            core.add_product(seed, now)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("seed: {e}")))?;
        }
        let oauth = OAuth::new(
            oauth_policy(config.platform),
            &config.client_id,
            &config.client_secret,
            &config.access_token,
        );
        let (outbox, queue) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            platform: platform.clone(),
            core: Mutex::new(core),
            oauth: Mutex::new(oauth),
            stats: Counters::default(),
            base_url: base_url.clone(),
            faults: Mutex::new(Faults::default()),
            webhook_url: RwLock::new(config.webhook_url.clone()),
            subscriptions: RwLock::new(Vec::new()),
            outbox,
            pending_keys: Mutex::new(HashSet::new()),
            deliveries: Mutex::new(VecDeque::new()),
            requests: Mutex::new(VecDeque::new()),
            config,
        });
        let workers = inner.config.workers.max(1);
        let app_inner = inner.clone();
        let delivery_inner = inner.clone();
        let (handle, thread) = run_on_thread(
            format!("sim-{}", inner.config.platform),
            move || {
                let data = web::Data::from(app_inner.clone());
                let platform = app_inner.platform.clone();
                Ok(HttpServer::new(move || {
                    let platform_for_api = platform.clone();
                    App::new()
                        .app_data(data.clone())
                        .app_data(web::PayloadConfig::new(4 * 1024 * 1024))
                        .configure(control::routes)
                        .configure(|cfg| platform.clone().register(cfg))
                        .service(
                            web::scope(platform.api_prefix())
                                .wrap(from_fn(api_guard))
                                .configure(move |cfg| platform_for_api.api_routes(cfg))
                                .default_service(web::to(api_not_found)),
                        )
                })
                .workers(workers)
                .disable_signals()
                .shutdown_timeout(2)
                .listen(listener)?
                .run())
            },
            move || {
                actix_web::rt::spawn(delivery::run(delivery_inner, queue));
            },
        )?;
        tracing::info!(platform = %inner.config.platform, base_url = %base_url, "simulator started");
        Ok(RunningSim {
            inner,
            handle,
            base_url,
            thread: Some(thread),
            stopped: false,
        })
    }
}

/// Runs the server `build` makes on a thread of its own (an actix system), calls
/// `after_start` inside that system once it listens, and returns its handle.
pub(crate) fn run_on_thread(
    name: String,
    build: impl FnOnce() -> io::Result<actix_web::dev::Server> + Send + 'static,
    after_start: impl FnOnce() + Send + 'static,
) -> io::Result<(ServerHandle, thread::JoinHandle<()>)> {
    let (ready_tx, ready_rx) = std_mpsc::channel::<io::Result<ServerHandle>>();
    let thread = thread::Builder::new().name(name).spawn(move || {
        let system = actix_web::rt::System::new();
        system.block_on(async move {
            let server = match build() {
                Ok(server) => server,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(server.handle()));
            after_start();
            if let Err(e) = server.await {
                tracing::error!(error = %e, "simulator server stopped with an error");
            }
        });
    })?;
    let handle = ready_rx
        .recv()
        .map_err(|_| io::Error::other("the server thread ended before it started"))??;
    Ok((handle, thread))
}

/// Each platform's token habits.
fn oauth_policy(platform: Platform) -> crate::oauth::Policy {
    use crate::oauth::{Policy, Rotation};
    const HOUR: Duration = Duration::from_secs(3600);
    const DAY: Duration = Duration::from_secs(86_400);
    match platform {
        // Expiring offline tokens: 1 h access, rotating refresh valid until its successor is
        // used (shopify.dev changelog, 2025-12 and 2026-08).
        Platform::Shopify => Policy {
            code_ttl: Duration::from_secs(600),
            access_ttl: HOUR,
            refresh_ttl: Some(90 * DAY),
            rotation: Rotation::RotateKeepUntilNextUsed,
            pkce_single_use: false,
            token_len: 32,
            access_prefix: "shpat_",
        },
        // Code flow: 30-day access, the same non-expiring refresh token returned; PKCE
        // refresh tokens are single use.
        Platform::Square => Policy {
            code_ttl: Duration::from_secs(300),
            access_ttl: 30 * DAY,
            refresh_ttl: None,
            rotation: Rotation::Reuse,
            pkce_single_use: true,
            token_len: 48,
            access_prefix: "EAAA",
        },
        // Access and refresh tokens both rotate on every refresh.
        Platform::LightspeedR => Policy {
            code_ttl: Duration::from_secs(600),
            access_ttl: HOUR,
            refresh_ttl: None,
            rotation: Rotation::RotateSingleUse,
            pkce_single_use: true,
            token_len: 40,
            access_prefix: "",
        },
        _ => Policy {
            code_ttl: Duration::from_secs(600),
            access_ttl: HOUR,
            refresh_ttl: None,
            rotation: Rotation::RotateSingleUse,
            pkce_single_use: true,
            token_len: 32,
            access_prefix: "",
        },
    }
}

/// The guard around every platform API route.
async fn api_guard(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(inner) = req.app_data::<web::Data<Inner>>().cloned() else {
        return Ok(req.into_response(HttpResponse::InternalServerError().finish()));
    };
    Counters::bump(&inner.stats.api_calls);
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned());
    let faults = inner.faults();
    if faults.latency_ms > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let platform = inner.platform.clone();
    let mut extra_headers = Vec::new();
    let early = if faults.storm_429 {
        Counters::bump(&inner.stats.throttled);
        Some(platform.failure(Failure::Storm { retry_after: 1 }, req.request()))
    } else if faults.error_rate > 0.0 && rand::random::<f64>() < faults.error_rate {
        Counters::bump(&inner.stats.errors_injected);
        let status = [500, 502, 503][rand::random_range(0..3)];
        Some(platform.failure(Failure::Injected(status), req.request()))
    } else if let Err(refusal) = platform.authenticate(&inner, req.request()) {
        Some(*refusal)
    } else {
        match platform.admit(req.request()) {
            Ok(headers) => {
                extra_headers = headers;
                None
            }
            Err(refusal) => {
                Counters::bump(&inner.stats.throttled);
                Some(*refusal)
            }
        }
    };
    let mut response = match early {
        Some(refusal) => req.into_response(refusal),
        None => next.call(req).await?,
    };
    for (name, value) in extra_headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    inner.record_request(RequestRecord {
        at: Utc::now(),
        method,
        path,
        status: response.status().as_u16(),
    });
    Ok(response)
}

/// Unknown API routes, in the platform's shape.
async fn api_not_found(inner: web::Data<Inner>, req: actix_web::HttpRequest) -> HttpResponse {
    inner.platform.failure(Failure::NotFound, &req)
}

/// A running simulator. Dropping it stops the server (without waiting); prefer
/// [`RunningSim::stop`] for a graceful stop.
pub struct RunningSim {
    inner: Arc<Inner>,
    handle: ServerHandle,
    base_url: String,
    thread: Option<thread::JoinHandle<()>>,
    stopped: bool,
}

impl std::fmt::Debug for RunningSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSim")
            .field("platform", &self.inner.config.platform)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl RunningSim {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The URL a connector uses as its API base (Shopify: `…/admin/api/2025-01`, Square:
    /// `…/v2`, WooCommerce: `…/wp-json/wc/v3`, Lightspeed: `…/API/V3/Account/{id}`,
    /// Stripe: `…/v1`).
    pub fn api_base(&self) -> String {
        self.inner.api_base()
    }

    /// The platform simulated.
    pub fn platform(&self) -> Platform {
        self.inner.config.platform
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    /// The pre-installed credential (see [`SimConfig::access_token`]).
    pub fn access_token(&self) -> &str {
        &self.inner.config.access_token
    }

    /// What `GET /_sim/info` answers: base URLs, credentials and platform account facts.
    pub fn info(&self) -> serde_json::Value {
        control::info(&self.inner)
    }

    /// Points webhooks at `url` (or nowhere): a catch-all subscription to every topic,
    /// beside the subscriptions a connector registers through the platform's API.
    /// Deliveries already queued keep their address, as Shopify's do.
    pub fn set_webhook_url(&self, url: Option<String>) {
        self.inner.set_webhook_url(url);
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: Faults) {
        self.inner.set_faults(faults);
    }

    /// Counters since start.
    pub fn stats(&self) -> Stats {
        self.inner.stats.snapshot()
    }

    /// A customer buys (see `POST /_sim/sale`).
    pub fn sale(
        &self,
        request: &control::SaleRequest,
    ) -> Result<control::SaleOutcome, control::ControlError> {
        control::sale(&self.inner, request)
    }

    /// A refund (see `POST /_sim/refund`).
    pub fn refund(
        &self,
        request: &control::RefundRequest,
    ) -> Result<control::RefundOutcome, control::ControlError> {
        control::refund(&self.inner, request)
    }

    /// A merchant's stock edit (see `POST /_sim/adjust`).
    pub fn adjust(
        &self,
        request: &control::AdjustRequest,
    ) -> Result<control::StockReport, control::ControlError> {
        control::adjust(&self.inner, request)
    }

    /// Stock as the platform shows it (see `GET /_sim/stock`).
    pub fn stock(
        &self,
        sku: &str,
        location: Option<&str>,
    ) -> Result<control::StockReport, control::ControlError> {
        control::stock(&self.inner, sku, location)
    }

    /// Adds products at run time.
    pub fn add_products(
        &self,
        products: &[crate::SeedProduct],
    ) -> Result<usize, control::ControlError> {
        control::add_products(&self.inner, products)
    }

    /// Stops accepting connections, finishes the requests in flight (up to 2 s) and ends
    /// the simulator's thread; queued webhook retries are abandoned.
    pub async fn stop(mut self) {
        self.stopped = true;
        self.handle.stop(true).await;
        if let (Some(thread), Ok(runtime)) =
            (self.thread.take(), tokio::runtime::Handle::try_current())
        {
            // The server has stopped; the thread only unwinds its runtime now.
            let _ = runtime.spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if !self.stopped {
            // The command is sent at once; the returned future only waits for completion.
            drop(self.handle.stop(false));
        }
    }
}

/// An error from the shop as an HTTP status and message.
pub(crate) fn core_status(error: &CoreError) -> u16 {
    match error {
        CoreError::NotFound(_) => 404,
        CoreError::Conflict(_) => 409,
        CoreError::Invalid(_) => 400,
    }
}
