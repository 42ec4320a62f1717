//! The benchmark scenarios. Each builds its own tenant in a database of its own (a fresh
//! PostgreSQL schema or a temporary SQLite file), measures, checks the result, and cleans up.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use concord_domain::{
    ConnectionId, Email, OrganizationName, UserId,
    availability::ChannelRules,
    catalog::{Classifications, Format, SkuCode},
    events::{CommerceEvent, InboundEvent, LineSnapshot, OrderSnapshot},
    ledger::LocationKind,
    orders::OrderStatus,
};
use concord_server::config::Settings;
use concord_storage::{
    CatalogRow, InventoryQuery, ProductDraft, Scoped, StockRow, Store, TenantScope,
    test_support::TestDatabase,
};
use serde_json::json;

/// Sales applied before timing starts.
const WARMUP_SALES: usize = 5_000;

/// Units each SKU starts with: enough that no sale oversells.
pub(crate) const START_STOCK: i64 = 1_000_000;

/// A benchmark tenant: a warehouse stocked with every SKU, and its channels.
pub(crate) struct Shop {
    pub(crate) scope: TenantScope,
    /// Its owner.
    pub(crate) user: UserId,
    /// The sales channels, all selling from the one warehouse.
    pub(crate) connections: Vec<ConnectionId>,
}

/// Creates the tenant with `skus` SKUs of `START_STOCK` units and `channels` connections
/// of `platform`.
pub(crate) async fn shop(
    store: &Store,
    skus: usize,
    channels: usize,
    platform: &str,
) -> anyhow::Result<Shop> {
    let (user, tenant) = store
        .signup(
            &Email::parse("bench@concord.test")?,
            "not-a-login".into(),
            &OrganizationName::parse("Bench")?,
        )
        .await?;
    let scope = store.authorize(&user.id, &tenant.id).await?;
    let repos = store.scoped(&scope);
    let warehouse = repos
        .create_location("Warehouse".into(), LocationKind::Warehouse)
        .await?;
    let mut connections = Vec::with_capacity(channels);
    for n in 0..channels.max(1) {
        let connection = repos
            .create_connection(platform.into(), format!("Web {n}"), "bench")
            .await?;
        repos
            .configure_connection(
                &connection.id,
                ChannelRules {
                    safety_buffer: 2,
                    cap: None,
                },
                std::slice::from_ref(&warehouse.id),
            )
            .await?;
        connections.push(connection.id);
    }
    import_catalog(&repos, skus).await?;
    set_stock(&repos, 0..skus, START_STOCK).await?;
    Ok(Shop {
        scope,
        user: user.id,
        connections,
    })
}

/// Sets the warehouse stock of the SKUs numbered `skus` to `quantity`, in one transaction.
pub(crate) async fn set_stock(
    repos: &Scoped<'_>,
    skus: impl Iterator<Item = usize>,
    quantity: i64,
) -> anyhow::Result<()> {
    let rows = skus.enumerate().map(|(n, i)| {
        (
            n as u64 + 2,
            Ok(StockRow {
                sku: sku_code(i),
                location: "Warehouse".into(),
                quantity,
            }),
        )
    });
    let report = repos
        .import_stock(rows, false, "bench", &mut |_| {})
        .await?;
    anyhow::ensure!(
        report.committed,
        "stock setup refused rows: {:?}",
        report.errors.first()
    );
    Ok(())
}

/// The fixed secrets every benchmark's Concord runs with, as configuration lines.
pub(crate) const KEYS: &str = "session_key = \"YmVuY2gtc2Vzc2lvbi1rZXktYmVuY2gtc2Vzc2lvbi1rZXk=\"\n\
    token_encryption_key = \"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"\n";

/// Settings of an in-process Concord for a benchmark: Redis at `redis_url` (none: the
/// embedded shape), fixed keys, warnings only, and the TOML lines of `extra`.
pub(crate) fn settings(redis_url: Option<String>, extra: &str) -> anyhow::Result<Settings> {
    Ok(Settings::from_toml(&format!(
        "redis_url = {:?}\ndata_dir = {:?}\nlog_level = \"warn\"\n{KEYS}{extra}",
        redis_url.unwrap_or_default(),
        std::env::temp_dir().display().to_string()
    ))?)
}

/// Adds `skus` SKUs (`S000000`…) with varied titles, one product each.
pub(crate) async fn import_catalog(repos: &Scoped<'_>, skus: usize) -> anyhow::Result<()> {
    let words = [
        "Velvet", "Neon", "Midnight", "Crimson", "Silk", "Harbour", "Satin", "Ember",
    ];
    let catalog = (0..skus).map(|i| {
        let row = SkuCode::parse(&sku_code(i))
            .map_err(|e| e.to_string())
            .map(|sku| CatalogRow {
                sku,
                barcode: None,
                product: ProductDraft {
                    title: format!(
                        "{} {} Vol. {i}",
                        words[i % words.len()],
                        words[(i / 8) % words.len()]
                    ),
                    format: if i % 3 == 0 {
                        Format::BluRay
                    } else {
                        Format::Dvd
                    },
                    studio: Some("Bench Studio".into()),
                    release_date: None,
                    explicit: true,
                    us_2257_statement_present: true,
                    classifications: Classifications::default(),
                },
                components: Vec::new(),
            });
        (i as u64 + 2, row)
    });
    let report = repos.import_catalog(catalog, false, &mut |_| {}).await?;
    anyhow::ensure!(
        report.committed,
        "catalog setup refused rows: {:?}",
        report.errors.first()
    );
    Ok(())
}

/// The benchmark's SKU code number `i`.
pub(crate) fn sku_code(i: usize) -> String {
    format!("S{i:06}")
}

fn backend(db: &TestDatabase) -> &'static str {
    if db.schema().is_some() {
        "postgres"
    } else {
        "sqlite"
    }
}

/// A POS sale of one unit of a pseudo-random SKU.
fn sale(n: usize, skus: usize) -> InboundEvent {
    let at: DateTime<Utc> = Utc::now();
    let sku = sku_code(n.wrapping_mul(2_654_435_761) % skus);
    InboundEvent {
        event_id: format!("sale-{n}"),
        occurred_at: at,
        event: CommerceEvent::OrderPlaced(OrderSnapshot {
            order_id: format!("R-{n}"),
            status: OrderStatus::Completed,
            lines: vec![LineSnapshot {
                line_id: "1".into(),
                sku,
                quantity: 1,
                fulfilled_quantity: 1,
                unit_price_minor: 1999,
            }],
            currency: "GBP".into(),
            total_minor: 1999,
            customer: None,
            location: None,
            ship_to: None,
            placed_at: at,
            updated_at: at,
        }),
    }
}

/// Applies `events` sales over `skus` SKUs with `concurrency` appliers, `batch` events per
/// transaction, then checks the ledger: on-hand fell by exactly the number of sales.
pub async fn apply(
    url: Option<String>,
    events: usize,
    skus: usize,
    concurrency: usize,
    batch: usize,
) -> anyhow::Result<String> {
    let db = TestDatabase::create_on(url.as_deref(), concurrency as u32 + 2).await?;
    let shop = shop(&db.store, skus, concurrency, "shopify").await?;
    // A store has order history and planner statistics; fresh tables have neither. Warm up
    // with sales that are not timed (nor counted below), then gather statistics.
    let warmup: Vec<InboundEvent> = (events..events + WARMUP_SALES)
        .map(|n| sale(n, skus))
        .collect();
    for group in warmup.chunks(batch.max(1)) {
        db.store
            .scoped(&shop.scope)
            .apply_events(&shop.connections[0], group)
            .await?;
    }
    db.execute("ANALYZE").await?;
    let all: Vec<InboundEvent> = (0..events).map(|n| sale(n, skus)).collect();
    let per_worker = events.div_ceil(concurrency.max(1));
    let started = Instant::now();
    let mut workers = Vec::new();
    // Each applier takes the sales of its own channel: one channel's events apply in order,
    // different channels' in parallel.
    for (n, chunk) in all.chunks(per_worker.max(1)).enumerate() {
        let store = db.store.clone();
        let scope = shop.scope.clone();
        let connection = shop.connections[n % shop.connections.len()].clone();
        let chunk = chunk.to_vec();
        workers.push(tokio::spawn(async move {
            let repos = store.scoped(&scope);
            for group in chunk.chunks(batch.max(1)) {
                repos.apply_events(&connection, group).await?;
            }
            anyhow::Ok(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let expected = skus as i64 * START_STOCK - (events + WARMUP_SALES) as i64;
    let on_hand = db
        .count("SELECT CAST(sum(on_hand) AS BIGINT) FROM stock_levels")
        .await?;
    let sales = db
        .count("SELECT count(*) FROM stock_movements WHERE reason = 'sale'")
        .await?
        - WARMUP_SALES as i64;
    let line = json!({
        "scenario": "apply",
        "backend": backend(&db),
        "events": events,
        "skus": skus,
        "concurrency": concurrency,
        "batch": batch,
        "seconds": round(seconds),
        "events_per_s": round(events as f64 / seconds),
        "lost": (events as i64 - sales).max(0) + (on_hand - expected).max(0),
        "duplicates_applied": (sales - events as i64).max(0) + (expected - on_hand).max(0),
    });
    db.cleanup().await?;
    Ok(line.to_string())
}

/// Times `queries` inventory listings and searches over `skus` SKUs.
pub async fn inventory(url: Option<String>, skus: usize, queries: usize) -> anyhow::Result<String> {
    let db = TestDatabase::create_on(url.as_deref(), 4).await?;
    let setup_started = Instant::now();
    let shop = shop(&db.store, skus, 1, "shopify").await?;
    db.execute("ANALYZE").await?;
    let setup_seconds = setup_started.elapsed().as_secs_f64();
    let repos = db.store.scoped(&shop.scope);
    let searches = [
        "velvet neon",
        "vol. 4217",
        "S0420",
        "satin",
        "midnight crimson vol. 9",
    ];
    let mut timings = Vec::with_capacity(queries);
    for n in 0..queries {
        let mut q = InventoryQuery {
            limit: 50,
            ..InventoryQuery::default()
        };
        match n % 4 {
            0 => {}
            1 => q.after = Some(sku_code((n * 7919) % skus)),
            2 => q.search = Some(searches[n % searches.len()].into()),
            _ => {
                q.format = Some(Format::BluRay);
                q.after = Some(sku_code((n * 104_729) % skus));
            }
        }
        let started = Instant::now();
        let page = repos.inventory(&q).await?;
        timings.push(started.elapsed());
        anyhow::ensure!(page.items.len() <= 50, "page larger than asked");
    }
    timings.sort();
    let pick = |p: f64| timings[((timings.len() as f64 * p) as usize).min(timings.len() - 1)];
    let line = json!({
        "scenario": "inventory",
        "backend": backend(&db),
        "skus": skus,
        "queries": queries,
        "setup_seconds": round(setup_seconds),
        "p50_ms": ms(pick(0.50)),
        "p95_ms": ms(pick(0.95)),
        "max_ms": ms(*timings.last().unwrap_or(&Duration::ZERO)),
    });
    db.cleanup().await?;
    Ok(line.to_string())
}

fn ms(d: Duration) -> f64 {
    round(d.as_secs_f64() * 1000.0)
}

/// The `p` percentile of sorted latencies, in milliseconds.
pub(crate) fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .map_or(0.0, |d| ms(*d))
}

/// Two decimals.
pub(crate) fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
