//! The `propagation` and `efficiency` scenarios, and the [`Rig`] the `reconcile` one shares:
//! the real server and worker on loopback with simulators of Shopify, Square and
//! WooCommerce connected as channels. Propagation times a sale on one simulator until every
//! other shows the new figure; efficiency counts the platform writes a burst of sales costs
//! against the fewest that could carry it.

use std::{
    net::TcpListener,
    time::{Duration, Instant},
};

use actix_web::HttpServer;
use concord_connectors::{
    Platform,
    api::{self, Session},
};
use concord_domain::{ConnectionId, availability::ChannelRules};
use concord_server::{app::app, state::AppState, worker};
use concord_simulators::SaleRequest;
use concord_storage::{
    PushOutcome, RemoteListing, Scoped, TenantScope, test_support::TestDatabase,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::{
    scenarios::{START_STOCK, percentile_ms, round, settings, shop, sku_code},
    sims::{Sim, SimHost, SimSpec},
};

/// Units each simulator starts with per SKU (Concord's figure is written over it).
const SEEDED: i64 = 500;
/// How long a sale may take to show everywhere before it counts as lost.
const PROPAGATION_LIMIT: Duration = Duration::from_secs(10);

/// How a [`Rig`]'s channels start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// Simulators seeded with another figure, webhooks pointed at the server and the worker
    /// running: ready once the worker's first pushes show everywhere.
    Live,
    /// Simulators seeded with Concord's figures, recorded as written (as after the first
    /// sync), and their own rate limits lifted (Concord's request budget still paces its
    /// calls); no webhooks and no worker, so nothing changes but what the scenario does.
    /// They run in a process of their own, so this one's memory is Concord's.
    Quiet,
}

/// Concord (the server, and the worker when [`Start::Live`]) and `channels` simulated
/// channels selling `skus` SKUs.
pub(crate) struct Rig {
    pub(crate) db: TestDatabase,
    pub(crate) state: AppState,
    /// The tenant.
    pub(crate) scope: TenantScope,
    stop: CancellationToken,
    /// Each simulator and the connection it is.
    pub(crate) sims: Vec<(Sim, ConnectionId)>,
    server: actix_web::dev::ServerHandle,
    _host: Option<SimHost>,
}

impl Rig {
    pub(crate) async fn start(
        database_url: Option<String>,
        redis_url: Option<String>,
        channels: usize,
        skus: usize,
        start: Start,
        extra_settings: &str,
    ) -> anyhow::Result<Self> {
        let db = TestDatabase::create_on(database_url.as_deref(), 16).await?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let settings = settings(
            redis_url,
            &format!(
                "redis_prefix = \"concord-bench-{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n\
                 poll_interval_secs = 3600\n{extra_settings}"
            ),
        )?;
        let state = AppState::build(settings, db.store.clone()).await?;
        let server = serve(state.clone(), listener)?;
        let stop = CancellationToken::new();
        if start == Start::Live {
            tokio::spawn(worker::run(state.clone(), stop.clone()));
        }
        let bench = shop(&state.store, skus, 1, "standard-webhooks").await?;
        let repos = state.store.scoped(&bench.scope);
        let warehouse = repos.locations().await?.remove(0).id;
        let platforms = [Platform::Shopify, Platform::Square, Platform::WooCommerce];
        let specs: Vec<SimSpec> = (0..channels)
            .map(|n| SimSpec {
                platform: platforms[n % platforms.len()].slug().to_owned(),
                skus,
                stock: match start {
                    Start::Live => SEEDED,
                    Start::Quiet => START_STOCK,
                },
                unlimited: start == Start::Quiet,
            })
            .collect();
        let (host, started) = match start {
            Start::Live => (
                None,
                specs
                    .iter()
                    .map(|spec| spec.start().map(Sim::Local))
                    .collect::<anyhow::Result<Vec<_>>>()?,
            ),
            Start::Quiet => {
                let (host, sims) = SimHost::spawn(&specs).await?;
                (Some(host), sims)
            }
        };
        let mut sims = Vec::with_capacity(channels);
        for (n, sim) in started.into_iter().enumerate() {
            let platform = sim.platform();
            let connection = repos
                .create_connection(platform.slug().into(), format!("{platform} {n}"), "bench")
                .await?;
            repos
                .configure_connection(
                    &connection.id,
                    ChannelRules::default(),
                    std::slice::from_ref(&warehouse),
                )
                .await?;
            connect(&state, &repos, &sim, &connection.id).await?;
            match start {
                Start::Live => {
                    sim.set_webhook_url(format!(
                        "http://127.0.0.1:{port}/webhooks/{}/{}",
                        platform.slug(),
                        connection.id
                    ))
                    .await?
                }
                Start::Quiet => record_written(&repos, &connection.id).await?,
            }
            sims.push((sim, connection.id));
        }
        let rig = Self {
            db,
            state,
            scope: bench.scope,
            stop,
            sims,
            server,
            _host: host,
        };
        // Every live channel first shows Concord's figure (quiet ones were seeded with it).
        if start == Start::Live {
            for i in 0..skus {
                rig.wait_until(&sku_code(i), START_STOCK, None, Duration::from_secs(120))
                    .await
                    .ok_or_else(|| anyhow::anyhow!("the first pushes did not land"))?;
            }
        }
        Ok(rig)
    }

    /// Waits until every simulator but `except` shows `expected` for `sku`; returns when.
    pub(crate) async fn wait_until(
        &self,
        sku: &str,
        expected: i64,
        except: Option<usize>,
        limit: Duration,
    ) -> Option<Instant> {
        let deadline = Instant::now() + limit;
        loop {
            let mut all = true;
            for (n, (sim, _)) in self.sims.iter().enumerate() {
                if Some(n) != except && sim.stock(sku).await != Some(expected) {
                    all = false;
                    break;
                }
            }
            if all {
                return Some(Instant::now());
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Stops everything and drops the database.
    pub(crate) async fn finish(self) -> anyhow::Result<()> {
        self.stop.cancel();
        for (sim, _) in self.sims {
            sim.stop().await;
        }
        self.db.cleanup().await?;
        self.server.stop(true).await;
        Ok(())
    }
}

/// Records every due offer of `connection` as written: its simulator was seeded with them.
async fn record_written(repos: &Scoped<'_>, connection: &ConnectionId) -> anyhow::Result<()> {
    loop {
        let due = repos.due_pushes(connection, 5_000).await?;
        if due.is_empty() {
            return Ok(());
        }
        let written = due
            .into_iter()
            .map(|d| (d.sku_id, PushOutcome::Written(d.available)))
            .collect();
        repos.settle_pushes(connection, written).await?;
    }
}

/// Connects a simulator as the API does: access, listings, match.
async fn connect(
    state: &AppState,
    repos: &Scoped<'_>,
    sim: &Sim,
    connection: &ConnectionId,
) -> anyhow::Result<()> {
    let platform = sim.platform();
    let credentials = sim.credentials();
    let connector = api::connector(platform).ok_or_else(|| anyhow::anyhow!("no connector"))?;
    let session = Session {
        base_url: sim.base_url(),
        credentials: &credentials,
        http: &state.http,
    };
    let mut cursor = None;
    loop {
        let page = connector.items(session, cursor).await?;
        repos
            .record_listings(
                connection,
                page.items
                    .into_iter()
                    .map(|i| RemoteListing {
                        external_item_id: i.external_item_id,
                        external_parent_id: i.external_parent_id,
                        sku_code: i.sku,
                        barcode: i.barcode,
                        title: i.title,
                    })
                    .collect(),
            )
            .await?;
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    repos
        .set_connection_access(
            connection,
            sim.base_url().to_owned(),
            state.secrets.seal(&serde_json::to_string(&credentials)?)?,
            Some(state.secrets.seal(&sim.webhook_secret())?),
            "bench",
        )
        .await?;
    if let Some(first) = connector.locations(session).await?.first() {
        repos.map_platform_location(connection, &first.id).await?;
    }
    repos.match_listings(connection).await?;
    Ok(())
}

fn serve(state: AppState, listener: TcpListener) -> anyhow::Result<actix_web::dev::ServerHandle> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match HttpServer::new(move || app(state.clone()))
                .workers(2)
                .listen(listener)
            {
                Ok(server) => {
                    let running = server.run();
                    let _ = tx.send(Ok(running.handle()));
                    let _ = running.await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
    });
    Ok(rx.recv()??)
}

/// Sales one at a time on rotating channels; each is timed until every other channel shows
/// the new figure.
pub async fn propagation(
    database_url: Option<String>,
    redis_url: Option<String>,
    channels: usize,
    sales: usize,
) -> anyhow::Result<String> {
    let skus = 10;
    let rig = Rig::start(database_url, redis_url, channels, skus, Start::Live, "").await?;
    let mut figures = vec![START_STOCK; skus];
    let mut latencies = Vec::with_capacity(sales);
    let mut by_source: std::collections::BTreeMap<&str, Vec<Duration>> = Default::default();
    let mut lost = 0;
    for n in 0..sales {
        let (channel, sku) = (n % rig.sims.len(), (n * 7) % skus);
        let code = sku_code(sku);
        let started = Instant::now();
        rig.sims[channel]
            .0
            .sale(&SaleRequest {
                sku: Some(code.clone()),
                quantity: Some(1),
                ..SaleRequest::default()
            })
            .await?;
        figures[sku] -= 1;
        match rig
            .wait_until(&code, figures[sku], Some(channel), PROPAGATION_LIMIT)
            .await
        {
            Some(at) => {
                latencies.push(at - started);
                by_source
                    .entry(rig.sims[channel].0.platform().slug())
                    .or_default()
                    .push(at - started);
            }
            None => lost += 1,
        }
    }
    latencies.sort();
    let by_source: serde_json::Map<String, serde_json::Value> = by_source
        .into_iter()
        .map(|(platform, mut times)| {
            times.sort();
            let figures = json!({ "p50_ms": percentile_ms(&times, 0.50), "p99_ms": percentile_ms(&times, 0.99) });
            (platform.to_owned(), figures)
        })
        .collect();
    let line = json!({
        "scenario": "propagation",
        "backend": if rig.db.schema().is_some() { "postgres" } else { "sqlite" },
        "redis": rig.state.redis.is_some(),
        "channels": channels,
        "sales": sales,
        "p50_ms": percentile_ms(&latencies, 0.50),
        "p99_ms": percentile_ms(&latencies, 0.99),
        "max_ms": latencies.last().map_or(0.0, |d| round(d.as_secs_f64() * 1000.0)),
        "by_source": by_source,
        "lost": lost,
    });
    rig.finish().await?;
    Ok(line.to_string())
}

/// A burst of `sales` sales over `skus` SKUs on one channel: the item writes the other
/// channels received per SKU change (each sale changes one SKU), against the fewest that
/// carry the final figures, the write calls against the fewest batches, and rate-limit
/// refusals.
pub async fn efficiency(
    database_url: Option<String>,
    redis_url: Option<String>,
    channels: usize,
    sales: usize,
    skus: usize,
) -> anyhow::Result<String> {
    let rig = Rig::start(database_url, redis_url, channels, skus, Start::Live, "").await?;
    let mut before = Vec::with_capacity(rig.sims.len());
    for (sim, _) in &rig.sims {
        before.push(sim.stats().await?);
    }
    let mut figures = vec![START_STOCK; skus];
    let started = Instant::now();
    for n in 0..sales {
        let sku = n % skus;
        rig.sims[0]
            .0
            .sale(&SaleRequest {
                sku: Some(sku_code(sku)),
                quantity: Some(1),
                ..SaleRequest::default()
            })
            .await?;
        figures[sku] -= 1;
    }
    let mut settled = true;
    for (sku, figure) in figures.iter().enumerate() {
        settled &= rig
            .wait_until(&sku_code(sku), *figure, Some(0), Duration::from_secs(120))
            .await
            .is_some();
    }
    let seconds = started.elapsed().as_secs_f64();
    let changed = figures.iter().filter(|f| **f != START_STOCK).count() as u64;
    let (mut calls, mut items, mut throttled, mut minimum_calls) = (0, 0, 0, 0);
    for ((sim, _), was) in rig.sims.iter().zip(&before).skip(1) {
        let now = sim.stats().await?;
        calls += now.writes - was.writes;
        items += now.items_written - was.items_written;
        throttled += now.throttled - was.throttled;
        let batch = api::connector(sim.platform()).map_or(1, |c| c.limits().batch) as u64;
        minimum_calls += changed.div_ceil(batch);
    }
    let others = (rig.sims.len() - 1) as u64;
    let line = json!({
        "scenario": "efficiency",
        "channels": channels,
        "sales": sales,
        "skus": skus,
        "settled": settled,
        "seconds": round(seconds),
        "write_calls": calls,
        "minimum_write_calls": minimum_calls,
        "items_written": items,
        "items_if_fully_coalesced": changed * others,
        "writes_per_sku_change_per_channel": round(items as f64 / (sales as u64 * others).max(1) as f64),
        "throttled": throttled,
    });
    rig.finish().await?;
    Ok(line.to_string())
}
